"""A training recipe (:class:`~fashion_lib.config.TrainConfig`) in words: what the notebook shows before
training, and the one line a lineage summary gives it (the full record stays ``config.json``)."""

from __future__ import annotations

from typing import Any

from .config import TrainConfig
from .errors import FashionError


def recipe(config: TrainConfig) -> dict[str, str]:
    """Aspect (network, training, augmentation, test time, data, seed) -> one line of plain words."""
    from .model import tta_views

    c = config
    convs = " -> ".join("+".join(str(width) for width in stage) for stage in c.stages)
    network = [f"conv filters {convs} (a pooling after each stage)"]
    if c.batch_norm:
        network.append(f"batch norm (momentum {c.bn_momentum:g})")
    network.append("global average pooling" if c.head == "gap" else "flattened")
    if c.dense_units:
        network.append(f"dense {c.dense_units}")
    network.append(
        f"dropout {c.dropout:g}" + (f" (and {c.conv_dropout:g} after each pooling)" if c.conv_dropout else "")
    )
    training = [
        f"{c.epochs} epochs of batch {c.batch_size}",
        f"{_optimizer(c.optimizer)} at peak learning rate {c.learning_rate:g}",
    ]
    if c.warmup_fraction:
        training.append(f"warmed up over {c.warmup_fraction * 100:g} % of the steps, then a cosine decay to 0")
    else:
        training.append("a cosine decay to 0 from the first step")
    if c.weight_decay and c.optimizer.lower() in ("adamw", "sgd"):  # Adam and RMSprop here take none
        training.append(f"weight decay {c.weight_decay:g}")
    if c.label_smoothing:
        training.append(f"label smoothing {c.label_smoothing:g}")
    if c.early_stopping_patience and c.validation_size:  # early stopping watches the validation split
        training.append(f"stops after {c.early_stopping_patience} epochs without progress")
    training.extend(_precision(c.precision))
    augment = ["random mirror"] if c.augment_flip else []
    if c.augment_translate:
        augment.append(f"random shifts up to {c.augment_translate} px")
    if c.augment_erase:
        augment.append(
            f"random erasing ({c.augment_erase} x {c.augment_erase} px) in {c.erase_probability * 100:g} % of the images"
        )
    views = len(tta_views(c))
    data = f"{c.limit:,} training images" if c.limit else "every training image"
    return {
        "network": ", ".join(network),
        "training": ", ".join(training),
        "augmentation": ", ".join(augment) or "none",
        "test time": f"{views} views of each image averaged inside clf.keras" if views > 1 else "the image alone",
        "data": f"{data}, {c.validation_size:,} of them held out for validation"
        if c.validation_size
        else f"{data}, none held out (the last epoch's weights are kept)",
        "seed": f"{c.seed}" + (" (deterministic ops: bit-for-bit repeatable, slower)" if c.deterministic else ""),
    }


def brief(config: Any) -> str:
    """One line for a recorded config (a lineage's ``training.config``): epochs, batch, optimizer, seed;
    a record that is not a config is shown as it is."""
    try:
        c = TrainConfig.from_dict(config) if isinstance(config, dict) else None
    except (FashionError, TypeError, ValueError):
        c = None
    if c is None:
        return str(config)
    data = f"{c.limit:,} images" if c.limit else "all images"
    return (
        f"{c.epochs} epochs, batch {c.batch_size}, {_optimizer(c.optimizer)} lr {c.learning_rate:g}, {data}, "
        f"seed {c.seed} (every setting: the package's config.json)"
    )


def _precision(precision: str) -> list[str]:
    """What the network computes in: nothing to say for float32 as configured."""
    from .precision import resolve

    computed, why = resolve(precision)
    words = "bfloat16 (weights and the softmax in float32)" if computed != "float32" else "float32"
    return [f"computed in {words}" + (f", {why}" if precision != computed else "")] if precision != "float32" else []


def _optimizer(name: str) -> str:
    names = {"adamw": "AdamW", "adam": "Adam", "sgd": "SGD with Nesterov momentum", "rmsprop": "RMSprop"}
    return names.get(name.lower(), name)
