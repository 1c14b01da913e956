"""Transport 3: the page's own frames to a route on the Gradio server (see live_route.py, the recipe).

    python -m bench.live_transport_apps.custom --via ws --width 480 --port 7862
"""

from __future__ import annotations

import gradio as gr
import numpy as np

from bench.live_transport_apps import common
from bench.live_transport_apps.live_route import LiveRoute


def main() -> None:
    parser = common.parser(__doc__.split("\n")[0])
    parser.add_argument("--via", choices=("ws", "http", "server"), default="ws")
    parser.add_argument("--width", type=int, default=480, help="width of the frames sent")
    parser.add_argument("--quality", type=float, default=0.7, help="their JPEG quality (0-1)")
    parser.add_argument("--workers", type=int, default=2, help="frames processed at once over all visitors")
    parser.add_argument("--root-path", default=None, help="launch(root_path=...): the app behind a proxy at a sub-path")
    parser.add_argument("--ready", default=None)
    arguments = parser.parse_args()
    handler = common.stand_in(arguments)
    log = common.FrameLog(arguments.log)

    def process(frame: np.ndarray, session: str) -> dict:
        result = handler.process(frame)
        log.write(frame=result["frame"], mirrored=result["mirrored"], shape=list(frame.shape), session=session)
        return result

    live = LiveRoute(process, transport=arguments.via, width=arguments.width, quality=arguments.quality,
                     workers=arguments.workers)
    with gr.Blocks() as demo:
        live.component(elem_id="live")
        live.wire(demo)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_port=arguments.port, prevent_thread_lock=True, quiet=True, app_kwargs={"routes": live.routes()},
                root_path=arguments.root_path)
    common.ready_file(arguments.ready, demo.local_url)
    demo.block_thread()


if __name__ == "__main__":
    main()
