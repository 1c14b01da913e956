"""Transport 1: Gradio 6.31's own webcam streaming, ``gr.Image(sources=["webcam"], streaming=True).stream``.

Two outputs:

* ``--output image`` (today's live view): the handler draws the boxes on the frame and returns it
  to a streaming ``gr.Image``, which Gradio encodes (webp by default) and the page loads;
* ``--output json``: the handler returns only the boxes, to a hidden ``gr.JSON``; a ``.change``
  event with ``js=`` draws them on a canvas laid over the webcam's own preview.

    python -m bench.live_transport_apps.gradio_stream --stream-every 0.1 --output json --port 7861
"""

from __future__ import annotations

import time

import gradio as gr
import numpy as np

from bench.live_transport_apps import common

# Draws the boxes of the latest result over the webcam preview (the <video> in #cam). The frame
# Gradio sends is mirrored like the preview when WebcamOptions(mirror=True), so the boxes are in
# the preview's own coordinates: only scaled, never flipped (flipping the canvas would mirror the names).
OVERLAY_JS = """
(result) => {
  if (!result || !result.faces) return;
  const video = document.querySelector('#cam video');
  if (!video) return;
  const host = video.parentElement;
  let canvas = host.querySelector('canvas.bench-overlay');
  if (!canvas) {
    canvas = document.createElement('canvas');
    canvas.className = 'bench-overlay';
    canvas.style.cssText = 'position:absolute;pointer-events:none;z-index:10';
    if (getComputedStyle(host).position === 'static') host.style.position = 'relative';
    host.appendChild(canvas);
  }
  // The video's picture inside its box (object-fit: contain or cover letterboxes it).
  const box = video.getBoundingClientRect(), hostBox = host.getBoundingClientRect();
  const fit = getComputedStyle(video).objectFit;
  const scale = (fit === 'cover' ? Math.max : Math.min)(box.width / result.width, box.height / result.height);
  const w = result.width * scale, h = result.height * scale;
  canvas.style.left = (box.left - hostBox.left + (box.width - w) / 2) + 'px';
  canvas.style.top = (box.top - hostBox.top + (box.height - h) / 2) + 'px';
  canvas.style.width = w + 'px'; canvas.style.height = h + 'px';
  canvas.width = Math.round(w); canvas.height = Math.round(h);
  const g = canvas.getContext('2d');
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.lineWidth = 2; g.strokeStyle = '#00ff00'; g.fillStyle = '#00ff00'; g.font = '14px sans-serif';
  for (const face of result.faces) {
    const [x, y, fw, fh] = face.box.map(v => v * scale);
    g.strokeRect(x, y, fw, fh);
    g.fillText(face.name, x, Math.max(12, y - 4));
  }
  window.dispatchEvent(new CustomEvent('facerec-live-result', {detail: result}));
}
"""


def main() -> None:
    parser = common.parser(__doc__.split("\n")[0])
    parser.add_argument("--stream-every", type=float, default=0.5)
    parser.add_argument("--output", choices=("image", "json"), default="image")
    parser.add_argument("--format", default="webp", help="the output image's format (gr.Image's default: webp)")
    parser.add_argument("--width", type=int, default=0, help="ask getUserMedia for this width (0: the camera's own)")
    parser.add_argument("--mirror", type=int, default=1, help="WebcamOptions(mirror=...)")
    parser.add_argument("--concurrency-limit", type=int, default=8)
    parser.add_argument("--time-limit", type=float, default=60, help="seconds a stream runs before rejoining the queue (0: none)")
    parser.add_argument("--trigger-mode", default=None, choices=(None, "once", "multiple", "always_last"))
    parser.add_argument("--ready", default=None, help="write the URL to this file once serving")
    arguments = parser.parse_args()
    handler = common.stand_in(arguments)
    log = common.FrameLog(arguments.log)

    def frame_result(frame: np.ndarray | None, request: gr.Request):
        if frame is None:
            return gr.skip()
        started = time.perf_counter()
        result = handler.process(frame)
        out = handler.draw(frame, result) if arguments.output == "image" else result
        log.write(frame=result["frame"], mirrored=result["mirrored"], shape=list(frame.shape),
                  handler_ms=(time.perf_counter() - started) * 1000, session=request.session_hash)
        return out

    constraints = {"video": {"width": {"ideal": arguments.width}}} if arguments.width else None
    with gr.Blocks() as demo:
        with gr.Row():
            cam = gr.Image(sources=["webcam"], streaming=True, type="numpy", label="Live camera", elem_id="cam",
                           webcam_options=gr.WebcamOptions(mirror=bool(arguments.mirror), constraints=constraints))
            if arguments.output == "image":
                out = gr.Image(label="Every face, named (live)", streaming=True, sources=["webcam"], interactive=False,
                               elem_id="result", format=arguments.format)
            else:
                out = gr.JSON(label="boxes", visible="hidden", elem_id="result")
        options = dict(stream_every=arguments.stream_every, time_limit=arguments.time_limit or None,
                       concurrency_limit=arguments.concurrency_limit, show_progress="hidden")
        if arguments.trigger_mode:
            options["trigger_mode"] = arguments.trigger_mode
        cam.stream(frame_result, [cam], [out], api_name="frame", **options)
        if arguments.output == "json":
            out.change(None, out, None, js=OVERLAY_JS)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_port=arguments.port, prevent_thread_lock=True, quiet=True)
    common.ready_file(arguments.ready, demo.local_url)
    demo.block_thread()


if __name__ == "__main__":
    main()
