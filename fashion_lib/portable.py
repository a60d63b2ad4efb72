"""A saved ``.keras`` file that Keras 3.4 to 3.14 load too, not only the Keras that wrote it.

Keras writes every argument a layer or initializer has in *its* version, defaults included, and
an older Keras refuses a keyword it doesn't know, so a file from Keras 3.15 fails everywhere
before it ("Unrecognized keyword arguments passed to Dense: {'quantization_config': None}",
"GlorotUniform.__init__() got an unexpected keyword argument 'input_axes'"). The arguments
below are dropped from the file's ``config.json`` *only where they hold their default*, which
is what any Keras that knows them fills in when they are missing: the model loaded back is the
same, layer for layer, in every version. The weights are not touched.

Keras 3.0 to 3.3 stay out of reach ("get_tensor() takes 3 positional arguments but 5 were given"):
they read a model's one input and output only as ``[["image", 0, 0]]``. Keras 3.11 and later write
``["image", 0, 0]`` and read the nested form as a list of one (``model.input`` a list, not the tensor),
so writing it would change the model every newer Keras loads. Checked with 3.0.5, 3.1.1, 3.2.1, 3.3.3.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

# argument -> its default; each appeared in a later Keras 3 than 3.4 (version noted)
NEWER_DEFAULTS: dict[str, Any] = {
    "quantization_config": None,  # Dense, EinsumDense, Embedding: 3.13
    "renorm": False,  # BatchNormalization: 3.14
    "renorm_clipping": None,
    "renorm_momentum": 0.99,
    "input_axes": None,  # VarianceScaling initializers (GlorotUniform, HeNormal, ...): 3.15
    "output_axes": None,
}


def drop_newer_defaults(node: Any) -> Any:
    """``node`` (a serialized Keras config, changed in place) without the defaults older Keras lacks."""
    if isinstance(node, dict):
        config = node.get("config")
        if "class_name" in node and isinstance(config, dict):
            for key, default in NEWER_DEFAULTS.items():
                if key in config and type(config[key]) is type(default) and config[key] == default:
                    del config[key]
        for value in node.values():
            drop_newer_defaults(value)
    elif isinstance(node, list):
        for value in node:
            drop_newer_defaults(value)
    return node


def float32_compute(model_config: dict[str, Any]) -> dict[str, Any]:
    """A functional model's config (``get_config()``) with every mixed dtype policy made float32, in place.

    A network trained with ``mixed_bfloat16`` keeps float32 weights; shipped as it trained, each backend and CPU
    rounds its bfloat16 differently (one image in 10,000 moved between TensorFlow and JAX, 2026-11-30), and a CPU
    without bfloat16 instructions emulates it slowly. Shipped in float32, the same weights give every receiver
    what the package records."""
    for layer in model_config.get("layers", []):
        policy = layer.get("config", {}).get("dtype")
        if isinstance(policy, dict) and str(policy.get("config", {}).get("name", "")).startswith("mixed_"):
            policy["config"]["name"] = "float32"
    return model_config


def make_portable(path: Path) -> None:
    """Rewrite the ``.keras`` zip at ``path`` with :func:`drop_newer_defaults` applied to its
    ``config.json``; every other member is copied byte for byte, in the same order."""
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            if info.filename == "config.json":
                data = json.dumps(drop_newer_defaults(json.loads(data))).encode()
            archive.writestr(info, data)
