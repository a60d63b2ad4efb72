"""A push's version pointers: a new second pointed at its top hash, then ``latest``.

Local writers are serialised by an OS lock. On S3, where no lock reaches, each pointer is read
back after a short random pause and moved to a free earlier second if another writer took the
same one (a bounded number of times), so every version a push printed stays listed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from ..console import short
from ..errors import RegistryError
from .base import POINTERS, Registry
from .stamps import next_stamp

POINTER_ATTEMPTS = 20


def point(reg: Registry, name: str, top_hash: str) -> None:
    """Point a new second at ``top_hash``, then ``latest``: this second, or one after every version
    already listed, so a burst of pushes within one second keeps its order (their stamps run a few
    seconds ahead of the clock instead).

    Where writers are not serialised (S3), two of them may pick the same second: the writer checks
    after a short random pause that its version is still listed, re-pointing it to a free earlier
    second if it was lost, until two checks in a row find it (a bounded number of times).
    """
    taken = reg.pointers(name)
    stamp = next_stamp(reg, name, taken)
    reg.write(f"{POINTERS}/{name}/{stamp}", top_hash.encode())
    confirmed = 0
    for _ in range(POINTER_ATTEMPTS if reg.pointers_need_checking else 0):
        time.sleep(random.uniform(0.05, 0.3))  # let writers racing for the same second land
        taken = reg.pointers(name)
        listed = top_hash in {v for k, v in taken.items() if k.isdigit()}
        confirmed = confirmed + 1 if listed else 0
        if confirmed == 2:
            break
        if not listed:
            reg.write(f"{POINTERS}/{name}/{_free_before(taken, stamp)}", top_hash.encode())
    else:
        if reg.pointers_need_checking:
            raise RegistryError(
                f"publishing {name}@{short(top_hash)}: other writers kept replacing its version "
                f"pointer in {reg.describe()}; publish again"
            )
    reg.write(f"{POINTERS}/{name}/latest", top_hash.encode())


def _free_before(taken: Mapping[str, str], stamp: int) -> int:
    earlier = stamp - 1
    while str(earlier) in taken:
        earlier -= 1
    return earlier
