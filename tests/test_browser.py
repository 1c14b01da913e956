"""The app in a real browser: headless Chromium with a fake webcam that shows real faces.

The fake camera plays an MJPEG file made here from ORL faces (and a few frames with no face);
the test records a label from it with face mode on, trains, tries an example photo, and saves a
screenshot of every tab under test-artifacts/ (git-ignored) for a person to look at.

Needs Debian's Chromium (``apt-get install chromium``), the playwright package and the shared
datasets; skips, saying which is missing, otherwise.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CAPTURED_SUBJECT = "s1"  # Not one of the example dataset's people.
LABEL = "Alice"

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def write_fake_camera(datasets: Path, path: Path) -> Path:
    """A looping 640x480 MJPEG: each face of one ORL subject for a moment, then an empty room."""
    import cv2

    background = np.full((480, 640, 3), (196, 206, 214), np.uint8)
    cv2.rectangle(background, (0, 360), (640, 480), (150, 160, 170), -1)  # A table, for some structure.
    frames = []
    for face_path in sorted((datasets / "orl_att_faces" / "train" / CAPTURED_SUBJECT).glob("*.jpg")):
        face = cv2.resize(cv2.imread(str(face_path)), (184, 224), interpolation=cv2.INTER_CUBIC)
        frame = background.copy()
        frame[110:334, 228:412] = face
        frames += [frame] * 8
    frames += [background] * 16
    with open(path, "wb") as stream:
        for frame in frames:
            stream.write(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return path


@pytest.fixture(scope="module")
def browser_page(facerec_app, datasets, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    camera = write_fake_camera(datasets, tmp_path_factory.mktemp("camera") / "faces.mjpeg")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu"])
        context = browser.new_context(permissions=["camera"], viewport={"width": 1360, "height": 1000})
        page = context.new_page()
        page.elsewhere = []  # Requests to any other host than the app's: there should be none.
        page.on("request", lambda request: page.elsewhere.append(request.url)
                if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")) else None)
        page.goto(facerec_app.url)
        page.get_by_role("tab", name="1 · Collect photos").wait_for()
        yield page
        browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_record_faces_from_the_webcam(facerec_app, browser_page):
    page, expect = browser_page, playwright_api.expect
    label_box = page.locator("#label input")
    label_box.fill(LABEL)
    label_box.press("Tab")  # A typed label is taken when the box loses focus.
    expect(page.locator("#gallery")).to_contain_text("Photos of the selected label")

    page.locator("#camera").get_by_text("Click to Access Webcam").click()
    page.locator('#camera button[aria-label="capture photo"]').click()  # Starts the stream.
    page.wait_for_timeout(1500)

    hold = page.locator("#record-hold")
    hold.hover()
    page.mouse.down()
    page.wait_for_timeout(6000)
    page.mouse.up()
    note = page.locator("#collect-note")
    expect(note).to_contain_text(f"Recorded {LABEL}", timeout=20_000)
    expect(note).to_contain_text("without a face skipped", timeout=5_000)
    expect(page.locator("#recording input")).not_to_be_checked()

    page.get_by_role("button", name="📸 Capture photo").click()
    expect(note).to_contain_text(re.compile("Saved a photo|already saved"), timeout=15_000)

    workspace = next(w for w in facerec_app.workspaces._workspaces.values() if LABEL in w.dataset.labels())
    stored = workspace.dataset.samples(LABEL)
    assert len(stored) >= 2
    import facerec

    for sample in stored:
        image = facerec.load_image(sample.path)
        assert max(image.shape[:2]) <= 320  # The face crop, not the 640x480 frame.
        assert facerec.detect_faces(image)  # Training finds the face again.
    expect(page.locator("#counts")).to_contain_text(LABEL)
    screenshot(page, "1-collect")


def test_train_try_and_share_tabs(browser_page):
    page, expect = browser_page, playwright_api.expect
    page.get_by_role("tab", name="Example").click()
    page.get_by_role("button", name="Load the example faces").click()
    expect(page.locator("#collect-note")).to_contain_text("ORL", timeout=30_000)

    page.get_by_role("tab", name="2 · Train").click()
    page.get_by_role("button", name="🚀 Train model").click()
    expect(page.locator("#train-status")).to_contain_text("Trained in", timeout=180_000)
    expect(page.locator("#results")).to_contain_text("Validation accuracy")
    screenshot(page, "2-train")

    page.get_by_role("tab", name="3 · Try it").click()
    expect(page.locator("#model-info")).to_contain_text("5 labels")
    page.locator("#predict-examples").get_by_role("button").first.click()
    expect(page.locator("#predict-note")).to_contain_text("3 faces", timeout=60_000)
    screenshot(page, "3-try-it")

    page.get_by_role("tab", name="Live webcam").click()
    page.locator("#live-camera").get_by_text("Click to Access Webcam").click()
    page.locator('#live-camera button[aria-label="capture photo"]').click()
    expect(page.locator("#live-view img")).to_be_visible(timeout=60_000)
    expect(page.locator("#predict-note")).to_contain_text(f"1 face: {LABEL}", timeout=60_000)
    screenshot(page, "3-try-it-live")

    page.get_by_role("tab", name="4 · Share").click()
    page.wait_for_timeout(500)
    screenshot(page, "4-share")
    assert page.elsewhere == []
