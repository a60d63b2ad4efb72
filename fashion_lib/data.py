"""The data package: raw IDX files -> validated CSVs -> a versioned Quilt package.

``prepare_data`` is the main data job (get, convert, validate, publish);
``load_data`` fetches a data package, verifies it and loads both splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from .console import Log, short
from .console import stderr as _stderr
from .conversion import SPLITS, convert
from .csvio import Dataset, load_csv
from .data_card import package_meta, package_readme
from .errors import ConfigError, PackageNotFound, RegistryError
from .registry.names import check_name
from .sources import get_raw_files
from .validate import Report, row_count

if TYPE_CHECKING:
    from .registry import Fetched, Registry, RegistryLike
    from .registry.manifest import Manifest


@dataclass(frozen=True)
class PreparedData:
    """What ``prepare_data`` published: ``added``, a new latest version; else the data already was
    ``top_hash``, and ``repaired`` of its files (missing or damaged in the registry) were written again."""

    name: str
    top_hash: str
    registry: str
    csvs: dict[str, Path]
    reports: dict[str, Report] = field(default_factory=dict)
    added: bool = True
    repaired: int = 0


def publish_csvs(
    csvs: dict[str, Path],
    *,
    registry: RegistryLike = None,
    name: str | None = None,
    message: str | None = None,
    accept: str | None = None,
    reference: str | None = None,
    log: Log = _stderr,
) -> PreparedData:
    """Validate both CSVs (the format and data-quality circuit breakers) and publish them as a data package.

    ``csvs`` maps ``train`` and ``test`` to files of any name; the package stores them
    under the standard names, with ``quality.json``. The official row counts are expected
    only of files that carry the official names. Data that is already a version of the
    package is not published again (its top hash comes back, ``added`` False; files of it damaged
    in the registry are written again, counted in ``repaired``). ``accept`` (a reason)
    publishes despite failed quality checks; ``reference`` picks the version to compare with.
    """
    from . import registry as reg
    from .quality.gate import gate_csvs
    from .registry.publish import Published, publish

    registry = reg.open(registry)
    name = name or settings.data_package()
    check_name(name)  # a name a push would refuse, and a registry it can't write, are said before any work
    reg.refuse_unwritable(registry, name, unless_published=True)
    with gate_csvs(csvs, name=name, registry=registry, reference=reference, accept=accept, log=log) as gate:
        reports = gate.reports
        if gate.existing:  # its damaged files, if any, were written again from the CSVs
            done = Published(gate.existing, added=False, written=len(gate.repaired))
        else:
            done = publish(
                registry,
                name,
                {**{SPLITS[split][0]: path for split, path in csvs.items()}, **gate.files},
                meta={**package_meta(reports), **gate.meta},
                message=message or "Fashion-MNIST CSVs",
                readme=package_readme(reports),
            )
    repaired = 0 if done.added else done.written
    return PreparedData(name, done.top_hash, registry.location, csvs, reports, done.added, repaired)


def prepare_data(
    *,
    registry: RegistryLike = None,
    name: str | None = None,
    source_dir: str | None = None,
    progress: bool = True,
    accept: str | None = None,
    reference: str | None = None,
    log: Log = _stderr,
) -> PreparedData:
    """Get, convert, validate and publish the data package; returns its top hash and more. A name that can't
    be published under, or a registry that can't be written (and holds no version of the package the data
    may already be), is refused first."""
    from . import registry as reg

    registry, name = reg.open(registry), name or settings.data_package()
    check_name(name)
    reg.refuse_unwritable(registry, name, unless_published=True)
    raw = get_raw_files(source_dir, progress=progress, log=log)
    log(f"Raw files: {raw.origin} (SHA-256 verified)")
    csvs = convert(raw.paths, settings.data_dir(), log=log)
    return publish_csvs(csvs, registry=registry, name=name, accept=accept, reference=reference, log=log)


def ensure_data_package(*, registry: RegistryLike = None, name: str | None = None, log: Log = _stderr) -> str:
    """The latest top hash of the data package, preparing it first if the registry has none.

    Only "no such package" leads to preparing, and only under the configured name
    (``$FASHION_DATA_PACKAGE``, else ``fashion-mnist/data``): any other name must already be
    in the registry (:class:`PackageNotFound`, exit 4), so a mistyped ``--data-package`` never
    publishes a package. An unreachable, denied or damaged registry is an error, never taken
    for an empty one.
    """
    from . import registry as reg

    registry = reg.open(registry)
    name = name or settings.data_package()
    try:
        return registry.resolve(name)
    except PackageNotFound:
        if name != settings.data_package():
            raise not_prepared(registry, name) from None
        log(f"{name} is not in {registry.describe()} yet; preparing it ...")
        return prepare_data(registry=registry, name=name, log=log).top_hash


def not_prepared(registry: Registry, name: str) -> PackageNotFound:
    """The one line for a data package that is missing and is not the configured one."""
    from .registry.lost import unnamed_contents

    names = registry.package_names()
    held = (
        f"it holds {', '.join(names)}"
        if names
        else "no such folder"
        if registry.missing()
        else unnamed_contents(registry)
    )
    return PackageNotFound(
        f"package {name} is not in {registry.describe()} ({held}); only the configured data package "
        f"({settings.data_package()}) is prepared when missing: check the name, or publish it with "
        f"'fashion data prepare --name {name}'"
    )


def fetch_data(
    *,
    registry: RegistryLike = None,
    name: str | None = None,
    top_hash: str | None = None,
    dest: Path | None = None,
    overwrite: bool = True,
) -> Fetched:
    """Fetch (and verify) a data package into ``dest`` (default: a cache under the data folder, which stands
    in, verified, for a registry that cannot be reached: :mod:`.registry.cache`).

    ``overwrite=False`` (``fashion data fetch`` without ``--overwrite``) refuses, naming them, files
    in ``dest`` whose content differs from the version's; files already identical are left as they are.
    A version without both CSVs (a model version's hash) is a ConfigError before any fetch.
    """
    from . import registry as reg

    store, name = reg.open(registry), name or settings.data_package()
    return reg.fetch_checked(store, name, top_hash, lambda found: check_csvs(name, found), dest, overwrite)


def check_csvs(name: str, found: Manifest) -> None:
    """ConfigError unless the version (its manifest) holds both CSVs: said before a byte is fetched."""
    held = {entry.key for entry in found.entries}
    missing = [csv for csv in (settings.TRAIN_CSV, settings.TEST_CSV) if csv not in held]
    if missing:  # a model package's name or top hash given as the data's
        raise ConfigError(
            f"{name}@{short(found.top_hash)} has no {' or '.join(missing)}; is it a data package? "
            "(name a data package instead, or publish one with 'fashion data push')"
        )


@dataclass(frozen=True)
class DataVersion:
    """One verified version of the data package, loaded."""

    name: str
    top_hash: str
    registry: str
    train: Dataset
    test: Dataset
    files: dict[str, Path]
    meta: dict

    def to_frame(self, split: str = "train", *, pixels: bool = True):
        """One split as a pandas DataFrame in the CSV's layout (``label``, ``pixel1`` .. ``pixel784``)
        plus a categorical ``class_name``; ``pixels=False`` keeps only the label columns (quick
        tables such as the class balance). Training takes the numpy arrays (``.train``), not this."""
        import pandas as pd

        from .csvformat import HEADER

        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', not {split!r}")
        dataset = self.train if split == "train" else self.test
        label, *pixel_names = HEADER.split(",")
        frame = pd.DataFrame({label: dataset.labels})
        frame["class_name"] = pd.Categorical.from_codes(
            dataset.labels.astype(int), categories=list(dataset.class_names)
        )
        if pixels:
            grid = pd.DataFrame(dataset.images.reshape(len(dataset), -1), columns=pixel_names)
            frame = pd.concat([frame, grid], axis=1)
        return frame

    def describe(self) -> str:
        from . import registry as reg

        return f"{self.name}@{short(self.top_hash)} from {reg.describe(self.registry)}"


def load_data(
    *, registry: RegistryLike = None, name: str | None = None, top_hash: str | None = None, bootstrap: bool = False
) -> DataVersion:
    """Both splits of a verified data package (checked again by the circuit breaker).

    ``registry`` is a :class:`fashion_lib.registry.Registry`, a folder or ``s3://`` URL, or
    None (``FASHION_REGISTRY`` or the embedded one). With ``bootstrap`` an empty registry
    is filled first (``prepare_data``).
    """
    from . import registry as reg
    from .registry import cache

    registry = reg.open(registry)
    offline = None  # the cached copy standing in for a registry out of reach, once it was found so
    if bootstrap and top_hash is None:
        try:
            top_hash = ensure_data_package(registry=registry, name=name)
        except RegistryError as exc:  # not asked again (a dead S3 endpoint costs its retries each time)
            offline = cache.stand_in(registry, name or settings.data_package(), None, exc)
            if offline is None:
                raise
    name = name or settings.data_package()
    fetched = reg.fetch_checked(registry, name, top_hash, lambda found: check_csvs(name, found), offline=offline)
    train, test = (
        load_csv(fetched.files[csv], expected_rows=recorded_rows(fetched.meta, csv))
        for csv in (settings.TRAIN_CSV, settings.TEST_CSV)
    )
    return DataVersion(fetched.name, fetched.top_hash, registry.location, train, test, fetched.files, fetched.meta)


def recorded_rows(meta: Any, csv: str) -> int | None:
    """The row count ``csv`` was published with (the package's ``rows`` metadata), or None where the
    package records none, as one stock quilt3 pushed doesn't: its files are checked against their
    hashes all the same, and a file's name alone says nothing about its size."""
    rows = meta.get("rows") if isinstance(meta, dict) else None
    count = rows.get(csv) if isinstance(rows, dict) else None
    return row_count(count)


def check_data(
    *,
    train: str | None = None,
    test: str | None = None,
    top_hash: str | None = None,
    registry: RegistryLike = None,
    name: str | None = None,
    reference: str | None = None,
    json_path: str | None = None,
    log: Log = _stderr,
) -> Any:
    """The data-quality circuit breaker on two CSVs, or on a published version (``top_hash``;
    the latest if no CSVs are given), against the reference; returns the report or raises
    :class:`~fashion_lib.errors.QualityError`."""
    from .quality.gate import check_command, load_candidate

    if bool(train) != bool(test) or (train and top_hash):
        raise ConfigError("give --train CSV and --test CSV, or --top-hash VERSION (default: the latest version)")
    name = name or settings.data_package()
    if train is None or test is None:
        version = load_data(registry=registry, name=name, top_hash=top_hash)
        datasets = {"train": version.train, "test": version.test}
        what, exclude = f"{version.name}@{short(version.top_hash)}", version.top_hash
    else:
        datasets, reports = load_candidate({"train": Path(train), "test": Path(test)})
        for report in reports.values():
            log(report.summary())
        what, exclude = f"{Path(train).name} + {Path(test).name}", None
    return check_command(
        datasets, what=what, exclude=exclude, name=name, registry=registry, reference=reference, json_path=json_path
    )
