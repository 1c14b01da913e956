// A live view's page side (the js_on_load of facerec/app/live.py's gr.HTML; Gradio gives `element`).
// The video is the page's camera (camera.js). Whenever a new video frame is there and no answer
// is awaited, the frame is drawn data-width pixels wide, JPEG-encoded and sent to the route; the
// answer's boxes and names are drawn on the canvas over the video. The preview is mirrored with
// CSS and the canvas is not (its names would read backwards): x-coordinates are flipped instead,
// so boxes and preview always agree. Counters on window.facerec.liveStats let tests and
// benchmarks read what the page showed.
(() => {
  const root = element.querySelector('.facerec-live');
  const video = root.querySelector('video');
  const overlay = root.querySelector('canvas');
  const panel = root.querySelector('.facerec-live-panel');
  const toggle = root.querySelector('.facerec-live-toggle');
  const status = root.querySelector('.facerec-live-status');
  const width = Number(root.dataset.width), quality = Number(root.dataset.quality);
  const base = ((window.gradio_config && window.gradio_config.root) || location.href).replace(/\/?$/, '/')
    + root.dataset.path.replace(/^\//, '');
  const grab = document.createElement('canvas');
  const stats = (window.facerec = window.facerec || {}).liveStats = window.facerec.liveStats || {results: 0, frames: []};
  let socket = null, useHttp = false, inFlight = false, fresh = false, running = false, retry = 500, sentAt = 0;
  // When the frame on its way was captured (requestVideoFrameCallback's metadata), for the latency.
  let frameTime = 0, sentFrameTime = 0;

  const token = () => (window.facerec && window.facerec.liveToken) || null;
  const say = (text) => { status.textContent = text; };
  const visible = () => root.offsetParent !== null && !document.hidden;

  function draw(result) {
    const w = video.clientWidth, h = video.clientHeight, ratio = window.devicePixelRatio || 1;
    if (overlay.width !== Math.round(w * ratio) || overlay.height !== Math.round(h * ratio)) {
      overlay.width = Math.round(w * ratio); overlay.height = Math.round(h * ratio);
    }
    const g = overlay.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    if (!result || !result.faces) { panel.textContent = ''; return; }
    // The video is shown with object-fit: cover; the frame's pixels map to the box it covers.
    const scale = Math.max(w / result.width, h / result.height);
    const dx = (w - result.width * scale) / 2, dy = (h - result.height * scale) / 2;
    g.lineWidth = 3; g.font = 'bold 15px system-ui, sans-serif'; g.textBaseline = 'top';
    for (const face of result.whole_image ? [] : result.faces) {
      let [x, y, fw, fh] = face.box;
      x = x * scale + dx; y = y * scale + dy; fw *= scale; fh *= scale;
      x = w - x - fw;  // the frame sent is the camera's own; the preview is its mirror
      g.strokeStyle = face.colour; g.strokeRect(x, y, fw, fh);
      const text = face.caption, tag = g.measureText(text).width + 10, top = y >= 22 ? y - 22 : y;
      g.fillStyle = face.colour; g.fillRect(x, top, tag, 22);
      g.fillStyle = face.caption === '…' ? '#1e2026' : '#ffffff'; g.fillText(text, x + 5, top + 3);
    }
    const largest = result.largest;
    const odds = !largest ? '' : Object.entries(largest.probabilities).map(([label, value]) => `${label} ${Math.round(value * 100)}%`);
    panel.textContent = !largest ? '' : result.faces.length > 1 && !result.whole_image ? `${result.faces.length} faces`
      : largest.label === 'unknown' ? `Unknown · closest: ${odds[0]}` : odds.join(' · ');
  }

  function answered(result) {
    inFlight = false;
    if (result.error) {
      say(result.error); draw(null);
      if (result.error === 'bad token') stop('Reload the page to restart the live view.');
      else setTimeout(pump, 1000);
      return;
    }
    say('');
    draw(result);
    stats.results += 1;
    const record = {at: performance.now(), rtt_ms: performance.now() - sentAt, server_ms: result.server_ms,
                    faces: result.faces.map((face) => face.caption)};
    stats.frames.push(record);
    if (stats.frames.length > 2000) stats.frames.splice(0, 1000);
    // Captured to shown: until the animation frame that paints the boxes.
    const captured = sentFrameTime;
    requestAnimationFrame(() => { record.latency_ms = performance.now() - captured; });
    pump();
  }

  function encode() {
    const scale = Math.min(1, width / video.videoWidth);
    grab.width = Math.round(video.videoWidth * scale); grab.height = Math.round(video.videoHeight * scale);
    grab.getContext('2d').drawImage(video, 0, 0, grab.width, grab.height);
    return new Promise((resolve) => grab.toBlob(resolve, 'image/jpeg', quality));
  }

  async function pump() {
    if (!running || inFlight || !fresh || !token() || !video.videoWidth || !visible()) return;
    if (!useHttp && (!socket || socket.readyState !== WebSocket.OPEN)) return;
    inFlight = true; fresh = false;
    const watchdog = setTimeout(() => { if (inFlight) { inFlight = false; pump(); } }, 10000);
    try {
      sentFrameTime = frameTime;
      const blob = await encode();
      sentAt = performance.now();
      if (!useHttp) { socket.send(blob); return; }  // the answer comes as a message
      const response = await fetch(base + '/frame', {method: 'POST', body: blob,
        headers: {'Content-Type': 'image/jpeg', 'X-Live-Token': token()}});
      answered(response.status === 401 ? {error: 'bad token'} : await response.json());
    } catch (error) {
      inFlight = false; say('connection problem: retrying…'); setTimeout(pump, retry);
    } finally {
      clearTimeout(watchdog);
    }
  }

  function connect() {
    if (useHttp || !running || !token() || (socket && socket.readyState <= WebSocket.OPEN)) return;
    let opened = false;
    socket = new WebSocket(base.replace(/^http/, 'ws') + '/ws?token=' + encodeURIComponent(token()));
    socket.onopen = () => { opened = true; retry = 500; inFlight = false; pump(); };
    socket.onmessage = (message) => answered(JSON.parse(message.data));
    socket.onclose = (event) => {
      inFlight = false;
      if (!running) return;
      if (event.code === 4401 || event.code === 1008) { stop('Reload the page to restart the live view.'); return; }
      if (!opened) { useHttp = true; pump(); return; }  // no WebSockets through here: plain requests then
      say('reconnecting…'); setTimeout(connect, retry); retry = Math.min(retry * 2, 8000);
    };
  }

  function onFrame(now, metadata) {
    frameTime = (metadata && (metadata.captureTime || metadata.presentationTime)) || performance.now();
    fresh = true; pump();
    if (running) video.requestVideoFrameCallback(onFrame);
  }

  function stop(text) {
    running = false;
    if (socket) socket.close();
    socket = null;
    root.classList.remove('running');
    toggle.textContent = '▶ Start the live view'; say(text || ''); draw(null);
  }

  async function start() {
    try {
      await window.facerec.camera.ready();
    } catch (error) { say(`No camera: ${error.message}`); return; }
    running = true; root.classList.add('running');
    toggle.textContent = '■ Stop'; say(token() ? '' : 'connecting…');
    if (!('requestVideoFrameCallback' in HTMLVideoElement.prototype)) {  // older browsers: poll
      HTMLVideoElement.prototype.requestVideoFrameCallback = function (callback) {
        const start = this.currentTime;
        const check = () => (this.currentTime !== start ? callback() : requestAnimationFrame(check));
        requestAnimationFrame(check);
      };
    }
    video.requestVideoFrameCallback(onFrame);
    connect();
  }

  window.addEventListener('facerec-live-token', () => { if (running) { connect(); pump(); } });
  toggle.addEventListener('click', () => (running ? stop() : start()));
  document.addEventListener('visibilitychange', () => { if (!document.hidden) pump(); });
  // A view on a tab that was hidden starts sending again when its tab is shown.
  new IntersectionObserver(() => pump()).observe(root);
})();
