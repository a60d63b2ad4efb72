"""Build, save and load the classifier.

The model takes raw ``uint8`` 28x28 images (scaling happens inside, in a ``Rescaling``
layer), so a saved model needs no preprocessing code beside it. TensorFlow and Keras
are imported inside the functions: importing :mod:`fashion_lib` stays cheap.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .backend import load_tensorflow
from .classes import NUM_CLASSES
from .config import TrainConfig
from .errors import ModelError
from .fsutil import atomic_path
from .portable import float32_compute, make_portable
from .precision import policy

if TYPE_CHECKING:  # pragma: no cover
    import keras

MODEL_FORMATS = (".keras", ".h5")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # Keras colours its messages


def build_model(config: TrainConfig | None = None, *, sync_batch_norm: bool = False) -> keras.Model:
    """A small VGG-style CNN: stages of 3x3 conv (+BN, ReLU) and 2x2 max-pooling, then a dense head.

    No ``config``: the default recipe's network (``TrainConfig()``, what ``fashion train`` trains).
    ``sync_batch_norm``: batch statistics over all replicas (several workers/GPUs), which also
    keeps every worker's moving averages identical. ``config.precision``: the layers' dtype ("auto": this machine's).
    """
    load_tensorflow()
    import keras

    config = (config or TrainConfig()).validate()
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy(config.precision))  # every layer computes in it (weights stay float32)
    try:
        return _network(config, sync_batch_norm)
    finally:
        keras.config.set_dtype_policy(previous)


def _network(config: TrainConfig, sync_batch_norm: bool) -> keras.Model:
    """:func:`build_model`'s layers, each taking the dtype policy in force; the softmax float32 whatever it is."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(28, 28), dtype="uint8", name="image")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    x = layers.Reshape((28, 28, 1), name="channel")(x)
    for s, widths in enumerate(config.stages, start=1):
        for c, width in enumerate(widths, start=1):
            name = f"stage{s}_conv{c}"
            x = layers.Conv2D(width, 3, padding="same", use_bias=not config.batch_norm, name=name)(x)
            last = c == len(widths)
            if last and config.pool_before_bn:
                # max-pooling first: batch norm and ReLU then touch a quarter of the values
                x = layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)
            if config.batch_norm:
                x = layers.BatchNormalization(
                    momentum=config.bn_momentum, synchronized=sync_batch_norm, name=f"{name}_bn"
                )(x)
            x = layers.ReLU(name=f"{name}_relu")(x)
        if not config.pool_before_bn:
            x = layers.MaxPooling2D(2, name=f"stage{s}_pool")(x)
        if config.conv_dropout:
            x = layers.Dropout(config.conv_dropout, name=f"stage{s}_dropout")(x)
    if config.head == "gap":
        x = layers.GlobalAveragePooling2D(name="gap")(x)
    else:
        x = layers.Flatten(name="flatten")(x)
    if config.dense_units:
        x = layers.Dense(config.dense_units, use_bias=not config.batch_norm, name="dense")(x)
        if config.batch_norm:
            x = layers.BatchNormalization(momentum=config.bn_momentum, synchronized=sync_batch_norm, name="dense_bn")(x)
        x = layers.ReLU(name="dense_relu")(x)
    if config.dropout:
        x = layers.Dropout(config.dropout, name="dropout")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="fashion_cnn")


def tta_views(config: TrainConfig) -> list[tuple[bool, int, int]]:
    """The views the shipped model averages over: ``(mirrored, rows down, columns right)``.

    ``tta``: the image and its left-right mirror; ``tta_shift`` > 0 adds each of them shifted
    by that many pixels left, right, up and down (zero fill).
    """
    views = [(False, 0, 0)]
    if config.tta:
        views.append((True, 0, 0))
    if config.tta_shift:
        s = config.tta_shift
        views += [(m, dy, dx) for m, _, _ in list(views) for dy, dx in ((0, s), (0, -s), (s, 0), (-s, 0))]
    return views


def _shift_matrix(shift: int, mirror: bool):
    """28x28 0/1 matrix ``M`` with ``(x @ M)[j] = x[j - shift]`` (zero fill), mirrored first if asked.

    Multiplying integer pixels by 0/1 and summing is exact in float32, so the view is exact.
    """
    matrix = np.zeros((28, 28), np.float32)
    for j in range(28):
        i = j - shift
        if 0 <= i < 28:
            matrix[27 - i if mirror else i, j] = 1.0
    return matrix


def export_model(trunk: keras.Model, config: TrainConfig | None = None) -> keras.Model:
    """The model to ship: ``trunk`` applied to every view of :func:`tta_views`, probabilities averaged.

    Built from stock Keras layers only (``Rescaling``, a frozen 0/1 ``Dense`` that mirrors and/or
    shifts the columns, ``Permute`` for row shifts, ``Average``), so a plain
    ``keras.models.load_model`` restores it in safe mode without this project, and
    ``model.predict(uint8 images)`` gives the test-time averaged probabilities the package reports.
    The trunk is shipped as an uncompiled float32 copy with the same weights: the optimizer's state
    (AdamW's two moments per weight, two thirds of the file) is training state, not the model.
    With a single view that copy is the whole model. No ``config``: the default recipe's 10 views.
    """
    load_tensorflow()
    import keras
    from keras import layers

    config = (config or TrainConfig()).validate()
    views = tta_views(config)
    trunk = _inference_copy(trunk)
    if len(views) == 1:
        return trunk
    inputs = keras.Input(shape=(28, 28), dtype="uint8", name="image")
    pixels = layers.Rescaling(1.0, name="pixels")(inputs)  # float32 0..255, exact
    outputs = []
    for mirror, dy, dx in views:
        sign = lambda v: f"{'p' if v > 0 else 'm'}{abs(v)}"  # noqa: E731 (layer names: no '+')
        x, name = (
            pixels,
            f"view{'_mirror' if mirror else ''}{f'_dy{sign(dy)}' if dy else ''}{f'_dx{sign(dx)}' if dx else ''}",
        )
        if dy:  # rows: transpose, shift the (now last) axis, transpose back
            x = layers.Permute((2, 1), name=f"{name}_t1")(x)
            x = _frozen_dense(_shift_matrix(dy, False), f"{name}_rows")(x)
            x = layers.Permute((2, 1), name=f"{name}_t2")(x)
        if mirror or dx:
            x = _frozen_dense(_shift_matrix(dx, mirror), f"{name}_cols")(x)
        outputs.append(trunk(x))
    averaged = layers.Average(name="average")(outputs)
    return keras.Model(inputs, averaged, name=f"{trunk.name}_tta{len(views)}")


def _inference_copy(trunk: keras.Model) -> keras.Model:
    """``trunk`` with the same layers, names and weights (moving statistics too), uncompiled, in float32."""
    import keras

    copy = keras.Model.from_config(float32_compute(trunk.get_config()))  # not clone_model: it keeps compile state
    copy.set_weights(trunk.get_weights())
    return copy


def _frozen_dense(matrix: np.ndarray, name: str):
    import keras

    layer = keras.layers.Dense(
        28, use_bias=False, trainable=False, name=name, kernel_initializer=keras.initializers.Constant(matrix)
    )
    return layer


def save_model(model: keras.Model, path: str | os.PathLike[str]) -> Path:
    """Save ``model`` to ``path`` (``.keras`` native, or legacy ``.h5``) atomically.

    The model is written under a temporary name in the same folder and renamed over
    ``path`` only once complete, so readers never see a half-written file. A ``.keras`` file
    leaves out the arguments older Keras 3 lacks where they hold their defaults (:mod:`.portable`).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in MODEL_FORMATS:
        raise ModelError(f"{path}: unknown model file type {path.suffix!r}; use .keras (native) or .h5 (legacy)")
    with atomic_path(path, suffix=f".part{suffix}") as tmp:  # Keras picks the format by the suffix
        tmp.unlink()  # Keras refuses to overwrite silently in some versions
        if suffix == ".h5":
            import warnings

            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*legacy.*")
                model.save(tmp)
        else:
            model.save(tmp)
            make_portable(tmp)  # loadable by Keras 3.4 and later, not only the Keras that wrote it
    return path


def load_model_file(path: str | os.PathLike[str]) -> keras.Model:
    """Load a model saved by :func:`save_model` (safe mode) and check its shapes with
    :func:`check_model_shapes`; a clear :class:`ModelError` naming the file if it can't be used."""
    from .fsutil import regular_file

    path = Path(path)
    expected = "a .keras or .h5 model file"
    regular_file(path, expected, ModelError, missing="model file not found (train one first: fashion train)")
    suffix = path.suffix.lower()
    if suffix not in MODEL_FORMATS:
        raise ModelError(f"{path}: unknown model file type {path.suffix!r}; expected .keras or .h5")
    if suffix == ".keras" and not zipfile.is_zipfile(path):
        raise ModelError(
            f"{path}: not a valid .keras file (not a zip archive; truncated or corrupted?); retrain or re-fetch it"
        )
    if suffix == ".h5":
        with open(path, "rb") as fh:
            if fh.read(8) != b"\x89HDF\r\n\x1a\n":
                raise ModelError(
                    f"{path}: not a valid .h5 file (no HDF5 signature; truncated or corrupted?); retrain or re-fetch it"
                )
    load_tensorflow()
    import keras

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as exc:  # Keras raises many types for damaged files
        raise ModelError(_load_failure(path, exc)) from None
    check_model_shapes(model, path)
    model.fashion_source = str(path)  # errors about its outputs name the file (evaluate.predict_proba)
    return model


def _load_failure(path: Path, exc: Exception) -> str:
    """The line for a model file Keras won't load: Python code that safe mode refuses (no use retraining or
    re-fetching that file), or any other error, cut at a word boundary if long."""
    message = plain(exc)
    if "arbitrary code execution" in message:  # Keras' safe mode refusing code stored in the file
        what = "a Lambda layer (Python code)" if "`Lambda` layer" in message else "Python code or an outside SavedModel"
        return (
            f"{path}: model holds {what}, which safe loading refuses; use a model without Lambda layers or "
            "custom code (this project's models, from fashion train or a model package, have none)"
        )
    if len(message) > 200:
        message = message[:201].rsplit(" ", 1)[0].rstrip(" ,;:(") + " …"
    return f"{path}: cannot load model ({type(exc).__name__}: {message}); retrain or re-fetch it"


def plain(exc: BaseException) -> str:
    """An exception's message on one line, without Keras' terminal colour codes."""
    return " ".join(_ANSI.sub("", str(exc)).split())


def _shape(tensors) -> tuple | None:
    """The shape of a model's single input or output tensor; None if it has several (or none)."""
    tensors = tensors if isinstance(tensors, (list, tuple)) else [tensors]
    return tuple(tensors[0].shape) if len(tensors) == 1 else None


def check_model_shapes(model: keras.Model, source: str | os.PathLike[str]) -> None:
    """ModelError naming ``source`` unless ``model`` takes ``N x 28 x 28`` images and gives ``N x 10``."""
    try:
        inputs, outputs = _shape(model.inputs), _shape(model.outputs)
    except (AttributeError, ValueError):  # never called: no shapes to read
        raise ModelError(f"{source}: model has no defined input and output; expected a built Keras model") from None
    if inputs is None or inputs[1:] != (28, 28):
        what = f"input {inputs}" if inputs is not None else f"{len(model.inputs)} inputs"
        raise ModelError(f"{source}: model takes {what}; expected 28x28 images (input shape (None, 28, 28))")
    if outputs is None or outputs[1:] != (NUM_CLASSES,):
        what = f"{len(model.outputs)} outputs" if outputs is None else f"outputs of shape {outputs}"
        if outputs is not None and len(outputs) == 2:
            what = f"{outputs[1]} outputs"
        raise ModelError(f"{source}: model gives {what}; expected {NUM_CLASSES} class probabilities")


def network_of(shipped: keras.Model) -> keras.Model:
    """The trained network inside a model made by :func:`export_model` (the model itself for one view)."""
    import keras

    return next((layer for layer in shipped.layers if isinstance(layer, keras.Model)), shipped)


def describe_shipped(shipped: keras.Model) -> str:
    """One sentence on what the shipped file holds: the network, and how many views it averages."""
    import keras

    network = network_of(shipped)
    params = f"{network.count_params():,} parameters"
    if network is shipped:
        return f"{shipped.name}: the trained network itself, one view of each image ({params})."
    average = next((layer for layer in shipped.layers if isinstance(layer, keras.layers.Average)), None)
    inputs = getattr(average, "input", None)
    count = len(inputs) if isinstance(inputs, (list, tuple)) else "several"
    return (
        f"{shipped.name}: the trained network {network.name} ({params}) applied to {count} views of each image "
        "(mirrored and/or shifted by frozen layers), its class probabilities averaged inside the file, "
        "so a plain model.predict gives the averaged answer."
    )
