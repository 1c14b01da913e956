"""The dataset store: labels, samples, imports and exports, the split, and hostile archives."""

import io
import os
import stat
import zipfile

import numpy as np
import pytest
from PIL import Image

from facerec import Dataset
from facerec.archives import list_zip
from facerec.dataset import split_samples
from facerec.labels import validate_label


def _png(colour=(200, 30, 30), size=12, seed=0) -> bytes:
    noise = np.random.default_rng(seed).integers(0, 30, (size, size, 3))
    buffer = io.BytesIO()
    Image.fromarray(np.clip(np.asarray(colour) + noise, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_add_list_rename_delete(tmp_path):
    dataset = Dataset(tmp_path / "data")
    first = dataset.add("alice", _png(seed=1))
    dataset.add("alice", _png(seed=2))
    dataset.add("bob", _png(seed=3))
    assert dataset.labels() == {"alice": 2, "bob": 1}
    assert first.parent == tmp_path / "data" / "alice" and first.suffix == ".jpg"

    dataset.rename_label("bob", "Robert")
    assert dataset.labels() == {"Robert": 1, "alice": 2}
    with pytest.raises(ValueError, match="already exists"):
        dataset.rename_label("alice", "Robert")

    dataset.delete_sample(first)
    assert dataset.labels()["alice"] == 1
    dataset.delete_label("alice")
    assert dataset.labels() == {"Robert": 1}
    with pytest.raises(ValueError, match="no label 'alice'"):
        dataset.delete_label("alice")
    with pytest.raises(ValueError, match="not an image of this dataset"):
        dataset.delete_sample(tmp_path / "elsewhere.jpg")


def test_the_same_photo_twice_is_stored_once(tmp_path):
    dataset = Dataset(tmp_path)
    assert dataset.add("alice", _png()) == dataset.add("alice", _png())
    assert dataset.labels() == {"alice": 1}


@pytest.mark.parametrize("label", ["", "   ", ".", "..", "a/b", "../escape", "a\\b", ".hidden", "x" * 101, "tab\there", "nul\x00"])
def test_bad_labels_are_refused(tmp_path, label):
    with pytest.raises(ValueError):
        Dataset(tmp_path).add(label, _png())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("label", ["con", "NUL", "Aux", "com1", "LPT9", "con.jpg", "prn ", "a:b", "who?", "pipe|", "<x>", "dot."])
def test_names_windows_cannot_store_are_refused_with_the_reason(tmp_path, label):
    dataset = Dataset(tmp_path / "data")
    with pytest.raises(ValueError, match="Windows"):
        dataset.add(label, _png())
    dataset.add("alice", _png())
    with pytest.raises(ValueError, match="Windows"):
        dataset.rename_label("alice", label)
    report = dataset.import_zip(_zip(tmp_path / "in.zip", {f"{label.strip()}/1.png": _png(seed=5)}))
    assert report.added == [] and len(report.refused) == 1  # by the label rule, or earlier by the archive rules
    assert dataset.labels() == {"alice": 1}


def test_labels_that_differ_only_by_case_are_refused(tmp_path):
    dataset = Dataset(tmp_path / "data")
    dataset.add("alice", _png(seed=1))
    dataset.add("bob", _png(seed=2))
    for attempt in (lambda: dataset.add("Alice", _png(seed=3)), lambda: dataset.rename_label("bob", "ALICE"),
                    lambda: dataset.add_many("ALICE", [_png(seed=4)])):
        with pytest.raises(ValueError, match="differs from the label 'alice' only by case"):
            attempt()
    report = dataset.import_zip(_zip(tmp_path / "in.zip", {"Alice/1.png": _png(seed=5), "alice/2.png": _png(seed=6)}))
    assert len(report.added) == 1 and "only by case" in report.refused[0][1]
    assert dataset.labels() == {"alice": 2, "bob": 1}
    dataset.rename_label("alice", "Alice")  # Its own case may change.
    assert dataset.labels() == {"Alice": 2, "bob": 1}


def test_labels_sort_as_people_count(tmp_path):
    dataset = Dataset(tmp_path)
    for label in ("Subject 11", "Subject 5", "subject 8", "Bob", "alice"):
        dataset.add(label, _png(seed=len(label)))
    assert list(dataset.labels()) == ["alice", "Bob", "Subject 5", "subject 8", "Subject 11"]


@pytest.mark.parametrize("label", ["José", "李雷", "Ana María", "O'Brien", "x" * 100])
def test_names_in_any_script_are_kept_as_typed(tmp_path, label):
    dataset = Dataset(tmp_path)
    dataset.add(label, _png())
    assert dataset.labels() == {label: 1}
    assert validate_label(f"  {label} ") == label


def test_export_then_import_round_trip(tmp_path):
    source = Dataset(tmp_path / "source")
    for index in range(3):
        source.add("José", _png(seed=index))
    source.add("李雷", _png(seed=9))
    archive = source.export_zip(tmp_path / "export.zip")
    copy = Dataset(tmp_path / "copy")
    report = copy.import_zip(archive)
    assert len(report.added) == 4 and not report.refused
    assert copy.labels() == source.labels()


def test_import_folder_with_train_and_test_and_an_enclosing_folder(tmp_path):
    seeds = iter(range(1000))  # distinct images: identical content would be stored once
    for split, count in (("train", 3), ("test", 2)):
        for label in ("cat", "dog"):
            folder = tmp_path / "download" / "pets" / split / label
            folder.mkdir(parents=True)
            for index in range(count):
                (folder / f"{index}.png").write_bytes(_png(seed=next(seeds)))
    dataset = Dataset(tmp_path / "data")
    report = dataset.import_folder(tmp_path / "download")
    assert dataset.labels() == {"cat": 5, "dog": 5}
    assert not report.refused


def test_zip_slip_and_absolute_paths_write_nothing_outside(tmp_path):
    archive = _zip(tmp_path / "evil.zip", {
        "../../outside.png": _png(),
        "/tmp/absolute.png": _png(),
        "alice/../../../escape.png": _png(),
        "alice/good.png": _png(seed=1),
        "bob/good.png": _png(seed=2),
    })
    root = tmp_path / "workspace" / "data"
    report = Dataset(root).import_zip(archive)
    assert Dataset(root).labels() == {"alice": 1, "bob": 1}
    refused = dict(report.refused)
    assert "absolute" in refused["/tmp/absolute.png"]
    assert "'..'" in refused["../../outside.png"] and "'..'" in refused["alice/../../../escape.png"]
    written = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*") if path.is_file()}
    assert written == {"evil.zip"} | {f"workspace/data/{path.parent.name}/{path.name}" for path in root.rglob("*.jpg")}
    assert not (tmp_path / "outside.png").exists() and not os.path.exists("/tmp/absolute.png")


def test_symlink_members_are_refused(tmp_path):
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        link = zipfile.ZipInfo("alice/link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        handle.writestr(link, "/etc/passwd")
        handle.writestr("alice/real.png", _png())
    report = Dataset(tmp_path / "data").import_zip(archive)
    assert len(report.added) == 1
    assert dict(report.refused)["alice/link.png"] == "symbolic link refused"


def test_zip_bombs_are_refused_before_reading(tmp_path):
    many = _zip(tmp_path / "many.zip", {f"alice/{index}.png": b"x" for index in range(30)})
    with pytest.raises(ValueError, match="30 files, more than the limit of 20"):
        Dataset(tmp_path / "data").import_zip(many, max_files=20)
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("alice/zeros.png", b"\0" * (5 << 20))  # 5 MiB of zeros compress to a few KiB.
    assert big.stat().st_size < 100_000
    with pytest.raises(ValueError, match="bytes uncompressed, more than the limit"):
        Dataset(tmp_path / "data").import_zip(big, max_bytes=1 << 20)
    assert not (tmp_path / "data" / "alice").exists()


def test_deep_folders_and_non_images_are_reported_not_imported(tmp_path):
    archive = _zip(tmp_path / "mixed.zip", {
        "alice/a.png": _png(seed=1),
        "alice/extra/deeper/b.png": _png(seed=2),
        "alice/notes.txt": b"hello",
        "fake/photo.jpg": b"not really a jpeg",
        "loose.png": _png(seed=3),
        "__MACOSX/alice/._a.png": b"junk",
    })
    report = Dataset(tmp_path / "data").import_zip(archive)
    refused = dict(report.refused)
    assert len(report.added) == 1
    assert refused["alice/extra/deeper/b.png"] == "nested deeper than <label>/<image>"
    assert refused["alice/notes.txt"] == "not an image file name"
    assert "not an image" in refused["fake/photo.jpg"]
    assert refused["loose.png"] == "not inside a label folder"
    assert "__MACOSX/alice/._a.png" not in refused


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "photos.zip"
    path.write_text("plain text")
    with pytest.raises(ValueError, match="not a zip archive"):
        list_zip(path)


def test_split_is_stratified_seeded_and_stable(tmp_path):
    dataset = Dataset(tmp_path)
    for label, count in (("alice", 10), ("bob", 5)):
        for index in range(count):
            dataset.add(label, _png(seed=hash((label, index)) % 10_000))
    training, validation = dataset.split(0.2, seed=7)
    assert sorted(sample.label for sample in validation) == ["alice", "alice", "bob"]
    assert len(training) == 12
    assert (training, validation) == dataset.split(0.2, seed=7)
    assert dataset.split(0.2, seed=8)[1] != validation

    dataset.add("alice", _png(seed=4242))
    _, validation_after = dataset.split(0.2, seed=7)
    assert len(set(validation) & set(validation_after)) >= len(validation) - 1


def test_too_few_images_get_a_plain_message(tmp_path):
    dataset = Dataset(tmp_path)
    with pytest.raises(ValueError, match="at least 2 labels; this dataset has none"):
        dataset.split()
    dataset.add("alice", _png(seed=1))
    with pytest.raises(ValueError, match="at least 2 labels; this dataset has only 'alice'"):
        dataset.split()
    dataset.add("alice", _png(seed=2))
    dataset.add("bob", _png(seed=3))
    with pytest.raises(ValueError, match="'bob' has 1; each label needs at least 2"):
        dataset.split()
    training, validation = split_samples(dataset.samples(), 0.0)
    assert len(training) == 3 and validation == []


def test_photos_keep_the_names_they_came_with(tmp_path):
    dataset = Dataset(tmp_path / "data")
    report = dataset.add_many("alice", [_png(seed=1), _png(seed=2), _png(seed=1)], names=["IMG_0001.HEIC", "beach:day?.png", "copy.png"])
    assert len(report.added) == 3 and report.added[0] == report.added[2]  # the same photo twice, kept once
    assert sorted(sample.name for sample in dataset.samples("alice")) == ["IMG_0001", "beach_day_"]
    dataset.add("bob", _png(seed=3), name="IMG_0001.jpg")
    dataset.add("bob", _png(seed=4), name="img_0001.png")
    with zipfile.ZipFile(dataset.export_zip(tmp_path / "out.zip")) as archive:
        assert sorted(archive.namelist()) == ["alice/IMG_0001.jpg", "alice/beach_day_.jpg", "bob/IMG_0001.jpg",
                                              "bob/img_0001 (2).jpg"]
