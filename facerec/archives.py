"""Read image folders and zip archives laid out by label, safely.

Accepted layouts, with or without one enclosing folder (what zipping a folder produces):

    <label>/<image>                      every image is a sample of its label
    train/<label>/<image>, test/<label>/<image>

Zip members are read into memory one at a time, within limits on their count and total size,
and never extracted: a member named ``../../etc/passwd`` or ``/tmp/x`` is refused by name and
nothing is written anywhere but through the dataset store.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import zipfile
from pathlib import Path, PurePosixPath

from facerec.images import is_image_name

SPLIT_FOLDERS = ("train", "test")
MAX_ARCHIVE_FILES = 10_000
MAX_ARCHIVE_BYTES = 1 << 30  # 1 GiB of image data, uncompressed.
MAX_MEMBER_BYTES = 64 << 20  # 64 MiB for one image file.


@dataclasses.dataclass(frozen=True)
class Entry:
    """One image found in a folder or an archive: its label, split (``None`` for no split
    folder), the name to report it by, and how to read its bytes."""

    label: str
    split: str | None
    name: str
    read: object  # Callable[[], bytes]


@dataclasses.dataclass
class Listing:
    """The images of a folder or archive, and what was passed over with the reason."""

    entries: list[Entry] = dataclasses.field(default_factory=list)
    skipped: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def list_folder(folder: str | os.PathLike) -> Listing:
    """The labelled images in a folder (symbolic links are not followed out of it)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: not a folder")
    paths = []
    for root, directories, files in os.walk(folder, followlinks=False):
        directories[:] = sorted(name for name in directories if not name.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if path.is_symlink():
                continue
            paths.append((PurePosixPath(path.relative_to(folder).as_posix()), path))
    return _organise([(relative, _file_reader(path)) for relative, path in paths])


def list_zip(archive: str | os.PathLike, *, max_files: int = MAX_ARCHIVE_FILES, max_bytes: int = MAX_ARCHIVE_BYTES) -> Listing:
    """The labelled images in a zip archive, refusing path escapes and archives over the limits.

    Raises:
        ValueError: not a zip file, or more files or uncompressed bytes than the limits allow
            (a zip bomb); nothing has been read then.
    """
    archive = Path(archive)
    if not zipfile.is_zipfile(archive):
        raise ValueError(f"{archive.name}: not a zip archive")
    with zipfile.ZipFile(archive) as handle:
        members = [info for info in handle.infolist() if not info.is_dir()]
    if len(members) > max_files:
        raise ValueError(f"{archive.name}: {len(members)} files, more than the limit of {max_files}")
    declared = sum(info.file_size for info in members)
    if declared > max_bytes:
        raise ValueError(f"{archive.name}: {declared:,} bytes uncompressed, more than the limit of {max_bytes:,}")
    listing = Listing()
    candidates = []
    for info in members:
        problem = _member_problem(info)
        if problem:
            listing.skipped.append((info.filename, problem))
        else:
            candidates.append((PurePosixPath(info.filename), _zip_reader(archive, info)))
    organised = _organise(candidates)
    organised.skipped[:0] = listing.skipped
    return organised


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "absolute path refused"
    if ".." in PurePosixPath(name).parts:
        return "path with '..' refused"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link refused"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"file larger than {MAX_MEMBER_BYTES >> 20} MiB"
    return None


def _organise(files: list[tuple[PurePosixPath, object]]) -> Listing:
    """Assign each file a label (and split) from its path, after dropping one enclosing folder."""
    listing = Listing()
    images = []
    for path, read in files:
        if not _visible(path):
            continue
        if is_image_name(path.name):
            images.append((path, read))
        else:
            listing.skipped.append((str(path), "not an image file name"))
    prefix = _enclosing_folder([path for path, _ in images])
    for path, read in images:
        parts = path.parts[prefix:]
        split = parts[0] if len(parts) == 3 and parts[0] in SPLIT_FOLDERS else None
        if split is not None:
            parts = parts[1:]
        if len(parts) == 2:
            listing.entries.append(Entry(label=parts[0], split=split, name=str(path), read=read))
        elif len(parts) < 2:
            listing.skipped.append((str(path), "not inside a label folder"))
        else:
            listing.skipped.append((str(path), "nested deeper than <label>/<image>"))
    return listing


def _enclosing_folder(paths: list[PurePosixPath]) -> int:
    """1 when every image sits under one common top folder that is not itself a label level."""
    if not paths or any(len(path.parts) < 3 for path in paths):
        return 0
    tops = {path.parts[0] for path in paths}
    if len(tops) != 1 or next(iter(tops)) in SPLIT_FOLDERS:
        return 0
    return 1


def _visible(path: PurePosixPath) -> bool:
    return not any(part.startswith(".") or part == "__MACOSX" for part in path.parts)


def _file_reader(path: Path):
    def read() -> bytes:
        if path.stat().st_size > MAX_MEMBER_BYTES:
            raise ValueError(f"larger than {MAX_MEMBER_BYTES >> 20} MiB")
        return path.read_bytes()

    return read


def _zip_reader(archive: Path, info: zipfile.ZipInfo):
    def read() -> bytes:
        # The declared size can lie; read one byte past the limit to catch a member that
        # inflates beyond what it declared.
        with zipfile.ZipFile(archive) as handle, handle.open(info) as member:
            data = member.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            raise ValueError(f"inflates to more than {MAX_MEMBER_BYTES >> 20} MiB")
        return data

    return read

