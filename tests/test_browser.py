"""The app in a real browser: headless Chromium with a fake webcam that shows a real face in every frame.

The fake camera plays an MJPEG file made here: a held-out photo of one of the example dataset's
people (ORL subject 13, never in the dataset) moving a little on a plain background, so every
frame has a face and what a click captures never depends on timing. The tests record from it in
face mode, train on the example dataset, try photos and the live view, and save a screenshot of
every tab, before and after training, under test-artifacts/ (git-ignored) for a person to look at.
Every wait is on what the page shows, with generous ceilings for a busy machine.

Needs Debian's Chromium (``apt-get install chromium``) and the playwright package; skips, saying
which is missing, otherwise.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"
CAMERA_PERSON = ROOT / "examples" / "photos" / "subject-13.jpg"  # held out from the example dataset
KNOWN_AS = "Subject 13"
LABEL = "Alice"
LONG = 240_000  # ms: the ceiling for a training or a first live result on a busy machine

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def write_fake_camera(path: Path) -> Path:
    """A looping 640x480 MJPEG: the face in every frame, drifting a little (a live view has work to do)."""
    import cv2

    face = cv2.imread(str(CAMERA_PERSON))
    face = cv2.resize(face, (round(face.shape[1] * 260 / face.shape[0]), 260), interpolation=cv2.INTER_CUBIC)
    background = np.full((480, 640, 3), (196, 206, 214), np.uint8)
    cv2.rectangle(background, (0, 400), (640, 480), (150, 160, 170), -1)  # a table, for some structure
    with open(path, "wb") as stream:
        for step in range(40):
            frame = background.copy()
            left = 200 + round(40 * np.sin(step / 40 * 2 * np.pi))
            frame[100:360, left:left + face.shape[1]] = face
            stream.write(cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return path


@pytest.fixture(scope="module")
def browser_page(facerec_app, tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    camera = write_fake_camera(tmp_path_factory.mktemp("camera") / "face.mjpeg")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu"])
        context = browser.new_context(permissions=["camera"], viewport={"width": 1360, "height": 1000})
        page = context.new_page()
        page.elsewhere = []  # Requests to any other host than the app's: there should be none.
        page.on("request", lambda request: page.elsewhere.append(request.url)
                if not request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
        page.goto(facerec_app.url)
        page.get_by_role("tab", name="1 · Collect photos").wait_for()
        yield page
        browser.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def workspace_of(facerec_app, label: str):
    return next(workspace for workspace in list(facerec_app.workspaces._workspaces.values())
                if label in workspace.dataset.labels())


def card(page, label: str):
    """The card of a label (Gradio nests a group's element in another with the same classes: the outer one)."""
    return page.locator(".label-card").filter(has=page.get_by_role("heading", name=label, exact=True)).first


def test_every_tab_before_training(browser_page):
    page, expect = browser_page, playwright_api.expect
    expect(page.get_by_text("No photos yet.")).to_be_visible()
    for tab, name in (("1 · Collect photos", "1-collect-empty"), ("2 · Train", "2-train-before"),
                      ("3 · Try it", "3-try-before"), ("4 · Share", "4-share-before")):
        page.get_by_role("tab", name=tab).click()
        screenshot(page, name)
    page.get_by_role("tab", name="2 · Train").click()
    backbone = page.get_by_role("radio", name="dlib face-recognition ResNet")
    expect(backbone).to_be_checked()  # face mode recommends the face specialist
    page.get_by_role("radio", name="Whole images: objects, pets, scenes").check()
    expect(page.get_by_role("radio", name="VGG16")).to_be_checked()
    page.get_by_role("radio", name="Faces: find and crop every face").check()
    expect(backbone).to_be_checked()
    page.get_by_role("tab", name="1 · Collect photos").click()


def test_capture_is_one_click_and_a_recording_ends_counted(facerec_app, browser_page):
    page, expect = browser_page, playwright_api.expect
    note = page.locator("#collect-note")
    page.locator("#new-label input").fill(LABEL)
    page.locator("#add-label").click()
    expect(card(page, LABEL)).to_be_visible(timeout=30_000)

    # The camera is off: one click on Capture turns it on and saves the photo.
    card(page, LABEL).get_by_role("button", name="📸 Capture").click()
    expect(note).to_contain_text(f"Saved a photo of {LABEL}", timeout=60_000)
    expect(card(page, LABEL)).to_contain_text("1 photo")

    hold = card(page, LABEL).get_by_role("button", name="⏺ Hold to record")
    hold.hover()
    page.mouse.down()
    page.wait_for_function("() => (window.facerec.camera.recording?.frames.length || 0) >= 5", timeout=60_000)
    page.mouse.up()
    expect(note).to_contain_text(f"Recorded {LABEL}", timeout=60_000)
    assert page.evaluate("() => window.facerec.camera.recording") is None  # stopped: no frame comes after
    stored = len(workspace_of(facerec_app, LABEL).dataset.samples(LABEL))
    said = int(re.search(r"(\d+) photos? saved", note.inner_text()).group(1))
    duplicates = re.search(r"(\d+) already saved", note.inner_text())
    assert stored == 1 + said and said + (int(duplicates.group(1)) if duplicates else 0) >= 5
    expect(card(page, LABEL)).to_contain_text(f"{stored} photos")

    import facerec

    for sample in workspace_of(facerec_app, LABEL).dataset.samples(LABEL):
        image = facerec.load_image(sample.path)
        assert max(image.shape[:2]) <= 320  # The face crop, not the 640x480 frame.
        assert facerec.detect_faces(image)  # Training finds the face again.
    screenshot(page, "1-collect")


def test_train_then_the_live_view_names_the_face_on_the_train_tab(facerec_app, browser_page):
    page, expect = browser_page, playwright_api.expect
    card(page, LABEL).get_by_role("button", name="Rename or delete").click()
    page.once("dialog", lambda dialog: dialog.accept())
    card(page, LABEL).get_by_role("button", name=f"🗑 Delete {LABEL}").click()
    expect(page.get_by_role("heading", name=LABEL, exact=True)).to_have_count(0, timeout=30_000)
    page.locator("#load-example").click()
    expect(page.locator("#collect-note")).to_contain_text("ORL", timeout=60_000)
    expect(page.locator(".card-title h3")).to_have_count(4)
    assert page.locator(".card-title h3").all_inner_texts() == ["Subject 5", "Subject 8", "Subject 11", "Subject 13"]

    page.get_by_role("tab", name="2 · Train").click()
    page.get_by_role("button", name="🚀 Train model").click()
    status = page.locator("#train-status")
    expect(status).to_contain_text("Trained in", timeout=LONG)
    expect(page.locator("#results")).to_contain_text("Validation accuracy")
    expect(page.locator("#per-class")).to_contain_text("Accuracy")
    screenshot(page, "2-train")

    # Training again clears the last results until it has its own.
    page.get_by_role("button", name="🚀 Train model").click()
    expect(page.locator("#results")).not_to_contain_text("Validation accuracy", timeout=30_000)
    expect(status).to_contain_text("Trained in", timeout=LONG)
    expect(page.locator("#results")).to_contain_text("Validation accuracy")

    live = page.locator("#train-live")
    live.get_by_role("button", name="▶ Start the live view").click()
    page.wait_for_function(f"() => (window.facerec.liveStats?.frames || []).some((frame) => "
                           f"frame.faces.some((caption) => caption.startsWith('{KNOWN_AS} ')))", timeout=LONG)
    seen = page.evaluate("() => window.facerec.liveStats.results")
    page.wait_for_function(f"() => window.facerec.liveStats.results >= {seen + 10}", timeout=LONG)  # and keeps coming
    latest = page.evaluate("() => window.facerec.liveStats.frames.slice(-10).map((f) => f.faces)")
    assert sum(any(caption.startswith(KNOWN_AS) for caption in faces) for faces in latest) >= 5, latest
    screenshot(page, "2-train-live")
    live.get_by_role("button", name="■ Stop").click()


def test_photos_are_outlined_and_named_and_a_stranger_reads_unknown(browser_page):
    page, expect = browser_page, playwright_api.expect
    page.get_by_role("tab", name="3 · Try it").click()
    expect(page.locator("#model-info")).to_contain_text("4 labels")
    expect(page.locator("#distance-threshold")).to_be_visible()  # a dlib model: its rule, with what it means
    expect(page.locator("#distance-threshold")).to_contain_text("Farther than this from the closest person")
    examples = page.locator("#predict-examples")
    examples.get_by_role("button", name="Subjects 5, 8 and 11 together").click()
    expect(page.locator("#predict-note")).to_contain_text("3 faces", timeout=LONG)
    for name in ("Subject 5", "Subject 8", "Subject 11"):
        expect(page.locator("#predict-note")).to_contain_text(name)
    expect(page.locator("#photo-result img")).to_be_visible()
    screenshot(page, "3-try-it")

    examples.get_by_role("button", name="Someone else: not in the example dataset").click()
    expect(page.locator("#predict-headline")).to_contain_text("Unknown", timeout=LONG)
    expect(page.locator("#predict-note")).to_contain_text("unknown (closest:")
    screenshot(page, "3-try-it-stranger")

    page.get_by_role("tab", name="Live webcam").click()
    page.locator("#predict-live").get_by_role("button", name="▶ Start the live view").click()
    before = page.evaluate("() => window.facerec.liveStats.results")
    page.wait_for_function(f"() => window.facerec.liveStats.results >= {before + 5}", timeout=LONG)
    screenshot(page, "3-try-it-live")
    page.locator("#predict-live").get_by_role("button", name="■ Stop").click()


def test_share_clears_a_pasted_token_even_when_the_push_fails(browser_page):
    page, expect = browser_page, playwright_api.expect
    page.get_by_role("tab", name="4 · Share").click()
    token = page.get_by_label("Hugging Face token (write access)")
    token.fill("hf_not_a_real_token")
    page.get_by_role("button", name="⬆ Push to the Hub").click()  # no repository name: refused
    expect(page.locator("#push-note")).to_contain_text("Enter a repository name", timeout=30_000)
    expect(token).to_have_value("")
    screenshot(page, "4-share")
    assert page.elsewhere == []
