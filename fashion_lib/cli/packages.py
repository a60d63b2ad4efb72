"""``fashion packages ...``: list and verify the packages in a registry."""

from __future__ import annotations

import argparse
import sys

from ..console import short
from .common import add, group, json_option, print_json


def _version_document(v) -> dict:
    return {
        "name": v.name,
        "top_hash": v.top_hash,
        "created": v.created.isoformat() if v.created else None,
        "message": v.message,
        "damaged": v.damaged,
    }


def cmd_packages_list(args: argparse.Namespace) -> int:
    from ..errors import IntegrityError

    versions = args.registry.list_versions(args.name)
    damaged = [v for v in versions if v.damaged]
    if args.json:
        print_json({"registry": args.registry.describe(), "versions": [_version_document(v) for v in versions]})
        return IntegrityError.exit_code if damaged else 0
    print(
        f"{args.registry.describe()}: {len(versions)} version(s)"
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
    print(f"{args.registry.describe()}: {report.summary()}")
    return IntegrityError.exit_code if report.problems else 0


def add_commands(top: argparse._SubParsersAction) -> None:
    """``fashion packages list | verify``."""
    sub = group(top, "packages", "list packages in a registry")
    p = add(sub, "list", cmd_packages_list, "list package names, versions, top hashes and dates")
    p.add_argument("--name", help="only this package")
    json_option(p)
    p = add(
        sub,
        "verify",
        cmd_packages_verify,
        "re-hash every object and check every manifest against its top hash (exit 3 if damaged)",
    )
    p.add_argument("--name", help="only this package")
    p.add_argument("--top-hash", help="only this version (needs --name; a unique prefix will do)")
    p.add_argument("--repair", action="store_true", help="also remove temporary files left by interrupted writers")
    json_option(p)
