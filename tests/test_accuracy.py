"""The real pretrained path end to end: real faces, the offline VGG16 trunk, face mode, defaults."""

import facerec


def test_recognizes_people_it_was_trained_on_well_above_chance(datasets, tmp_path):
    # The HED trunk is pinned (not "auto"), so the test means the same on a machine that could
    # download ImageNet weights.
    classifier = facerec.train(datasets / "orl_att_faces" / "train", backbone="vgg16", weights="hed-bsds500",
                               cache_dir=tmp_path / "cache")
    assert "HED" in classifier.report["weights"]
    assert classifier.report["no_face"] == [] or len(classifier.report["no_face"]) <= 2

    report = classifier.evaluate(datasets / "orl_att_faces" / "test", cache_dir=tmp_path / "cache")
    chance = 1 / len(classifier.labels)
    print(f"ORL test accuracy {report['accuracy']:.3f} (chance {chance:.3f}), validation {classifier.metrics['accuracy']:.3f}")
    assert report["count"] == 120
    assert report["accuracy"] >= 0.85
