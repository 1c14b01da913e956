// The page's camera: one getUserMedia stream for every preview of the page, one-click capture
// and hold-to-record for the Collect tab (the frames go to the server in the Gradio event of
// the button, as JPEG data URLs), and the page side of the live view (facerec/app/live.py).
//
// Previews are <video data-facerec-camera> elements (mirrored by CSS, like a mirror); captured
// frames are the camera's own, unmirrored, as every photo of a person is.
(() => {
  const FRAME_SIDE = 640;      // captured frames: at most this wide or high
  const FRAME_QUALITY = 0.9;
  const RECORD_FPS = 5;        // hold-to-record: frames per second
  const RECORD_MAX = 60;       // and at most this many (12 s)

  const camera = {
    stream: null,
    starting: null,
    recording: null,

    previews() { return [...document.querySelectorAll('video[data-facerec-camera]')]; },

    say(text) {
      for (const status of document.querySelectorAll('.facerec-camera-status')) status.textContent = text;
    },

    // Starts the camera once (asking for permission the first time); every preview shows it.
    start() {
      if (this.stream) return Promise.resolve(this.stream);
      if (!this.starting) {
        if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
          return Promise.reject(new Error('this browser gives the page no camera (it needs https or localhost)'));
        }
        this.say('Turning the camera on…');
        this.starting = navigator.mediaDevices.getUserMedia(
          {video: {width: {ideal: 640}, height: {ideal: 480}, facingMode: 'user'}, audio: false})
          .then((stream) => { this.stream = stream; this.attach(); this.say(''); return stream; })
          .catch((error) => { this.say(`No camera: ${error.message}`); throw error; })
          .finally(() => { this.starting = null; });
      }
      return this.starting;
    },

    stop() {
      if (this.stream) this.stream.getTracks().forEach((track) => track.stop());
      this.stream = null;
      this.attach();
    },

    attach() {
      for (const video of this.previews()) {
        if (video.srcObject !== this.stream) {
          video.srcObject = this.stream;
          if (this.stream) video.play().catch(() => {});
        }
        video.closest('.facerec-camera')?.classList.toggle('on', Boolean(this.stream));
      }
    },

    // A preview that shows a frame, waiting for the camera's first one (up to 10 s).
    async ready() {
      await this.start();
      const deadline = performance.now() + 10000;
      for (;;) {
        const video = this.previews().find((candidate) => candidate.videoWidth > 0 && candidate.readyState >= 2);
        if (video) return video;
        if (performance.now() > deadline) throw new Error('the camera sends no picture');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },

    // The current frame as a JPEG data URL (the camera's own view, not mirrored).
    async grab() {
      const video = await this.ready();
      const scale = Math.min(1, FRAME_SIDE / Math.max(video.videoWidth, video.videoHeight));
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      return canvas.toDataURL('image/jpeg', FRAME_QUALITY);
    },

    // For a Gradio event's js: the frame, or "error: ..." that the server turns into a note.
    async grabForServer() {
      try { return await this.grab(); } catch (error) { return `error: ${error.message}`; }
    },

    startRecording(button) {
      if (this.recording) return;
      const recording = this.recording = {frames: [], button, pending: Promise.resolve(), error: null};
      button?.classList.add('recording');
      const take = async () => {
        if (recording.frames.length >= RECORD_MAX) return;
        try {
          recording.frames.push(await this.grab());
          this.say(`Recording: ${recording.frames.length} frame${recording.frames.length === 1 ? '' : 's'}`);
        } catch (error) { recording.error = error.message; }
      };
      recording.pending = take();
      recording.timer = setInterval(() => { recording.pending = recording.pending.then(take); }, 1000 / RECORD_FPS);
    },

    // Ends the recording; the frames as JSON for the server (at least one, if the camera works).
    async stopRecording() {
      const recording = this.recording;
      if (!recording) return JSON.stringify({frames: [await this.grabForServer()]});
      this.recording = null;
      clearInterval(recording.timer);
      await recording.pending;
      recording.button?.classList.remove('recording');
      this.say('');
      const frames = recording.frames.length ? recording.frames : [await this.grabForServer()];
      return JSON.stringify({frames, error: recording.error});
    },
  };

  window.facerec = {...(window.facerec || {}), camera};

  // Previews made later (a re-rendered card, another tab) show the running camera too.
  new MutationObserver(() => camera.attach()).observe(document.body, {childList: true, subtree: true});

  document.addEventListener('click', (event) => {
    const toggle = event.target.closest('.facerec-camera-toggle');
    if (!toggle) return;
    if (camera.stream) camera.stop(); else camera.start().catch(() => {});
  });

  // Hold to record: pressing starts it; the button's own click (on release) sends the frames.
  const recordButton = (event) => event.target.closest('.facerec-record');
  document.addEventListener('pointerdown', (event) => {
    const button = recordButton(event);
    if (button && event.button === 0) camera.startRecording(button);
  });
  document.addEventListener('keydown', (event) => {
    const button = recordButton(event);
    if (button && (event.key === ' ' || event.key === 'Enter') && !event.repeat) camera.startRecording(button);
  });
  // A press that ends outside the button sends no click: drop what it recorded.
  document.addEventListener('pointerup', (event) => {
    if (camera.recording && !camera.recording.button?.contains(event.target)) camera.stopRecording();
  });
  document.addEventListener('pointercancel', () => { camera.stopRecording(); });
  window.addEventListener('blur', () => { if (camera.recording) camera.stopRecording(); });
})();
