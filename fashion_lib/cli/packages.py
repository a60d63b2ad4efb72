"""``fashion packages ...``: list, verify and garbage-collect the packages in a registry."""

from __future__ import annotations

import argparse
import contextlib
import math
import sys

from ..console import short
from .common import TOP_HASH, add, group, json_option, number_in, print_json
from .names import ONE_PACKAGE


def _version_document(v) -> dict:
    return {
        "name": v.name,
        "top_hash": v.top_hash,
        "created": v.created.isoformat() if v.created else None,
        "message": v.message,
        "damaged": v.damaged,
    }


def _heading(reg) -> str:
    """The registry, and that its folder does not exist (a mistyped path must not read as an empty registry)."""
    return reg.describe() + (" (no such folder: nothing has been published there)" if reg.missing() else "")


def _refuse_missing(reg) -> None:
    """A local registry folder named by --registry or FASHION_REGISTRY (``reg.named_by``, as :func:`.common.open_registry`
    found it) that does not exist is a mistyped path, not an empty registry: PackageNotFound (exit 4, as a fetch
    from it). The embedded one is not made before its first push (a fresh clone): that one lists nothing, exit 0."""
    from .. import settings
    from ..errors import FashionError, PackageNotFound

    if not reg.missing():
        return
    with contextlib.suppress(FashionError, OSError, RuntimeError):
        if reg.location == str((settings.home() / "registry").resolve()):
            return
    variable = reg.named_by == "FASHION_REGISTRY"
    raise PackageNotFound(
        f"{'FASHION_REGISTRY: ' if variable else ''}{reg.describe()}: no such folder (nothing has been published "
        f"there); check {'FASHION_REGISTRY' if variable else 'the path given to --registry'} (a registry's folder "
        "is made by its first push)"
    )


def cmd_packages_list(args: argparse.Namespace) -> int:
    from ..errors import IntegrityError

    _refuse_missing(args.registry)
    versions = args.registry.list_versions(args.name)
    if not versions and isinstance(lost := args.registry.not_found(args.name or "any package"), IntegrityError):
        raise lost  # objects but no manifest (.quilt lost: 'cp -r REG/*'): damage, as fetch, verify and gc say
    damaged = [v for v in versions if v.damaged]
    if args.json:
        print_json({"registry": args.registry.describe(), "versions": [_version_document(v) for v in versions]})
        return IntegrityError.exit_code if damaged else 0
    print(
        f"{_heading(args.registry)}: {len(versions)} version(s)"
        + (f", {len(damaged)} damaged ('fashion packages verify' for details)" if damaged else "")
    )
    for v in versions:
        created = v.created.strftime("%Y-%m-%d %H:%M:%S") if v.created else "-"
        note = "DAMAGED (see below)" if v.damaged else v.message or ""
        print(f"{v.name:<24} {short(v.top_hash)}  {created}  {note}".rstrip())
    for v in damaged:
        print(f"fashion: damaged: {v.damaged}", file=sys.stderr)
    return IntegrityError.exit_code if damaged else 0


def cmd_packages_verify(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..errors import IntegrityError
    from ..registry import verify

    _refuse_missing(args.registry)
    report = verify(
        registry=args.registry,
        name=args.name,
        top_hash=args.top_hash,
        repair=args.repair,
        progress=lambda label: print(f"checking {label} ...", file=sys.stderr, flush=True),
    )
    if args.json:
        print_json({"registry": args.registry.describe(), "ok": not report.problems, **asdict(report)})
        return IntegrityError.exit_code if report.problems else 0
    for line in report.repaired:
        print(line)
    for line in report.problems:
        print(f"fashion: damaged: {line}", file=sys.stderr)
    print(f"{_heading(args.registry)}: {report.summary()}")
    return IntegrityError.exit_code if report.problems else 0


def _age(seconds: float) -> str:
    hours = max(seconds, 0) / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def _object_document(obj, now: float) -> dict:
    return {"object": obj.name, "bytes": obj.size, "age_hours": round((now - obj.modified) / 3600, 3)}


def cmd_packages_gc(args: argparse.Namespace) -> int:
    import time

    from ..registry import collect_garbage

    _refuse_missing(args.registry)
    found = collect_garbage(registry=args.registry, grace_hours=args.grace, delete=args.delete)
    now = time.time()
    if args.json:
        print_json(
            {
                "registry": args.registry.describe(),
                "grace_hours": args.grace,
                "named": found.named,
                "unnamed": [_object_document(o, now) for o in found.unnamed],
                "young": [_object_document(o, now) for o in found.young],
                "removed": [_object_document(o, now) for o in found.removed],
            }
        )
        return 0
    print(
        f"{_heading(args.registry)}: {found.named} object(s) named by a manifest, {len(found.unnamed)} named by "
        f"none and older than {args.grace:g} h ({found.unnamed_bytes:,} bytes)"
    )
    for obj in found.unnamed:
        verb = (
            "removed" if obj in found.removed else "kept (a new manifest names it)" if args.delete else "would remove"
        )
        print(f"  {verb} {short(obj.name)}  {obj.size:,} bytes, {_age(now - obj.modified)} old")
    if found.young:
        print(
            f"{len(found.young)} named by none but younger than {args.grace:g} h kept: a push may still be "
            "storing its files before writing its manifest"
        )
    if args.delete:
        print(f"removed {len(found.removed)} object(s), {sum(o.size for o in found.removed):,} bytes")
    elif found.unnamed:
        print("nothing removed: run again with --delete to remove them")
    return 0


def add_commands(top: argparse._SubParsersAction) -> None:
    """``fashion packages list | verify | gc``."""
    from ..registry.gc import DEFAULT_GRACE_HOURS

    sub = group(top, "packages", "list, verify and garbage-collect the packages in a registry")
    p = add(sub, "list", cmd_packages_list, "list package names, versions, top hashes and dates")
    p.add_argument("--name", type=ONE_PACKAGE, help="only this package")
    json_option(p)
    p = add(
        sub,
        "verify",
        cmd_packages_verify,
        "re-hash every object and check every manifest against its top hash (exit 3 if damaged)",
    )
    p.add_argument("--name", type=ONE_PACKAGE, help="only this package")
    p.add_argument("--top-hash", type=TOP_HASH, help="only this version (needs --name; a unique prefix will do)")
    p.add_argument("--repair", action="store_true", help="also remove temporary files left by interrupted writers")
    json_option(p)
    p = add(
        sub,
        "gc",
        cmd_packages_gc,
        "list (or with --delete remove) objects that no manifest names, left by failed or killed pushes",
    )
    p.add_argument(
        "--grace",
        type=number_in(0, math.inf, lambda text: f"{text!r} is not a number of hours >= 0"),
        default=DEFAULT_GRACE_HOURS,
        metavar="HOURS",
        help=f"keep unnamed objects younger than this (default: {DEFAULT_GRACE_HOURS:g}); on S3 it must outlast the longest push, "
        "a local registry is locked while collecting",
    )
    p.add_argument("--delete", action="store_true", help="remove them (without it, only list them)")
    json_option(p)
