"""`data-handling scan PATH`: run checkov with the data-handling checks, and fail closed.

Exit codes: 0 clean scan, 1 findings, 2 the scan could not be trusted (bad policy map, unreadable or
unparsable input, a check that did not load, did not run or raised).

`data-handling inventory PATH` runs checkov the same way and prints the data map (output/inventory.py) of the
models the checks evaluated: 0 on success, 2 on the same errors.

`data-handling audit` runs the same checks on live AWS accounts (audit.py): the same exit codes as scan.

`data-handling coverage` prints the policy coverage map (output/coverage_report.py): 0, or 2 when the output
cannot be written or the map does not match the policy.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from data_handling import __version__
from data_handling import audit as live_audit
from data_handling.checkov_adapter.checks_location import ScanError, checks_dir  # re-exported for callers
from data_handling.checkov_adapter.scan_facts import (
    ModelDigest,
    ModuleProblems,
    RunFacts,
    Scanned,
    is_plan,
    models_of_every_root,
    name_json_resources,
)
from data_handling.model.addresses import split_address
from data_handling.model.plan_source import PlanError, load_plan
from data_handling.output import coverage_report, destinations, sarif, summary
from data_handling.output import findings as output_findings
from data_handling.output import inventory as data_inventory
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.loader import ENV_VAR, LoadedPolicy, PolicyMapError, load
from data_handling.rules.applicability import applicable_types, applies_to
from data_handling.safe_text import one_line

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
OUTPUTS = ("cli", "json", "sarif")
# Checkov's built-in CKV_AWS_144 demands S3 cross-region replication, which the policy forbids for
# Confidential data; it is skipped whenever the built-ins run beside ours.
CONFLICTING_BUILTINS = ("CKV_AWS_144",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="data-handling", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    scan = commands.add_parser("scan", help="scan a Terraform directory or file")
    scan.add_argument("path", help="Terraform directory, .tf file, or plan JSON (terraform show -json plan.out)")
    scan.add_argument("--policy-map", help=f"policy map (default: ${ENV_VAR}, ./policy_map.yaml, packaged)")
    _add_evaluation_options(scan)
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
    scan.add_argument("--jobs", type=_job_count, default=1, metavar="N",
                      help="scan the independent Terraform roots of PATH in N worker processes, with one merged "
                      "report (0: one per CPU; default: %(default)s, one process)")
    inventory = commands.add_parser("inventory", help="list the data stores, cross-region copies and central "
                                    "telemetry flows the checks see (the data map)")
    inventory.add_argument("path", help="Terraform directory, .tf file, or plan JSON (terraform show -json plan.out)")
    inventory.add_argument("--policy-map", help=f"policy map (default: ${ENV_VAR}, ./policy_map.yaml, packaged)")
    _add_evaluation_options(inventory)
    inventory.add_argument("--output", "-o", choices=data_inventory.FORMATS, default="table",
                           help="output format (default: %(default)s; csv lists the stores only)")
    inventory.add_argument("--output-file", help="write the data map to this file instead of stdout")
    coverage = commands.add_parser("coverage", help="show which checks enforce each statement of the data-handling "
                                   "policy, and why the others are left to people (the coverage map)")
    coverage.add_argument("--output", "-o", choices=coverage_report.FORMATS, default="table",
                          help="output format (default: %(default)s)")
    coverage.add_argument("--output-file", help="write the coverage map to this file instead of stdout")
    live_audit.add_parser(commands)
    return parser


def _job_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of worker processes, got {value!r}") from None
    if count < 0:
        raise argparse.ArgumentTypeError(f"{count}: must be 0 (one per CPU) or more")
    return count


def _add_evaluation_options(command: argparse.ArgumentParser) -> None:
    """What a pipeline passes `terraform plan`, so the scan evaluates the same values."""
    command.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                         help="set a root variable, as terraform plan -var does (repeatable; wins over var files)")
    command.add_argument("--var-file", action="append", default=[], metavar="FILE",
                         help="read root variables from a .tfvars or .tfvars.json file, as terraform plan "
                         "-var-file does (repeatable, after terraform.tfvars and *.auto.tfvars)")
    command.add_argument("--workspace", help="the Terraform workspace terraform.workspace evaluates to "
                         "(default: $TF_WORKSPACE, else \"default\")")
    command.add_argument("--allow-missing-modules", action="store_true",
                         help="warn instead of failing when a registry or git module is not under "
                         ".terraform/modules (terraform init has not run); local modules must always exist")


def _pin_evaluation_inputs(args: argparse.Namespace) -> None:
    """The checks run inside checkov: hand them the variables and workspace through the environment."""
    import json

    from data_handling.model.hcl import inputs

    pairs = []
    for item in args.var:
        name, separator, value = item.partition("=")
        if not separator or not name.strip():
            raise ScanError(f"--var {item!r}: expected NAME=VALUE")
        pairs.append([name.strip(), value])
    for path in args.var_file:
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise ScanError(f"--var-file {path}: no such readable file")
    os.environ[inputs.ENV_VARS] = json.dumps(pairs)
    os.environ[inputs.ENV_VAR_FILES] = os.pathsep.join(str(Path(path).resolve()) for path in args.var_file)
    if args.workspace:
        os.environ[inputs.ENV_WORKSPACE] = args.workspace
    else:
        os.environ.pop(inputs.ENV_WORKSPACE, None)


def _refuse_missing_modules(allow: bool, target: Path, problems: ModuleProblems | None = None) -> None:
    """A module whose source is not on disk leaves its resources unchecked: the scan cannot be trusted. So does a
    root the evaluator could not read, even when no check was handed a resource of it. `problems`: those the
    workers of a parallel scan found (default: the models of every root in this process)."""
    problems = problems if problems is not None else ModuleProblems.of(models_of_every_root(target))
    missing, failed = problems.missing_modules, problems.failed_roots
    if failed:
        root, why = sorted(failed.items())[0]
        raise ScanError(f"the Terraform of {one_line(root)} could not be evaluated: {one_line(why, limit=400)}")
    missing = sorted(set(missing))
    if not missing:
        return
    local = [module for module in missing if "source './" in module or "source '../" in module]
    if local or not allow:
        first = one_line((local or missing)[0], limit=400)
        raise ScanError(f"module {first} could not be read ({len(missing)} in all), so its resources were not "
                        "checked" + ("" if local else ": run terraform init (or terraform get) first, or pass "
                                     "--allow-missing-modules for a local run"))
    for module in missing:
        print(f"data-handling: warning: module {one_line(module)} is not available locally; its resources were not "
              "checked (--allow-missing-modules)", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    from data_handling.checkov_adapter.isolation import scrub_environment

    # Before checkov is imported: some of its settings are read at import time (checkov_adapter/isolation.py).
    ignored = scrub_environment()
    args = build_parser().parse_args(argv)
    if ignored:
        print(f"data-handling: note: ignoring checkov's configuration variables {one_line(', '.join(ignored))}: "
              "the data-handling CLI sets every checkov option itself", file=sys.stderr)
    try:
        if args.command == "coverage":
            return coverage_report.run_coverage(args.output, args.output_file)
        if args.command == "audit":
            return live_audit.run(args)
        return inventory(args) if args.command == "inventory" else scan(args)
    except (ScanError, PolicyMapError, live_audit.AuditError) as error:
        print(f"data-handling: error: {one_line(error, limit=2000)}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("data-handling: error: interrupted; the scan did not finish", file=sys.stderr)
        return EXIT_ERROR
    except BaseException as error:  # fail closed: exit 1 means "findings", exit 0 "clean"; anything else is 2
        import traceback

        if os.environ.get("DATA_HANDLING_DEBUG"):
            traceback.print_exc()
        print(f"data-handling: error: internal error, the scan could not be trusted: "
              f"{one_line(f'{type(error).__name__}: {error}', limit=500)} (set DATA_HANDLING_DEBUG=1 for the "
              "traceback, and report it)", file=sys.stderr)
        return EXIT_ERROR


def scan(args: argparse.Namespace) -> int:
    checkov_files = destinations.check_scan(  # every output writable, before the scan (output/destinations.py)
        sarif_file=args.sarif_file, output_file_path=args.output_file_path, summary_file=args.summary_file,
        checkov_outputs=_checkov_outputs(args), wants_sarif=_wants_sarif(args))
    jobs = args.jobs or _cpu_count()
    if jobs > 1 and Path(args.path).is_dir():
        from data_handling.checkov_adapter.parallel import start_workers

        start_workers(Path(args.path))  # they import checkov while this process prepares the scan
    loaded, target = _prepare(args)
    scanned = _scan_in_parallel(target, args, loaded, jobs) or _scan_serially(target, args, loaded)
    destinations.verify_checkov_files(checkov_files)  # checkov logs a failed write and goes on
    _refuse_missing_modules(args.allow_missing_modules, target, scanned.problems)
    verdict = _verdict(scanned.reports, loaded, args.with_builtin_checks, scanned.facts)
    _write_own_outputs(scanned, target, args, loaded)
    return verdict


def _scan_serially(target: Path, args: argparse.Namespace, loaded: LoadedPolicy) -> Scanned:
    base = output_findings.repository_root(target, args.repo_root).resolve() if args.summary_file else None
    digest = ModelDigest(base, lambda: loaded.policy)
    gathered: list[Scanned] = []

    def gather(reports: list) -> None:
        # What the verdict and the summary need, taken when the checks have run and before checkov prints (as a
        # --jobs worker does): the models are let go by then (most of them as each runner's resource checks
        # ended), so that checkov's output (its JSON of every failure) reuses their memory.
        digest.finish(target)
        gathered.append(Scanned(reports, RunFacts.collect(CATALOGUE), digest.problems, digest.rows))

    reports = _run_checkov(target, args, loaded, gather=gather, after_resource_checks=digest.take)
    if not gathered:  # checkov returned before its reports: read the models as they are
        gather(reports)
    return dataclasses.replace(gathered[0], reports=reports)


def _cpu_count() -> int:
    """The CPUs this process may run on (--jobs 0)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity (macOS)
        return os.cpu_count() or 1


def _scan_in_parallel(target: Path, args: argparse.Namespace, loaded: LoadedPolicy, jobs: int) -> Scanned | None:
    """--jobs N on a directory of several roots (checkov_adapter/parallel.py): the workers' results merged, and
    checkov's formats printed from them as checkov prints its own. None: scan serially."""
    from data_handling.checkov_adapter import parallel
    from data_handling.checkov_adapter.input_tree import last_survey
    from data_handling.checkov_adapter.isolation import print_reports

    if jobs < 2 or not target.is_dir():
        return None
    arguments = _checkov_arguments(target, args)
    split = parallel.plan(target, arguments[arguments.index("-d") + 1], jobs)
    if split is None or isinstance(split, str):
        if split:
            print(f"data-handling: note: --jobs: {split}; scanning serially", file=sys.stderr)
        return None
    roots = sum(len(batch.model_roots) for batch in split.batches)
    print(f"data-handling: scanning {roots} roots in {len(split.batches)} worker processes (--jobs {args.jobs})",
          file=sys.stderr)
    summary_base = output_findings.repository_root(target, args.repo_root).resolve() if args.summary_file else None
    job = parallel.Job(batch=split.batches[0], plan_top=split.top, target=str(target), arguments=tuple(arguments),
                       tree=last_survey(), check_ids=tuple(CATALOGUE), policy_map=str(Path(loaded.path).resolve()),
                       data_map_base=str(summary_base) if summary_base else None)
    scanned = parallel.run(split, job)
    if isinstance(scanned, str):
        print(f"data-handling: note: --jobs: the roots cannot be split as the serial scan reads them ({scanned}); "
              "scanning serially", file=sys.stderr)
        return None
    if _checkov_outputs(args):
        print_reports(arguments, scanned.reports)
    return scanned


def inventory(args: argparse.Namespace) -> int:
    """The data map of PATH: checkov runs the data-handling checks exactly as `scan` does (its console output
    discarded), then the models they evaluated are listed."""
    from data_handling.checkov_adapter.state import models_used

    destinations.check_file(args.output_file)
    loaded, target = _prepare(args)
    as_scan = argparse.Namespace(output=None, output_file_path=None, repo_root_for_plan_enrichment=None,
                                 with_builtin_checks=False)
    reports = _run_checkov(target, as_scan, loaded, quiet=True)
    _refuse_parse_failures(reports)
    _refuse_missing_modules(args.allow_missing_modules, target)  # a map without a module's resources is not the map
    models = models_used()
    if not models and _scanned_aws(reports):
        raise ScanError("no data-handling check evaluated the scanned resources, so there is no model to list "
                        "(are all checks disabled in the policy map?)")
    try:
        data_map = data_inventory.build(models, loaded.policy, path=args.path, policy_map=str(loaded.path))
        text = data_inventory.render(data_map, args.output)
    except Exception as error:  # never a traceback: one line, exit 2
        raise ScanError(f"the data map could not be built: {type(error).__name__}: {error}") from None
    try:
        data_inventory.write(text, args.output_file)
    except OSError as error:
        raise ScanError(f"{args.output_file}: cannot write the data map: {error.strerror or error}") from None
    return EXIT_CLEAN


def _prepare(args: argparse.Namespace) -> tuple[LoadedPolicy, Path]:
    """The policy map and the target, validated before checkov starts (one-line errors, exit 2)."""
    loaded = load(args.policy_map)
    for warning in loaded.warnings:
        print(f"data-handling: warning: {one_line(loaded.path)}: {one_line(warning, limit=1000)}", file=sys.stderr)
    target = _scan_target(Path(args.path))
    _survey(target, output_findings.repository_root(target, getattr(args, "repo_root", None)))
    # The checks run inside checkov and find the map through the environment: pin them to this one.
    os.environ[ENV_VAR] = str(Path(loaded.path).resolve())
    _pin_evaluation_inputs(args)
    return loaded, target


def _scan_target(path: Path) -> Path:
    if not path.exists():
        raise ScanError(f"{one_line(path)}: no such file or directory")
    if not os.access(path, os.R_OK):
        raise ScanError(f"{one_line(path)}: not readable")
    if path.is_dir():
        return path  # surveyed in _survey: every directory and Terraform file under it must be readable
    if not path.is_file():
        raise ScanError(f"{one_line(path)}: not a regular file")
    if is_plan(path):
        try:
            load_plan(str(path))  # refuse a file that is not a plan before checkov skips it silently
        except PlanError as error:
            raise ScanError(str(error)) from None
    elif not path.name.endswith((".tf", ".tf.json")):
        raise ScanError(f"{one_line(path)}: not a Terraform directory, .tf or .tf.json file, or plan JSON")
    return path


def _survey(target: Path, repo_root: Path) -> None:
    """Before checkov reads the tree: what cannot be read stops the scan, what must not be read is skipped."""
    from data_handling.checkov_adapter.input_tree import guard_checkov, survey
    from data_handling.checkov_adapter.state import ENV_SCAN_ROOTS

    if is_plan(target):
        return
    tree = survey(target, repo_root)
    for path, why in sorted(tree.skipped.items()):
        print(f"data-handling: warning: skipped {one_line(path)}: {why}", file=sys.stderr)
    if target.is_dir() and not tree.configuration_files:
        raise ScanError(f"{one_line(target)}: no Terraform (.tf or .tf.json) files found; nothing would be checked")
    guard_checkov(tree)
    # checkov's terraform_json runner names files relative to the scanned directory (-d) or the working one (-f)
    os.environ[ENV_SCAN_ROOTS] = str(target.resolve()) if target.is_dir() else os.getcwd()


def _checkov_arguments(target: Path, args: argparse.Namespace) -> list[str]:
    # Terraform JSON (.tf.json) is read by checkov's terraform_json runner; the checks evaluate it in the same
    # model as HCL (checkov_adapter/base.py).
    frameworks = (["terraform_plan"] if is_plan(target) else ["terraform_json"] if target.name.endswith(".tf.json")
                  else ["terraform", "terraform_json"] if target.is_dir() else ["terraform"])
    # A path that starts with "-" would read as an option to checkov: "./-h" is the same directory.
    path = str(target) if not str(target).startswith("-") else os.path.join(".", str(target))
    arguments = ["-d" if target.is_dir() else "-f", path, "--framework", *frameworks,
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


def _run_checkov(target: Path, args: argparse.Namespace, loaded: LoadedPolicy, quiet: bool = False,
                 gather: Callable[[list], None] | None = None,
                 after_resource_checks: Callable[[], None] | None = None) -> list:
    """Checkov's reports of the scan; `gather` is handed them after the checks ran, before checkov prints;
    `after_resource_checks` is called as each Terraform runner's resource checks end."""
    from data_handling.checkov_adapter.isolation import run_checkov
    from data_handling.checkov_adapter.state import run_record

    def amend(reports: list) -> None:
        name_json_resources(reports, run_record.json_addresses)
        if gather is not None:
            gather(reports)

    run_record.reset()
    # Only our SARIF (or the data map) was asked for: checkov's console output would corrupt it on stdout, and
    # checkov is not asked to render it at all (the console text of every record: about 0.2 s CPU at 8,000
    # resources, for output nobody reads).
    discarded = quiet or not _checkov_outputs(args)
    return run_checkov(_checkov_arguments(target, args), quiet=discarded, amend=amend, output=not discarded,
                       after_resource_checks=after_resource_checks)


def _write_own_outputs(scanned: Scanned, target: Path, args: argparse.Namespace, loaded: LoadedPolicy) -> None:
    """Our SARIF and Markdown summary, from the same findings (waived and skipped ones are not in the SARIF)."""
    if not (_wants_sarif(args) or args.summary_file):
        return
    reports = scanned.reports
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
                                  severities=severities,
                                  data_map=_data_map_table(args, loaded, repo_root, scanned.data_map))
        summary.append(Path(args.summary_file), markdown)


def _data_map_table(args: argparse.Namespace, loaded: LoadedPolicy, repo_root: Path,
                    rows: list | str | None = None) -> str:
    """The summary's collapsed data map: the stores of the models this scan evaluated (`rows`: those the workers
    of a parallel scan built from theirs, or why they could not)."""
    from data_handling.checkov_adapter.state import models_used

    message = rows if isinstance(rows, str) else None
    if message is None:
        try:
            data_map = (data_inventory.assemble(rows, path=args.path, policy_map=str(loaded.path)) if rows is not None
                        else data_inventory.build(models_used(), loaded.policy, path=args.path,
                                                  policy_map=str(loaded.path), relative_to=repo_root.resolve()))
            return data_inventory.stores_markdown(data_map)
        except Exception as error:  # the findings stand; the summary says the map is missing, and why
            message = f"the data map could not be built: {type(error).__name__}: {error}"
    print(f"data-handling: warning: {one_line(message, limit=1000)}", file=sys.stderr)
    return summary.markdown_cell(message[0].upper() + message[1:]) + "."


def _refuse_parse_failures(reports: list) -> None:
    from data_handling.checkov_adapter.input_tree import describe_parse_failure, skipped_paths

    skipped = skipped_paths()
    parse_failures = sorted({path for report in reports for path in report.parsing_errors
                             if os.path.abspath(path) not in skipped})
    if parse_failures:
        more = f" ({len(parse_failures)} files in all)" if len(parse_failures) > 1 else ""
        raise ScanError(f"{describe_parse_failure(parse_failures[0])}{more}; nothing in "
                        f"{'those files' if more else 'it'} was checked")


def _scanned_aws(reports: list) -> bool:
    return any(_resource_type(item).startswith("aws_") for report in reports for item in report.resources)


def _verdict(reports: list, loaded: LoadedPolicy, with_builtins: bool, facts: RunFacts) -> int:
    _refuse_parse_failures(reports)
    if facts.errors:
        raise ScanError(f"{facts.errors[0]} ({len(facts.errors)} error(s) in all; see the log)")
    enabled = [check_id for check_id in CATALOGUE if loaded.policy.is_enabled(check_id)]
    missing = [check_id for check_id in enabled if facts.declared.get(check_id) is None]
    if missing:
        raise ScanError(f"checks {', '.join(missing)} did not load into checkov; the scan is incomplete")
    # Each check is registered for the resource types its rule can judge under the map the checks loaded
    # (rules/applicability.py). They must cover those of this map, and a check whose types occur among the
    # scanned resources must have run, or checkov dropped it.
    declared = {check_id: facts.declared.get(check_id) or ("aws_*",) for check_id in enabled}
    narrowed = [check_id for check_id in enabled if not all(
        applies_to(declared[check_id], kind) for kind in applicable_types(check_id, loaded.policy))]
    if narrowed:
        raise ScanError(f"checks {', '.join(narrowed)} were registered for fewer resource types than the policy map "
                        f"{one_line(loaded.path)} makes them judge; the scan is incomplete")
    # The types checkov handed any data-handling check (CKV_DH_203 takes every aws_* resource checkov judges; one
    # that count = 0 removes reaches none), with the types named in the reports as a floor when none was handed.
    scanned = set(facts.handed_types) or {_resource_type(item) for report in reports for item in report.resources}
    idle = [check_id for check_id in enabled if not facts.invocations[check_id]
            and any(applies_to(declared[check_id], kind) for kind in scanned)]
    if idle:
        raise ScanError(f"checks {', '.join(idle)} loaded but never ran on the applicable scanned resources")
    failed = [record for report in reports for record in report.failed_checks
              if with_builtins or record.check_id.startswith("CKV_DH_")]
    ours = sum(1 for record in failed if record.check_id.startswith("CKV_DH_"))
    print(f"data-handling: {len(failed)} finding(s), {ours} from the data-handling checks; policy map "
          f"{one_line(loaded.path)} ({loaded.origin})", file=sys.stderr)
    return EXIT_FINDINGS if failed else EXIT_CLEAN


_FILE_PREFIX = re.compile(r"^.*?\.(?:tf|tf\.json|json):")


def _resource_type(item: str) -> str:
    # Report.resources holds "<file>:<address>"; the type is the segment before the resource name. An instance
    # key may hold dots and colons (for_each = {"eu.orders" = ...}, an ARN), so neither splits blindly.
    prefix = _FILE_PREFIX.match(item)
    address = item[prefix.end():] if prefix else item.rsplit(":", 1)[-1]
    parts = [part for part in split_address(address) if part]
    return parts[-2] if len(parts) >= 2 else ""


if __name__ == "__main__":
    sys.exit(main())
