"""The model package: ``clf.keras``, its training history, metrics, a model card, and lineage.

Pushed only after training and evaluation have finished, so an interrupted run
leaves nothing half-written in the registry. Fetching verifies every file's hash.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import settings

MODEL_FILE = "clf.keras"
HISTORY_FILE = "history.csv"
METRICS_FILE = "metrics.json"
CONFIG_FILE = "config.json"


def model_card(lineage: dict[str, Any]) -> str:
    """The README stored in the model package."""
    data, training, metrics = lineage["data"], lineage["training"], lineage["metrics"]
    code, env = lineage["code"], lineage["environment"]
    per_class = metrics.get("per_class", {})
    config = training.get("config", {})
    views = _view_count(config)
    single = metrics.get("test_accuracy_single_view")
    single_line = (f"\nThe trained network alone, on the unaltered image, scores {single:.4f}." if single is not None else "")
    rows = "\n".join(f"| {name} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} |"
                     for name, s in per_class.items())
    return f"""# Fashion-MNIST CNN (`{MODEL_FILE}`)

A small Keras convolutional network that classifies 28x28 grey images of clothes into
the 10 Fashion-MNIST classes. It takes raw `uint8` pixels (scaling is inside the model)
and returns class probabilities, averaged inside the file over {views} test-time view(s) of the
image (the image{', its mirror' if config.get('tta') else ''}{', and shifts of ' + str(config.get('tta_shift')) + ' px' if config.get('tta_shift') else ''}).

**Test accuracy: {metrics['test_accuracy']:.4f}** (loss {metrics['test_loss']:.4f}) on the official
10,000-image test set, after {training['epochs_run']} epochs in {training['seconds']} s. That is
exactly what plain Keras gives on this file: `keras.models.load_model("{MODEL_FILE}")`, then
`model.predict(images)` on the `uint8` images and the argmax.{single_line}

## Load it

```python
from fashion_lib.model_package import load_model
model = load_model("{settings.model_package()}", top_hash="<this version's top hash>")
```
or, without this project: `quilt3` to fetch the package, then `keras.models.load_model("{MODEL_FILE}")`.

## How it was trained
- data: `{data['name']}` top hash `{data['top_hash']}`
- code: commit `{code.get('commit')}`{' (with uncommitted changes)' if code.get('dirty') else ''}
- environment: `requirements.txt` SHA-256 `{env.get('requirements_sha256')}`, Python {env.get('python')},
  TensorFlow {env.get('tensorflow')}, Keras {env.get('keras')}
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


def publish_model(folder: Path, lineage: dict[str, Any], *, registry: str | None = None,
                  name: str | None = None, message: str | None = None) -> str:
    """Push ``folder``'s model, history, metrics and config with the lineage as metadata."""
    from . import registry as reg

    files = {key: folder / key for key in (MODEL_FILE, HISTORY_FILE, METRICS_FILE, CONFIG_FILE)
             if (folder / key).is_file()}
    accuracy = lineage["metrics"]["test_accuracy"]
    return reg.push(name or settings.model_package(), files, registry=registry, meta=lineage,
                    message=message or f"CNN, test accuracy {accuracy:.4f}, data "
                                       f"{lineage['data']['top_hash'][:12]}",
                    readme=model_card(lineage))


def fetch_model(*, name: str | None = None, top_hash: str | None = None, registry: str | None = None,
                dest: Path | None = None):
    """Fetch and verify a model package (default destination: a cache under the data folder)."""
    from . import registry as reg

    return reg.fetch_to_cache(name or settings.model_package(), registry=registry, top_hash=top_hash, dest=dest)


def load_model(name: str | None = None, top_hash: str | None = None, *, registry: str | None = None):
    """Fetch (verified) and load a model from a model package."""
    from .errors import ModelError
    from .model import load_model_file

    fetched = fetch_model(name=name, top_hash=top_hash, registry=registry)
    if MODEL_FILE not in fetched.files:
        raise ModelError(f"{fetched.name}@{fetched.top_hash[:12]} has no {MODEL_FILE}; is it a model package?")
    return load_model_file(fetched.files[MODEL_FILE])


def read_lineage(top_hash: str | None = None, *, name: str | None = None,
                 registry: str | None = None) -> tuple[str, str, dict[str, Any]]:
    """(name, full top hash, lineage) of a model package version, without downloading it."""
    from . import registry as reg

    name = name or settings.model_package()
    resolved, meta, _ = reg.read_meta(name, registry=registry, top_hash=top_hash)
    return name, resolved, meta


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically."""
    from .fsutil import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    return path
