// The live camera's page side (a gr.HTML js_on_load; `element` and `server` come from Gradio).
// Its own getUserMedia video; on each new video frame, if no answer is awaited, the frame is
// scaled to data-width pixels, JPEG-encoded and sent; the answer's boxes are drawn on the canvas
// over the video. The preview is mirrored with CSS; the overlay is not (its names would read
// backwards): box x-coordinates are flipped instead, so boxes and preview always agree.
const root = element.querySelector('.facerec-live');
const video = root.querySelector('video');
const overlay = root.querySelector('canvas');
const button = root.querySelector('button.start');
const status = root.querySelector('.status');
const transport = root.dataset.transport;
const width = Number(root.dataset.width);
const quality = Number(root.dataset.quality);
const mirror = root.dataset.mirror === '1';
const base = ((window.gradio_config && window.gradio_config.root) || location.href).replace(/\/?$/, '/') +
  root.dataset.path.replace(/^\//, '');
const grab = document.createElement('canvas');
let token = window.__facerecLiveToken || null;
let socket = null, inFlight = false, fresh = false, running = false, sentAt = 0, retry = 500;

window.addEventListener('facerec-live-token', (event) => { token = event.detail; if (running) connect(); });

function say(text) { status.textContent = text; }

function draw(result) {
  const w = video.clientWidth, h = video.clientHeight, ratio = window.devicePixelRatio || 1;
  if (overlay.width !== Math.round(w * ratio) || overlay.height !== Math.round(h * ratio)) {
    overlay.width = Math.round(w * ratio); overlay.height = Math.round(h * ratio);
  }
  const g = overlay.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  if (!result.faces) return;
  const sx = w / result.width, sy = h / result.height;
  g.lineWidth = 2; g.font = '14px sans-serif'; g.strokeStyle = g.fillStyle = '#00ff00';
  for (const face of result.faces) {
    let [x, y, fw, fh] = face.box;
    x *= sx; y *= sy; fw *= sx; fh *= sy;
    if (mirror) x = w - x - fw;  // The frame sent is the camera's own; the preview is its mirror.
    g.strokeRect(x, y, fw, fh);
    g.fillText(face.name, x + 2, Math.max(14, y - 4));
  }
}

function answered(result) {
  inFlight = false;
  if (result.error) { say(result.error); if (result.error === 'bad token') stop('Reload the page to restart the camera.'); return; }
  draw(result);
  window.dispatchEvent(new CustomEvent('facerec-live-result', {detail: {...result, rtt_ms: performance.now() - sentAt}}));
  pump();
}

function encode() {
  const scale = Math.min(1, width / video.videoWidth);
  grab.width = Math.round(video.videoWidth * scale); grab.height = Math.round(video.videoHeight * scale);
  grab.getContext('2d').drawImage(video, 0, 0, grab.width, grab.height);
  return new Promise((resolve) => grab.toBlob(resolve, 'image/jpeg', quality));
}

async function pump() {
  if (!running || inFlight || !fresh || !token || !video.videoWidth) return;
  if (transport === 'ws' && (!socket || socket.readyState !== WebSocket.OPEN)) return;
  inFlight = true; fresh = false;
  const watchdog = setTimeout(() => { if (inFlight) { inFlight = false; pump(); } }, 10000);
  try {
    const blob = await encode();
    sentAt = performance.now();
    window.dispatchEvent(new CustomEvent('facerec-live-sent', {detail: {bytes: blob.size, width: grab.width, height: grab.height}}));
    if (transport === 'ws') {
      socket.send(blob);
      return;  // The answer comes as a message.
    }
    let result;
    if (transport === 'http') {
      const response = await fetch(base + '/frame', {method: 'POST', body: blob,
        headers: {'Content-Type': 'image/jpeg', 'X-Live-Token': token}});
      result = response.status === 401 ? {error: 'bad token'} : await response.json();
    } else {
      const dataUrl = await new Promise((resolve) => { const r = new FileReader(); r.onload = () => resolve(r.result); r.readAsDataURL(blob); });
      result = await server.live_frame({token, frame: dataUrl});  // Gradio passes one argument as is.
    }
    answered(result);
  } catch (error) {
    inFlight = false; say('connection problem: retrying'); setTimeout(pump, retry);
  } finally {
    clearTimeout(watchdog);
  }
}

function connect() {
  if (transport !== 'ws' || !running || !token || (socket && socket.readyState <= WebSocket.OPEN)) return;
  socket = new WebSocket(base.replace(/^http/, 'ws') + '/ws?token=' + encodeURIComponent(token));
  socket.onopen = () => { retry = 500; say('live'); inFlight = false; pump(); };
  socket.onmessage = (message) => answered(JSON.parse(message.data));
  socket.onclose = (event) => {
    inFlight = false;
    if (!running) return;
    if (event.code === 4401 || event.code === 1008) { stop('Reload the page to restart the camera.'); return; }
    say('reconnecting…'); setTimeout(connect, retry); retry = Math.min(retry * 2, 8000);
  };
}

function onFrame() {
  fresh = true; pump();
  if (running) video.requestVideoFrameCallback(onFrame);
}

function stop(text) {
  running = false;
  if (socket) socket.close();
  if (video.srcObject) video.srcObject.getTracks().forEach((track) => track.stop());
  video.srcObject = null; button.textContent = 'Start the live camera'; say(text || '');
  draw({});
}

button.addEventListener('click', async () => {
  if (running) { stop(); return; }
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia(
      {video: {width: {ideal: 640}, height: {ideal: 480}, facingMode: 'user'}, audio: false});
  } catch (error) { say('no camera: ' + error.message); return; }
  await video.play();
  running = true; button.textContent = 'Stop'; say(transport === 'ws' ? 'connecting…' : 'live');
  if (!('requestVideoFrameCallback' in HTMLVideoElement.prototype)) {  // Old browsers: poll.
    HTMLVideoElement.prototype.requestVideoFrameCallback = function (callback) {
      const start = this.currentTime;
      const check = () => (this.currentTime !== start ? callback() : requestAnimationFrame(check));
      requestAnimationFrame(check);
    };
  }
  video.requestVideoFrameCallback(onFrame);
  connect();
});
document.addEventListener('visibilitychange', () => { if (document.hidden) fresh = false; });
