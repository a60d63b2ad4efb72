"""``TF_CONFIG``, read and checked without TensorFlow: a mistake is one line, before anything is written.

The forms ``MultiWorkerMirroredStrategy`` runs: a ``cluster`` of ``worker`` addresses (and at
most one ``chief``), and this machine's ``task``, a ``worker`` or the ``chief``, by index.
Parameter servers and evaluators belong to other strategies and are refused. An empty or
unset ``TF_CONFIG`` means one machine.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

ROLES = ("worker", "chief")  # the task types MultiWorkerMirroredStrategy trains with
EXPECTED = (
    'expected a JSON object with "cluster" {"worker": ["host:port", ...]} and "task" {"type": "worker", "index": N}'
)
_ADDRESS = re.compile(r"^(\S+):(\d{1,5})$")
PORTS = range(1, 65536)  # a TCP port; 0 and 65536.. never connect (a worker would wait for ever)


@dataclass(frozen=True)
class Cluster:
    """The machines ``TF_CONFIG`` names, and which of them this one is."""

    addresses: dict[str, list[str]]  # task type -> "host:port" addresses
    task_type: str
    task_index: int

    @property
    def size(self) -> int:
        """How many machines train together."""
        return sum(len(hosts) for hosts in self.addresses.values())

    @property
    def peers(self) -> list[str]:
        """The addresses of the other machines, which this one waits for before training."""
        own = self.addresses[self.task_type][self.task_index]
        everyone = [address for role in ROLES for address in self.addresses.get(role, [])]
        return [address for address in everyone if address != own]

    @property
    def chief(self) -> bool:
        """True on the machine that writes files: the chief, else worker 0."""
        return self.task_type == "chief" or (self.task_index == 0 and "chief" not in self.addresses)


def cluster_from_environment() -> Cluster | None:
    """The checked ``TF_CONFIG``, or None when it is unset or empty; ConfigError (exit 2) otherwise."""
    text = os.environ.get("TF_CONFIG", "").strip()
    return parse_tf_config(text) if text else None


def parse_tf_config(text: str) -> Cluster:
    """``TF_CONFIG``'s text as a :class:`Cluster`; one line naming what is wrong if it is not one."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(f"not valid JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(document, dict):
        raise _error(f"got {_shown(document)}")
    addresses = _addresses(document.get("cluster"))
    task = document.get("task")
    if not isinstance(task, dict):
        raise _error(f'"task" is {_shown(task)}')
    return Cluster(addresses, *_task(task, addresses))


def _addresses(cluster: Any) -> dict[str, list[str]]:
    if not isinstance(cluster, dict) or not any(cluster.get(role) for role in ROLES):
        raise _error(f'"cluster" is {_shown(cluster)}')
    for role, hosts in cluster.items():
        if role not in ROLES:
            raise _unsupported(f'"cluster" has a "{role}" entry')
        if not isinstance(hosts, list) or not hosts or not all(isinstance(h, str) and _ADDRESS.match(h) for h in hosts):
            raise _error(f'"cluster" "{role}" is {_shown(hosts)}', 'expected a list of "host:port" addresses')
        for host in hosts:
            port = int(_ADDRESS.match(host).group(2))  # type: ignore[union-attr]  # matched above
            if port not in PORTS:
                raise _error(
                    f'"cluster" "{role}" address {_shown(host)} has port {port}', "expected a port from 1 to 65535"
                )
    if len(cluster.get("chief", [])) > 1:
        raise _error(f'"cluster" "chief" names {len(cluster["chief"])} machines', "expected one")
    return {role: list(hosts) for role, hosts in cluster.items()}


def _task(task: dict[str, Any], addresses: dict[str, list[str]]) -> tuple[str, int]:
    role, index = task.get("type"), task.get("index", 0)
    if role not in ROLES:
        raise _unsupported(f'"task" "type" is {_shown(role)}')
    if role not in addresses:
        raise _error(f'"task" "type" is "{role}" but "cluster" has no "{role}" entry')
    count = len(addresses[role])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise _error(
            f'"task" "index" is {_shown(index)}',
            f'expected an integer from 0 to {count - 1} (one per "{role}" address in "cluster")',
        )
    return role, index


def _shown(value: Any) -> str:
    if value is None:
        return "missing"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _error(why: str, expected: str = EXPECTED) -> ConfigError:
    return ConfigError(f"TF_CONFIG: {why}; {expected}")


def _unsupported(why: str) -> ConfigError:
    return ConfigError(
        f'TF_CONFIG: {why}; only "worker" and "chief" tasks are supported (MultiWorkerMirroredStrategy; '
        "no parameter servers or evaluators)"
    )
