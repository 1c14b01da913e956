"""Training end to end on synthetic images (an untrained VGG16 at 32 pixels: fast, offline)."""

import threading

import numpy as np
import pytest
from conftest import COLOURS, FAST, colour_image

import facerec
from facerec import Dataset
from facerec.features import Stopped
from facerec.fitting import class_balance_weights
from facerec.model_card import model_card_text


def test_train_predict_recognize_evaluate(make_dataset, tmp_path):
    data = make_dataset(("red", "blue", "green"), per_label=8)
    updates = []
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", on_update=updates.append, **FAST)

    assert classifier.labels == ["blue", "green", "red"]
    assert classifier.metrics["accuracy"] == 1.0
    assert classifier.metrics["labels"] == classifier.labels
    assert sum(map(sum, classifier.metrics["confusion"])) == 6  # 2 validation images per label.

    probabilities = classifier.predict(colour_image(COLOURS["green"], seed=999))
    assert set(probabilities) == {"blue", "green", "red"}
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert max(probabilities, key=probabilities.get) == "green"

    [whole] = classifier.recognize(colour_image(COLOURS["red"], seed=998, size=50))
    assert whole["box"] == (0, 0, 50, 50) and whole["label"] == "red"
    # Above every probability (the standardised head can be sure to float32 precision: exactly 1.0).
    assert classifier.recognize(colour_image(COLOURS["red"], seed=998), threshold=1.0 + 1e-6)[0]["label"] == "unknown"

    report = classifier.evaluate(data)
    assert report["accuracy"] == 1.0 and report["count"] == 24 and report["per_class"] == {"blue": 1.0, "green": 1.0, "red": 1.0}

    stages = [update.stage for update in updates]
    assert stages[0] == "preparing" and stages[1] == "features" and "training" in stages and stages[-1] == "evaluating"
    epochs = [update for update in updates if update.stage == "training" and update.metrics]
    assert len(epochs) == len(classifier.report["history"]) >= 1
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(epochs[0].metrics)
    assert classifier.report["device"].startswith(("CPU", "GPU")) and "untrained" in classifier.report["weights"]


def test_cache_runs_each_image_through_the_backbone_once(make_dataset, tmp_path):
    data = make_dataset(per_label=6)
    settings = {**FAST, "epochs": 2, "test_time_flip": False}
    first = facerec.train(data, cache_dir=tmp_path / "cache", **settings)
    assert first.report["forward_passes"] == 12

    again = facerec.train(data, cache_dir=tmp_path / "cache", **settings)
    assert again.report["forward_passes"] == 0

    Dataset(data).add("red", colour_image(COLOURS["red"], seed=500))
    Dataset(data).add("blue", colour_image(COLOURS["blue"], seed=501))
    added = facerec.train(data, cache_dir=tmp_path / "cache", **settings)
    assert added.report["forward_passes"] == 2

    other_size = facerec.train(data, cache_dir=tmp_path / "cache", **{**settings, "image_size": 48})
    assert other_size.report["forward_passes"] == 14  # Another pipeline: its own cache entries.


def test_augmented_views_are_cached_too(make_dataset, tmp_path):
    data = make_dataset(per_label=5)
    settings = {**FAST, "epochs": 2, "augment": 3}
    first = facerec.train(data, cache_dir=tmp_path / "cache", **settings)
    # 8 training images x (original, mirror, 3 augmented) + 2 validation x (original, mirror).
    assert first.report["forward_passes"] == 8 * 5 + 2 * 2
    assert facerec.train(data, cache_dir=tmp_path / "cache", **settings).report["forward_passes"] == 0


def test_a_damaged_cache_entry_is_recomputed(make_dataset, tmp_path):
    data = make_dataset(per_label=4)
    settings = {**FAST, "epochs": 2, "test_time_flip": False}
    reference = facerec.train(data, cache_dir=tmp_path / "cache", **settings)
    entries = sorted(path for path in (tmp_path / "cache").rglob("*") if path.is_file() and path.stat().st_size > 1000)
    damaged = bytearray(entries[0].read_bytes())
    damaged[-5] ^= 0xFF
    entries[0].write_bytes(bytes(damaged))
    retrained = facerec.train(data, cache_dir=tmp_path / "cache", **settings)
    assert retrained.report["forward_passes"] == 1
    assert retrained.metrics["accuracy"] == reference.metrics["accuracy"]


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop", "sgd"])
@pytest.mark.parametrize("head", ["softmax", "dense"])
def test_every_optimizer_and_head_trains(make_dataset, tmp_path, optimizer, head):
    data = make_dataset(per_label=5)
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", optimizer=optimizer, head=head, dense_units=(16,),
                               **{**FAST, "epochs": 3})
    assert classifier.config.training["optimizer"] == optimizer
    assert classifier.config.head["kind"] == head
    assert len(classifier.report["history"]) == 3


def kept_epoch(history: list[dict], metric: str = "accuracy") -> dict:
    """The epoch early stopping keeps: the highest validation accuracy, a tie going to the later
    epoch; or the lowest validation loss, the first one."""
    if metric == "loss":
        return min(history, key=lambda epoch: epoch["val_loss"])
    return max(history, key=lambda epoch: (epoch["val_accuracy"], epoch["epoch"]))


@pytest.mark.parametrize("metric", ["accuracy", "loss"])
def test_early_stopping_keeps_the_best_epoch(make_dataset, tmp_path, metric):
    data = make_dataset(per_label=5)
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", early_stopping_patience=2, optimizer="sgd",
                               early_stopping_metric=metric, **{**FAST, "epochs": 40, "learning_rate": 5.0})
    history = classifier.report["history"]
    best = kept_epoch(history, metric)
    assert len(history) <= best["epoch"] + 2
    # The kept weights are the best epoch's: re-scoring the validation split reproduces its loss.
    assert classifier.metrics["accuracy"] == pytest.approx(best["val_accuracy"])


def test_stop_during_training_keeps_what_was_learned(make_dataset, tmp_path):
    data = make_dataset(per_label=5)
    stop = threading.Event()

    def on_update(update):
        if update.stage == "training" and update.done == 2:
            stop.set()

    classifier = facerec.train(data, cache_dir=tmp_path / "cache", stop=stop, on_update=on_update, **{**FAST, "epochs": 50})
    assert len(classifier.report["history"]) == 2
    assert classifier.predict(colour_image(COLOURS["red"], seed=3))


def test_stop_before_any_epoch_raises_stopped(make_dataset, tmp_path):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Stopped):
        facerec.train(make_dataset(per_label=3), cache_dir=tmp_path / "cache", stop=stop, **FAST)


def test_fine_tuning_the_top_layers_changes_them_and_survives_save(make_dataset, tmp_path):
    data = make_dataset(per_label=5)
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", trainable_layers=4, **{**FAST, "epochs": 3, "learning_rate": 0.001})
    trainable = {weight.path.split("/")[0] for weight in classifier.pipeline.features.trainable_weights}
    assert trainable == {"block5_conv1", "block5_conv2", "block5_conv3"}
    untrained = facerec.train(data, cache_dir=tmp_path / "cache", trainable_layers=0, **{**FAST, "epochs": 1})
    tuned_kernel = classifier.pipeline.features.get_layer("block5_conv3").get_weights()[0]
    frozen_kernel = untrained.pipeline.frozen.get_layer("block5_conv3").get_weights()[0]
    assert not np.allclose(tuned_kernel, frozen_kernel)

    image = colour_image(COLOURS["blue"], seed=77)
    classifier.save(tmp_path / "model")
    loaded = facerec.Classifier.load(tmp_path / "model")
    assert loaded.predict(image) == pytest.approx(classifier.predict(image), abs=1e-5)


def test_train_and_test_folders_make_the_validation_split(make_dataset, tmp_path):
    make_dataset(per_label=4, folder="both/train")
    make_dataset(per_label=2, folder="both/test", seed=1)
    classifier = facerec.train(tmp_path / "both", cache_dir=tmp_path / "cache", **FAST)
    assert classifier.config.dataset == {"blue": {"train": 4, "validation": 2}, "red": {"train": 4, "validation": 2}}


def test_bad_states_give_plain_messages(make_dataset, tmp_path):
    with pytest.raises(ValueError, match="no such folder"):
        facerec.train(tmp_path / "missing", **FAST)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="at least 2 labels; this dataset has none"):
        facerec.train(tmp_path / "empty", **FAST)
    with pytest.raises(ValueError, match="only 'red'"):
        facerec.train(make_dataset(("red",), per_label=3, folder="one"), **FAST)
    with pytest.raises(ValueError, match="each label needs at least 2"):
        facerec.train(make_dataset(per_label=1, folder="single"), **FAST)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        facerec.train(make_dataset(folder="ok"), optimizer="adamw", **FAST)
    with pytest.raises(ValueError, match="unknown backbone 'resnet'"):
        facerec.train(make_dataset(folder="ok2"), **{**FAST, "backbone": "resnet"})


def test_the_input_size_defaults_to_the_backbones_for_the_mode():
    """VGG16 reads faces at 160 px (half the frozen pass of 224, bench/results/accuracy_variants.md)
    and whole images at 224; a size the user sets is kept, for either mode."""
    from facerec.settings import TrainingSettings

    assert TrainingSettings(backbone="vgg16", faces=True).image_size == 160
    assert TrainingSettings(backbone="vgg16", faces=False).image_size == 224
    assert TrainingSettings(backbone="vgg16", faces=True, image_size=224).image_size == 224
    assert TrainingSettings(backbone="mobilenet", faces=True).image_size == 224


def test_face_mode_reports_images_without_faces(make_dataset, tmp_path):
    data = make_dataset(per_label=3)
    with pytest.raises(ValueError, match="no usable training image left for .*turn face mode off"):
        facerec.train(data, cache_dir=tmp_path / "cache", **{**FAST, "faces": True})


def test_refit_learns_from_every_photo_and_keeps_the_validation_report_measured_before(make_dataset, tmp_path):
    data = make_dataset(("red", "blue", "green"), per_label=8)
    refit = facerec.train(data, cache_dir=tmp_path / "cache", **FAST)
    validated_only = facerec.train(data, cache_dir=tmp_path / "cache", refit=False, **FAST)

    # The final head learned from every photo of the dataset: its training set is the dataset.
    assert refit.config.training["refit"] is True and validated_only.config.training["refit"] is False
    assert refit.config.training["images_trained_on"] == refit.report["trained_on"] == len(Dataset(data).samples()) == 24
    assert validated_only.config.training["images_trained_on"] == 18  # the 80% left after the validation split
    assert refit.config.training["refit_rows"] == 24 * 2  # each photo and its mirror
    best = kept_epoch(refit.report["history"])
    assert refit.config.training["epochs_refit"] == best["epoch"]
    # Its validation report is the one measured before the refit (the same seed's validated head's),
    # although the saved head is another one.
    assert refit.metrics == validated_only.metrics and refit.metrics["count"] == 6
    assert refit.metrics["accuracy"] == pytest.approx(best["val_accuracy"])
    assert not all(np.allclose(mine, theirs) for mine, theirs in zip(refit.head.get_weights(), validated_only.head.get_weights()))
    assert "before the final refit" in refit.config.refit_note() and validated_only.config.refit_note() == ""

    refit.save(tmp_path / "model")
    loaded = facerec.Classifier.load(tmp_path / "model")
    assert loaded.metrics == refit.metrics and loaded.config.training["images_trained_on"] == 24
    assert "before the final refit" in model_card_text(loaded.config, "someone/faces")


def test_no_refit_without_a_validation_split(make_dataset, tmp_path):
    data = make_dataset(per_label=4)
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", validation_split=0.0, **FAST)
    assert classifier.config.training["refit"] is False and classifier.metrics == {}
    assert classifier.config.training["images_trained_on"] == 8


def test_standardised_features_and_head_penalty_are_saved_in_the_model(make_dataset, tmp_path):
    data = make_dataset(per_label=5)
    classifier = facerec.train(data, cache_dir=tmp_path / "cache", standardize=True, l2=1e-3, **FAST)
    standardize = classifier.head.get_layer("standardize")
    assert float(np.max(np.abs(np.asarray(standardize.variance) - 1.0))) > 1e-3  # adapted, not the identity
    image = colour_image(COLOURS["blue"], seed=78)
    classifier.save(tmp_path / "model")
    loaded = facerec.Classifier.load(tmp_path / "model")
    assert loaded.predict(image) == pytest.approx(classifier.predict(image), abs=1e-5)
    assert loaded.config.head["standardize"] is True and loaded.config.head["l2"] == 1e-3


def test_balanced_classes_weigh_each_label_alike_however_many_photos_it_has(make_dataset, tmp_path):
    weights = class_balance_weights(np.array([0, 0, 0, 1, 2, 2]))
    assert weights == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0, 1.0, 1.0])
    assert weights.mean() == pytest.approx(1.0)  # the learning rate means what it did
    assert [weights[np.array([0, 0, 0, 1, 2, 2]) == label].sum() for label in range(3)] == pytest.approx([2.0, 2.0, 2.0])
    classifier = facerec.train(make_dataset(per_label=5), cache_dir=tmp_path / "cache", balance_classes=True, **FAST)
    assert classifier.config.training["balance_classes"] is True and classifier.metrics["accuracy"] is not None
