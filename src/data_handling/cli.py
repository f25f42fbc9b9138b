"""`data-handling scan PATH`: run checkov with the data-handling checks, and fail closed.

Exit codes: 0 clean scan, 1 findings, 2 the scan could not be trusted (bad policy map, unreadable or
unparsable input, a check that did not load, did not run or raised).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from data_handling import __version__
from data_handling.model.plan_source import PlanError, load_plan
from data_handling.output import findings as output_findings
from data_handling.output import sarif, summary
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.loader import ENV_VAR, LoadedPolicy, PolicyMapError, load

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
OUTPUTS = ("cli", "json", "sarif")
# Checkov's built-in CKV_AWS_144 demands S3 cross-region replication, which the policy forbids for
# Confidential data; it is skipped whenever the built-ins run beside ours.
CONFLICTING_BUILTINS = ("CKV_AWS_144",)


class ScanError(Exception):
    """The scan cannot be trusted; the message is the one line the user sees."""


def checks_dir() -> Path:
    """The checkov adapters: packaged in the wheel, or the repository's checks/ in a development install."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_checkov_checks", package.parents[1] / "checks"):
        if candidate.is_dir() and any(candidate.glob("dh_*.py")):
            return candidate
    raise ScanError("the data-handling checks are not installed (no checks directory found)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="data-handling", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="scan a Terraform directory or file")
    scan.add_argument("path", help="Terraform directory, .tf file, or plan JSON (terraform show -json plan.out)")
    scan.add_argument("--policy-map", help=f"policy map (default: ${ENV_VAR}, ./policy_map.yaml, packaged)")
    scan.add_argument("--output", "-o", action="append", choices=OUTPUTS,
                      help="output format, repeatable (default: cli)")
    scan.add_argument("--output-file-path", help="directory to write the outputs to instead of stdout")
    scan.add_argument("--repo-root-for-plan-enrichment", metavar="DIR",
                      help="with a plan: the Terraform source tree, so findings point at source files and lines")
    scan.add_argument("--with-builtin-checks", action="store_true",
                      help="also run checkov's built-in checks (CKV_AWS_144 is skipped: it contradicts the policy)")
    scan.add_argument("--sarif-file", help=f"write the SARIF here (implies --output sarif; default: stdout, or "
                      f"{sarif.FILE_NAME} in --output-file-path)")
    scan.add_argument("--sarif-category", default=sarif.DEFAULT_CATEGORY,
                      help="the SARIF run's automationDetails.id, one per upload category (default: %(default)s)")
    scan.add_argument("--repo-root", help="directory the SARIF and summary paths are relative to (default: the git "
                      "work tree holding PATH, else the current directory)")
    scan.add_argument("--summary-file", help="append a Markdown summary of the findings to this file "
                      "(e.g. $GITHUB_STEP_SUMMARY)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return scan(args)
    except (ScanError, PolicyMapError) as error:
        print(f"data-handling: error: {error}", file=sys.stderr)
        return EXIT_ERROR


def scan(args: argparse.Namespace) -> int:
    loaded = load(args.policy_map)
    for warning in loaded.warnings:
        print(f"data-handling: warning: {loaded.path}: {warning}", file=sys.stderr)
    target = _scan_target(Path(args.path))
    # The checks run inside checkov and find the map through the environment: pin them to this one.
    os.environ[ENV_VAR] = str(Path(loaded.path).resolve())
    reports = _run_checkov(target, args, loaded)
    verdict = _verdict(reports, loaded, args.with_builtin_checks)
    _write_own_outputs(reports, target, args, loaded)
    return verdict


def _scan_target(path: Path) -> Path:
    if not path.exists():
        raise ScanError(f"{path}: no such file or directory")
    if not os.access(path, os.R_OK):
        raise ScanError(f"{path}: not readable")
    if path.is_dir():
        if not any(path.rglob("*.tf")):
            raise ScanError(f"{path}: no Terraform (.tf) files found; nothing would be checked")
    elif path.suffix == ".json":
        try:
            load_plan(str(path))  # refuse a file that is not a plan before checkov skips it silently
        except PlanError as error:
            raise ScanError(str(error)) from None
    elif path.suffix != ".tf":
        raise ScanError(f"{path}: not a Terraform directory, .tf file or plan JSON")
    return path


def _checkov_arguments(target: Path, args: argparse.Namespace) -> list[str]:
    framework = "terraform_plan" if target.suffix == ".json" else "terraform"
    arguments = ["-d" if target.is_dir() else "-f", str(target), "--framework", framework,
                 "--external-checks-dir", str(checks_dir()), "--skip-download", "--quiet", "--compact"]
    if args.repo_root_for_plan_enrichment:
        arguments += ["--repo-root-for-plan-enrichment", args.repo_root_for_plan_enrichment]
    if args.with_builtin_checks:
        arguments += ["--skip-check", ",".join(CONFLICTING_BUILTINS)]
    else:
        arguments += ["--check", "CKV_DH_*"]
    # SARIF is ours (output/sarif.py), built from the reports; checkov writes the other formats.
    for output in _checkov_outputs(args) or ["cli"]:
        arguments += ["--output", output]
    if args.output_file_path and _checkov_outputs(args):
        arguments += ["--output-file-path", args.output_file_path]
    return arguments


def _checkov_outputs(args: argparse.Namespace) -> list[str]:
    return [output for output in args.output or ["cli"] if output != "sarif"]


def _wants_sarif(args: argparse.Namespace) -> bool:
    return "sarif" in (args.output or []) or bool(args.sarif_file)


def _run_checkov(target: Path, args: argparse.Namespace, loaded: LoadedPolicy) -> list:
    from checkov.main import Checkov

    from data_handling.checkov_adapter.state import run_record

    run_record.reset()
    os.environ.setdefault("BC_SKIP_MAPPING", "TRUE")
    checkov = Checkov(_checkov_arguments(target, args))
    if _checkov_outputs(args):
        checkov.run()
    else:  # only our SARIF was asked for: checkov's console output would corrupt it on stdout
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            checkov.run()
    return list(checkov.scan_reports)


def _write_own_outputs(reports: list, target: Path, args: argparse.Namespace, loaded: LoadedPolicy) -> None:
    """Our SARIF and Markdown summary, from the same findings (waived and skipped ones are not in the SARIF)."""
    if not (_wants_sarif(args) or args.summary_file):
        return
    repo_root = output_findings.repository_root(target, args.repo_root)
    scan_root = target.resolve() if target.is_dir() else target.resolve().parent
    plan_sources = args.repo_root_for_plan_enrichment
    failed, skipped = output_findings.collect(reports, scan_root, args.with_builtin_checks,
                                              Path(plan_sources).resolve() if plan_sources else None)
    if _wants_sarif(args):
        document = sarif.build(failed, repo_root, loaded.policy, args.sarif_category)
        destination = (Path(args.sarif_file) if args.sarif_file
                       else Path(args.output_file_path) / sarif.FILE_NAME if args.output_file_path else None)
        sarif.write(document, destination)
    if args.summary_file:
        severities = {check_id: loaded.policy.severity_of(check_id) for check_id in CATALOGUE}
        markdown = summary.render(failed, skipped, repo_root, target=args.path, policy_map=loaded.path,
                                  severities=severities)
        summary.append(Path(args.summary_file), markdown)


def _verdict(reports: list, loaded: LoadedPolicy, with_builtins: bool) -> int:
    from checkov.terraform.checks.resource.registry import resource_registry

    from data_handling.checkov_adapter.state import run_record

    parse_failures = sorted({path for report in reports for path in report.parsing_errors})
    if parse_failures:
        raise ScanError(f"could not parse {', '.join(parse_failures)}: fix the Terraform syntax (nothing in "
                        "those files was checked)")
    if run_record.errors:
        raise ScanError(f"{run_record.errors[0]} ({len(run_record.errors)} error(s) in all; see the log)")
    enabled = [check_id for check_id in CATALOGUE if loaded.policy.is_enabled(check_id)]
    missing = [check_id for check_id in enabled if resource_registry.get_check_by_id(check_id) is None]
    if missing:
        raise ScanError(f"checks {', '.join(missing)} did not load into checkov; the scan is incomplete")
    scanned_aws = any(_resource_type(item).startswith("aws_") for report in reports for item in report.resources)
    idle = [check_id for check_id in enabled if scanned_aws and not run_record.invocations[check_id]]
    if idle:
        raise ScanError(f"checks {', '.join(idle)} loaded but never ran on the scanned resources")
    failed = [record for report in reports for record in report.failed_checks
              if with_builtins or record.check_id.startswith("CKV_DH_")]
    ours = sum(1 for record in failed if record.check_id.startswith("CKV_DH_"))
    print(f"data-handling: {len(failed)} finding(s), {ours} from the data-handling checks; policy map "
          f"{loaded.path} ({loaded.origin})", file=sys.stderr)
    return EXIT_FINDINGS if failed else EXIT_CLEAN


def _resource_type(item: str) -> str:
    # Report.resources holds "<file>:<address>"; the type is the segment before the resource name.
    address = item.rsplit(":", 1)[-1]
    parts = [part for part in address.split(".") if part]
    return parts[-2] if len(parts) >= 2 else ""


if __name__ == "__main__":
    sys.exit(main())
