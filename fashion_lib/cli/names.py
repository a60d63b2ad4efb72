"""The package-name options (``--name``, ``--data-package``, ``--model-package``): one argparse type for
all of them, so every command refuses a name that is not ``owner/name`` alike, as a usage error (exit 2)
naming the option, before a registry is opened (:mod:`fashion_lib.registry.names` says which names)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .common import not_blank


def package_name(expected: str) -> Callable[[str], str]:
    """An argparse ``type``: a package name to publish under or to look up, else a usage error."""
    blank = not_blank(expected)

    def parse(text: str) -> str:
        from ..errors import RegistryError
        from ..registry.names import check_name

        try:
            check_name(blank(text))
        except RegistryError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text

    return parse


DATA_PACKAGE = package_name("a package name such as fashion-mnist/data")
MODEL_PACKAGE = package_name("a package name such as fashion-mnist/model")
ONE_PACKAGE = package_name("a package name such as fashion-mnist/data (leave --name out for every package)")
