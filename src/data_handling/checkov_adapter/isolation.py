"""Checkov run in-process with no configuration but ours.

Checkov reads `.checkov.yaml`/`.checkov.yml` from the scanned directory, the working directory and `$HOME`,
and dozens of `CKV_*`, `BC_*`, `CHECKOV_*` environment variables, some at import time. In a pull request all
of those are the author's to set: a committed `.checkov.yaml` with `skip-path` or a baseline silences findings,
`no-fail-on-crash` turns a crash into a pass, `external-checks-git` imports someone else's Python. The
data-handling CLI owns every option checkov runs with, so it scrubs that environment before checkov is
imported, reads no configuration file, and turns every `SystemExit` checkov raises into a ScanError.

Under plain `checkov` none of this applies: the user chose checkov's configuration (README, "Under plain
checkov").
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any

from data_handling.checkov_adapter.checks_location import ScanError
from data_handling.safe_text import one_line

# Every variable checkov 3.3 reads starts with one of these, or is listed below (from a grep of its sources:
# os.environ.get / os.getenv / configargparse env_var).
AMBIENT_PREFIXES = ("CKV_", "BC_", "CHECKOV_", "PRISMA_", "RENDER_", "BITBUCKET_", "VCS_")
AMBIENT_NAMES = frozenset({
    "CREATE_COMPLEX_VERTICES", "CREATE_EDGES", "DOWNLOAD_EXTERNAL_MODULES", "ENABLE_CONFIG_FILE_VALIDATION",
    "ENABLE_DEFINITION_KEY", "ENABLE_DOTNET_CPM", "ENABLE_SAST_INLINE_SUPPRESSIONS", "EVAL_TF_PLAN_AFTER_UNKNOWN",
    "EXTERNAL_MODULES_DIR", "HCL_PARSE_TIMEOUT_SEC", "LOG_LEVEL", "MAX_WILDCARD_ARR_SIZE", "RAW_TF_IN_GRAPH",
    "RUN_IN_DOCKER", "RUN_SECRETS_MULTIPROCESS", "SAST_ARTIFACT_PATH", "SAVE_SAST_REPORT_LOCALLY", "TF_SPLIT_GRAPH",
    "TF_REGISTRY_TOKEN", "TFC_TOKEN", "TF_HOST_NAME", "REQUEST_MAX_TRIES", "SLEEP_BETWEEN_REQUEST_TRIES",
    "PROXY_URL", "PROXY_CA_PATH", "PROXY_HEADER_KEY", "PROXY_HEADER_VALUE", "WORKDIR", "JAVA_FULL_DT",
})
# What the data-handling CLI sets itself: no call to the platform's mapping API (--skip-download is not enough),
# and the runners (terraform, terraform_json) in this process, where the CLI reads what the checks recorded.
OWN_SETTINGS = {"BC_SKIP_MAPPING": "TRUE", "CHECKOV_PARALLELIZATION_TYPE": "none"}


def is_ambient(name: str) -> bool:
    return name.startswith(AMBIENT_PREFIXES) or name in AMBIENT_NAMES


def scrub_environment(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Remove checkov's configuration variables and set ours; returns the names removed (for the log)."""
    environ = os.environ if environ is None else environ
    removed = sorted(name for name in environ if is_ambient(name) and environ[name] != OWN_SETTINGS.get(name))
    for name in removed:
        del environ[name]
    environ.update(OWN_SETTINGS)
    return removed


@contextlib.contextmanager
def _no_config_files() -> Iterator[None]:
    """Checkov builds its parser with .checkov.yaml from the scanned directory, ./ and $HOME as defaults."""
    import checkov.main as checkov_main

    original = checkov_main.get_default_config_paths
    checkov_main.get_default_config_paths = lambda argv: []
    try:
        yield
    finally:
        checkov_main.get_default_config_paths = original


class _Tracebacks(logging.Filter):
    """Keeps the last exception checkov logged (it catches every crash, logs it and exits 2) and takes the
    traceback out of the log: one line per error on the console, the traceback only with DATA_HANDLING_DEBUG."""

    def __init__(self) -> None:
        super().__init__()
        self.last: BaseException | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            self.last = record.exc_info[1]
            if not os.environ.get("DATA_HANDLING_DEBUG"):
                record.msg = f"{record.getMessage()} {type(self.last).__name__}: {one_line(self.last, limit=300)}"
                record.args = ()
                record.exc_info = record.exc_text = record.stack_info = None
        return True


@contextlib.contextmanager
def _catching_tracebacks() -> Iterator[_Tracebacks]:
    tracebacks = _Tracebacks()
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(tracebacks)
    try:
        yield tracebacks
    finally:
        for handler in handlers:
            handler.removeFilter(tracebacks)


@contextlib.contextmanager
def _before_output(amend: Callable[[list[Any]], None] | None, output: bool = True) -> Iterator[None]:
    """Let the CLI amend the reports after the checks ran and before checkov writes them; with `output` False,
    checkov neither prints nor writes them (a --jobs worker: the parent prints the merged reports)."""
    from checkov.common.runners.runner_registry import RunnerRegistry

    original = RunnerRegistry.print_reports
    if amend is None and output:
        yield
        return

    def print_reports(self: Any, scan_reports: list[Any], *args: Any, **kwargs: Any) -> Any:
        if amend is not None:
            amend(scan_reports)
        return original(self, scan_reports, *args, **kwargs) if output else 0

    RunnerRegistry.print_reports = print_reports  # type: ignore[method-assign]
    try:
        yield
    finally:
        RunnerRegistry.print_reports = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _after_resource_checks(callback: Callable[[], None] | None) -> Iterator[None]:
    """Call `callback` when a Terraform runner's resource checks have run, before its graph checks."""
    if callback is None:
        yield
        return
    from checkov.terraform.base_runner import BaseTerraformRunner

    original = BaseTerraformRunner.get_graph_checks_report

    def get_graph_checks_report(self: Any, *args: Any, **kwargs: Any) -> Any:
        callback()
        return original(self, *args, **kwargs)

    BaseTerraformRunner.get_graph_checks_report = get_graph_checks_report  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseTerraformRunner.get_graph_checks_report = original  # type: ignore[method-assign]


def run_checkov(arguments: list[str], quiet: bool, amend: Callable[[list[Any]], None] | None = None,
                output: bool = True, after_resource_checks: Callable[[], None] | None = None) -> list[Any]:
    """Run checkov with exactly `arguments`; its reports (given to `amend` before checkov prints them, or, with
    `output` False, instead of printing and writing them). `after_resource_checks` is called as each Terraform
    runner's resource checks end (the checks' models are no longer needed there). Any exit checkov attempts is a
    ScanError."""
    scrub_environment()  # again: the CLI's own code may have run in between (variables read at import are gone)
    from checkov.common.models.enums import ParallelizationType
    from checkov.common.parallelizer.parallel_runner import parallel_runner
    from checkov.main import Checkov

    # The runners run in this process, where the CLI reads what the checks recorded (a forked runner's
    # records would be lost); the variable covers the places that read it again.
    parallel_runner.type = ParallelizationType.NONE
    if not os.environ.get("DATA_HANDLING_DEBUG"):
        # Checkov sets the root logger to DEBUG and keeps every record in an in-memory stream (for its platform's
        # support upload): several records per check and resource, half the scan's extra memory at 8,000
        # resources (benchmarks/README.md). The console shows warnings only either way.
        logging.getLogger().setLevel(logging.WARNING)
    with _catching_tracebacks() as tracebacks:
        try:
            with _no_config_files():
                checkov = Checkov(list(arguments))
            with contextlib.ExitStack() as stack:
                stack.enter_context(_before_output(amend, output))
                stack.enter_context(_after_resource_checks(after_resource_checks))
                if quiet:
                    stack.enter_context(contextlib.redirect_stdout(stack.enter_context(open(os.devnull, "w"))))
                checkov.run()
        except SystemExit as stop:
            crash = tracebacks.last
            if crash is not None:
                raise ScanError(f"internal error, the scan could not be trusted: checkov crashed with "
                                f"{type(crash).__name__}: {one_line(crash, limit=300)}") from None
            raise ScanError(f"checkov stopped before the scan finished (exit {one_line(stop.code)}); nothing was "
                            "checked reliably") from None
    return list(checkov.scan_reports)


def print_reports(arguments: list[str], reports: list[Any]) -> None:
    """Print (and with --output-file-path write) `reports` exactly as `run_checkov(arguments, ...)` has checkov
    print its own: for the reports of several checkov runs merged into one (scan --jobs). Checkov's own
    RunnerRegistry.print_reports, with the configuration checkov parses from the same arguments."""
    scrub_environment()
    from checkov.common.runners.runner_registry import RunnerRegistry
    from checkov.common.util.banner import banner, default_tool
    from checkov.main import Checkov
    from checkov.runner_filter import RunnerFilter

    with _catching_tracebacks() as tracebacks:
        try:
            with _no_config_files():
                config = Checkov(list(arguments)).config
            config.output = config.output or ["cli"]  # as Checkov.run does
            registry = RunnerRegistry(banner, RunnerFilter(framework=config.framework), tool=default_tool)
            registry.print_reports(reports, config=config)
        except SystemExit as stop:
            crash = tracebacks.last
            raise ScanError(f"checkov could not print the merged reports (exit {one_line(stop.code)}"
                            + (f": {type(crash).__name__}: {one_line(crash, limit=300)}" if crash else "")
                            + ")") from None
