// bench.live_transport's probe, added to every page before it loads (context.add_init_script).
// It reads the fake camera's bar code (see camera.py) from the live preview <video> on each video
// frame (requestVideoFrameCallback) and from each rendered result, and keeps the times:
//   seen[index]    when frame `index` was first shown in the preview (performance.now())
//   capture[index] its capture time, when the browser gives one (rVFC metadata.captureTime)
//   results        [index, time] when a result for frame `index` was on the page (next animation frame)
(() => {
  const B = window.__bench = {seen: new Map(), capture: new Map(), results: [], sent: [], previewSize: null,
                              previewMirrored: null, resultMirrored: null, errors: []};
  const band = document.createElement('canvas');
  band.width = 160; band.height = 4;
  const g = band.getContext('2d', {willReadFrequently: true});

  B.decode = (source, width, height) => {
    if (!width || !height) return null;
    g.drawImage(source, 0, 0, width, Math.max(1, height * 32 / 480), 0, 0, 160, 4);
    const px = g.getImageData(0, 0, 160, 4).data, bits = [];
    for (let cell = 0; cell < 20; cell++) {
      let sum = 0;
      for (let x = cell * 8 + 2; x < cell * 8 + 6; x++) for (let y = 1; y < 3; y++) {
        const i = (y * 160 + x) * 4; sum += px[i] + px[i + 1] + px[i + 2];
      }
      bits.push(sum / 24 < 128 ? 1 : 0);
    }
    for (const [mirrored, b] of [[false, bits], [true, bits.slice().reverse()]]) {
      if (b[0] === 1 && b[1] === 1 && b[18] === 0 && b[19] === 1) {
        const data = b.slice(2, 16), ones = data.reduce((a, x) => a + x, 0);
        if (ones % 4 === b[16] * 2 + b[17]) return {index: parseInt(data.join(''), 2), mirrored};
      }
    }
    return null;
  };

  // A copy of every camera stream the page opens, in a tiny <video> of its own: the camera as
  // captured, for transports whose page shows no local preview (fastrtc shows only the returned video).
  const getUserMedia = navigator.mediaDevices && navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  if (getUserMedia) navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await getUserMedia(constraints);
    if (stream.getVideoTracks().length) {
      const tap = document.createElement('video');
      tap.className = 'bench-camera-tap'; tap.muted = true; tap.playsInline = true; tap.autoplay = true;
      tap.style.cssText = 'position:fixed;right:0;bottom:0;width:80px;height:60px;opacity:0.01;pointer-events:none';
      tap.srcObject = new MediaStream(stream.getVideoTracks().map((track) => track.clone()));
      document.body.appendChild(tap);
      tap.play().catch(() => {});
    }
    return stream;
  };

  B.result = (index) => {
    const arrived = performance.now();
    requestAnimationFrame(() => B.results.push([index == null ? -1 : index, performance.now(), arrived]));
  };
  window.addEventListener('facerec-live-result', (event) => {
    const d = event.detail || {};
    if (d.mirrored != null) B.resultMirrored = d.mirrored;
    B.result(d.frame);
  });
  window.addEventListener('facerec-live-sent', (event) => B.sent.push([performance.now(), event.detail.bytes,
                                                                       event.detail.width, event.detail.height]));

  // Follow whichever <video> matches `selector`, also if the page replaces it.
  function follow(selector, onFrame) {
    const watched = new WeakSet();
    setInterval(() => {
      document.querySelectorAll(selector).forEach((video) => {
        if (watched.has(video) || !video.requestVideoFrameCallback) return;
        watched.add(video);
        const tick = (now, meta) => {
          try { onFrame(video, meta); } catch (error) { B.errors.push(String(error)); }
          video.requestVideoFrameCallback(tick);
        };
        video.requestVideoFrameCallback(tick);
      });
    }, 100);
  }

  B.watchPreview = (selector) => follow(selector, (video, meta) => {
    const code = B.decode(video, video.videoWidth, video.videoHeight);
    B.previewSize = [video.videoWidth, video.videoHeight];
    B.previewMirrored = getComputedStyle(video).transform.startsWith('matrix(-1');
    const now = performance.now();
    // The file loops (80 s): an index seen long ago is a new frame now.
    if (code && (!B.seen.has(code.index) || now - B.seen.get(code.index) > 40000)) {
      B.seen.set(code.index, now);
      if (meta && meta.captureTime) B.capture.set(code.index, meta.captureTime);
    }
  });

  // Results shown as images (Gradio's streaming gr.Image): each <img> load is one result.
  B.watchImages = (selector) => {
    const watched = new WeakSet();
    const loaded = (img) => {
      const code = B.decode(img, img.naturalWidth, img.naturalHeight);
      if (code) B.resultMirrored = code.mirrored;
      B.result(code ? code.index : null);
    };
    setInterval(() => document.querySelectorAll(selector + ' img').forEach((img) => {
      if (watched.has(img)) return;
      watched.add(img);
      img.addEventListener('load', () => loaded(img));
      if (img.complete && img.naturalWidth) loaded(img);
    }), 50);
  };

  // Results shown as a video (WebRTC: the handler's frames come back as a track).
  B.watchResultVideo = (selector) => follow(selector, (video) => {
    const code = B.decode(video, video.videoWidth, video.videoHeight);
    if (code) { B.resultMirrored = code.mirrored; B.result(code.index); }
  });

  // Do the preview and the result agree? `faceX`: the first face's centre as a share of the camera
  // frame's width (camera.py's layout). The preview shows the camera frame mirrored when its CSS
  // flips it (or the camera itself sent a mirrored frame). An overlay agrees when its green box is
  // centred where the preview shows the face; a result image when it is mirrored like the preview.
  B.agreement = (previewSelector, resultSelector, faceX) => {
    const video = document.querySelector(previewSelector);
    if (!video || !video.videoWidth) return {error: 'no preview'};
    const code = B.decode(video, video.videoWidth, video.videoHeight);
    const flipped = getComputedStyle(video).transform.startsWith('matrix(-1');
    const previewMirrored = flipped !== Boolean(code && code.mirrored);
    const box = video.getBoundingClientRect();
    const fit = getComputedStyle(video).objectFit;
    const scale = (fit === 'cover' ? Math.max : fit === 'contain' ? Math.min : () => null)(
      box.width / video.videoWidth, box.height / video.videoHeight);
    const shownWidth = scale ? video.videoWidth * scale : box.width;
    const left = box.left + (box.width - shownWidth) / 2;
    const faceScreenX = left + shownWidth * (previewMirrored ? 1 - faceX : faceX);
    const out = {previewMirrored, faceScreenX: Math.round(faceScreenX)};
    const canvas = document.querySelector(resultSelector + ' canvas, ' + previewSelector + ' ~ canvas');
    const img = document.querySelector(resultSelector + ' img');
    if (img && img.naturalWidth) {
      const shown = B.decode(img, img.naturalWidth, img.naturalHeight);
      const imgFlipped = getComputedStyle(img).transform.startsWith('matrix(-1');
      out.resultMirrored = imgFlipped !== Boolean(shown && shown.mirrored);
      out.agree = out.resultMirrored === previewMirrored;
    } else if (canvas && canvas.width) {
      const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let minX = Infinity, maxX = -Infinity;
      for (let y = 0; y < canvas.height; y += 2) for (let x = 0; x < canvas.width; x++) {
        const i = (y * canvas.width + x) * 4;
        if (px[i + 3] > 200 && px[i + 1] > 200 && px[i] < 80) { minX = Math.min(minX, x); maxX = Math.max(maxX, x); }
      }
      if (minX === Infinity) return {...out, error: 'no box drawn'};
      const rect = canvas.getBoundingClientRect();
      const boxX = rect.left + ((minX + maxX) / 2) * rect.width / canvas.width;  // One face only.
      out.boxScreenX = Math.round(boxX);
      out.agree = Math.abs(boxX - faceScreenX) < 0.06 * shownWidth;
    }
    return out;
  };

  B.dump = (from, to) => ({
    seen: [...B.seen.entries()].filter(([, t]) => t >= from - 5000 && t <= to),
    capture: [...B.capture.entries()],
    results: B.results.filter(([, t]) => t >= from && t <= to),
    sent: B.sent.filter(([t]) => t >= from && t <= to),
    previewSize: B.previewSize, previewMirrored: B.previewMirrored, resultMirrored: B.resultMirrored,
    errors: B.errors.slice(0, 5),
  });
})();
