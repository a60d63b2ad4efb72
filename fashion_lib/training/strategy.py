"""The ``tf.distribute`` strategy from the environment, and which worker is the chief."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

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
        return interruptible(tf.distribute.MultiWorkerMirroredStrategy)
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def waiting_line(cluster: Cluster) -> str:
    """What a worker says while TensorFlow waits, silently, for the other workers to answer."""
    peers = cluster.peers
    return f"waiting for the other {len(peers)} worker(s) of TF_CONFIG ({', '.join(peers)}; Ctrl-C stops) ..."


def interruptible(wait: Callable[[], Any]) -> Any:
    """``wait()`` with Ctrl-C ending the process at once, even while TensorFlow waits for the peers.

    TensorFlow waits for the other workers in C++ holding Python's interpreter lock, so no Python
    signal handler (KeyboardInterrupt, the ``fashion`` command's own) and no Python thread runs
    until every worker has answered: the worker was deaf to Ctrl-C, under the ``fashion`` command too.
    For that wait Ctrl-C gets the system's default action (the process ends; a shell shows status
    130), and so does SIGTERM, though TensorFlow 2.21 takes SIGTERM itself while it waits (its
    preemption notifier), so there only SIGKILL ends the worker (``docker stop`` sends it after 10 s).
    No run file has been written yet. A handler that is neither Python's default nor this project's
    (a Jupyter kernel's) is left as it is, and so is everything off the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        return wait()
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    ended = [signum for signum, handler in previous.items() if _ours(handler)]
    for signum in ended:
        signal.signal(signum, signal.SIG_DFL)
    try:
        return wait()
    finally:
        for signum in ended:
            signal.signal(signum, previous[signum])


def _ours(handler: Any) -> bool:
    """Whether ``handler`` is Python's default for its signal or one this project installed (the ``fashion``
    command's), not a host's, such as a Jupyter kernel's; an ignored signal stays ignored."""
    if handler in (signal.default_int_handler, signal.SIG_DFL):
        return True
    return str(getattr(handler, "__module__", "")).startswith("fashion_lib.")


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
