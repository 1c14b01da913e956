"""Benchmark 4, the choices: how each face setting changes accuracy, so the defaults are explained.

Each variant changes one thing from facerec's defaults: the crop margin, eye alignment, face mode,
which VGG16 blocks are pooled into the features, their per-block L2 normalisation, flip
test-time augmentation, cached augmented views, the head's form, the learning rate (and the dlib
backbone when it is registered). Each is trained on repeated stratified 80/20 splits of
``train/`` (validation accuracy, mean and spread), and the split with the default seed is scored
on ``test/``. Choose on validation; test is reported, not tuned on.

    python -m bench.accuracy_variants                           # five_celebrity_faces and orl_att_faces
    python -m bench.accuracy_variants --datasets five_celebrity_faces --splits 3
    python -m bench.accuracy_variants --quick
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

from bench import harness

harness.quiet_tensorflow()

import numpy as np  # noqa: E402

import facerec  # noqa: E402
from facerec import backbones, networks, pipeline  # noqa: E402
from facerec.dataset import DEFAULT_SEED, Dataset  # noqa: E402

DEFAULT_LAYERS = backbones.BACKBONES["vgg16"].feature_layers


@dataclasses.dataclass(frozen=True)
class Variant:
    """One change from the defaults: ``settings`` for :func:`facerec.train`, or other pooled layers."""

    name: str
    settings: dict = dataclasses.field(default_factory=dict)
    feature_layers: tuple[str, ...] | None = None
    raw_pooling: bool = False  # global average only, no per-block L2 normalisation and scaling
    backbone: str | None = None  # a registered non-Keras pipeline (e.g. "dlib")


VARIANTS = [
    Variant("defaults"),
    Variant("face_margin=0.0", {"face_margin": 0.0}),
    Variant("face_margin=0.25", {"face_margin": 0.25}),
    Variant("face_margin=0.4", {"face_margin": 0.4}),
    Variant("align_faces=False", {"align_faces": False}),
    Variant("faces=False (whole image)", {"faces": False}),
    Variant("features: block5 only", feature_layers=("block5_pool",)),
    Variant("features: block4 only", feature_layers=("block4_pool",)),
    Variant("features: blocks 4+5", feature_layers=("block4_pool", "block5_pool")),
    Variant("features: blocks 3-5, no L2 normalisation (plain average)", raw_pooling=True),
    Variant("test_time_flip=False", {"test_time_flip": False}),
    Variant("augment=2 (cached views)", {"augment": 2}),
    Variant("augment=4 (cached views)", {"augment": 4}),
    Variant("head=dense (1024, 1024, 512)", {"head": "dense"}),
    Variant("head=dense (256,)", {"head": "dense", "dense_units": (256,)}),
    Variant("learning_rate=1e-2", {"learning_rate": 1e-2}),
    Variant("learning_rate=1e-4", {"learning_rate": 1e-4}),
]
# ORL costs 4x the forward passes of the celebrity set: only the variants that answer its questions.
ORL_VARIANTS = {"defaults", "face_margin=0.25", "align_faces=False", "features: block5 only", "features: block4 only",
                "test_time_flip=False", "learning_rate=1e-2"}


def register_backbone(variant: Variant) -> str:
    """The backbone name to train with: ``vgg16``, or a registered copy pooling other layers."""
    if variant.backbone:
        return variant.backbone
    if variant.feature_layers is None and not variant.raw_pooling:
        return "vgg16"
    layers = variant.feature_layers or DEFAULT_LAYERS
    name = "vgg16[" + "+".join(layer.split("_")[0] for layer in layers) + (",raw" if variant.raw_pooling else "") + "]"
    backbones.BACKBONES[name] = dataclasses.replace(backbones.BACKBONES["vgg16"], feature_layers=tuple(layers))
    pipeline.PIPELINES[name] = pipeline.KerasPipeline
    return name


@contextlib.contextmanager
def plain_average_pooling(enabled: bool) -> Iterator[None]:
    """Pool without the per-block L2 normalisation while a pipeline is built (bench only)."""
    if not enabled:
        yield
        return
    original = networks._pool
    networks._pool = lambda activation, name: networks.layers.GlobalAveragePooling2D(name=f"{name}_average")(activation)
    try:
        yield
    finally:
        networks._pool = original


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--datasets", nargs="*", default=["five_celebrity_faces", "orl_att_faces"])
    options.add_argument("--splits", type=int, default=3, help="repeated 80/20 splits of train/ per variant")
    options.add_argument("--variants", nargs="*", help="names of the variants to run (default: all)")
    options.add_argument("--cache-dir", help="feature cache to use and keep (default: a temporary one)")
    arguments = options.parse_args()
    started = time.perf_counter()
    machine = harness.machine_info()
    variants = [variant for variant in VARIANTS if not arguments.variants or variant.name in arguments.variants]
    extra = [name for name in pipeline.PIPELINES if name not in backbones.BACKBONES and "[" not in name]
    variants += [Variant(f"backbone={name}", backbone=name) for name in extra]
    if arguments.quick:
        variants, arguments.splits = [variants[0], variants[6]], 2
    seeds = [DEFAULT_SEED] + list(range(1, arguments.splits))

    table = harness.Table("Accuracy of each variant (one change from the defaults)", [
        "dataset", "variant", f"validation acc, mean of {arguments.splits} splits", "spread (min-max)", "test acc",
        "test images without a face", "load (1 min)"])
    summary = []
    with harness.scratch_folder("variants") as scratch:
        cache = Path(arguments.cache_dir) if arguments.cache_dir else scratch / "cache"
        for dataset_name in arguments.datasets:
            root = harness.dataset(dataset_name)
            training, test = root / "train", root / "test"
            if arguments.quick:
                training = harness.copy_images(harness.subset(harness.image_files(training), labels=3, per_label=5), scratch / "train")
                test = harness.copy_images(harness.subset(harness.image_files(test), labels=3, per_label=2), scratch / "test")
            quick_settings = {"epochs": 3, "image_size": 64} if arguments.quick else {}
            results = {}
            for variant in variants:
                if dataset_name == "orl_att_faces" and variant.name not in ORL_VARIANTS and not variant.backbone:
                    continue
                backbone = register_backbone(variant)
                settings = {**quick_settings, **variant.settings, "backbone": backbone}
                if variant.backbone:
                    settings.pop("image_size", None)
                print(f"[{dataset_name}] {variant.name}", flush=True)
                validation, test_accuracy, no_face = [], float("nan"), 0
                with plain_average_pooling(variant.raw_pooling):
                    for seed in seeds:
                        classifier = facerec.train(Dataset(training), cache_dir=cache, seed=seed, **settings)
                        validation.append(classifier.metrics["accuracy"])
                        if seed == DEFAULT_SEED:
                            report = classifier.evaluate(test, cache_dir=cache)
                            test_accuracy, no_face = report["accuracy"], report["no_prediction"]
                results[variant.name] = (float(np.mean(validation)), test_accuracy)
                table.add(dataset_name, variant.name, float(np.mean(validation)), f"{min(validation):.3f}-{max(validation):.3f}",
                          test_accuracy, no_face, harness.load_average().split("/")[0])
                harness.write_report("accuracy_variants", "Accuracy variants: what each face setting is worth", [table],
                                     machine=machine, arguments=arguments, started=started, summary=summary)
            best = max(results.items(), key=lambda item: item[1][0])
            summary.append(f"{dataset_name}: defaults validation {results['defaults'][0]:.3f} / test {results['defaults'][1]:.3f}; "
                           f"best on validation: {best[0]} ({best[1][0]:.3f} / test {best[1][1]:.3f})")
            harness.write_report("accuracy_variants", "Accuracy variants: what each face setting is worth", [table],
                                 machine=machine, arguments=arguments, started=started, summary=summary)
    table.notes += [
        "Each variant changes one thing from facerec's defaults at the time of the run (see facerec.TrainingSettings). "
        "Validation: stratified 80/20 splits of train/ with seeds 1337, 1, 2, ...; test: the seed-1337 model on test/.",
        "Feature-layer and pooling variants register a copy of the VGG16 backbone pooling other blocks (bench only).",
    ]
    harness.write_report("accuracy_variants", "Accuracy variants: what each face setting is worth", [table],
                         machine=machine, arguments=arguments, started=started, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
