"""The findings of a scan, read from checkov's in-process reports and located in the repository.

A finding is shown where a reviewer can act on it: a root resource at its own block; a resource created by a
module at the module call in the scanned root (each instance of a module then has its own location, and a
registry module's files, which are not in the repository, are never the location), with the resource's own
block kept as its definition. Paths are made relative to the repository root, so the SARIF and the summary
read the same however and wherever the scan was started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OURS = "CKV_DH_"
_MODULE_STEP = re.compile(r'module\.[^.\[\s]+(?:\[[^\]]*\])?\.')


@dataclass(frozen=True)
class Location:
    path: Path  # absolute
    start_line: int
    end_line: int


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    resource: str  # the resource address checkov reports
    severity: str | None  # LOW, MEDIUM, HIGH, CRITICAL; None when checkov has none (built-ins without a mapping)
    details: tuple[str, ...]  # for our checks: "Found: ...", "Policy: ...", "Fix: ..."
    location: Location
    definition: Location | None  # the resource's own block, when `location` is the module call that creates it
    guideline: str | None
    skip_reason: str | None = None  # for skipped (waived or inline-skipped) results

    @property
    def ours(self) -> bool:
        return self.check_id.startswith(OURS)


def repository_root(target: Path, explicit: str | Path | None = None) -> Path:
    """The root SARIF paths are relative to: --repo-root, else the git work tree holding the target, else cwd.

    The work tree is found by its `.git` entry (a directory, or a file in submodules and worktrees), which
    needs no git binary and is not refused for "dubious ownership" in CI containers.
    """
    if explicit:
        return Path(explicit).resolve()
    start = target.resolve()
    for directory in (start, *start.parents) if start.is_dir() else start.parents:
        if (directory / ".git").exists():
            return directory
    return Path.cwd().resolve()


def relative_path(path: Path, root: Path) -> str | None:
    """`path` relative to `root` in POSIX form, or None when it lies outside."""
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return None


def module_path(address: str) -> list[str]:
    """The module instances an address is nested in, outermost first: `module.a["x"].module.b.aws_s3_bucket.c`
    -> ['module.a["x"]', 'module.a["x"].module.b']."""
    steps: list[str] = []
    position = 0
    while match := _MODULE_STEP.match(address, position):
        position = match.end()
        steps.append(address[: position - 1])
    return steps


def collect(reports: Iterable[Any], scan_root: Path, with_builtins: bool,
            source_root: Path | None = None) -> tuple[list[Finding], list[Finding]]:
    """The failed and the skipped findings of checkov's reports, in a stable order.

    `scan_root` is the directory checkov scanned (its record paths are relative to it). Built-in checks count
    only `with_builtins`, as in the CLI's verdict. `source_root` is a plan's --repo-root-for-plan-enrichment:
    checkov then gives source lines with a path relative to it, but the plan as the absolute path.
    """
    reports = list(reports)
    records = [record for report in reports
               for record in (*report.failed_checks, *report.skipped_checks, *report.passed_checks)]
    calls = _outermost_module_calls(records, scan_root)
    failed: list[Finding] = []
    skipped: list[Finding] = []
    for report in reports:
        for bucket, records_of in ((failed, report.failed_checks), (skipped, report.skipped_checks)):
            for record in records_of:
                if with_builtins or record.check_id.startswith(OURS):
                    bucket.append(_finding(record, scan_root, calls, source_root))
    return sorted(set(failed), key=_order), sorted(set(skipped), key=_order)


def _order(finding: Finding) -> tuple:
    return (finding.check_id, str(finding.location.path), finding.location.start_line, finding.resource)


def _finding(record: Any, scan_root: Path, calls: dict[str, Location], source_root: Path | None) -> Finding:
    path = Path(record.file_abs_path)
    if source_root and not str(record.file_path).startswith("/") and (source_root / record.file_path).is_file():
        path = source_root / record.file_path
    definition = _location(path, record.file_line_range)
    location, defined_at = definition, None
    modules = module_path(record.resource)
    # graph checks' records carry no caller: the call learnt from the module's other records stands in
    call = (calls.get(modules[0]) or _caller(record, scan_root)) if modules else None
    if call:
        location, defined_at = call, definition
    severity = getattr(record.severity, "name", None) if record.severity else None
    return Finding(
        check_id=record.check_id,
        check_name=record.check_name,
        resource=record.resource,
        severity=str(severity).upper() if severity else None,
        details=tuple(str(detail) for detail in record.details or ()),
        location=location,
        definition=defined_at,
        guideline=record.guideline,
        skip_reason=(record.check_result or {}).get("suppress_comment"),
    )


def _outermost_module_calls(records: list[Any], scan_root: Path) -> dict[str, Location]:
    """Each top-level module instance's call in the scanned root, learnt from the resources directly in it
    (checkov records only the immediate caller of a resource)."""
    calls: dict[str, Location] = {}
    for record in records:
        modules = module_path(record.resource)
        caller = _caller(record, scan_root)
        if len(modules) == 1 and caller:
            calls.setdefault(modules[0], caller)
    return calls


def _caller(record: Any, scan_root: Path) -> Location | None:
    if not record.caller_file_path or not record.caller_file_line_range:
        return None
    # checkov writes it relative to the scanned directory, with a leading slash
    path = scan_root / str(record.caller_file_path).lstrip("/")
    if not path.exists() and Path(record.caller_file_path).is_file():
        path = Path(record.caller_file_path)
    return _location(path, record.caller_file_line_range)


def _location(path: Path, lines: Any) -> Location:
    start, end = (int(lines[0]), int(lines[1])) if lines and len(lines) == 2 else (1, 1)
    start = max(start, 1)
    return Location(path=path.resolve(), start_line=start, end_line=max(end, start))
