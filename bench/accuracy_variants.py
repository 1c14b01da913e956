"""Benchmark 4, the choices (issue 15): which features and head carry identity, one change at a time.

Each variant changes one thing from the baseline (facerec's defaults before issue 15: average
pooling per block, face margin 0.1, dropout 0.2, no L2, no standardisation, 50 epochs, no refit);
the last, "chosen recipe", is facerec's defaults now. Every variant is trained with VGG16 on
repeated stratified 80/20 splits of ``train/`` (one per seed): facerec trains on the 80% (holding
out its own validation split for early stopping, and refitting on all of that 80% where the
variant refits) and is scored on the other 20%, so refitting is measured like everything else.
``--test`` then trains the baseline and the chosen recipe on all of ``train/`` and scores them on
``test/``, which nothing was chosen on.

Results are kept per (dataset, variant) in ``accuracy_variants.json`` beside the markdown, so the
datasets can be run one at a time; the markdown always shows every row measured so far.

    python -m bench.accuracy_variants --datasets five_celebrity_faces --seeds 3 --cache-dir /tmp/benchcache/variants
    python -m bench.accuracy_variants --datasets orl_att_faces --variants baseline "chosen recipe" --test
    python -m bench.accuracy_variants --quick
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

from bench import harness

harness.quiet_tensorflow()

import numpy as np  # noqa: E402

import facerec  # noqa: E402
from facerec import atomic, backbones  # noqa: E402
from facerec.backbones import applications  # noqa: E402
from facerec.dataset import DEFAULT_SEED, Dataset, split_samples  # noqa: E402

TITLE = "Accuracy variants: which features and head carry identity (issue 15)"
CHOSEN = "chosen recipe"
COLD_TIMING = "_timing_cold"
AT_224 = "chosen recipe, image_size=224"
# facerec's defaults before issue 15, spelled out so the baseline stays put when the defaults move.
# image_size: 224 px in both modes then (faces moved to 160 with issue 11).
BASELINE = {"face_margin": 0.1, "dropout": 0.2, "l2": 0.0, "standardize": False, "epochs": 50,
            "early_stopping_patience": 10, "early_stopping_metric": "loss", "refit": False, "augment": 0, "test_time_flip": True, "image_size": 224,
            "balance_classes": False, "grayscale_faces": False}
BASELINE_POOLING = ("average",)
GRAYSCALE = "chosen recipe, grayscale_faces=True"
UNALIGNED = "chosen recipe, align_faces=False"
GRID = "chosen recipe, pooling + 2x2 grid of averages"
GRID_ALONE = "chosen recipe, pooling: 2x2 grid of averages alone"
FACE_ONLY = {GRAYSCALE, UNALIGNED, "face_margin=0.0", "face_margin=0.2", "chosen recipe at 224 px, face_margin=0.2", "chosen recipe, face_margin=0.2"}  # no face crop to change on whole images


@dataclasses.dataclass(frozen=True)
class Variant:
    """One change from the baseline: ``settings`` for :func:`facerec.train`, or the pooling per block."""

    name: str
    settings: dict = dataclasses.field(default_factory=dict)
    pooling: tuple[str, ...] = BASELINE_POOLING
    # A change from the chosen recipe instead of from the baseline (filled in by chosen_variants()).
    from_chosen: bool = False
    chosen_pooling: tuple[str, ...] = ()  # with from_chosen: the poolings instead of the chosen recipe's
    reference: str = ""  # the row it is compared with (default: the chosen recipe, or the baseline)
    feature_layers: tuple[str, ...] = ()  # the depths pooled into the features (default: the VGG16 spec's)


VARIANTS = [
    Variant("baseline"),
    Variant("pooling: average + max per block", pooling=("average", "max")),
    Variant("face_margin=0.0", {"face_margin": 0.0}),
    Variant("face_margin=0.2", {"face_margin": 0.2}),
    Variant("standardize features", {"standardize": True}),
    Variant("dropout=0.5", {"dropout": 0.5}),
    Variant("l2=1e-3", {"l2": 1e-3}),
    Variant("epochs=150, patience 30", {"epochs": 150, "early_stopping_patience": 30}),
    Variant("refit on all photos", {"refit": True}),
    Variant("augment=2 (cached views)", {"augment": 2}),
    Variant("test_time_flip=False", {"test_time_flip": False}),
    # Combinations of the single changes that won, to choose the recipe from (not single changes).
    Variant("combined: average+max, 150 epochs, refit", {"epochs": 150, "early_stopping_patience": 30, "refit": True},
            pooling=("average", "max")),
    Variant("combined: average+max, 150 epochs, refit, standardize",
            {"epochs": 150, "early_stopping_patience": 30, "refit": True, "standardize": True}, pooling=("average", "max")),
    Variant("combined: average+max, standardize, refit (50 epochs)", {"refit": True, "standardize": True},
            pooling=("average", "max")),
    Variant("combined: the issue's probe (+ margin 0.2, dropout 0.5, L2 1e-3, standardize, 150 epochs, refit)",
            {"face_margin": 0.2, "dropout": 0.5, "l2": 1e-3, "standardize": True, "epochs": 150,
             "early_stopping_patience": 30, "refit": True}, pooling=("average", "max")),
    Variant(CHOSEN),  # facerec's current defaults: filled in by chosen_variants()
    # One change from the chosen recipe at 224 px (facerec's defaults before VGG16's face-mode
    # input became 160 px: issue 11's VGG16 latency): the input side (the frozen pass's cost goes
    # with its area), then the head's settings again.
    Variant("chosen recipe, image_size=224", {"image_size": 224}, from_chosen=True),
    Variant("chosen recipe, image_size=192", {"image_size": 192}, from_chosen=True, reference=AT_224),
    Variant("chosen recipe, image_size=160", {"image_size": 160}, from_chosen=True, reference=AT_224),
    Variant("chosen recipe, image_size=128", {"image_size": 128}, from_chosen=True, reference=AT_224),
    Variant("chosen recipe at 224 px, face_margin=0.2", {"image_size": 224, "face_margin": 0.2}, from_chosen=True, reference=AT_224),
    Variant("chosen recipe at 224 px, dropout=0.5", {"image_size": 224, "dropout": 0.5}, from_chosen=True, reference=AT_224),
    Variant("chosen recipe at 224 px, l2=1e-3", {"image_size": 224, "l2": 1e-3}, from_chosen=True, reference=AT_224),
    Variant("chosen recipe at 224 px, patience 30", {"image_size": 224, "early_stopping_patience": 30}, from_chosen=True,
            reference=AT_224),
    Variant("chosen recipe at 224 px, learning_rate=3e-4", {"image_size": 224, "learning_rate": 3e-4}, from_chosen=True,
            reference=AT_224),
    # The mirror view at the defaults (faces at 160 px): it doubles the frozen pass per photo and per recognition.
    Variant("chosen recipe, test_time_flip=False", {"test_time_flip": False}, from_chosen=True),
    # The head: the epoch chosen by validation accuracy (ties to the later epoch) instead of loss, and
    # the head's regularisation (an L2 penalty for dropout) — each undone from the chosen recipe.
    Variant("chosen recipe, early_stopping_metric=loss", {"early_stopping_metric": "loss"}, from_chosen=True),
    Variant("chosen recipe, l2=0, dropout=0.2", {"l2": 0.0, "dropout": 0.2}, from_chosen=True),
    # And from the new recipe, for the celebrities' last points (none beat it).
    Variant("chosen recipe, 150 epochs, patience 30", {"epochs": 150, "early_stopping_patience": 30}, from_chosen=True),
    Variant("chosen recipe, augment=2", {"augment": 2}, from_chosen=True),
    Variant("chosen recipe, face_margin=0.2", {"face_margin": 0.2}, from_chosen=True),
    Variant("chosen recipe, image_size=224, L2 head", {"image_size": 224}, from_chosen=True),
    # The L2 penalty's strength: on standardised features the head is a multinomial logistic
    # regression, and its penalty is the one knob such a model has.
    Variant("chosen recipe, l2=3e-4", {"l2": 3e-4}, from_chosen=True),
    Variant("chosen recipe, l2=3e-3", {"l2": 3e-3}, from_chosen=True),
    Variant("chosen recipe, l2=1e-2", {"l2": 1e-2}, from_chosen=True),
    # Fine-tuning the trunk's top: block 5's last convolution (2 layers: it and the pooling), or
    # all of block 5 (4), on the cached block-4 activations.
    Variant("chosen recipe, trainable_layers=2", {"trainable_layers": 2}, from_chosen=True),
    Variant("chosen recipe, trainable_layers=4", {"trainable_layers": 4}, from_chosen=True),
    # Every label weighing the same in the loss, however many photos it has: a user's counts per
    # person follow how many photos they had, not how often that person will be in front of the camera.
    Variant("chosen recipe, balance_classes", {"balance_classes": True}, from_chosen=True),
    # Which depths carry identity: fewer, more, and every convolution of the top two blocks.
    Variant("chosen recipe, depths: blocks 4 and 5", from_chosen=True, feature_layers=("block4_pool", "block5_pool")),
    Variant("chosen recipe, depths: blocks 2 to 5", from_chosen=True,
            feature_layers=("block2_pool", "block3_pool", "block4_pool", "block5_pool")),
    Variant("chosen recipe, depths: block 3 and every convolution of blocks 4 and 5", from_chosen=True,
            feature_layers=("block3_pool", "block4_conv1", "block4_conv2", "block4_conv3", "block5_conv1", "block5_conv2",
                            "block5_conv3")),
    # Grayscale crops: a person's web photos differ in white balance and tint more than their face does.
    Variant(GRAYSCALE, {"grayscale_faces": True}, from_chosen=True),
    # The crop's alignment (eyes levelled), undone.
    Variant(UNALIGNED, {"align_faces": False}, from_chosen=True),
    # A hidden layer between the features and the softmax: the classic recipe's (1024, 1024, 512),
    # and one of 256 units.
    Variant("chosen recipe, head=dense (1024, 1024, 512)", {"head": "dense"}, from_chosen=True),
    Variant("chosen recipe, head=dense (256)", {"head": "dense", "dense_units": (256,)}, from_chosen=True),
    # Sixth round: where on the face a feature fires (2x2 regional averages), besides how much.
    Variant(GRID, from_chosen=True, chosen_pooling=("average", "max", "grid2x2")),
    Variant("chosen recipe, pooling: max + 2x2 grid of averages", from_chosen=True, chosen_pooling=("max", "grid2x2")),
    Variant(GRID_ALONE, from_chosen=True, chosen_pooling=("grid2x2",)),
]
CASES = {"five_celebrity_faces": True, "orl_att_faces": True, "dogs_vs_cats_small": False}


def chosen_variants(variants: list[Variant]) -> list[Variant]:
    """``variants`` with the chosen recipe set to facerec's defaults as they are now (TrainingSettings
    and the VGG16 spec's pooling), and each change from it applied to those defaults."""
    defaults = facerec.TrainingSettings(backbone="vgg16")
    chosen = {key: getattr(defaults, key) for key in BASELINE}
    chosen["image_size"] = None  # the backbone's default for the mode (faces or whole images), as train() picks it
    pooling = applications.get_spec("vgg16").pooling
    resolved = []
    for variant in variants:
        if variant.name == CHOSEN:
            variant = Variant(CHOSEN, chosen, pooling=pooling)
        elif variant.from_chosen:
            variant = dataclasses.replace(variant, settings={**chosen, **variant.settings}, pooling=variant.chosen_pooling or pooling)
        resolved.append(variant)
    return resolved


def register_backbone(variant: Variant) -> str:
    """``vgg16``, or a registered copy of it pooling ``variant.feature_layers`` with
    ``variant.pooling`` (bench only)."""
    spec = applications.get_spec("vgg16")
    feature_layers = variant.feature_layers or spec.feature_layers
    if (variant.pooling, feature_layers) == (spec.pooling, spec.feature_layers):
        return "vgg16"
    name = "vgg16[" + "+".join(variant.pooling) + "]"
    if feature_layers != spec.feature_layers:
        name += "[" + "+".join(feature_layers) + "]"
    applications.KERAS_BACKBONES[name] = dataclasses.replace(spec, pooling=variant.pooling, feature_layers=feature_layers)
    backbones.BACKBONES[name] = dataclasses.replace(backbones.BACKBONES["vgg16"], name=name)
    return name


def link_samples(samples, destination: Path) -> Path:
    """A ``<label>/<image>`` folder of symbolic links to ``samples`` (no photo is copied)."""
    for sample in samples:
        (destination / sample.label).mkdir(parents=True, exist_ok=True)
        (destination / sample.label / sample.path.name).symlink_to(sample.path.resolve())
    return destination


def validation_splits(training: Path, seeds: list[int], scratch: Path) -> list[tuple[Path, Path]]:
    """Per seed, ``(fit, held_out)`` folders: a stratified 80/20 split of ``train/``."""
    samples = Dataset(training).samples()
    folders = []
    for seed in seeds:
        fit, held_out = split_samples(samples, 0.2, seed=seed)
        folders.append((link_samples(fit, scratch / f"seed{seed}" / "fit"), link_samples(held_out, scratch / f"seed{seed}" / "held_out")))
    return folders


def run_variant(variant: Variant, faces: bool, splits, seeds, cache: Path, quick: dict) -> dict:
    """Train on each split's 80% and score on its 20%: the validation accuracies and epochs run."""
    settings = {**BASELINE, **variant.settings, **quick, "faces": faces, "backbone": register_backbone(variant)}
    accuracies, epochs, seconds = [], [], []
    for seed, (fit, held_out) in zip(seeds, splits):
        started = time.perf_counter()
        classifier = facerec.train(fit, cache_dir=cache, seed=seed, **settings)
        seconds.append(time.perf_counter() - started)
        accuracies.append(classifier.evaluate(held_out, cache_dir=cache)["accuracy"])
        epochs.append(len(classifier.report["history"]))
    return {"validation": accuracies, "epochs_run": epochs, "seconds": seconds, "settings": _jsonable(settings)}


def run_test(variant: Variant, faces: bool, root: Path, cache: Path, quick: dict) -> dict:
    """Train on all of ``train/`` (seed 1337) and score on ``test/``."""
    settings = {**BASELINE, **variant.settings, **quick, "faces": faces, "backbone": register_backbone(variant)}
    classifier = facerec.train(root / "train", cache_dir=cache, seed=DEFAULT_SEED, **settings)
    report = classifier.evaluate(root / "test", cache_dir=cache)
    return {"test": report["accuracy"], "test_no_face": report["no_prediction"], "test_count": report["count"],
            "trained_on": classifier.report["trained_on"], "test_train_seconds": classifier.report["seconds"],
            "test_epochs": [len(classifier.report["history"]), classifier.config.training.get("epochs_refit", 0)]}


def run_timing(variants: list[Variant], faces: bool, root: Path, cache: Path, repeats: int, quick: dict,
               cold: bool = False) -> dict:
    """Wall and CPU seconds of training on all of ``train/``, the variants in turn ``repeats`` times
    so that the machine's load falls on each alike, after an untimed round (which builds each
    variant's backbone and converts it for the fast path). Warm: the feature cache filled by that
    round; ``cold``: an empty feature cache for every timed training (the frozen pass included)."""
    timings = {variant.name: {"seconds": [], "cpu_seconds": [], "epochs": [], "load": []} for variant in variants}
    for round_number in range(repeats + 1):
        for index, variant in enumerate(variants):
            settings = {**BASELINE, **variant.settings, **quick, "faces": faces, "backbone": register_backbone(variant)}
            round_cache = cache / f"cold-{round_number}-{index}" if cold and round_number else cache
            if round_cache != cache:
                shutil.rmtree(round_cache, ignore_errors=True)  # an earlier run's: cold means empty
            with harness.Stopwatch() as watch:
                classifier = facerec.train(root / "train", cache_dir=round_cache, seed=DEFAULT_SEED, **settings)
            if round_number == 0:
                continue
            timing = timings[variant.name]
            timing["seconds"].append(watch.seconds)
            timing["cpu_seconds"].append(watch.cpu_seconds)
            timing["epochs"].append([len(classifier.report["history"]), classifier.config.training.get("epochs_refit", 0)])
            timing["load"].append(round(watch.load, 2))
    return timings


def timing_table(results: dict, kind: str = "_timing") -> harness.Table:
    cache = "cold feature cache" if kind == COLD_TIMING else "warm feature cache"
    table = harness.Table(f"Training time at the defaults: the baseline vs the chosen recipe ({cache})", [
        "dataset", "recipe", "epochs run, refit epochs", "seconds (median)", "CPU s (median)", "CPU time vs baseline",
        "repeats", "load (1 min) during"])
    for dataset_name in CASES:
        timings = results.get(dataset_name, {}).get(kind, {})
        if not timings:
            continue
        baseline_cpu = float(np.median(timings["baseline"]["cpu_seconds"])) if "baseline" in timings else float("nan")
        for name, timing in timings.items():
            cpu = float(np.median(timing["cpu_seconds"]))
            table.add(dataset_name, name, timing["epochs"][0], float(np.median(timing["seconds"])), cpu,
                      f"{(cpu / baseline_cpu - 1) * 100:+.0f}%", len(timing["seconds"]),
                      f"{min(timing['load']):.1f}-{max(timing['load']):.1f}")
    if kind == COLD_TIMING:
        table.notes += [
            "facerec.train on all of train/ (seed 1337) from an empty feature cache each time, as a user's first "
            "training of these photos: detection, the frozen pass over every image and view (at each recipe's input "
            "size), the head's epochs, the refit and scoring. The network was built and converted for the fast path "
            "by an untimed round first; repeats alternate the recipes; CPU seconds are this process's, all threads.",
        ]
        return table
    table.notes += [
        "facerec.train on all of train/ (seed 1337) with every feature cached: the part of training that the recipe "
        "changes (the head's epochs, the refit, standardising, scoring validation). A cold run adds the frozen pass "
        "over every image and view, the same work for both recipes (the frozen part computes both poolings either "
        "way): 67 s of the 70 s cold five_celebrity_faces run in training_time.md.",
        "After an untimed round (building each backbone), repeats alternate the recipes so that the shared machine's load falls on both alike; CPU seconds are this "
        "process's, all threads.",
    ]
    return table


def paired_difference(row: dict, reference_row: dict | None, reference: str) -> str:
    """The mean gain over ``reference`` on the same seeds' splits, in points (paired: the splits are shared)."""
    if reference_row is None:
        return "–"
    pairs = list(zip(row["validation"], reference_row["validation"]))
    gain = np.mean([mine - theirs for mine, theirs in pairs]) * 100
    return f"{gain:+.1f} pts" + (f" vs {reference}" if reference != "baseline" else "") + (
        f" ({len(pairs)} seeds)" if len(pairs) != len(row["validation"]) else "")


def _jsonable(settings: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in settings.items()}


def load_results(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def write(results: dict, store: Path, machine: dict, arguments, started: float) -> None:
    """Save every row measured so far and rewrite the markdown from them."""
    store.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(store, json.dumps(results, indent=1))  # every run's rows: never half written
    table = harness.Table("Validation accuracy of each variant (one change from the baseline), and test for the chosen recipe", [
        "dataset", "variant", "validation acc, mean over seeds", "spread (min-max)", "seeds", "vs baseline (or chosen recipe)", "epochs run (mean)",
        "train s (warm cache, fastest seed)", "test acc", "load (1 min)", "measured"])
    summary = []
    for dataset_name in CASES:
        rows = results.get(dataset_name, {})
        for variant in VARIANTS:
            row = rows.get(variant.name)
            if row is None:
                continue
            scores = row["validation"]
            mean = float(np.mean(scores))
            reference = variant.reference or (CHOSEN if variant.from_chosen else "baseline")
            if variant.from_chosen and reference not in rows:  # whole images: the chosen recipe is at 224 px
                reference = CHOSEN
            table.add(dataset_name, variant.name, mean, f"{min(scores):.3f}-{max(scores):.3f}", len(scores),
                      paired_difference(row, rows.get(reference), reference) if variant.name != "baseline" else "–",
                      float(np.mean(row["epochs_run"])), float(min(row["seconds"])), row.get("test", float("nan")), row["load"], row["date"])
        for name in ("baseline", CHOSEN):
            if "test" in rows.get(name, {}):
                row = rows[name]
                summary.append(f"{dataset_name}: {name} test {row['test']:.3f} ({row['test_count']} test images, "
                               f"{row['test_no_face']} without a face; trained on {row['trained_on']} photos in "
                               f"{row['test_train_seconds']:.1f} s, warm cache, epochs run/refit {row['test_epochs']}), "
                               f"validation {np.mean(row['validation']):.3f}")
    table.notes += [
        "Validation: per seed, a stratified 80/20 split of train/; facerec trains on the 80% (holding out its own 20% of "
        "that for early stopping, then refitting on all of it where the variant refits) and is scored on the other 20%. "
        "Test: trained on all of train/ (seed 1337), scored on test/; measured only for the baseline and the chosen recipe, "
        "after the choice. Images without a detected face count as errors.",
        f"Baseline: {BASELINE}, pooling {BASELINE_POOLING}. Chosen recipe: facerec's defaults at the time of the run "
        "(its settings are in accuracy_variants.json). Backbone VGG16 with the weights facerec resolves offline "
        "(the HED trunk where ImageNet weights cannot download).",
        "Margin variants are face mode only (dogs_vs_cats_small uses whole images).",
        "Rows 'chosen recipe, ...' and 'chosen recipe at 224 px, ...' (5 seeds, 2026-12-02 from 10:00 UTC): one change "
        "from the chosen recipe, compared seed by seed (the same splits) with 'chosen recipe, image_size=224', the "
        "chosen recipe before VGG16's face-mode input became 160 px; for dogs_vs_cats_small (whole images, still "
        "224 px) with the chosen recipe itself. 'chosen recipe' is facerec's defaults now: 160 px for faces.",
        "train s: the fastest seed's facerec.train call (the features were cached by then, so this is the head's "
        "fit, the refit where there is one, and scoring), on the shared machine: see the load column.",
        "The variance floor of the standardisation (1% of the mean variance) came during the runs: the rows "
        "'standardize features', 'combined: ... 150 epochs, refit, standardize' and the issue's probe were measured "
        "without it; 'combined: ... (50 epochs)', which is the chosen recipe, and the chosen recipe itself with it "
        "(five_celebrity_faces: 0.796 both ways).",
        "The grayscale row's test accuracy was measured when its recipe was, for one run, facerec's default "
        "(the run chose it on validation; it stayed an option: bench/README.md, issue 15, fifth round).",
        "Rows come from several runs of this script (one per dataset or group of variants, see each row's time; "
        "the commands are listed in bench/README.md, issue 15); the command above is the last one (--render: "
        "this markdown rewritten from accuracy_variants.json, nothing measured).",
    ]
    tables = [table] + [timing_table(results, kind) for kind in ("_timing", COLD_TIMING)
                        if any(kind in rows for rows in results.values())]
    harness.write_report("accuracy_variants", TITLE, tables, machine=machine, arguments=arguments, started=started, summary=summary)


def main() -> int:
    options = harness.parser(__doc__.split("\n\n")[0])
    options.add_argument("--datasets", nargs="*", default=list(CASES), choices=list(CASES))
    options.add_argument("--seeds", type=int, default=3, help="validation splits of train/ per variant (seeds 1337, 1, 2, ...)")
    options.add_argument("--variants", nargs="*", help="names of the variants to run (default: all)")
    options.add_argument("--test", action="store_true", help="also train the baseline and chosen recipe on train/ and score test/")
    options.add_argument("--cache-dir", help="feature cache to use and keep (default: a temporary one)")
    options.add_argument("--timing", type=int, default=0, metavar="REPEATS",
                         help="only time training at the baseline and the chosen recipe, REPEATS times each")
    options.add_argument("--cold", action="store_true", help="with --timing: an empty feature cache for every timed training")
    options.add_argument("--render", action="store_true", help="only rewrite the markdown from the stored rows")
    arguments = options.parse_args()
    started = time.perf_counter()
    machine = harness.machine_info()
    store = Path(arguments.output_dir) / ("accuracy_variants-quick.json" if arguments.quick else "accuracy_variants.json")
    if arguments.render:
        write(load_results(store), store, machine, arguments, started)
        return 0
    VARIANTS[:] = chosen_variants(VARIANTS)
    variants = [variant for variant in VARIANTS if not arguments.variants or variant.name in arguments.variants]
    seeds = [DEFAULT_SEED] + list(range(1, arguments.seeds))
    quick = {"epochs": 3, "image_size": 64} if arguments.quick else {}
    with harness.scratch_folder("variants") as scratch:
        cache = Path(arguments.cache_dir) if arguments.cache_dir else scratch / "cache"
        for dataset_name in arguments.datasets:
            faces, root = CASES[dataset_name], harness.dataset(dataset_name)
            if arguments.quick:
                root = scratch / f"quick-{dataset_name}"
                for part, count in (("train", 5), ("test", 2)):
                    harness.copy_images(harness.subset(harness.image_files(harness.dataset(dataset_name) / part), labels=3,
                                                       per_label=count), root / part)
            if arguments.timing:
                chosen = next(variant for variant in VARIANTS if variant.name == CHOSEN)
                timings = run_timing([VARIANTS[0], chosen], faces, root, cache, arguments.timing, quick, cold=arguments.cold)
                results = load_results(store)
                results.setdefault(dataset_name, {})[COLD_TIMING if arguments.cold else "_timing"] = timings
                write(results, store, machine, arguments, started)
                continue
            splits = validation_splits(root / "train", seeds, scratch / dataset_name)
            for variant in variants:
                if variant.name in FACE_ONLY and not faces:
                    continue
                print(f"[{dataset_name}] {variant.name}", flush=True)
                row = run_variant(variant, faces, splits, seeds, cache, quick)
                if arguments.test and variant.name in ("baseline", CHOSEN):
                    row.update(run_test(variant, faces, root, cache, quick))
                row.update(load=harness.load_average().split("/")[0], date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
                results = load_results(store)  # re-read: another run may have added its datasets meanwhile
                previous = results.setdefault(dataset_name, {}).get(variant.name, {})
                if "test" not in row and "test" in previous and previous.get("settings") == row["settings"]:
                    row.update({key: value for key, value in previous.items() if key not in row})  # same recipe: its test
                results[dataset_name][variant.name] = row
                write(results, store, machine, arguments, started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
