"""What `data-handling scan` reads after checkov returns, in the process where the checks ran (the CLI's own, or
a `--jobs` worker's): what the checks recorded and which checks checkov registered (the verdict's evidence that
every check loaded and ran), the addresses of Terraform JSON resources, and the models of every root (modules
that could not be read, roots that could not be evaluated). Every piece is plain data, so that the facts of
several worker processes merge into the facts of one scan.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from data_handling.checkov_adapter.checks_location import ScanError

if TYPE_CHECKING:
    from data_handling.output.inventory import Rows


@dataclass
class RunFacts:
    """What the data-handling checks did in one checkov run, and the resource types checkov registered each for."""

    invocations: Counter[str] = field(default_factory=Counter)  # resources each check was called on
    handed_types: set[str] = field(default_factory=set)  # resource types checkov handed any data-handling check
    errors: list[str] = field(default_factory=list)  # rules that raised
    declared: dict[str, tuple[str, ...] | None] = field(default_factory=dict)  # None: the check did not load

    @classmethod
    def collect(cls, check_ids: Iterable[str]) -> RunFacts:
        """The facts of the checkov run that just finished in this process."""
        from checkov.terraform.checks.resource.registry import resource_registry

        from data_handling.checkov_adapter.state import run_record

        declared: dict[str, tuple[str, ...] | None] = {}
        for check_id in check_ids:
            check = resource_registry.get_check_by_id(check_id)
            declared[check_id] = tuple(check.supported_resources) if check is not None else None
        return cls(Counter(run_record.invocations), set(run_record.handed_types), list(run_record.errors), declared)

    @classmethod
    def merge(cls, parts: Iterable[RunFacts]) -> RunFacts:
        """The facts of one scan run as several checkov runs: a check loaded only if it loaded in every run."""
        merged = cls()
        parts = list(parts)
        for part in parts:
            merged.invocations.update(part.invocations)
            merged.handed_types |= part.handed_types
            merged.errors += part.errors
        for check_id in dict.fromkeys(check_id for part in parts for check_id in part.declared):
            kinds = {part.declared.get(check_id) for part in parts}
            if None in kinds:
                merged.declared[check_id] = None
            elif len(kinds) > 1:  # the same checks directory in every worker: never expected
                raise ScanError(f"check {check_id} was registered for different resource types in the worker "
                                "processes; the scan could not be trusted")
            else:
                merged.declared[check_id] = kinds.pop()
        return merged


@dataclass
class ModuleProblems:
    """Module calls whose source is not on disk, and roots the evaluator could not read (root -> why)."""

    missing_modules: list[str] = field(default_factory=list)
    failed_roots: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, models: Iterable[Any]) -> ModuleProblems:
        problems = cls()
        for model in models:
            problems.missing_modules += model.missing_modules
            problems.failed_roots.update(model.failed_roots)
        return problems

    @classmethod
    def merge(cls, parts: Iterable[ModuleProblems]) -> ModuleProblems:
        return cls.of(parts)  # the parts hold missing_modules and failed_roots as a model does


@dataclass
class Scanned:
    """What the CLI judges and writes after checkov ran: the reports and the facts of the run or runs (--jobs)."""

    reports: list[Any]
    facts: RunFacts
    problems: ModuleProblems | None = None  # None: read from the models of this process when judged
    # the summary's data map rows from the workers, or why they could not be built; None: this process's models
    data_map: list[Rows] | str | None = None


def name_json_resources(reports: list[Any], addresses: dict[tuple[str, str, str], str]) -> None:
    """Checkov's terraform_json runner names every resource "resource.<name>"; our outputs use its address."""
    for report in reports:
        if getattr(report, "check_type", "") != "terraform_json":
            continue
        for record in (*report.failed_checks, *report.passed_checks, *report.skipped_checks):
            name = record.resource.split(".", 1)[-1]
            address = addresses.get((record.check_id, record.file_path, name))
            if address:
                report.resources.discard(f"{record.file_path}:{record.resource}")
                record.resource = address
                report.resources.add(f"{record.file_path}:{address}")


def is_plan(path: Path) -> bool:
    return path.suffix == ".json" and not path.name.endswith(".tf.json")


def terraform_roots(target: Path, callers: dict[Path, set[Path]] | None = None) -> set[Path]:
    """The root modules under a directory target (resolved; model/hcl/roots.py), or of a file target's directory:
    every directory with Terraform, or the roots that call it as a local module (`callers`: module_callers of
    the directory, when already read). What the survey skipped is not read."""
    from data_handling.checkov_adapter.input_tree import skipped_paths
    from data_handling.model.hcl.roots import calling_roots, has_terraform, module_callers

    top = target.resolve() if target.is_dir() else target.resolve().parent
    callers = module_callers(top) if callers is None else callers
    skipped = skipped_paths()
    roots: set[Path] = set()
    for directory, subdirectories, _ in os.walk(top):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".") and
                             os.path.abspath(os.path.join(directory, d)) not in skipped]
        if has_terraform(Path(directory)):
            roots |= calling_roots(Path(directory), callers)
        if not target.is_dir():
            break
    return roots


def models_of_every_root(target: Path, roots: Iterable[Path] | None = None) -> list[Any]:
    """The models the checks used, and a model of every root (of `roots`, default every root under the target)
    no check was handed a resource of: a root whose only module call cannot be loaded has nothing for checkov to
    hand a check."""
    from data_handling.checkov_adapter.state import models_used

    models = models_used()
    return models + _models_of_unseen_roots(target, covered_roots(models), roots)


def covered_roots(models: Iterable[Any]) -> set[str]:
    """The roots (real paths) the models evaluated, or failed to."""
    models = list(models)
    covered = {os.path.realpath(resource.root_dir) for model in models for resource in model.resources}
    return covered | {os.path.realpath(root) for model in models for root in model.failed_roots}


def _models_of_unseen_roots(target: Path, covered: set[str], roots: Iterable[Path] | None) -> list[Any]:
    from data_handling.model.graph_source import build_from_roots

    if is_plan(target):
        return []
    every = terraform_roots(target) if roots is None else set(roots)
    unseen = sorted(str(root) for root in every if str(root) not in covered)
    return [build_from_roots(unseen)] if unseen else []


class ModelDigest:
    """What a scan needs from its models once the checks have run, as plain data: the module problems, the roots
    they covered, and (with a summary) the data map rows. Taken when each checkov runner's resource checks end
    (`take`, before its graph checks), and the models let go there: checkov's graph checks and its next runner,
    where the floor has its own peak, then reuse the models' memory instead of adding to the peak (-5 MiB of
    peak RSS at 8,000 resources, benchmarks/README.md)."""

    def __init__(self, rows_base: Path | None, policy: Callable[[], Any]) -> None:
        self._rows_base = rows_base
        self._policy = policy
        # the rows of each take, as data_inventory.assemble reads them; a string: why they could not be built;
        # None: no summary, no rows
        self.rows: list[Rows] | str | None = [] if rows_base is not None else None
        self.problems = ModuleProblems()
        self.covered: set[str] = set()

    def take(self) -> None:
        """Read what is needed from the models the checks used since the last take, and let them go."""
        from data_handling.checkov_adapter.state import models_used, release_models

        models = models_used()
        if not models:
            return
        rows = data_map_rows(self._rows_base, self._policy)
        if isinstance(self.rows, list) and rows is not None:
            self.rows = rows if isinstance(rows, str) else [*self.rows, rows]
        self.problems = ModuleProblems.merge([self.problems, ModuleProblems.of(models)])
        self.covered |= covered_roots(models)
        release_models()

    def finish(self, target: Path, roots: Iterable[Path] | None = None) -> ModelDigest:
        """After checkov returned: the models not yet taken, and the problems of every root no check was handed a
        resource of (of `roots`, default every root under the target)."""
        self.take()
        unseen = _models_of_unseen_roots(target, self.covered, roots)
        self.problems = ModuleProblems.merge([self.problems, ModuleProblems.of(unseen)])
        return self


def data_map_rows(base: Path | None, policy: Callable[[], Any]) -> Rows | str | None:
    """The summary's data map rows of the models the checks used in this process, files shown relative to `base`
    (None: no summary was asked for), or why they could not be built: the findings stand, and the summary says the
    map is missing. `policy` gives the policy map the rows are judged under."""
    if base is None:
        return None
    from data_handling.checkov_adapter.state import models_used
    from data_handling.output import inventory

    try:
        return inventory.rows(models_used(), policy(), base)
    except Exception as error:
        return f"the data map could not be built: {type(error).__name__}: {error}"
