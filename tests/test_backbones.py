"""Backbones and which weights they get: file, ImageNet, the offline trunk, untrained."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import FAST

import facerec
from facerec.backbones import applications, networks

ROOT = Path(__file__).resolve().parents[1]


def test_an_explicit_weights_file_wins_and_is_recorded(tmp_path):
    path = tmp_path / "my_vgg16.weights.h5"
    keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(path)
    chosen = applications.resolve_weights("vgg16", path)
    assert chosen.kind == "file" and chosen.path == str(path) and "my_vgg16.weights.h5" in chosen.description
    assert chosen.fingerprint == "sha256:" + applications.file_sha256(path)


def test_the_offline_trunk_loads_the_hed_convolutions_into_vgg16():
    chosen = applications.resolve_weights("vgg16", "hed-bsds500")
    assert chosen.kind == "hed-bsds500" and "HED" in chosen.description
    trunk = networks.build_trunk(applications.get_spec("vgg16"), chosen, 64)
    untrained = networks.build_trunk(applications.get_spec("vgg16"), applications.resolve_weights("vgg16", None), 64)
    for name in ("block1_conv1", "block4_conv3", "block5_conv3"):
        assert not np.allclose(trunk.get_layer(name).get_weights()[0], untrained.get_layer(name).get_weights()[0])
    assert all(not layer.trainable for layer in trunk.layers)


def test_untrained_weights_are_the_same_every_build():
    spec, chosen = applications.get_spec("vgg16"), applications.resolve_weights("vgg16", None)
    first, second = (networks.build_trunk(spec, chosen, 32) for _ in range(2))
    assert np.array_equal(first.get_layer("block3_conv2").get_weights()[0], second.get_layer("block3_conv2").get_weights()[0])


def test_auto_falls_back_to_the_offline_trunk_when_imagenet_cannot_be_downloaded(tmp_path):
    """A real failed download: an empty Keras cache and every connection sent to a closed port."""
    code = (
        "import facerec.backbones.applications as b\n"
        "chosen = b.resolve_weights('vgg16', 'auto')\n"
        "print(chosen.kind)\n"
        "try:\n"
        "    b.resolve_weights('mobilenet', 'auto')\n"
        "except ValueError as error:\n"
        "    print('mobilenet:', error)\n"
    )
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_HOME": str(tmp_path / "keras"), "TF_CPP_MIN_LOG_LEVEL": "3",
                   "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    result = subprocess.run([sys.executable, "-c", code], env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    assert "hed-bsds500" in lines
    assert any(line.startswith("mobilenet:") and "could not be downloaded" in line and "backbone='vgg16'" in line for line in lines)
    assert "offline HED VGG16 trunk" in result.stderr  # The fallback is announced, not silent.


def test_mobilenet_trains_with_its_own_preprocessing(make_dataset, tmp_path):
    classifier = facerec.train(make_dataset(per_label=4), cache_dir=tmp_path / "cache", **{**FAST, "backbone": "mobilenet", "epochs": 3})
    assert classifier.config.backbone == "mobilenet" and classifier.config.preprocessing == "tf"
    assert classifier.pipeline.feature_size == 256 + 512 + 1024
    classifier.save(tmp_path / "model")
    assert facerec.Classifier.load(tmp_path / "model").config.backbone == "mobilenet"


def test_unknown_backbones_and_weights_are_refused():
    with pytest.raises(ValueError, match="unknown backbone"):
        applications.resolve_weights("resnet50")
    with pytest.raises(ValueError, match="is none of these"):
        applications.resolve_weights("vgg16", "/no/such/file.h5")
    with pytest.raises(ValueError, match="cannot serve as MobileNet"):
        applications.resolve_weights("mobilenet", "hed-bsds500")


def test_a_shared_backbone_keeps_no_model_built_on_it(make_dataset, tmp_path):
    """Every training in a process shares the frozen network; what each training builds on it (the
    head, the training model, the saved end-to-end model, their traced functions) must go with its
    classifier, or a long-running app grows with every visitor who trains."""
    import gc
    import weakref

    data = make_dataset(per_label=4)
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", **{**FAST, "epochs": 2})
    classifier.save(tmp_path / "model")  # builds the end-to-end model on the shared networks too
    classifier.predict(str(next(data.glob("red/*.png"))))
    built = [weakref.ref(classifier.head), weakref.ref(classifier)]
    shared = classifier.pipeline
    del classifier
    gc.collect()
    assert [reference() for reference in built] == [None, None]
    again = facerec.train(data, cache_dir=tmp_path / "cache", **{**FAST, "epochs": 2})
    assert again.pipeline is shared  # the same frozen network served both trainings


def test_a_finished_training_keeps_no_traced_graph(make_dataset, tmp_path):
    """Keras traces its train, validation and predict steps into graphs; TensorFlow's gradient
    registry used to keep every traced train step (and all it captured) for the life of the process
    (see facerec.graph_memory). Once the classifier is gone, none of its training's graphs may be."""
    import gc
    import weakref

    from tensorflow.python.framework.func_graph import FuncGraph

    def live_graphs() -> list[FuncGraph]:
        return [thing for thing in gc.get_objects() if isinstance(thing, FuncGraph)]

    data = make_dataset(per_label=4)
    facerec.train(data, cache_dir=tmp_path / "cache", **{**FAST, "epochs": 2})  # process-wide caches warm up
    gc.collect()
    before = weakref.WeakSet(live_graphs())
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", **{**FAST, "epochs": 2, "refit": True})
    classifier.predict(str(next(data.glob("red/*.png"))))
    made = [weakref.ref(graph) for graph in live_graphs() if graph not in before]
    assert made, "the training traced no graph: this test no longer sees what it guards"
    del classifier
    gc.collect()
    assert [reference().name for reference in made if reference() is not None] == []


def _pooled_features(pooling: tuple[str, ...], images: np.ndarray) -> np.ndarray:
    """The feature vectors of ``images`` (8x8) through a trunk that only rectifies, pooled with ``pooling``."""
    image = keras.Input((8, 8, 3))
    trunk = keras.Model(image, keras.layers.ReLU(name="block")(image))
    spec = dataclasses.replace(applications.get_spec("vgg16"), feature_layers=("block",), pooling=pooling)
    frozen, features = networks.build_feature_networks(spec, trunk)
    return np.asarray(features.predict(frozen.predict(images, verbose=0), verbose=0))


def test_the_grid_pooling_keeps_where_on_the_face_a_feature_fires():
    """Eyes above the mouth, not below it: the same patch in two corners is one global feature, two grid ones."""
    images = np.zeros((2, 8, 8, 3), np.float32)
    images[0, :4, :4] = 255.0  # after the caffe preprocessing only this patch is positive
    images[1, 4:, 4:] = 255.0
    global_features = _pooled_features(("average", "max"), images)
    grid = _pooled_features(("grid2x2",), images)
    assert np.allclose(global_features[0], global_features[1])
    assert grid.shape[-1] == 4 * 3 and not np.allclose(grid[0], grid[1])
    assert np.isclose(np.linalg.norm(grid[0]), np.sqrt(grid.shape[-1]), rtol=1e-4)  # L2-normalised and scaled like the rest


def test_a_model_saved_with_other_poolings_keeps_its_cached_outputs_apart(monkeypatch):
    """A model from an earlier facerec (its frozen part outputs fewer poolings) must not share the
    feature cache or the fast-path copy of the network with today's, whose outputs differ."""
    from facerec.backbones.keras import KerasPipeline
    from facerec.detection import FaceSettings

    weights, faces = applications.resolve_weights("vgg16", None), FaceSettings(enabled=False)
    today = KerasPipeline(backbone="vgg16", weights=weights, image_size=32, faces=faces)
    monkeypatch.setattr(networks, "POOLINGS", ("average", "max"))
    spec = applications.get_spec("vgg16")
    frozen, features = networks.build_feature_networks(dataclasses.replace(spec, pooling=("average", "max")),
                                                       networks.build_trunk(spec, weights, 32))
    earlier = KerasPipeline(backbone="vgg16", weights=weights, image_size=32, faces=faces, frozen=frozen, features=features)
    assert earlier.output_count < today.output_count
    assert earlier.network_signature() != today.network_signature() and earlier.signature() != today.signature()
