"""One small exception hierarchy.

Every error a user can cause, or fix, is a :class:`FashionError` whose message is a
single line that names the file, row, field or setting and says what was expected.
The CLI prints that line and exits with ``exit_code``; it never shows a traceback
for these. A library function misused from a notebook (a DataFrame where it takes an
array) says so the same way: :func:`wrong` and :func:`expect` spell that line.
"""

from __future__ import annotations

import os


class FashionError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code: int = 2

    def __str__(self) -> str:  # always one line
        return " ".join(str(self.args[0]).split()) if self.args else self.__class__.__name__


class ConfigError(FashionError):
    """A setting, parameter or command-line value is out of range or unknown."""


class ArgumentError(ConfigError, TypeError, ValueError):
    """A library function (a notebook's call) was given the wrong kind of value: a DataFrame where it
    takes an array, a dict where it takes a TrainConfig, None where it takes a folder. Also a TypeError
    and a ValueError, what Python raised for such calls before."""


def expect(value: object, kind: type | tuple[type, ...], where: str, expected: str) -> None:
    """ArgumentError unless ``value`` is a ``kind``; ``where`` names the argument (``pipeline.fit: run``)."""
    if not isinstance(value, kind):
        raise wrong(where, value, expected)


def wrong(where: str, value: object, expected: str) -> ArgumentError:
    """The one line for a misused argument: where, what it is, and what was expected."""
    return ArgumentError(f"{where} is {given(value)}; expected {expected}")


def given(value: object) -> str:
    """What a value is, in words a notebook reader recognises ('a pandas DataFrame (3 rows x 785 columns)')."""
    kind = type(value).__name__
    shape = getattr(value, "shape", None)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if type(value).__module__.startswith("pandas") and isinstance(shape, tuple) and len(shape) in (1, 2):
        return f"a pandas {kind} ({shape[0]:,} rows x {shape[1]:,} columns)" if len(shape) == 2 else f"a pandas {kind}"
    if isinstance(shape, tuple) and hasattr(value, "dtype"):
        return f"an array of shape {shape} ({value.dtype})"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) <= 40 else f"a string of {len(value)} characters"
    if isinstance(value, os.PathLike):
        return f"the path {os.fspath(value)!r}"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:4]) + (", ..." if len(value) > 4 else "")
        return f"a dict with keys {keys}" if value else "an empty dict"
    if isinstance(value, (list, tuple)):
        return f"a {kind} of {len(value)} item(s)"
    return f"{'an' if kind[:1].lower() in 'aeiou' else 'a'} {kind}"


class SourceError(FashionError):
    """The raw Fashion-MNIST files could not be found, downloaded or verified."""


class IdxFormatError(SourceError):
    """An IDX file is not what the Fashion-MNIST layout says it must be."""


class DataValidationError(FashionError):
    """A CSV failed the validation circuit breaker."""

    exit_code = 1


class RegistryError(FashionError):
    """A registry could not be used; the subclasses say why (exit codes in the README)."""


class PackageNotFound(RegistryError):
    """The registry answered: no such package, or no such version of it.

    The only registry error after which preparing data or training is the right move.
    """

    exit_code = 4


class RegistryUnreachable(RegistryError):
    """The registry did not answer (network, endpoint, timeout)."""

    exit_code = 5


class RegistryAccessDenied(RegistryError):
    """The registry refused us: credentials, permissions, or a read-only folder."""

    exit_code = 6


class BucketNotFound(RegistryError):
    """The S3 bucket named as the registry does not exist."""

    exit_code = 7


class IntegrityError(FashionError):
    """Bytes or manifests do not match the hashes that name them: a damaged version."""

    exit_code = 3


class DestinationError(FashionError):
    """A destination folder (``--dest``, the home or output folder) cannot be written."""


class ModelError(FashionError):
    """A model file or model package cannot be used."""


class QualityError(DataValidationError):
    """Data failed the data-quality circuit breaker: one line per failed check."""

    def __str__(self) -> str:  # a headline, then one line per failure
        lines = [line for line in str(self.args[0]).splitlines() if line.strip()]
        return "\n".join(line[: len(line) - len(line.lstrip())] + " ".join(line.split()) for line in lines)
