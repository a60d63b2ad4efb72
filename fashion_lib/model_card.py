"""What a model package says about itself: the README (model card) stored with ``clf.keras``, from its lineage."""

from __future__ import annotations

from typing import Any

from . import settings
from .classes import CLASS_NAMES
from .runfolder import CONFIG_FILE, MODEL_FILE


def model_card(lineage: dict[str, Any]) -> str:
    """The README stored in the model package."""
    data, training, metrics = lineage["data"], lineage["training"], lineage["metrics"]
    code, env = lineage["code"], lineage["environment"]
    per_class = metrics.get("per_class", {})
    config = training.get("config", {})
    views = _view_count(config)
    loss = f" (loss {metrics['test_loss']:.4f})" if metrics.get("test_loss") is not None else ""
    single = metrics.get("test_accuracy_single_view")
    single_line = (
        f"\nThe trained network alone, on the unaltered image, scores {single:.4f}." if single is not None else ""
    )
    machine = f" of training on {env['cpu']}" if env.get("cpu") else ""  # a time means little without its machine
    if config.get("precision") == "mixed_bfloat16":
        machine += ", computed in bfloat16 (float32 weights)"
    order = {name: rank for rank, name in enumerate(CLASS_NAMES)}  # label order, whatever the mapping's order
    rows = "\n".join(
        f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |"
        for name, s in sorted(per_class.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    )
    return f"""# Fashion-MNIST CNN (`{MODEL_FILE}`)

A small Keras convolutional network that classifies 28x28 grey images of clothes into
the 10 Fashion-MNIST classes. It takes raw `uint8` pixels (scaling is inside the model)
and returns class probabilities, averaged inside the file over {views} test-time view(s) of the
image (the image{", its mirror" if config.get("tta") else ""}{", and shifts of " + str(config.get("tta_shift")) + " px" if config.get("tta_shift") else ""}).

**Test accuracy: {metrics["test_accuracy"]:.4f}**{loss} on the official
10,000-image test set, after {training["epochs_run"]} epochs in {training["seconds"]} s{machine}. That is
exactly what plain Keras gives on this file: `keras.models.load_model("{MODEL_FILE}")`, then
`model.predict(images)` on the `uint8` images and the argmax.{single_line}

## Load it

```python
from fashion_lib.model_package import load_model
model = load_model("{settings.model_package()}", top_hash="<this version's top hash>")
```
or, without this project: `quilt3` to fetch the package, then `keras.models.load_model("{MODEL_FILE}")`
(Keras 3.4 or later: 3.0 to 3.3 can't read the file).

## How it was trained
- data: `{data["name"]}` top hash `{data["top_hash"]}`
- code: commit `{code.get("commit")}`{" (with uncommitted changes)" if code.get("dirty") else ""}
- environment: `requirements.txt` SHA-256 `{env.get("requirements_sha256")}`, Python {env.get("python")},
  TensorFlow {env.get("tensorflow")}, Keras {env.get("keras")}
- config: `{CONFIG_FILE}` in this package (also in the metadata under `training.config`)
- retrain it: `fashion reproduce <top hash>`

## Per-class scores (test set)
| class | precision | recall | F1 |
|---|---|---|---|
{rows}
"""


def _view_count(config: dict[str, Any]) -> int:
    """How many test-time views a model trained with ``config`` averages inside its file."""
    from .config import TrainConfig
    from .errors import ConfigError
    from .model import tta_views

    try:
        return len(tta_views(TrainConfig.from_dict(config)))
    except (ConfigError, TypeError):
        return 1
