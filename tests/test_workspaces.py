"""Per-visitor workspaces (facerec.app.sessions): private folders, background training, clean-up."""

from __future__ import annotations

import time

import numpy as np
import pytest
from conftest import COLOURS, FAST, colour_image

from facerec.features import Stopped
from facerec.app.sessions import ADDED, DUPLICATE, NO_FACE, Workspaces
from facerec.settings import TrainingSettings


@pytest.fixture
def workspaces(tmp_path):
    registry = Workspaces(tmp_path / "root", idle_timeout=60, max_images=20)
    yield registry
    registry.close()


def fill(workspace, per_label: int = 6) -> None:
    for label in ("red", "blue"):
        for index in range(per_label):
            workspace.dataset.add(label, colour_image(COLOURS[label], seed=index))


def test_private_folders_not_derived_from_the_session(workspaces, tmp_path):
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "session-left-by-a-crash").mkdir()
    first, again, other = workspaces.get("abc"), workspaces.get("abc"), workspaces.get("xyz")
    assert first is again and first.folder != other.folder
    assert "abc" not in first.folder.name and first.folder.parent == tmp_path / "root"
    assert oct(first.folder.stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "root").stat().st_mode & 0o777) == "0o700"
    assert not (tmp_path / "root" / "session-left-by-a-crash").exists()


def test_end_and_idle_sweep_delete_the_folder(workspaces):
    ended, idle, busy = workspaces.get("ended"), workspaces.get("idle"), workspaces.get("busy")
    assert workspaces.end("ended") and not ended.folder.exists() and not workspaces.end("ended")
    idle.last_used = busy.last_used = time.monotonic() - 120
    workspaces.get("busy")  # Used again: stays.
    assert workspaces.sweep() == 1 and not idle.folder.exists() and busy.folder.exists()


def test_frames_face_mode_duplicates_and_the_image_limit(workspaces):
    workspace = workspaces.get("s")
    blank = np.full((120, 160, 3), 128, np.uint8)
    assert workspace.add_frame("cat", blank, faces=True) == NO_FACE
    assert workspace.add_frame("cat", blank, faces=False) == ADDED
    assert workspace.add_frame("cat", blank, faces=False) == DUPLICATE
    assert workspace.dataset.labels() == {"cat": 1}
    workspace.max_images = 1
    with pytest.raises(ValueError, match="at most 1 images"):
        workspace.add_frame("cat", colour_image(COLOURS["red"], seed=1), faces=False)


def test_background_training_reports_epochs_and_refuses_a_second(workspaces):
    workspace = workspaces.get("s")
    fill(workspace)
    run = workspace.start_training(TrainingSettings(**FAST))
    with pytest.raises(ValueError, match="already running"):
        workspace.start_training(TrainingSettings(**FAST))
    stages = {update.stage for update in run.updates()}
    assert run.wait(60) and run.error is None and workspace.classifier is run.classifier
    assert {"features", "training", "evaluating"} <= stages
    assert [row["epoch"] for row in run.history] == list(range(1, len(run.history) + 1))
    assert workspace.export_model().stat().st_size > 0 and workspace.export_dataset().stat().st_size > 0


def test_stopped_before_any_epoch_and_closing_during_training(workspaces):
    workspace = workspaces.get("s")
    fill(workspace)
    run = workspace.start_training(TrainingSettings(**FAST))
    run.stop.set()
    run.wait(60)
    assert isinstance(run.error, Stopped) and workspace.classifier is None

    closing = workspaces.get("closing")
    fill(closing)
    run = closing.start_training(TrainingSettings(**{**FAST, "epochs": 500, "learning_rate": 1e-5}))
    workspaces.end("closing")
    assert run.stop.is_set()
    assert run.wait(60) and not closing.folder.exists() and closing.classifier is None


def test_a_silent_step_is_announced_again_with_its_duration(workspaces):
    """A step that says nothing for a while (loading a network, converting it for the fast path)
    comes again with the seconds spent on it, so the page never looks frozen. Here the step is
    made silent by holding the shared backbone while training waits for it."""
    from facerec.backbones.keras import KerasPipeline
    from facerec.detection import FaceSettings

    settings = TrainingSettings(**FAST)
    backbone = KerasPipeline.build(backbone="vgg16", weights=None, image_size=settings.image_size,
                                   faces=FaceSettings(enabled=False))  # the one training shares
    workspace = workspaces.get("s")
    fill(workspace)
    messages = []
    with backbone._lock:  # the frozen pass waits: a silent step
        run = workspace.start_training(settings)
        updates = run.updates(heartbeat_seconds=0.05)
        while not any(silent_step(message) for message in messages):
            messages.append(next(updates).message)
    messages += [update.message for update in updates]
    assert run.wait(60) and run.error is None
    assert messages[-1] == "done"


def silent_step(message: str) -> bool:
    """A heartbeat: a step's last update again, with the seconds it has taken (it waits for the held backbone)."""
    return message.endswith(" s)")


def test_a_page_that_comes_back_within_the_grace_keeps_its_workspace(workspaces):
    """A page that loses its connection for a moment comes back with the same session: its work stays."""
    ended = []
    back = workspaces.get("back")
    workspaces.leave("back", grace=0.5, on_ended=ended.append)
    assert workspaces.find("back") is back  # used again: it came back
    gone = workspaces.get("gone")
    workspaces.leave("gone", grace=0.5, on_ended=ended.append)
    while "gone" not in ended:
        time.sleep(0.05)
    assert not gone.folder.exists() and workspaces.find("gone") is None
    assert workspaces.find("back") is back and back.folder.exists() and ended == ["gone"]
    workspaces.leave("now", grace=0)  # a session without a workspace: nothing to do
