"""Each known person's prototype: the mean of their training embeddings, to tell strangers apart.

A softmax head always names one of the people it knows, often confidently, even for a stranger.
With a metric embedding (dlib's: photos of one person lie close together), distance answers the
question the head cannot: is this face near the person the head names? A model whose pipeline
has such an embedding (``pipeline.distance_threshold`` is not None) keeps one prototype per
person, in ``prototypes.json`` beside its Keras files, and :meth:`Classifier.recognize` answers
``unknown`` when the face is farther than ``distance_threshold`` from the named person's prototype.

Prototypes are biometric data: a person's mean face embedding, from which someone holding the
same network could check whether a new photo shows that person. One vector per person is the
least that works (storing every training embedding measured no better; see
tests/test_dlib_backbone.py); no photo or crop is stored. Deleting ``prototypes.json`` turns the
distance rule off and leaves the probability threshold.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np

FILE_NAME = "prototypes.json"
FORMAT = "facerec-prototypes"
FORMAT_VERSION = 1


@dataclasses.dataclass
class Prototypes:
    """One mean embedding per label (``vectors[k]`` for ``labels[k]``), and how many embeddings each averages."""

    labels: list[str]
    vectors: np.ndarray
    counts: list[int]

    def __post_init__(self):
        self.vectors = np.asarray(self.vectors, dtype=np.float32)
        if self.vectors.ndim != 2 or len(self.vectors) != len(self.labels) or len(self.counts) != len(self.labels):
            raise ValueError(f"prototypes need one vector and one count per label: {len(self.labels)} labels, "
                             f"vectors of shape {self.vectors.shape}, {len(self.counts)} counts")

    @classmethod
    def from_embeddings(cls, embeddings: np.ndarray, label_indices: np.ndarray, labels: list[str]) -> Prototypes:
        """The mean embedding of each label, from rows of ``embeddings`` labelled by ``label_indices``.

        Raises:
            ValueError: a label has no embedding.
        """
        embeddings, label_indices = np.asarray(embeddings, dtype=np.float32), np.asarray(label_indices)
        counts = [int(np.sum(label_indices == index)) for index in range(len(labels))]
        empty = [label for label, count in zip(labels, counts) if count == 0]
        if empty:
            raise ValueError(f"no embedding to make a prototype of {empty}")
        vectors = np.stack([embeddings[label_indices == index].mean(axis=0) for index in range(len(labels))])
        return cls(list(labels), vectors, counts)

    def distances(self, embeddings: np.ndarray) -> np.ndarray:
        """Euclidean distance of each embedding ``(n, size)`` to each prototype: ``(n, labels)``."""
        embeddings = np.asarray(embeddings, dtype=np.float32)
        return np.linalg.norm(embeddings[:, None, :] - self.vectors[None, :, :], axis=-1)

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``prototypes.json`` into ``folder``."""
        path = Path(folder) / FILE_NAME
        record = {"format": FORMAT, "format_version": FORMAT_VERSION, "metric": "euclidean",
                  "what": "the mean face embedding of each label's training photos (biometric data)",
                  "labels": self.labels, "counts": self.counts, "vectors": self.vectors.tolist()}
        path.write_text(json.dumps(record), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | os.PathLike) -> Prototypes | None:
        """Read ``prototypes.json`` from ``folder``; None if there is none.

        Raises:
            ValueError: the file is damaged or of a newer format.
        """
        path = Path(folder) / FILE_NAME
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: damaged prototypes file ({error})") from None
        if record.get("format") != FORMAT or record.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{path}: not a prototypes file this facerec can read (upgrade facerec, or delete the file "
                             "to recognise with the probability threshold alone)")
        try:
            return cls(record["labels"], np.asarray(record["vectors"], dtype=np.float32), record["counts"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path}: damaged prototypes file ({error})") from None
