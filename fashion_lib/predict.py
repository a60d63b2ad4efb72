"""Classify raw images with a trained model."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .classes import CLASS_NAMES
from .errors import ModelError
from .inputs import Inputs
from .quality.thresholds import INVERTED_FRAME


class Prediction(NamedTuple):
    class_id: int
    class_name: str
    probabilities: tuple[float, ...]  # one per class, in label order

    @property
    def confidence(self) -> float:
        return self.probabilities[self.class_id]


def check_images(images) -> np.ndarray:
    """``images`` as a uint8 ``N x 28 x 28`` array (a single 28x28 image becomes N=1)."""
    array = np.asarray(images)
    if array.dtype != np.uint8:
        raise ModelError(
            f"images must be uint8 pixels 0..255 (raw, unscaled), got dtype {array.dtype}; "
            "convert with np.asarray(x, dtype=np.uint8)"
        )
    if array.shape == (28, 28):
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != (28, 28):
        raise ModelError(f"images must be 28x28 or N x 28 x 28, got shape {array.shape}")
    return array


def predict(model, images, *, tta: bool = False, batch_size: int | None = None) -> list[Prediction]:
    """One :class:`Prediction` per image, for raw uint8 ``N x 28 x 28`` (or one ``28 x 28``) images."""
    from .evaluate import predict_proba

    array = check_images(images)
    probs = predict_proba(model, array, tta=tta, batch_size=batch_size)
    return [Prediction(int(p.argmax()), CLASS_NAMES[int(p.argmax())], tuple(float(v) for v in p)) for p in probs]


def looks_inverted(images: np.ndarray) -> np.ndarray:
    """Per image of ``N x 28 x 28``: a bright frame, the data-quality check's rule (the median of the
    outermost pixels at least ``INVERTED_FRAME``): a dark garment on a light background, unlike
    Fashion-MNIST, whose frames are nearly black."""
    frame = np.concatenate([images[:, 0, :], images[:, -1, :], images[:, 1:-1, 0], images[:, 1:-1, -1]], axis=1)
    return np.median(frame, axis=1) >= INVERTED_FRAME


def looks_blank(images: np.ndarray) -> np.ndarray:
    """Per image of ``N x 28 x 28``: every pixel the same value (nothing there to classify)."""
    flat = images.reshape(len(images), -1)
    return flat.min(axis=1) == flat.max(axis=1)


def image_warnings(inputs: Inputs) -> list[str]:
    """One warning line per image that :func:`looks_blank` or else :func:`looks_inverted` (it is still
    classified): a blank white image is blank, not inverted."""
    warnings = []
    for source, image, blank, inverted in zip(
        inputs.sources, inputs.images, looks_blank(inputs.images), looks_inverted(inputs.images)
    ):
        if blank:
            warnings.append(f"warning: {source} is blank (every pixel {image.flat[0]}); its class is a guess")
        elif inverted:
            warnings.append(
                f"warning: {source} looks inverted (bright background); "
                "Fashion-MNIST garments are light on black: invert it first"
            )
    return warnings
