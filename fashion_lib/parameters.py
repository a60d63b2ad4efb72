"""The one config builder, for every source: CLI flags, notebook parameters, a recorded config."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .config import TrainConfig
from .errors import ConfigError, FashionError


def config_from_parameters(
    preset: str = "default",
    *,
    recorded: dict[str, Any] | None = None,
    assignments: Iterable[str] = (),
    **overrides: Any,
) -> TrainConfig:
    """The one config builder, for every source: CLI flags, notebook parameters, a recorded config.

    Starts from ``recorded`` (a ``config.json`` or a lineage's ``training.config``) if given, else
    from the preset; then applies ``assignments`` (``"KEY=VALUE"`` strings, as ``--set`` gives them,
    values read as Python literals) and ``overrides``, where ``None`` means "keep the value" and
    ``limit=0`` means "all images" (None), whichever source it came from.

    A small ``limit`` given without ``validation_size`` shrinks the validation split to a fifth of
    the subset when the split would take half of it or more (``limit=2000``: 400 held out), so a
    quick try on a subset works with any preset.

    A key given both ways (``--epochs 1`` and ``--set epochs=1000``) is a ConfigError naming both:
    neither silently wins.
    """
    assigned = parse_assignments(assignments)
    given = {k: v for k, v in overrides.items() if v is not None}
    both = sorted(given.keys() & assigned.keys())
    if both:
        key = both[0]
        raise ConfigError(
            f"--{key.replace('_', '-')} {given[key]} and --set {key}={assigned[key]!r} both set {key}; give one"
        )
    chosen = {**assigned, **given}
    if chosen.get("limit") == 0 and not isinstance(chosen.get("limit"), bool):
        chosen["limit"] = None  # "0: all images", for every preset and source
    if recorded is not None:
        config = TrainConfig.from_dict({**recorded, **chosen})
    else:
        config = TrainConfig.from_preset(preset, **chosen)
    limit = chosen.get("limit")
    if (
        "validation_size" not in chosen
        and isinstance(limit, int)
        and not isinstance(limit, bool)
        and 0 < limit <= 2 * config.validation_size
    ):
        config = config.replace(validation_size=limit // 5)
    return config


def parse_assignments(items: Iterable[str]) -> dict[str, Any]:
    """``["dropout=0.3", "optimizer=adam"]`` -> ``{"dropout": 0.3, "optimizer": "adam"}``."""
    import ast

    if isinstance(items, (str, bytes)):  # iterating it would read each character as an assignment
        raise ConfigError(
            f"assignments={items!r} is one string; expected a list of KEY=VALUE strings, e.g. ['dropout=0.3']"
        )
    parsed: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=") if isinstance(item, str) else ("", "", "")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set dropout=0.3")
        try:
            parsed[key.strip()] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parsed[key.strip()] = value
    return parsed


# The notebooks' parameters that name something, and what each expects: checked as the CLI checks its options.
_EXPECTED = {
    "registry": "a registry folder or 's3://BUCKET'",
    "data_package": "a package name such as 'fashion-mnist/data'",
    "model_package": "a package name such as 'fashion-mnist/model'",
    "output_dir": "a folder",
    "top_hash": "a top hash or a unique prefix of one",
}
_FLAGS = {"publish": True}  # yes/no parameters and what None means
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def notebook_parameters(**given: Any) -> tuple[Any, ...]:
    """The values of a notebook's parameters (``registry=registry, publish=publish, ...``), checked
    as the ``fashion`` command checks its options, in the order given: ``None`` means the default,
    an empty or blank name is a ConfigError naming the parameter, so is a ``data_package`` that is not
    ``owner/name`` (or, left None, ``FASHION_DATA_PACKAGE``), a ``model_package`` to publish to that is
    not (or, left None, ``FASHION_MODEL_PACKAGE``), and a yes/no parameter
    accepts True/False or the strings true/false/yes/no/1/0 (papermill's ``-p publish false`` is a string).

    ``output_dir`` (or, left None, the outputs folder) must be a folder that can be written or made
    (DestinationError), a local ``registry`` (or, left None, ``FASHION_REGISTRY``) a path that can be
    looked up (ConfigError: a path too long for the file system, a name in it too long, a loop of
    symbolic links) that a run which publishes can write (the access-denied line its publish would end
    in), and ``seed``, given or defined by the notebook's parameters cell, an integer
    from 0 to 2**31-1 (ConfigError, the training config's own check).

    A name papermill injected (``-p NAME VALUE``) that the notebook's parameters cell does not define
    is a ConfigError naming it and the close match (papermill itself only warns, and the run goes on).

    Also makes IPython show a FashionError as its one line (see :func:`show_errors_in_one_line`).
    """
    from .notebook_cells import check_injected

    show_errors_in_one_line()
    check_injected(_ipython())
    values = tuple(_checked(name, value) for name, value in given.items())
    checked = dict(zip(given, values))
    publishing = "model_package" in checked and checked.get("publish", _FLAGS["publish"])
    if publishing:
        name = model_package_name(checked["model_package"])  # one line now, not after training
    variable = _variable("FASHION_DATA_PACKAGE")
    if "data_package" in checked and checked["data_package"] is not None:
        package_name("data_package", checked["data_package"])  # named here, not by the registry cells later
    elif "data_package" in checked and variable:
        package_name("FASHION_DATA_PACKAGE", variable)  # as the CLI names it
    if "registry" in checked:
        registry_folder(checked["registry"])
        if publishing:  # the line a publish would end in, now and not after training (as the CLI's run)
            from . import registry

            registry.refuse_unwritable(registry.open(checked["registry"]), name)
    if "output_dir" in checked:
        output_folder(checked["output_dir"])
    namespace = _notebook_namespace()
    if "seed" not in given and "seed" in namespace:  # explore.ipynb's seed goes to plots, not a config
        seed(namespace["seed"])
    return values


def _checked(name: str, value: Any) -> Any:
    if name in _FLAGS:
        return flag(name, value)
    return seed(value) if name == "seed" else text(name, value)


def seed(value: Any) -> Any:
    """``value`` if it is None (the default) or a seed a training config takes; else that config's ConfigError."""
    if value is not None:
        TrainConfig(seed=value).validate()  # the same line as train.ipynb's seed gives
    return value


def output_folder(value: Any) -> None:
    """DestinationError naming the parameter (or ``FASHION_OUTPUT_DIR``, or the default outputs folder)
    unless the folder outputs go to can be written or made; nothing is made."""
    from . import settings
    from .errors import DestinationError
    from .fsutil import unusable

    if value is not None:
        where = f"output_dir={shown(value)}"
    elif _variable("FASHION_OUTPUT_DIR"):
        settings.output_dir()  # checks the variable itself, naming it
        return
    else:
        value = settings.output_dir()
        where = f"the outputs folder {value}"
    why = unusable(value, folder=True)
    if why:
        raise DestinationError(f"{where} {why}")


def registry_folder(value: Any) -> None:
    """ConfigError naming the parameter (or ``FASHION_REGISTRY``) when the local registry folder it gives
    cannot even be looked up: a path too long for the file system, a name in it longer than a file
    system takes, a loop of symbolic links (the registry would meet an OSError there). S3 and the
    embedded registry are left to the registry's own checks; nothing is made."""
    import errno
    import os

    from . import settings
    from .fsutil import looked_up

    if value is None and not os.environ.get("FASHION_REGISTRY", "").strip():
        return  # the embedded registry, in the home folder
    where = settings.registry(value)  # a file:// URL as the path it names; an unknown scheme: its ConfigError
    if where.startswith("s3://"):
        return
    try:
        os.stat(where)
    except OSError as exc:
        if exc.errno in (errno.ENAMETOOLONG, errno.ELOOP):
            name = "registry" if value is not None else "FASHION_REGISTRY"
            given = value if value is not None else os.environ["FASHION_REGISTRY"]
            raise ConfigError(f"{name}={shown(given)} {looked_up(exc)}; expected {_EXPECTED['registry']}") from None


def _variable(name: str) -> str:
    """An environment variable's value, stripped ("" when unset)."""
    import os

    return os.environ.get(name, "").strip()


def shown(path: Any, most: int = 100) -> str:
    """A path as a parameter's value in a message: quoted, or cut with its length in bytes if longer than ``most``."""
    import os

    text = os.fsdecode(path)
    if len(text) <= most:
        return repr(text)
    return f"{text[: most // 2]!r}... (a path of {len(os.fsencode(text)):,} bytes)"


def package_name(name: str, value: str) -> str:
    """``value`` if it is a package name (``owner/name``), else ConfigError naming ``name``, the
    parameter, option or variable it came from (the registry's own check, said up front)."""
    from .errors import RegistryError
    from .registry.names import check_name

    try:
        check_name(value)
    except RegistryError as exc:
        raise ConfigError(f"{name}: {exc}") from None
    return value


def model_package_name(given: str | None) -> str:
    """The model package a run publishes to (``given``, else ``FASHION_MODEL_PACKAGE``, else the
    default), checked before anything is loaded or trained: a bad name is not found after training."""
    from . import settings

    if given is not None:
        return package_name("model_package", given)
    return package_name("FASHION_MODEL_PACKAGE", settings.model_package())


def text(name: str, value: Any) -> Any:
    """``value`` of the parameter ``name`` if it is None or a non-blank string (or path); else ConfigError."""
    import os

    expected = _EXPECTED[name]
    if value is None or (isinstance(value, os.PathLike) and str(value).strip()):
        return value
    if not isinstance(value, str):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)  # -p 3741, -p 0123: numbers
        hint = (
            f" (papermill reads a -p value that looks like a number as one: pass it with -r {name})" if number else ""
        )
        raise ConfigError(f"{name}={value!r} is not a string; expected {expected}{hint}")
    if not value.strip():
        raise ConfigError(
            f"{name}={value!r} is {'empty' if not value else 'only spaces'}; expected {expected} "
            "(leave it None for the default)"
        )
    return value


def flag(name: str, value: Any) -> bool:
    """The yes/no parameter ``name`` as a bool (None: its default); else ConfigError naming it."""
    if value is None:
        return _FLAGS[name]
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower() if isinstance(value, (str, int)) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise ConfigError(f"{name}={value!r} is not yes or no; expected True or False (or 'true'/'false', 'yes'/'no', 1/0)")


def show_errors_in_one_line() -> None:
    """In IPython (JupyterLab, papermill) show a FashionError as its one line, not a traceback.

    The cell still fails, so a batch run stops there and papermill exits non-zero."""
    shell = _ipython()
    if shell is not None:
        shell.set_custom_exc((FashionError,), _one_line)


def _ipython() -> Any:
    """The IPython shell running this code, or None."""
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _notebook_namespace() -> dict[str, Any]:
    """The running notebook's variables (its parameters among them); empty outside IPython."""
    shell = _ipython()
    return shell.user_ns if shell is not None else {}


def _one_line(shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None) -> list[str]:
    """IPython's custom exception handler: shows the error's class and its one line (IPython leaves
    showing it to the handler; the kernel sends it as the cell's error output)."""
    lines = [f"{etype.__name__}: {value}"]
    shell._showtraceback(etype, value, lines)
    return lines
