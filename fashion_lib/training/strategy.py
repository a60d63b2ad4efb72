"""The ``tf.distribute`` strategy from the environment, and which worker is the chief."""

from __future__ import annotations

import json
import os

from ..backend import load_tensorflow
from ..errors import ConfigError


def strategy_from_environment():
    """``MultiWorkerMirroredStrategy`` if ``TF_CONFIG`` names a cluster, ``MirroredStrategy``
    over several local GPUs, else the default (one device) strategy."""
    load_tensorflow()
    import tensorflow as tf

    tf_config = os.environ.get("TF_CONFIG", "").strip()
    if tf_config:
        try:
            cluster = json.loads(tf_config).get("cluster", {})
        except json.JSONDecodeError as exc:
            raise ConfigError(f"TF_CONFIG is not valid JSON ({exc}); see the README for an example") from None
        if sum(len(v) for v in cluster.values()) > 1:
            return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def is_multi_worker(strategy) -> bool:
    """True when ``strategy`` spans a cluster of workers (``MultiWorkerMirroredStrategy``)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    return bool(resolver is not None and resolver.cluster_spec().as_dict())


def is_chief(strategy) -> bool:
    """True on the worker that writes files (always true without a cluster)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (
        task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().as_dict()
    )
