"""Atomic writes: a file or folder is either the old version or the new one, never half of each.

A process killed in the middle of a save (a visitor closing a tab, an out-of-memory kill, a
Space restart) must leave the last good model and dataset readable. Every write goes to a
temporary sibling first and is renamed into place; renames within one filesystem are atomic.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

# Temporary siblings start with this prefix, so listings can skip them and a later save can
# sweep away what an interrupted one left behind.
TEMPORARY_PREFIX = ".facerec-tmp-"
PREVIOUS_PREFIX = ".facerec-previous-"


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=TEMPORARY_PREFIX, dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return path


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def replace_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Build a folder's new contents in a temporary sibling, then swap it in for ``path``.

    Usage::

        with replace_directory("my-model") as staging:
            (staging / "config.json").write_text(...)

    If the block raises, ``path`` is untouched. The swap is two renames (``path`` aside, the
    staging folder in); a crash between them leaves the old folder under a
    ``.facerec-previous-*`` name, which :func:`recover_directory` puts back.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(path)
    staging = Path(tempfile.mkdtemp(prefix=TEMPORARY_PREFIX + path.name + "-", dir=path.parent))
    try:
        yield staging
        _fsync_tree(staging)
        previous = None
        if path.exists():
            previous = path.parent / f"{PREVIOUS_PREFIX}{path.name}"
            shutil.rmtree(previous, ignore_errors=True)
            os.rename(path, previous)
        os.rename(staging, path)
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def recover_directory(path: str | os.PathLike) -> bool:
    """Restore ``path`` from the copy an interrupted :func:`replace_directory` set aside.

    Returns True when something was restored. Called before every load and save, so an
    interrupted save costs nothing but the unfinished new version.
    """
    path = Path(path)
    previous = path.parent / f"{PREVIOUS_PREFIX}{path.name}"
    if path.exists() or not previous.is_dir():
        return False
    os.rename(previous, path)
    return True


def _fsync_tree(folder: Path) -> None:
    for file in folder.rglob("*"):
        if file.is_file():
            with open(file, "rb") as handle:
                os.fsync(handle.fileno())
