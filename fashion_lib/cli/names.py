"""The package-name options (``--name``, ``--data-package``, ``--model-package``): argparse types, so every
command refuses a name that is not ``owner/name`` alike, as a usage error (exit 2) naming the option,
before a registry is opened (:mod:`fashion_lib.registry.names` says which names). A name to publish under
is ASCII; a name only read (fetch, list, verify, evaluate, predict, lineage) may be any a registry holds,
so a package published under a Unicode name before stays reachable from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .common import not_blank


def package_name(expected: str, *, read_only: bool = False) -> Callable[[str], str]:
    """An argparse ``type``: a package name to publish under (``read_only``: only to read), else a usage error."""
    blank = not_blank(expected)

    def parse(text: str) -> str:
        from ..errors import RegistryError
        from ..registry.names import check_name, check_stored_name

        try:
            (check_stored_name if read_only else check_name)(blank(text))
        except RegistryError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return parse


DATA_PACKAGE = package_name("a package name such as fashion-mnist/data")
MODEL_PACKAGE = package_name("a package name such as fashion-mnist/model")
DATA_PACKAGE_READ = package_name("a package name such as fashion-mnist/data", read_only=True)
MODEL_PACKAGE_READ = package_name("a package name such as fashion-mnist/model", read_only=True)
ONE_PACKAGE = package_name(
    "a package name such as fashion-mnist/data (leave --name out for every package)", read_only=True
)
