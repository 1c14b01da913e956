"""How good a classifier is, as plain data: accuracy, accuracy per label, confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence


def classification_report(true_labels: Sequence[int], predicted_labels: Sequence[int | None], labels: Sequence[str]) -> dict:
    """Score predictions against the truth.

    Args:
        true_labels: the label index of each image.
        predicted_labels: the predicted index, or ``None`` for an image that got no prediction
            (no face found); those count as errors.
        labels: the label names, by index.

    Returns:
        ``{"accuracy": float, "per_class": {label: float}, "confusion": [[int]], "labels": [str],
        "count": int, "no_prediction": int}``. ``confusion[i][j]`` counts images of label ``i``
        predicted as ``j``; images with no prediction are not in it. A label with no images has
        accuracy ``None``.
    """
    if len(true_labels) != len(predicted_labels):
        raise ValueError(f"{len(true_labels)} true labels but {len(predicted_labels)} predictions")
    size = len(labels)
    confusion = [[0] * size for _ in range(size)]
    totals, correct = [0] * size, [0] * size
    for truth, prediction in zip(true_labels, predicted_labels):
        totals[truth] += 1
        if prediction is not None:
            confusion[truth][prediction] += 1
            correct[truth] += int(prediction == truth)
    count = len(true_labels)
    return {
        "accuracy": sum(correct) / count if count else None,
        "per_class": {label: (correct[index] / totals[index] if totals[index] else None) for index, label in enumerate(labels)},
        "confusion": confusion,
        "labels": list(labels),
        "count": count,
        "no_prediction": sum(prediction is None for prediction in predicted_labels),
    }
