"""The custom live route behind a Space-like front: TLS ends at a reverse proxy (nginx), which
forwards http and WebSocket upgrades to the app under a path prefix (``launch(root_path=...)``).

Checks that the page builds its route's address from ``gradio_config.root`` (so ``wss://`` and the
prefix come out right) and that frames flow through the proxy, for each way of carrying them.
Needs nginx and openssl (``apt-get install nginx-light openssl``) and a Python with ``websockets``.

    python -m bench.live_transport_apps.proxy_check [--python /tmp/venv-ws/bin/python]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
NGINX = """daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
worker_processes 1;
events {{ worker_connections 256; }}
http {{
  access_log {work}/access.log;
  client_body_temp_path {work}/body;
  proxy_temp_path {work}/proxy;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {work}/cert.pem;
    ssl_certificate_key {work}/key.pem;
    location {prefix}/ {{
      proxy_pass http://127.0.0.1:{app_port}/;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host:$server_port;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host $host:$server_port;
      proxy_buffering off;
      proxy_read_timeout 3600s;
    }}
  }}
}}
"""


def check(via: str, python: str, camera: Path, work: Path, prefix: str = "/space") -> str:
    from playwright.sync_api import sync_playwright

    from bench.live_transport import CHROMIUM, CHROMIUM_ARGS, free_port, stop

    app_port, port = free_port(), free_port()
    (work / "ready").unlink(missing_ok=True)
    app = subprocess.Popen([python, "-m", "bench.live_transport_apps.custom", "--via", via, "--port", str(app_port),
                            "--root-path", prefix, "--ready", str(work / "ready")], cwd=REPOSITORY,
                           env={**os.environ, "PYTHONPATH": str(REPOSITORY)}, stdout=open(work / "app.out", "w"),
                           stderr=subprocess.STDOUT)
    (work / "nginx.conf").write_text(NGINX.format(work=work, port=port, prefix=prefix, app_port=app_port))
    nginx = subprocess.Popen(["nginx", "-c", str(work / "nginx.conf"), "-p", str(work)])
    try:
        deadline = time.time() + 90
        while not (work / "ready").exists():
            if app.poll() is not None or time.time() > deadline:
                raise RuntimeError((work / "app.out").read_text()[-2000:])
            time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                *CHROMIUM_ARGS, "--ignore-certificate-errors", f"--use-file-for-fake-video-capture={camera}"])
            page = browser.new_context(permissions=["camera"], ignore_https_errors=True).new_page()
            sockets, posts = [], []
            page.on("websocket", lambda socket: sockets.append(socket.url))
            page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
            page.add_init_script("window.__n = 0; window.addEventListener('facerec-live-result', () => window.__n++);")
            page.goto(f"https://127.0.0.1:{port}{prefix}/")
            page.wait_for_function("() => window.__facerecLiveToken", timeout=30_000)
            root = page.evaluate("() => window.gradio_config.root")
            page.locator("#live button.start").click()
            page.wait_for_timeout(10_000)
            results = page.evaluate("() => window.__n")
            browser.close()
    finally:
        stop([nginx, app])
    carried = ({"ws": [url.split("?")[0] for url in sockets if "facerec" in url],
                "http": sorted({url for url in posts if "facerec" in url}),
                "server": sorted({url for url in posts if "component_server" in url})}[via])
    return f"{via}: page root {root}; {results} results in 10 s; frames went to {carried}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default="/tmp/venv-ws/bin/python", help="a Python with websockets")
    arguments = parser.parse_args()
    if not (shutil.which("nginx") and shutil.which("openssl")):
        raise SystemExit("needs nginx and openssl (apt-get install nginx-light openssl)")
    from bench.live_transport_apps import camera

    work = Path(tempfile.mkdtemp(prefix="live-proxy-"))
    for folder in ("body", "proxy"):
        (work / folder).mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(work / "key.pem"), "-out",
                    str(work / "cert.pem"), "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    film = camera.write_mjpeg(work / "faces.mjpeg", frames=600)
    for via in ("ws", "http", "server"):
        print(check(via, arguments.python, film, work), flush=True)


if __name__ == "__main__":
    main()
