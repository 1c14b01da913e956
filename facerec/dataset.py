"""A labelled image collection on disk: one folder per label, the layout Keras reads.

    <root>/<label>/<the photo's own name>.<sha256 of the stored image, 16 hex digits>.jpg

Images are stored re-encoded as JPEG (metadata such as GPS positions dropped) under the name
they came with (``IMG_1234.HEIC`` becomes ``IMG_1234.<digest>.jpg``; :func:`photo_name` gives
``IMG_1234`` back) and their content's digest, so adding the same photo twice keeps one copy.
Every file is written atomically.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import io
import os
import shutil
import zipfile
from collections.abc import Iterable
from pathlib import Path

from facerec import archives, atomic
from facerec.images import ImageError, ImageSource, encode_jpeg, is_image_name, load_image
from facerec.labels import natural_key, same_label, validate_label

DEFAULT_VALIDATION_SPLIT = 0.2
DEFAULT_SEED = 1337
DIGEST_LENGTH = 16
MAX_NAME_LENGTH = 80
# Characters no file name may hold on some system (Windows' list, and the separators).
UNSAFE_IN_NAMES = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


@dataclasses.dataclass(frozen=True)
class Sample:
    """One image of a label."""

    label: str
    path: Path

    @property
    def name(self) -> str:
        """The photo's name as it came (see :func:`photo_name`)."""
        return photo_name(self.path)


@dataclasses.dataclass
class AddReport:
    """What an add or import did: the files stored, and the inputs refused with the reason."""

    added: list[Path] = dataclasses.field(default_factory=list)
    refused: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def extend(self, other: AddReport) -> None:
        self.added.extend(other.added)
        self.refused.extend(other.refused)

    def summary(self) -> str:
        text = f"added {len(self.added)} image{'s' * (len(self.added) != 1)}"
        if self.refused:
            text += f", refused {len(self.refused)}: " + "; ".join(f"{name}: {reason}" for name, reason in self.refused[:5])
            if len(self.refused) > 5:
                text += f"; and {len(self.refused) - 5} more"
        return text


class Dataset:
    """A folder of labelled images.

    Args:
        root: the folder; created if missing.
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise ValueError(f"{self.root} is a file, not a dataset folder")
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"Dataset({str(self.root)!r})"

    # Reading -------------------------------------------------------------------------------

    def labels(self) -> dict[str, int]:
        """Every label with its number of images, in sorted order."""
        return {label: len(self._image_files(label)) for label in self._label_names()}

    def samples(self, label: str | None = None) -> list[Sample]:
        """The samples of one label, or of all labels, in a stable order."""
        names = [self._existing_label(label)] if label is not None else self._label_names()
        return [Sample(name, path) for name in names for path in self._image_files(name)]

    def __len__(self) -> int:
        return sum(self.labels().values())

    # Adding --------------------------------------------------------------------------------

    def add(self, label: str, image: ImageSource, *, name: str | None = None) -> Path:
        """Store one image under ``label`` (created if new) and return its path.

        Raises:
            ValueError: an invalid label, one that differs from another only by case, or
                :class:`~facerec.images.ImageError` for an input that is not a usable image (the
                message names it and says why).
        """
        label = self._new_or_existing(label)
        data = encode_jpeg(load_image(image, name=name))
        digest = hashlib.sha256(data).hexdigest()[:DIGEST_LENGTH]
        folder = self.root / label
        stored = next((path for path in (folder / f"{digest}.jpg", *folder.glob(f"*.{digest}.jpg")) if path.is_file()), None)
        if stored is not None:
            return stored
        return atomic.write_bytes(folder / f"{_stem(name)}.{digest}.jpg", data)

    def add_label(self, label: str) -> str:
        """Create an empty label (its photos come later); returns it as stored.

        Raises:
            ValueError: an invalid label, one that exists, or one that differs from another only by case.
        """
        label = self._new_or_existing(label)
        if (self.root / label).is_dir():
            raise ValueError(f"label {label!r} already exists")
        (self.root / label).mkdir()
        return label

    def add_many(self, label: str, images: Iterable[ImageSource], *, names: Iterable[str] | None = None) -> AddReport:
        """Store several images under one label; bad ones are refused, the rest still go in."""
        label = self._new_or_existing(label)
        report = AddReport()
        names = list(names) if names is not None else None
        for index, image in enumerate(images):
            name = names[index] if names is not None else _describe(image, index)
            try:
                report.added.append(self.add(label, image, name=name))
            except ImageError as error:
                report.refused.append((name, error.reason))
        return report

    def import_folder(self, folder: str | os.PathLike) -> AddReport:
        """Add every image of a folder laid out as ``<label>/<image>`` (optionally under
        ``train/`` and ``test/``, which are merged)."""
        return self._import(archives.list_folder(folder))

    def import_zip(self, archive: str | os.PathLike, **limits) -> AddReport:
        """Add every image of a zip laid out like :meth:`import_folder` expects, safely
        (see :mod:`facerec.archives` for the limits and what is refused)."""
        return self._import(archives.list_zip(archive, **limits))

    def _import(self, listing: archives.Listing) -> AddReport:
        report = AddReport(refused=list(listing.skipped))
        for entry in listing.entries:
            try:
                report.added.append(self.add(entry.label, entry.read(), name=entry.name))
            except ValueError as error:  # ImageError, an invalid label, or an oversized member.
                report.refused.append((entry.name, getattr(error, "reason", str(error))))
        return report

    # Changing ------------------------------------------------------------------------------

    def rename_label(self, old: str, new: str) -> None:
        """Rename a label; refused if the new name is invalid or already taken."""
        source = self.root / self._existing_label(old)
        new = validate_label(new)
        if new == source.name:
            return
        if (self.root / new).exists():
            raise ValueError(f"label {new!r} already exists")
        self._refuse_case_twin(new, ignoring=source.name)
        os.rename(source, self.root / new)

    def delete_label(self, label: str) -> None:
        """Delete a label and all its images."""
        folder = self.root / self._existing_label(label)
        # Renamed aside first, so a crash mid-delete leaves no half-deleted label behind.
        doomed = self.root / f"{atomic.TEMPORARY_PREFIX}deleted-{hashlib.sha256(folder.name.encode()).hexdigest()[:12]}"
        shutil.rmtree(doomed, ignore_errors=True)
        os.rename(folder, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def delete_sample(self, path: str | os.PathLike) -> None:
        """Delete one image, given its path inside this dataset."""
        path = Path(path)
        resolved, root = path.resolve(), self.root.resolve()
        if resolved.parent.parent != root or not resolved.is_file():
            raise ValueError(f"{path} is not an image of this dataset")
        resolved.unlink()

    def clear(self) -> None:
        """Delete every label."""
        for label in self._label_names():
            self.delete_label(label)

    # Sharing -------------------------------------------------------------------------------

    def export_zip(self, path: str | os.PathLike) -> Path:
        """Write the dataset as a zip laid out as ``<label>/<image>`` (atomically)."""
        buffer, taken = io.BytesIO(), set()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for sample in self.samples():
                member, copy = f"{sample.label}/{sample.name}.jpg", 1
                while member.casefold() in taken:  # two photos that came with the same name
                    copy += 1
                    member = f"{sample.label}/{sample.name} ({copy}).jpg"
                taken.add(member.casefold())
                archive.write(sample.path, member)
        return atomic.write_bytes(path, buffer.getvalue())

    # Splitting -----------------------------------------------------------------------------

    def split(self, validation_split: float = DEFAULT_VALIDATION_SPLIT, *, seed: int = DEFAULT_SEED) -> tuple[list[Sample], list[Sample]]:
        """A stratified train/validation split (see :func:`split_samples`)."""
        return split_samples(self.samples(), validation_split, seed=seed)

    # Internals -----------------------------------------------------------------------------

    def _label_names(self) -> list[str]:
        return sorted((entry.name for entry in self.root.iterdir() if entry.is_dir() and not entry.name.startswith(".")),
                      key=natural_key)

    def _new_or_existing(self, label: str) -> str:
        """``label`` as stored, refusing a new one that only differs by case from another."""
        label = validate_label(label)
        if not (self.root / label).is_dir():
            self._refuse_case_twin(label)
        return label

    def _refuse_case_twin(self, label: str, *, ignoring: str | None = None) -> None:
        twins = [name for name in self._label_names() if name != ignoring and same_label(name, label)]
        if twins:
            raise ValueError(f"label {label!r} differs from the label {twins[0]!r} only by case, and Windows and macOS "
                             f"would store both in one folder; use {twins[0]!r}, or a name of its own")

    def _image_files(self, label: str) -> list[Path]:
        folder = self.root / label
        return sorted(path for path in folder.iterdir() if path.is_file() and is_image_name(path.name))

    def _existing_label(self, label: str) -> str:
        name = label.strip() if isinstance(label, str) else None
        if name not in self._label_names():
            raise ValueError(f"no label {label!r} in this dataset")
        return name

def split_samples(samples: list[Sample], validation_split: float = DEFAULT_VALIDATION_SPLIT, *, seed: int = DEFAULT_SEED) -> tuple[list[Sample], list[Sample]]:
    """Split samples into training and validation sets, per label, reproducibly.

    Each label keeps ``round(count * validation_split)`` images (at least one) for validation.
    Which ones is decided by a seeded hash of each file's name, so the split is the same on
    every run, and adding images moves few existing ones from one side to the other.

    Raises:
        ValueError: fewer than 2 labels, or a label with too few images to split; the message
            names the labels and what is needed.
    """
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    by_label: dict[str, list[Sample]] = {}
    for sample in samples:
        by_label.setdefault(sample.label, []).append(sample)
    check_trainable({label: len(items) for label, items in by_label.items()}, validation_split)
    training, validation = [], []
    for label in sorted(by_label):
        ordered = sorted(by_label[label], key=lambda sample: hashlib.sha256(f"{seed}:{sample.path.name}".encode()).hexdigest())
        count = len(ordered)
        holdout = 0 if validation_split == 0 else min(count - 1, max(1, round(count * validation_split)))
        validation.extend(ordered[:holdout])
        training.extend(ordered[holdout:])
    return training, validation


def check_trainable(counts: dict[str, int], validation_split: float) -> None:
    """Raise ``ValueError`` with a plain explanation unless ``counts`` can train a classifier."""
    if len(counts) < 2:
        have = f"only {next(iter(counts))!r}" if counts else "none"
        raise ValueError(f"training needs images of at least 2 labels; this dataset has {have}")
    needed = 2 if validation_split > 0 else 1
    short = {label: count for label, count in counts.items() if count < needed}
    if short:
        listed = ", ".join(f"{label!r} has {count}" for label, count in sorted(short.items()))
        reason = " (one to train on, one to validate)" if needed == 2 else ""
        raise ValueError(f"too few images: {listed}; each label needs at least {needed}{reason}")


def photo_name(path: str | os.PathLike) -> str:
    """The name a stored photo came with: ``IMG_1234`` for ``IMG_1234.<digest>.jpg`` (its digest
    for a photo stored by name-less facerec versions)."""
    stem = Path(path).stem
    name, _, digest = stem.rpartition(".")
    return name if name and len(digest) == DIGEST_LENGTH and all(c in "0123456789abcdef" for c in digest) else stem


def _stem(name: str | None) -> str:
    """A file-name-safe stem of an input's name (``"photo"`` when it has none)."""
    stem = Path(str(name)).stem if name else ""
    stem = UNSAFE_IN_NAMES.sub("_", stem).strip(" .")[:MAX_NAME_LENGTH].strip(" .")
    return stem or "photo"


def _describe(image: ImageSource, index: int) -> str:
    if isinstance(image, (str, os.PathLike)):
        return Path(image).name
    return f"image {index + 1}"
