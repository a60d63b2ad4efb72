"""Training configuration: architecture and hyperparameters in one JSON-safe dataclass.

``TrainConfig()``, i.e. ``TrainConfig.from_preset("default")``, is the recipe behind the published model;
``"quick"`` is a ~1 minute version for tests and demos, ``"v2"`` the previous default (a third of the time).
Every field is plain data, so a config round-trips through :meth:`TrainConfig.to_dict` /
:meth:`TrainConfig.from_dict` (lineage, ``reproduce``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

OPTIMIZERS = ("adamw", "adam", "sgd", "rmsprop")
HEADS = ("flatten", "gap")
# "auto": bfloat16 where the CPU (AVX-512 BF16, AMX) or GPU computes in it natively, else float32
# (fashion_lib/precision.py); "mixed_bfloat16": bfloat16 compute with float32 weights and a float32
# softmax (1.3x faster training where the hardware has it; no faster, or slower, where it hasn't)
PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_augmentation(config: TrainConfig, need: Any) -> None:
    """The training augmentations and the test-time views."""
    need(
        _is_int(config.augment_translate) and 0 <= config.augment_translate <= 8,
        "augment_translate",
        "an integer from 0 to 8 pixels",
    )
    need(
        _is_int(config.augment_erase) and 0 <= config.augment_erase <= 28,
        "augment_erase",
        "an integer from 0 to 28 pixels",
    )
    need(
        _is_num(config.erase_probability) and 0 <= config.erase_probability <= 1,
        "erase_probability",
        "a number in [0, 1]",
    )
    need(_is_int(config.tta_shift) and 0 <= config.tta_shift <= 4, "tta_shift", "an integer from 0 to 4 pixels")


def _valid_stages(stages: Any) -> bool:
    """1 to 3 non-empty lists of conv widths, each an integer from 1 to 1024."""
    return bool(
        isinstance(stages, (list, tuple))
        and 1 <= len(stages) <= 3
        and all(isinstance(s, (list, tuple)) and s and all(_is_int(w) and 1 <= w <= 1024 for w in s) for s in stages)
    )


@dataclass
class TrainConfig:
    """Everything that decides what ``train`` produces (besides the data).

    ``TrainConfig()`` is the default recipe, ``--preset default``: what ``fashion train`` trains and
    ``build_model()`` / ``export_model(trunk)`` build with no config."""

    # architecture: each stage is a list of 3x3 conv widths followed by 2x2 max-pooling
    stages: list[list[int]] = field(default_factory=lambda: [[32, 32], [64, 64]])
    batch_norm: bool = True
    bn_momentum: float = 0.9  # moving-statistics momentum (0.9 tracks short runs well)
    pool_before_bn: bool = True  # conv -> pool -> BN -> ReLU: BN on 4x fewer values (CPU-cheap)
    head: str = "flatten"  # "flatten" or "gap" (global average pooling)
    dense_units: int = 256  # 0: no hidden dense layer
    dropout: float = 0.4  # before the classifier
    conv_dropout: float = 0.0  # after each pooling
    # optimisation
    epochs: int = 24
    batch_size: int = 256
    optimizer: str = "adamw"
    learning_rate: float = 3e-3  # peak learning rate
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1  # of all steps; then cosine decay to 0
    label_smoothing: float = 0.1
    precision: str = "auto"  # bfloat16 where the hardware has it, else float32 (see PRECISIONS); runs record which
    early_stopping_patience: int = 0  # 0: off (best weights are still restored)
    # data
    augment_flip: bool = True  # random horizontal flips (vectorised, in tf.data)
    augment_translate: int = 0  # max random shift in pixels (0: off)
    augment_erase: int = 8  # random erasing: side of the zeroed square in pixels (0: off)
    erase_probability: float = 0.5  # ... applied to this share of the training images
    tta: bool = True  # the shipped clf.keras averages over the image and its mirror
    tta_shift: int = 1  # ... and over those views shifted by this many pixels (0: off): 10 views
    validation_size: int = 5000  # held out from train with ``seed``
    limit: int | None = None  # train on a subset of this size (0 or None: all; a parameter of None: the preset's)
    # reproducibility
    seed: int = 42
    deterministic: bool = False  # enable_op_determinism: identical results run to run

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> TrainConfig:
        if not isinstance(name, str) or name not in PRESETS:  # a list or dict (YAML) is no name either
            raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
        values = {**PRESETS[name], **overrides}
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise ConfigError(
                f"unknown setting {unknown[0]!r}; known settings: {', '.join(f.name for f in dataclasses.fields(cls))}"
            )
        config = cls(**values)
        config.validate()
        return config

    def validate(self) -> TrainConfig:
        """Raise :class:`ConfigError` (one line naming the field) for a value out of range."""

        def need(ok: bool, name: str, allowed: str) -> None:
            if not ok:
                raise ConfigError(f"{name}={getattr(self, name)!r} is invalid; expected {allowed}")

        need(_is_int(self.epochs) and 1 <= self.epochs <= 1000, "epochs", "an integer from 1 to 1000")
        need(_is_int(self.batch_size) and 1 <= self.batch_size <= 65536, "batch_size", "an integer from 1 to 65536")
        need(
            isinstance(self.optimizer, str) and self.optimizer.lower() in OPTIMIZERS,
            "optimizer",
            f"one of {', '.join(OPTIMIZERS)}",
        )
        need(_is_num(self.learning_rate) and 0 < self.learning_rate <= 10, "learning_rate", "a number in (0, 10]")
        need(_is_num(self.weight_decay) and 0 <= self.weight_decay < 1, "weight_decay", "a number in [0, 1)")
        need(_is_num(self.warmup_fraction) and 0 <= self.warmup_fraction < 1, "warmup_fraction", "a number in [0, 1)")
        need(_is_num(self.label_smoothing) and 0 <= self.label_smoothing < 1, "label_smoothing", "a number in [0, 1)")
        need(_is_num(self.bn_momentum) and 0 <= self.bn_momentum < 1, "bn_momentum", "a number in [0, 1)")
        need(_is_num(self.dropout) and 0 <= self.dropout < 1, "dropout", "a number in [0, 1)")
        need(_is_num(self.conv_dropout) and 0 <= self.conv_dropout < 1, "conv_dropout", "a number in [0, 1)")
        need(_is_int(self.dense_units) and 0 <= self.dense_units <= 8192, "dense_units", "an integer from 0 to 8192")
        need(self.head in HEADS, "head", f"one of {', '.join(HEADS)}")
        need(self.precision in PRECISIONS, "precision", f"one of {', '.join(PRECISIONS)}")
        need(
            _valid_stages(self.stages),
            "stages",
            "1 to 3 lists of conv widths (integers 1..1024), e.g. [[32], [64, 64]]",
        )
        need(
            _is_int(self.early_stopping_patience) and self.early_stopping_patience >= 0,
            "early_stopping_patience",
            "an integer >= 0 (0: off)",
        )
        _check_augmentation(self, need)
        need(
            _is_int(self.validation_size) and 0 <= self.validation_size <= 30000,
            "validation_size",
            "an integer from 0 to 30000",
        )
        need(
            self.limit is None or (_is_int(self.limit) and self.limit >= 0),
            "limit",
            "an integer >= 0 (0: all images)",
        )
        need(_is_int(self.seed) and 0 <= self.seed < 2**31, "seed", "an integer from 0 to 2**31-1")
        for flag in ("batch_norm", "pool_before_bn", "augment_flip", "tta", "deterministic"):
            need(isinstance(getattr(self, flag), bool), flag, "true or false")
        return self

    def check_split(self, images: int | None = None) -> TrainConfig:
        """ConfigError unless the validation split leaves images to train on: ``validation_size``
        below ``limit`` and below ``images`` (the training images the data holds, where known).

        Apart from :meth:`validate`, which a preset's ``validation_size`` must pass before a small
        ``limit`` shrinks it (:func:`fashion_lib.parameters.config_from_parameters`).
        """
        sizes = {n: why for n, why in ((images, "training images"), (self.limit or None, f"limit={self.limit}")) if n}
        if not sizes or not self.validation_size:
            return self
        available = min(sizes)
        if self.validation_size >= available:
            raise ConfigError(
                f"validation_size={self.validation_size} leaves no training images out of {available} "
                f"({sizes[available]}); use a smaller validation_size or a larger limit"
            )
        return self

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes).validate()

    def resolved(self) -> TrainConfig:
        """This config with ``precision="auto"`` replaced by what this machine computes in
        (:mod:`fashion_lib.precision`): what a run trains with and records."""
        from .precision import AUTO, resolve

        return self.replace(precision=resolve(AUTO)[0]) if self.precision == AUTO else self

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["stages"] = [list(s) for s in self.stages]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown setting {unknown[0]!r} in config; known settings: {', '.join(sorted(known))}")
        values = {**RECORDED_WITHOUT, **data}
        if isinstance(values.get("stages"), (list, tuple)):  # anything else: validate() names it
            values["stages"] = [list(s) if isinstance(s, (list, tuple)) else s for s in values["stages"]]
        return cls(**values).validate()


# What a recorded config (``config.json``, a lineage's ``training.config``) that lacks a field meant: the
# dataclass defaults before they became the default recipe's. ``tta_shift`` came after the first published
# models (which averaged image and mirror only), ``precision`` and ``augment_erase`` with issue 10; a record
# missing ``stages`` or ``epochs`` was hand-edited.
RECORDED_WITHOUT: dict[str, Any] = {
    "stages": [[32], [64, 64]],
    "epochs": 15,
    "tta_shift": 0,
    "precision": "float32",
    "augment_erase": 0,
}

# Fixed precisions: a preset other than the default computes the same everywhere.
_V2 = {"stages": [[32], [64]], "epochs": 18, "augment_erase": 0, "precision": "float32"}

PRESETS: dict[str, dict[str, Any]] = {
    # the real recipe, TrainConfig()'s defaults (chosen on the validation split; see the benchmark and
    # docs/accuracy-experiments.md): two 3x3 convs per stage, random erasing, 24 epochs, bfloat16 where the
    # hardware computes in it, 10 views averaged inside the shipped file. About 470 s on a 2-core CPU with
    # AVX-512 BF16; some five times v2's time on a CPU without it
    "default": {},
    # ~1 minute on 2 CPU cores: a subset and a few epochs, still far above chance; image + mirror only
    "quick": {**_V2, "limit": 15000, "epochs": 4, "validation_size": 1000, "batch_size": 128, "tta_shift": 0},
    # the first default (one conv per stage, 18 epochs, image + mirror averaged): kept for the benchmark
    "v1": {**_V2, "tta_shift": 0},
    # the default from issue 10's first half (10 views in the file): 93.8 % in about a third of the default's time
    "v2": _V2,
    # the default's network and erasing, 30 epochs in float32: about 5.5x v2's CPU time (benchmarks/recipe_screen.py)
    "accurate": {"stages": [[32, 32], [64, 64]], "epochs": 30, "precision": "float32"},
}
