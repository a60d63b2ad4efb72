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


# The package each variable names when the command's own option is left out.
_VARIABLES = (("data_package", "FASHION_DATA_PACKAGE"), ("model_package", "FASHION_MODEL_PACKAGE"))


def check_package_variables(args: argparse.Namespace) -> None:
    """ConfigError naming ``FASHION_DATA_PACKAGE`` or ``FASHION_MODEL_PACKAGE`` when the command
    reads it (its option left out; no ``--model FILE`` in its place) and it holds no package name,
    before a registry is opened: the registry's own check would not say where the name came from."""
    import os

    from ..parameters import package_name

    for dest, variable in _VARIABLES:
        if getattr(args, dest, "") is not None or (dest == "model_package" and getattr(args, "model", None)):
            continue  # the command has no such option, or was given it, or a model file instead
        value = os.environ.get(variable, "").strip()
        if value:
            package_name(variable, value)  # the ConfigError names the variable
