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
    """A registry is unreachable, or a package or version is not in it."""


class IntegrityError(FashionError):
    """Fetched bytes do not match the hashes recorded in the package manifest."""

    exit_code = 3


class ModelError(FashionError):
    """A model file or model package cannot be used."""


class QualityError(DataValidationError):
    """Data failed the data-quality circuit breaker: one line per failed check."""

    def __str__(self) -> str:  # a headline, then one line per failure
        lines = [line for line in str(self.args[0]).splitlines() if line.strip()]
        return "\n".join(line[:len(line) - len(line.lstrip())] + " ".join(line.split()) for line in lines)
