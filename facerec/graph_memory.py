"""Letting a finished training's traced graphs go: TensorFlow keeps one per fit otherwise.

Keras sums a train step's gradients across replicas with ``ReplicaContext.all_reduce``, even
under the default (single-device) strategy. In a traced step that call goes through
``tf.custom_gradient``, which registers a gradient function in TensorFlow's process-wide gradient
registry under a new name, and that function's closure holds the step's tensors: the registry
thus keeps every traced train step, with its graph and the model it was built from, for the life
of the process (tensorflow/tensorflow#97697). In the app that was about 5 MiB per training.

That registered function is the gradient *of the all-reduced gradients*, which a Keras train
step never asks for: it applies them. Dropping those registrations once a fit has run is safe,
also while other trainings trace their own steps in other threads (their all-reduce gradients
are not asked for either). Registrations of any other custom gradient are left alone.
"""

from __future__ import annotations

_ALL_REDUCE_GRADIENT = "ReplicaContextBase.all_reduce.<locals>.grad_wrapper.<locals>.<lambda>"
_CUSTOM_GRADIENT_PREFIX = "CustomGradient-"


def release_all_reduce_gradients() -> int:
    """Drop the all-reduce gradient registrations of traced train steps; returns how many went."""
    from tensorflow.python.framework import ops  # the registry is not public API

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):  # a TensorFlow without this registry: nothing to release
        return 0
    names = [name for name, entry in list(registry.items())  # a copy: other threads register meanwhile
             if name.startswith(_CUSTOM_GRADIENT_PREFIX) and _is_all_reduce_gradient(entry.get("type"))]
    for name in names:
        registry.pop(name, None)  # None: a concurrent release may have dropped it already
    return len(names)


def _is_all_reduce_gradient(function, depth: int = 3) -> bool:
    """Whether ``function`` (a registered custom gradient) wraps ``ReplicaContext.all_reduce``'s.

    The registered function closes over TensorFlow's tape wrapper, which closes over the
    user's gradient function: for all_reduce, a lambda defined in ``grad_wrapper``.
    """
    if getattr(function, "__qualname__", "") == _ALL_REDUCE_GRADIENT:
        return True
    if depth == 0:
        return False
    for cell in getattr(function, "__closure__", None) or ():
        try:
            contents = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(contents) and _is_all_reduce_gradient(contents, depth - 1):
            return True
    return False
