"""Transport 2: WebRTC through ``fastrtc`` (or ``gradio_webrtc``): the camera goes up as a video
track, the handler's frames (boxes drawn) come back as one.

Both packages require gradio<6 (their metadata), so they live in their own virtual environment:

    python -m venv /tmp/venv-rtc --system-site-packages && /tmp/venv-rtc/bin/pip install fastrtc
    /tmp/venv-rtc/bin/python -m bench.live_transport_apps.rtc --package fastrtc --port 7863
"""

from __future__ import annotations

import importlib
import time

import gradio as gr
import numpy as np

from bench.live_transport_apps import common


def main() -> None:
    parser = common.parser(__doc__.split("\n")[0])
    parser.add_argument("--package", choices=("fastrtc", "gradio_webrtc"), default="fastrtc")
    parser.add_argument("--ready", default=None)
    arguments = parser.parse_args()
    print(f"gradio {gr.__version__}", flush=True)
    WebRTC = importlib.import_module(arguments.package).WebRTC
    handler = common.stand_in(arguments)
    log = common.FrameLog(arguments.log)

    def frame_result(frame: np.ndarray):
        started = time.perf_counter()
        result = handler.process(frame)
        log.write(frame=result["frame"], mirrored=result["mirrored"], shape=list(frame.shape),
                  handler_ms=(time.perf_counter() - started) * 1000, session=None)
        return handler.draw(frame, result)

    with gr.Blocks() as demo:
        rtc = WebRTC(label="Live camera", mode="send-receive", modality="video", elem_id="rtc")
        rtc.stream(fn=frame_result, inputs=[rtc], outputs=[rtc], time_limit=90, concurrency_limit=8)
    demo.launch(server_port=arguments.port, prevent_thread_lock=True, quiet=True)
    common.ready_file(arguments.ready, demo.local_url)
    demo.block_thread()


if __name__ == "__main__":
    main()
