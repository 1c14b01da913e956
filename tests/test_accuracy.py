"""The real pretrained path end to end: real faces, the offline VGG16 trunk, face mode, defaults."""

from pathlib import Path

import facerec

# Ten of ORL's forty people (70 training and 30 test photos): the same real path as all forty at a
# quarter of the frozen passes, the slowest test of the suite otherwise (8 minutes on a busy machine).
PEOPLE = 10


def subset(source: Path, target: Path, people: int) -> Path:
    """The first ``people`` labels of ``source`` (a ``<label>/<image>`` folder), linked under ``target``."""
    for label in sorted(path for path in source.iterdir() if path.is_dir())[:people]:
        (target / label.name).mkdir(parents=True)
        for image in label.iterdir():
            (target / label.name / image.name).symlink_to(image)
    return target


def test_recognizes_people_it_was_trained_on_well_above_chance(datasets, tmp_path):
    orl = datasets / "orl_att_faces"
    train, test = (subset(orl / split, tmp_path / split, PEOPLE) for split in ("train", "test"))
    # The HED trunk is pinned (not "auto"), so the test means the same on a machine that could
    # download ImageNet weights.
    classifier = facerec.train(train, backbone="vgg16", weights="hed-bsds500", cache_dir=tmp_path / "cache")
    assert "HED" in classifier.report["weights"]
    assert classifier.report["no_face"] == [] or len(classifier.report["no_face"]) <= 1

    report = classifier.evaluate(test, cache_dir=tmp_path / "cache")
    chance = 1 / len(classifier.labels)
    print(f"ORL ({PEOPLE} people) test accuracy {report['accuracy']:.3f} (chance {chance:.3f}), "
          f"validation {classifier.metrics['accuracy']:.3f}")
    assert len(classifier.labels) == PEOPLE and report["count"] == 3 * PEOPLE
    assert report["accuracy"] >= 0.85
