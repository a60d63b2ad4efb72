"""The ``tf.distribute`` strategy from the environment, and which worker is the chief."""

from __future__ import annotations

import sys

from ..backend import load_tensorflow
from .cluster import Cluster, cluster_from_environment


def strategy_from_environment():
    """``MultiWorkerMirroredStrategy`` if ``TF_CONFIG`` names a cluster of several machines,
    ``MirroredStrategy`` over several local GPUs, else the default (one device) strategy."""
    cluster = cluster_from_environment()  # a bad TF_CONFIG is one line before TensorFlow loads
    load_tensorflow()
    import tensorflow as tf

    if cluster is not None and cluster.size > 1:
        print(waiting_line(cluster), file=sys.stderr, flush=True)  # TensorFlow waits silently for the peers
        return tf.distribute.MultiWorkerMirroredStrategy()
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def waiting_line(cluster: Cluster) -> str:
    """What a worker says while TensorFlow waits, silently, for the other workers to answer."""
    peers = cluster.peers
    return f"waiting for the other {len(peers)} worker(s) of TF_CONFIG ({', '.join(peers)}) ..."


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
