"""One small exception hierarchy.

Every error a user can cause, or fix, is a :class:`FashionError` whose message is a
single line that names the file, row, field or setting and says what was expected.
The CLI prints that line and exits with ``exit_code``; it never shows a traceback
for these.
"""

from __future__ import annotations


class FashionError(Exception):
    """Base class: a problem the user can understand and act on."""

    exit_code: int = 2

    def __str__(self) -> str:  # always one line
        return " ".join(str(self.args[0]).split()) if self.args else self.__class__.__name__


class ConfigError(FashionError):
    """A setting, parameter or command-line value is out of range or unknown."""


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
