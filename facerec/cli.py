"""``facerec`` (or ``python -m facerec``): collect images, train, evaluate and predict from the command line.

    facerec add alice photos/alice*.jpg --data data/
    facerec import faces.zip --data data/
    facerec labels --data data/
    facerec train data/ --out my-model/ --epochs 30
    facerec evaluate my-model/ data_test/
    facerec predict my-model/ group.jpg
    facerec push my-model/ alice/my-faces --private

Bad input ends with exit code 1 and a one-line message on standard error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from facerec.config import UNKNOWN
from facerec.quiet import import_tensorflow_quietly
from facerec.settings import EARLY_STOPPING_METRICS, HEADS, OPTIMIZERS, TrainingSettings

DEFAULT_DATA = "facerec-data"
# The defaults of every training option, from the one place that defines them.
DEFAULTS = {field.name: field.default for field in dataclasses.fields(TrainingSettings)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        if arguments.needs_tensorflow:
            import_tensorflow_quietly()
        return arguments.run(arguments) or 0
    except (ValueError, OSError) as error:
        print(f"facerec: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("facerec: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facerec", description="Build a face recognizer from labelled photos.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    add = commands.add_parser("add", help="add images under a label")
    add.add_argument("label")
    add.add_argument("images", nargs="+", type=Path)
    add.add_argument("--data", type=Path, default=Path(DEFAULT_DATA), help=f"dataset folder (default: {DEFAULT_DATA})")
    add.set_defaults(run=_add, needs_tensorflow=False)

    load = commands.add_parser("import", help="import a folder or .zip laid out as <label>/<image>")
    load.add_argument("source", type=Path)
    load.add_argument("--data", type=Path, default=Path(DEFAULT_DATA), help=f"dataset folder (default: {DEFAULT_DATA})")
    load.set_defaults(run=_import, needs_tensorflow=False)

    labels = commands.add_parser("labels", help="list labels and image counts")
    labels.add_argument("--data", type=Path, default=Path(DEFAULT_DATA), help=f"dataset folder (default: {DEFAULT_DATA})")
    labels.set_defaults(run=_labels, needs_tensorflow=False)

    train = commands.add_parser("train", help="train a classifier and save it")
    train.add_argument("data", type=Path, help="<label>/<image> folder, or one with train/ and test/")
    train.add_argument("--out", type=Path, required=True, help="folder to save the model to")
    train.add_argument("--backbone", default=DEFAULTS["backbone"],
                       help="auto (default: dlib in face mode, vgg16 with --no-faces), dlib (face specialist), vgg16, mobilenet")
    train.add_argument("--weights", default=DEFAULTS["weights"], help="auto, imagenet, hed-bsds500, none, or a weights file")
    train.add_argument("--no-faces", dest="faces", action="store_false", help="classify whole images (not faces)")
    train.add_argument("--image-size", type=int, default=DEFAULTS["image_size"],
                       help="input side in pixels (default: the backbone's for the mode; VGG16: 160 for faces, 224 otherwise)")
    train.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    train.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    train.add_argument("--learning-rate", type=float, default=DEFAULTS["learning_rate"])
    train.add_argument("--optimizer", default=DEFAULTS["optimizer"], choices=OPTIMIZERS)
    train.add_argument("--head", default=DEFAULTS["head"], choices=HEADS)
    train.add_argument("--augment", type=int, default=DEFAULTS["augment"], help="extra augmented views per image")
    train.add_argument("--trainable-layers", type=int, default=DEFAULTS["trainable_layers"],
                       help="fine-tune this many top backbone layers")
    train.add_argument("--validation-split", type=float, default=DEFAULTS["validation_split"])
    train.add_argument("--early-stopping-patience", type=int, default=DEFAULTS["early_stopping_patience"],
                       help="epochs without improvement before stopping")
    train.add_argument("--early-stopping-metric", default=DEFAULTS["early_stopping_metric"], choices=EARLY_STOPPING_METRICS,
                       help="the validation score that chooses the epoch kept")
    train.add_argument("--cache", type=Path, default=None, help="feature cache folder")
    train.set_defaults(run=_train, needs_tensorflow=True)

    evaluate = commands.add_parser("evaluate", help="score a saved model on labelled images")
    evaluate.add_argument("model", help="model folder, or a Hub repo id (namespace/name)")
    evaluate.add_argument("data", type=Path)
    evaluate.add_argument("--json", action="store_true", help="print the full report as JSON")
    evaluate.set_defaults(run=_evaluate, needs_tensorflow=True)

    predict = commands.add_parser("predict", help="name every face in images")
    predict.add_argument("model", help="model folder, or a Hub repo id (namespace/name)")
    predict.add_argument("images", nargs="+", type=Path)
    predict.add_argument("--threshold", type=float, default=None, help="below this probability: unknown")
    predict.add_argument("--distance-threshold", type=float, default=None,
                         help="farther than this from the named person: unknown (models with a distance rule, e.g. dlib)")
    predict.add_argument("--json", action="store_true", help="print results as JSON lines")
    predict.set_defaults(run=_predict, needs_tensorflow=True)

    push = commands.add_parser("push", help="push a saved model to the Hugging Face Hub")
    push.add_argument("model", type=Path)
    push.add_argument("repo_id", help="namespace/name")
    push.add_argument("--private", action="store_true")
    push.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or the stored login)")
    push.add_argument("--overwrite-card", action="store_true", help="replace a model card edited on the Hub")
    push.set_defaults(run=_push, needs_tensorflow=True)
    return parser


def _add(arguments) -> int:
    from facerec.dataset import Dataset

    report = Dataset(arguments.data).add_many(arguments.label, arguments.images)
    return _print_add_report(report)


def _import(arguments) -> int:
    from facerec.dataset import Dataset

    dataset = Dataset(arguments.data)
    source: Path = arguments.source
    if source.is_dir():
        report = dataset.import_folder(source)
    elif source.is_file():
        report = dataset.import_zip(source)
    else:
        raise ValueError(f"{source}: no such file or folder")
    return _print_add_report(report)


def _print_add_report(report) -> int:
    if not report.added and report.refused:
        raise ValueError(report.summary())
    print(report.summary())
    return 0


def _labels(arguments) -> int:
    from facerec.dataset import Dataset

    counts = Dataset(arguments.data).labels()
    if not counts:
        print(f"{arguments.data}: no labels yet")
    for label, count in counts.items():
        print(f"{label}\t{count}")
    return 0


def _train(arguments) -> int:
    from tqdm import tqdm

    from facerec.training import train

    bars: dict[str, tqdm] = {}

    def on_update(update) -> None:
        if not update.total:  # A step without a count (loading the backbone): one line.
            tqdm.write(update.message, file=sys.stderr)
            return
        bar = bars.get(update.stage)
        if bar is None:
            bar = bars[update.stage] = tqdm(total=update.total, desc=update.stage, unit="image" if update.stage == "features" else "epoch")
        bar.n = update.done
        if update.metrics:
            bar.set_postfix({key: f"{value:.3f}" for key, value in update.metrics.items()}, refresh=False)
        bar.refresh()

    settings = TrainingSettings(
        backbone=arguments.backbone, weights=None if arguments.weights == "none" else arguments.weights,
        faces=arguments.faces, image_size=arguments.image_size, epochs=arguments.epochs, batch_size=arguments.batch_size,
        learning_rate=arguments.learning_rate, optimizer=arguments.optimizer, head=arguments.head, augment=arguments.augment,
        trainable_layers=arguments.trainable_layers, validation_split=arguments.validation_split,
        early_stopping_patience=arguments.early_stopping_patience, early_stopping_metric=arguments.early_stopping_metric,
    )
    try:
        classifier = train(arguments.data, settings, cache_dir=arguments.cache, on_update=on_update)
    finally:
        for bar in bars.values():
            bar.close()
    classifier.save(arguments.out)
    report = classifier.report
    print(f"backbone: {settings.backbone}")
    print(f"backbone weights: {report['weights']}")
    print(f"trained on {report['device']} in {report['seconds']:.1f} s")
    if report["no_face"]:
        print(f"no face found in {len(report['no_face'])} image(s), left out: " + ", ".join(report["no_face"][:10]))
    for name, reason in report["unreadable"]:
        print(f"left out {name}: {reason}")
    if classifier.metrics:
        print(f"validation accuracy: {classifier.metrics['accuracy']:.3f}")
        if classifier.config.refit_note():
            print(classifier.config.refit_note())
    print(f"saved to {arguments.out}")
    return 0


def _evaluate(arguments) -> int:
    from facerec.classifier import Classifier

    report = Classifier.from_pretrained(arguments.model).evaluate(arguments.data)
    if arguments.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0
    print(f"accuracy: {report['accuracy']:.3f} on {report['count']} images ({report['no_prediction']} without a face)")
    for label, accuracy in report["per_class"].items():
        print(f"  {label}: {'-' if accuracy is None else f'{accuracy:.3f}'}")
    return 0


def _predict(arguments) -> int:
    from facerec.classifier import Classifier
    from facerec.drawing import describe_face
    from facerec.images import ImageError

    classifier = Classifier.from_pretrained(arguments.model)
    threshold = classifier.threshold if arguments.threshold is None else arguments.threshold
    distance_threshold = classifier.distance_threshold if arguments.distance_threshold is None else arguments.distance_threshold
    failures = 0
    for image in arguments.images:
        try:
            faces = classifier.recognize(image, threshold=arguments.threshold, distance_threshold=arguments.distance_threshold)
        except ImageError as error:
            print(f"facerec: error: {error}", file=sys.stderr)
            failures += 1
            continue
        if arguments.json:
            print(json.dumps({"image": str(image), "faces": faces}, ensure_ascii=False))
        elif not faces:
            print(f"{image}: no face found")
        for face in faces if not arguments.json else []:
            distance = f", distance {face['distance']:.2f}" if face.get("distance") is not None and face["label"] != UNKNOWN else ""
            print(f"{image}: {describe_face(face, threshold=threshold, distance_threshold=distance_threshold)}{distance} "
                  f"at {tuple(face['box'])}")
    return 1 if failures else 0


def _push(arguments) -> int:
    import warnings

    from facerec.hub import CardKeptWarning, push_folder

    with warnings.catch_warnings(record=True, action="always", category=CardKeptWarning) as caught:
        url = push_folder(arguments.model, arguments.repo_id, token=arguments.token, private=arguments.private,
                          overwrite_card=arguments.overwrite_card)
    print(f"pushed to {url}")
    for warning in caught:
        if issubclass(warning.category, CardKeptWarning):
            print(str(warning.message).replace("overwrite_card=True", "--overwrite-card"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
