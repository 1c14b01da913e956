"""The Keras networks: a frozen pretrained trunk, an optionally fine-tuned top, and a new head.

Training is split where the trainable layers begin. Everything below that point runs once per
image and its outputs are cached (:mod:`facerec.features`); per epoch only the fine-tuned top
layers (if any) and the head run. For saving, the three parts are joined into one end-to-end
model, image in, probabilities out, built only from stock Keras layers so that it loads with
plain ``keras.saving.load_model`` and ``safe_mode`` on.
"""

from __future__ import annotations

import h5py
import keras
import numpy as np
from keras import layers

from facerec.backbones.applications import HED, POOLING_TITLES, RANDOM, RANDOM_WEIGHTS_SEED, BackboneSpec, BackboneWeights

# ImageNet channel means in BGR order, as keras.applications' "caffe" preprocessing uses them.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
FROZEN_NAME, FEATURES_NAME, HEAD_NAME, STANDARDIZE_NAME = "frozen_features", "features", "head", "standardize"
POOLINGS = tuple(POOLING_TITLES)
GRID_CELLS = {"grid2x2": 2}  # a grid pooling: cells per side
MIN_VARIANCE_SHARE = 0.01


def build_preprocessing(kind: str) -> layers.Layer:
    """The backbone's input preprocessing as one stock layer (raw RGB in ``[0, 255]`` in).

    "caffe" (VGG16): RGB to BGR and minus the ImageNet mean, done by a fixed 1x1 convolution, so
    no Lambda layer is needed. "tf" (MobileNet): scale to ``[-1, 1]``.
    """
    if kind == "tf":
        return layers.Rescaling(1.0 / 127.5, offset=-1.0, name="preprocessing")
    if kind != "caffe":
        raise ValueError(f"unknown preprocessing {kind!r}")
    layer = layers.Conv2D(3, 1, name="preprocessing", trainable=False)
    layer.build((None, None, None, 3))
    swap_channels = np.zeros((1, 1, 3, 3), dtype="float32")
    for output_channel in range(3):
        swap_channels[0, 0, 2 - output_channel, output_channel] = 1.0
    layer.set_weights([swap_channels, -np.asarray(CAFFE_MEAN_BGR, dtype="float32")])
    return layer


def build_trunk(spec: BackboneSpec, weights: BackboneWeights, image_size: int) -> keras.Model:
    """The pretrained network without its classifier, with ``weights`` loaded."""
    if image_size < 32:
        raise ValueError(f"image_size must be at least 32 pixels for {spec.title}, got {image_size}")
    input_shape = (image_size, image_size, 3)
    if weights.kind in (RANDOM, HED):
        trunk = spec.build(input_shape, None)
        if weights.kind == HED:
            _load_hed_trunk(trunk, weights.path)
        else:
            _randomize(trunk, RANDOM_WEIGHTS_SEED)
    else:
        trunk = spec.build(input_shape, weights.path)
    trunk.trainable = False
    return trunk


def build_feature_networks(spec: BackboneSpec, trunk: keras.Model, trainable_layers: int = 0) -> tuple[keras.Model, keras.Model]:
    """Split the trunk into a frozen part and a trainable part that ends in the feature vector.

    The feature vector is the pooling (``spec.pooling``: of ``POOLINGS``) of each layer in
    ``spec.feature_layers``, each pooled vector L2-normalised (so that no depth or pooling drowns
    out another), scaled, and concatenated.

    Args:
        trainable_layers: how many of the trunk's top layers to fine-tune (the classic
            "freeze all but the top 4" is 4). 0 trains the head alone.

    Returns:
        ``(frozen, features)``: ``frozen`` maps images to the outputs cached per image (the
        vectors of every pooling of ``POOLINGS`` at the frozen depths, plus the activation the
        trainable layers start from); ``features`` maps those outputs to the feature vector (using the poolings
        of ``spec.pooling``).
    """
    trunk_layers = [layer for layer in trunk.layers if not isinstance(layer, layers.InputLayer)]
    if not 0 <= trainable_layers < len(trunk_layers):
        raise ValueError(f"trainable_layers must be between 0 and {len(trunk_layers) - 1} for {spec.title}, got {trainable_layers}")
    missing = set(spec.feature_layers) - {layer.name for layer in trunk_layers}
    if missing:
        raise ValueError(f"{spec.title} has no layers named {sorted(missing)}")
    split = len(trunk_layers) - trainable_layers

    image = keras.Input(shape=trunk.input_shape[1:], name="image")
    activation = build_preprocessing(spec.preprocessing)(image)
    pooled, poolings = [], []
    for layer in trunk_layers[:split]:
        activation = layer(activation)
        if layer.name in spec.feature_layers:
            # Every pooling is computed and cached, whichever the features use: changing
            # spec.pooling then reuses the cache instead of running every image again.
            pooled.extend(_pool(activation, layer.name, POOLINGS))
            poolings.extend(POOLINGS)
    frozen_outputs = pooled + ([activation] if trainable_layers else [])
    frozen = keras.Model(image, frozen_outputs, name=FROZEN_NAME)

    feature_inputs = [keras.Input(shape=output.shape[1:], name=f"cached_{index}") for index, output in enumerate(frozen_outputs)]
    vectors = [vector for vector, pooling in zip(feature_inputs, poolings) if pooling in spec.pooling]
    activation = feature_inputs[-1]
    for layer in trunk_layers[split:]:
        # Batch normalisation stays in inference mode when fine-tuning: a few images per person
        # would give it meaningless statistics.
        layer.trainable = not isinstance(layer, layers.BatchNormalization)
        activation = layer(activation)
        if layer.name in spec.feature_layers:
            vectors.extend(_pool(activation, layer.name, spec.pooling))
    combined = layers.Concatenate(name="concatenate_depths")(vectors) if len(vectors) > 1 else vectors[0]
    features = keras.Model(feature_inputs, combined, name=FEATURES_NAME)
    return frozen, features


def build_head(feature_size: int, num_classes: int, *, kind: str = "softmax", dense_units: tuple[int, ...] = (),
               dropout: float = 0.0, l2: float = 0.0, standardize: bool = False) -> keras.Model:
    """The new classifier on top of the features.

    Args:
        kind: ``"softmax"``, a single softmax layer over the features; or ``"dense"``, hidden
            ReLU layers of ``dense_units`` (the classic MobileNet recipe uses 1024, 1024, 512)
            then the softmax layer.
        dropout: dropout rate before each dense layer, against overfitting a few images.
        l2: L2 penalty on the dense layers' kernels (0: none).
        standardize: start with a ``Normalization`` layer (named ``STANDARDIZE_NAME``) that
            standardises each feature; :func:`adapt_standardization` sets its mean and variance
            from the training features, and they are saved with the model.
    """
    if num_classes < 2:
        raise ValueError(f"a classifier needs at least 2 labels, got {num_classes}")
    if kind not in ("softmax", "dense"):
        raise ValueError(f"head must be 'softmax' or 'dense', got {kind!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if l2 < 0:
        raise ValueError(f"l2 must not be negative, got {l2!r}")
    regularizer = keras.regularizers.L2(l2) if l2 else None
    features = keras.Input(shape=(feature_size,), name="features")
    hidden = layers.Normalization(name=STANDARDIZE_NAME)(features) if standardize else features
    for index, units in enumerate(dense_units if kind == "dense" else ()):
        if dropout:
            hidden = layers.Dropout(dropout, name=f"dropout_{index}")(hidden)
        hidden = layers.Dense(units, activation="relu", kernel_regularizer=regularizer, name=f"dense_{index}")(hidden)
    if dropout:
        hidden = layers.Dropout(dropout, name="dropout_top")(hidden)
    probabilities = layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, name="probabilities")(hidden)
    return keras.Model(features, probabilities, name=HEAD_NAME)


def adapt_standardization(head: keras.Model, features: keras.Model, inputs: list[np.ndarray]) -> None:
    """Set the head's standardisation (if it has one) to the mean and variance of the feature
    vectors of ``inputs`` (cached frozen outputs, one array per output), as ``features`` makes them.

    Each variance is floored at ``MIN_VARIANCE_SHARE`` of the mean variance: a feature that
    barely varied in training (a channel that rarely fires) would otherwise be scaled up so far
    that its noise on a new photo outweighed every other feature.
    """
    if STANDARDIZE_NAME not in {layer.name for layer in head.layers}:
        return
    vectors = np.asarray(features.predict(list(inputs), batch_size=1024, verbose=0), dtype="float64")
    variance = vectors.var(axis=0)
    layer = head.get_layer(STANDARDIZE_NAME)
    layer.adapt_mean.assign(vectors.mean(axis=0).astype("float32"))
    layer.adapt_variance.assign(np.maximum(variance, MIN_VARIANCE_SHARE * variance.mean()).astype("float32"))
    layer.finalize_state()


def build_training_model(features: keras.Model, head: keras.Model) -> keras.Model:
    """The model trained per epoch: cached frozen outputs in, probabilities out."""
    inputs = [keras.Input(shape=tensor.shape[1:], name=f"cached_{index}") for index, tensor in enumerate(features.inputs)]
    return keras.Model(inputs, head(detached(features)(inputs)), name="trainable")


def build_end_to_end_model(frozen: keras.Model, features: keras.Model, head: keras.Model, *, name: str = "facerec") -> keras.Model:
    """Image in (RGB, ``[0, 255]``), probabilities out: the model that is saved and shared."""
    image = keras.Input(shape=frozen.input_shape[1:], name="image")
    frozen_outputs = detached(frozen)(image)
    if not isinstance(frozen_outputs, (list, tuple)):
        frozen_outputs = [frozen_outputs]
    return keras.Model(image, head(detached(features)(list(frozen_outputs))), name=name)


def detached(model: keras.Model) -> keras.Model:
    """The same network (its very layers and weights) as a new model object, to call inside a new model.

    Calling a Keras model on symbolic inputs records the call in that model, which then keeps the
    model built on it alive. A pipeline's networks are shared by every training in the process and
    never change, so each head ever trained on them stayed in memory with its traced functions
    (about 3 MiB a training, 50 trainings of new visitors in bench.load_test). The call is recorded
    in this new object instead, which goes when the model built on it goes.
    """
    return keras.Model(model.input, model.output, name=model.name)  # input/output: the model's own structure


def _pool(activation, layer_name: str, poolings: tuple[str, ...]) -> list:
    """Per pooling in ``poolings`` (global ``"average"`` or ``"max"``, or ``"grid2x2"``: the
    average of each quarter of the map, see :func:`_grid_pool`): the pooled vector,
    L2-normalised, then scaled by sqrt(channels) so each feature has an RMS near 1: a head
    trained with the usual learning rate (1e-3) then learns as fast on these as on standardised
    inputs (unit-norm vectors need 20x larger weights; measured on face crops: 0.71 validation
    accuracy at lr 1e-2 unscaled vs 0.77 at lr 1e-3 scaled)."""
    unknown = set(poolings) - set(POOLINGS)
    if unknown or not poolings:
        raise ValueError(f"pooling must be one or more of {POOLINGS}, got {poolings!r}")
    vectors = []
    for pooling in poolings:
        # The average keeps its historical layer names, so models saved before max pooling existed load.
        suffix = "" if pooling == "average" else f"_{pooling}"
        if pooling in GRID_CELLS:
            pooled = _grid_pool(activation, layer_name, pooling)
        else:
            pool = layers.GlobalAveragePooling2D if pooling == "average" else layers.GlobalMaxPooling2D
            pooled = pool(name=f"{layer_name}_{pooling}")(activation)
        normalised = layers.UnitNormalization(name=f"{layer_name}_l2{suffix}")(pooled)
        vectors.append(layers.Rescaling(float(np.sqrt(pooled.shape[-1])), name=f"{layer_name}_scale{suffix}")(normalised))
    return vectors


def _grid_pool(activation, layer_name: str, pooling: str):
    """The average of each cell of an n x n grid over the map (``GRID_CELLS[pooling]``), flattened:
    where on an aligned face a feature fires (eyes above, mouth below), which a global pooling
    throws away. The cells cover the whole map, neighbours overlapping where the side does not
    divide (a 5x5 map in 2x2: rows 0-2 and 2-4); a map smaller than the grid is one cell."""
    cells = GRID_CELLS[pooling]
    pool, strides = [], []
    for side in (int(activation.shape[1]), int(activation.shape[2])):
        stride = max(1, side // cells)
        pool.append(side - (cells - 1) * stride if side >= cells else side)
        strides.append(stride)
    pooled = layers.AveragePooling2D(pool_size=tuple(pool), strides=tuple(strides), name=f"{layer_name}_{pooling}")(activation)
    return layers.Flatten(name=f"{layer_name}_{pooling}_flat")(pooled)


def _load_hed_trunk(trunk: keras.Model, path: str) -> None:
    """Copy the ``block*_conv*`` weights of the HED model file into a VGG16 built without weights.

    The HED file stores block ``n``'s convolutions as ``block{n}/layers/conv2d{,_1,_2}/vars``.
    """
    with h5py.File(path, "r") as file:
        for block, convolutions in ((1, 2), (2, 2), (3, 3), (4, 3), (5, 3)):
            for index in range(convolutions):
                stored = f"block{block}/layers/conv2d{'' if index == 0 else f'_{index}'}/vars"
                kernel, bias = np.asarray(file[stored]["0"]), np.asarray(file[stored]["1"])
                trunk.get_layer(f"block{block}_conv{index + 1}").set_weights([kernel, bias])


def _randomize(model: keras.Model, seed: int) -> None:
    """Glorot-uniform kernels from a fixed seed: an untrained network that is the same every build."""
    generator = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights or isinstance(layer, layers.BatchNormalization):
            continue
        kernel = weights[0]
        receptive = int(np.prod(kernel.shape[:-2])) if kernel.ndim > 2 else 1
        fan_in, fan_out = receptive * kernel.shape[-2], receptive * kernel.shape[-1]
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        weights[0] = generator.uniform(-limit, limit, size=kernel.shape).astype(kernel.dtype)
        layer.set_weights(weights)
