"""Check a registry like ``git fsck``: every manifest against its top hash, every object against its hash
(:mod:`.object_check`), and what :class:`Report` says of it.

Objects are read from the registry's own store, never past their declared size, and
each object is hashed once however many versions share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ..console import short
from ..errors import IntegrityError, RegistryAccessDenied
from . import manifest as mf
from . import stamps
from .base import OBJECTS, PACKAGES, POINTERS, Registry
from .object_check import DamagedObject, check_object, gone_pin

Where = tuple[str, str | None, str | None]  # an object, the version pinned, the key stock quilt3 pushed it to


@dataclass
class Report:
    versions: int = 0
    objects: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    unnamed_objects: int = 0  # objects no manifest names (counted on a whole, undamaged registry)
    unnamed_bytes: int = 0
    unnamed_manifests: list[str] = field(default_factory=list)  # top hashes no version pointer names
    in_flight: list[str] = field(default_factory=list)  # unnamed too, but a push may be writing their pointers now
    in_flight_objects: int = 0  # objects, and no manifest at all yet: a first push may be storing them now
    future_pointers: list[str] = field(default_factory=list)  # version pointers dated after the clock
    stale_latest: list[dict[str, str]] = field(default_factory=list)  # name, latest, newest: latest is not the newest
    keys_elsewhere: list[str] = field(default_factory=list)  # versions whose manifests name files outside the bucket

    def summary(self) -> str:
        unnamed = (
            f"; {self.unnamed_objects} object(s), {self.unnamed_bytes:,} bytes, named by no manifest "
            "('fashion packages gc' lists them)"
            if self.unnamed_objects
            else ""
        )
        notes = [
            f"manifest {h} is named by no version pointer (a push killed before writing its pointer "
            "leaves one; gc keeps the objects it names)"
            for h in self.unnamed_manifests
            if not any(h in p for p in self.problems)
        ]
        notes += [
            f"manifest {h} is named by no version pointer yet: a push may be in flight (it writes its manifest, "
            "then its pointers); verify again once it is done"
            for h in self.in_flight
        ]
        if self.in_flight_objects:
            notes.append(
                f"{self.in_flight_objects} object(s) stored and no manifest yet: a push may be in flight (a first "
                "push stores its files, then its manifest); verify again once it is done"
            )
        notes += [
            f"{p} is dated {stamps.date(int(p.rsplit('/', 1)[1]))}, in the future (edited by hand, or "
            "pushed from a machine whose clock runs ahead); every later version is stamped after it"
            for p in self.future_pointers
        ]
        notes += [
            f"{s['name']}'s latest pointer names {short(s['latest'])}, not its newest version {short(s['newest'])} "
            f"(left by a push stopped before it wrote latest, or by writers racing on S3 with an older fashion; "
            f"publishing {short(s['newest'])} again repairs it)"
            for s in self.stale_latest
        ]
        if self.keys_elsewhere:
            shown = ", ".join(self.keys_elsewhere[:3]) + (", ..." if len(self.keys_elsewhere) > 3 else "")
            notes.append(
                f"{len(self.keys_elsewhere)} version(s) ({shown}) name files outside the bucket (file:// paths of a "
                "local registry synced into it, or another bucket): fashion reads them from the bucket's objects, "
                "stock quilt3 can't; 'fashion packages verify --repair' rewrites them"
            )
        return (
            f"{self.versions} version(s), {self.objects} object(s), {self.bytes:,} bytes checked: "
            + (f"{len(self.problems)} problem(s)" if self.problems else f"no problems{unnamed}")
            + "".join(f"\nnote: {line}" for line in notes)
        )


def verify(
    reg: Registry,
    name: str | None = None,
    top_hash: str | None = None,
    *,
    repair: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Check every version of every package (or of ``name``, or one version); see :class:`Report`."""
    report = Report()
    if repair:
        report.repaired += _repair(reg)
    names = [name] if name else reg.package_names()
    if name and not reg.pointers(name):
        raise reg.not_found(name)
    if name is None:
        _manifests_kept(reg, report)
    checked: dict[Where, DamagedObject | None] = {}  # None: good
    pointed: set[str] = set()  # every top hash a version pointer names
    for pkg in names:
        pointers = reg.pointers(pkg)
        pointed.update(pointers.values())
        report.future_pointers += stamps.ahead(reg, pkg, pointers)
        report.stale_latest += _stale_latest(reg, pkg, pointers)
        for stamp, value in reg.bad_pointers(pkg, pointers).items():
            report.problems.append(f"{pkg}: pointer {stamp} does not hold a top hash ({value[:20]!r})")
        hashes = [reg.resolve(pkg, top_hash)] if top_hash else reg.pointed_hashes(pkg, pointers)
        for value in hashes:
            report.versions += 1
            if progress:
                progress(f"{pkg}@{short(value)}")
            _check_version(reg, pkg, value, checked, report, repair)
    # a push points its version, then latest: a latest behind when first read is read again after the checks, so a
    # push that was between the two then is not taken for one stopped there
    report.stale_latest = [s for stale in report.stale_latest for s in _stale_latest(reg, stale["name"])]
    if name is None:
        _unnamed_manifests(reg, report, pointed)
    if name is None and not report.problems and not report.in_flight_objects:
        _count_unnamed(reg, report)
    return report


def _stale_latest(reg: Registry, name: str, pointers: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """``[{name, latest, newest}]`` where ``latest`` names a version that is not ``name``'s newest, else ``[]``."""
    pointers = reg.pointers(name) if pointers is None else pointers
    newest, latest = ([h for _, h in reg.versions(name, pointers)] or [""])[0], pointers.get("latest", "")
    return (
        [{"name": name, "latest": latest, "newest": newest}]
        if newest and mf.TOP_HASH.fullmatch(latest) and latest != newest
        else []
    )


def _manifests_kept(reg: Registry, report: Report) -> None:
    """Objects without any manifest are damage (:func:`.lost.lost_manifests`), unless a first push may still be
    storing them (:func:`.lost.first_push_in_flight`, asked after listing): then a note. The manifests are
    listed again before damage is reported, so a push that finished meanwhile is not taken for it."""
    from .lost import first_push_in_flight, lost_manifests, objects_without_manifests

    stored = objects_without_manifests(reg)
    young = {o.name for o in first_push_in_flight(reg, stored)}
    if not stored or not objects_without_manifests(reg):
        return  # none, or a push wrote its manifest since
    old = [o for o in stored if o.name not in young]
    if old:
        report.problems.append(str(lost_manifests(reg, len(old), "no version of it can be checked")))
    else:
        report.in_flight_objects = len(young)


def _unnamed_manifests(reg: Registry, report: Report, pointed: set[str]) -> None:
    """Manifests no version pointer names: a note each, or damage when no pointer is left at all; one a push
    may still be writing the pointers of (:func:`.lost.in_flight`, asked after listing) is only noted as such."""
    from .lost import in_flight

    with reg.errors("listing manifests"):
        unnamed = [k for k in reg.list_keys(PACKAGES) if mf.TOP_HASH.fullmatch(k) and k not in pointed]
    young = set(in_flight(reg, unnamed))
    if unnamed:  # pointers written since they were read: by a push that has finished since, or is finishing
        pointed = pointed | {h for pkg in reg.package_names() for h in reg.pointed_hashes(pkg)}
    report.in_flight = [h for h in unnamed if h in young and h not in pointed]
    report.unnamed_manifests = [h for h in unnamed if h not in young and h not in pointed]
    if report.unnamed_manifests and not pointed:
        report.problems += [
            f"manifest {h} in {reg.describe()} is named by no version pointer: the registry lost its version "
            f"pointers ({POINTERS}); restore them from the original (a copy made with 'cp -a')"
            for h in report.unnamed_manifests
        ]


def _count_unnamed(reg: Registry, report: Report) -> None:
    """What ``fashion packages gc`` would find, at any age: left by failed or killed pushes. The objects are listed
    before the manifests (as gc does): before, a push between the two had its new objects counted as unnamed."""
    from .gc import named_objects

    with reg.errors("listing objects"):
        stored = reg.list_objects()
    try:
        named = named_objects(reg)
    except IntegrityError:
        return  # a manifest no version points at can't be read: what it names is unknown, count nothing
    unnamed = [o for o in stored if o.name not in named]
    report.unnamed_objects, report.unnamed_bytes = len(unnamed), sum(o.size for o in unnamed)


def _check_version(
    reg: Registry,
    name: str,
    top_hash: str,
    checked: dict[Where, DamagedObject | None],
    report: Report,
    repair: bool = False,
) -> None:
    """Check every object of ``name@top_hash``. On S3 a pinned object version that is gone (its current object
    hashed right) is a problem, a key outside the bucket a note (:attr:`Report.keys_elsewhere`): fashion reads
    both, stock quilt3 can't; ``repair`` pins the object versions read instead (:func:`_repin`)."""
    try:
        found = reg.manifest(name, top_hash)
    except IntegrityError as exc:
        report.problems.append(str(exc))
        return
    repin: dict[str, str] = {}  # logical key -> the physical key of the object version read and hashed
    gone_lines: list[str] = []  # the problems a repin fixes: said if it can't be written
    elsewhere = False
    for entry in found.entries:
        # versions may pin other versions of one object; stock quilt3 pushes keep a copy per package
        where = (entry.object_name, reg.object_version(entry), reg.foreign_key(entry))
        if where not in checked:
            try:
                check_object(reg, entry, found.label)
                checked[where] = None
                report.objects += 1
                report.bytes += entry.size
            except DamagedObject as exc:
                checked[where] = exc
        damage = checked[where]
        if damage is not None:
            report.problems.append(str(DamagedObject(reg, entry, found.label, damage.why, damage.hint)))
        elif (gone := reg.pin_gone(entry)) or reg.key_elsewhere(entry):
            if repair and (key := reg.read_key(entry)):
                repin[entry.key] = key
                gone_lines += [str(gone_pin(reg, entry, found.label))] if gone else []
            elif gone:
                report.problems.append(str(gone_pin(reg, entry, found.label)))
            else:
                elsewhere = True
    if repin:
        try:
            report.repaired.append(_repin(reg, found, repin))
        except RegistryAccessDenied as exc:  # a reader's --repair: what it could not fix stays said, the check goes on
            report.problems += [*gone_lines, f"{found.label} not repaired: {exc}"]
            elsewhere = elsewhere or len(gone_lines) < len(repin)
    if elsewhere:
        report.keys_elsewhere.append(found.label)


def _repin(reg: Registry, found: mf.Manifest, keys: Mapping[str, str]) -> str:
    """Write ``found``'s manifest again naming the object versions read and hashed for these entries (logical key
    -> physical key), every other line as it was (:func:`.publish._repin`: read just before, the top hash checked).
    A push of the same version may write it at the same moment: S3 keeps one whole manifest or the other, both of
    this top hash, never a mix; where the push's lands between this one's read and write, this one may put back a
    gone pin the push had replaced (its object is kept): the next verify names it, and ``--repair`` pins it."""
    from .publish import _repin as write_again

    with reg.errors(f"repairing {found.label}"):
        write_again(reg, found, keys)
    return (
        f"rewrote {found.label}'s manifest: {len(keys)} file(s) now name the object versions {reg.describe()} "
        "holds (same top hash)"
    )


def _repair(reg: Registry) -> list[str]:
    """What ``--repair`` can do without the original files: remove dead writers' leftovers."""
    from .layout import TMP
    from .publish import refuse_unwritable_under_lock

    with reg.errors("repairing"):
        if not reg.temporary_leftovers():
            return []  # nothing to remove: a registry this user may only read needs no lock to say so
    with reg.errors("repairing"), reg.writing(clean=False):
        refuse_unwritable_under_lock(reg, "repairing", "", [TMP, OBJECTS])  # what it removes, if there
        cleaned = reg.clean_temporary()
    return [f"removed leftover temporary file {p}" for p in cleaned]
