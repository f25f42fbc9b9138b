"""State shared by the checks of one checkov process: the policy map (loaded once per file version), the
infrastructure model (built once per graph), and a record of what ran and which models it used, for the CLI."""

from __future__ import annotations

import gc
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_handling.model import raw_hcl
from data_handling.model.graph_source import build_from_graph, build_from_roots, vertices
from data_handling.model.hcl.inputs import ScanInputs, current_inputs
from data_handling.model.hcl.roots import calling_roots, module_callers
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.plan_source import build_from_plan, load_plan
from data_handling.policy.loader import ENV_VAR, LoadedPolicy, PolicyMapError, load, locate

logger = logging.getLogger("data_handling")

_policy_cache: dict[tuple[str, int], LoadedPolicy | PolicyMapError] = {}
_located: dict[tuple[str | None, str], Any] = {}
_model_cache: dict[int, tuple[Any, Infrastructure, ScanInputs]] = {}
_plan_cache: dict[tuple[str, int], Infrastructure] = {}
_written_cache: dict[tuple[tuple[str, ...], ScanInputs], Infrastructure] = {}
_callers_cache: dict[str, dict[Path, set[Path]]] = {}
# The directories the scan was started on (set by the data-handling CLI; else read from checkov's arguments).
ENV_SCAN_ROOTS = "DATA_HANDLING_SCAN_ROOTS"


@dataclass
class RunRecord:
    """What the data-handling checks did in this process (read by the CLI after checkov returns)."""

    invocations: Counter[str] = field(default_factory=Counter)  # resources each check was called on
    handed_types: set[str] = field(default_factory=set)  # resource types checkov handed any data-handling check
    errors: list[str] = field(default_factory=list)  # rules that raised
    models: dict[int, Infrastructure] = field(default_factory=dict)  # the models the checks used, by id
    # checkov's terraform_json runner names a resource "resource.<name>": (check, file, name) -> its address
    json_addresses: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def reset(self) -> None:
        _policy_of_loop[:] = [None, None]
        release_checkov_heap()
        raw_hcl.clear()
        self.invocations.clear()
        self.handed_types.clear()
        self.errors.clear()
        self.models.clear()
        self.json_addresses.clear()
        _written_cache.clear()
        _callers_cache.clear()

    def used(self, model: Infrastructure) -> Infrastructure:
        self.models.setdefault(id(model), model)
        return model


run_record = RunRecord()


def release_models() -> None:
    """Let go of every model built so far (the CLI, once it has read what it needs from them): the next check
    builds its model again. Their memory is collected at once, for what runs next to reuse."""
    run_record.models.clear()
    _model_cache.clear()
    _plan_cache.clear()
    _written_cache.clear()
    gc.collect()


def models_used() -> list[Infrastructure]:
    """The models the checks evaluated since run_record.reset(), in first-use order: one per scanned graph or
    plan, built in this run or reused from the cache (the CLI's data map reads them after checkov returns)."""
    return list(run_record.models.values())


def current_policy() -> LoadedPolicy | PolicyMapError:
    """The policy map in force (see policy.loader.locate), or the error that makes every check fail.

    Called for every resource and check: the choice of file is remembered per (environment, directory), and
    only the file's modification time is read again, so an edited map still takes effect."""
    where = (os.environ.get(ENV_VAR), os.getcwd())
    path = _located.get(where)
    if path is None:
        path = _located[where] = locate()[0]
    try:
        version = os.stat(path).st_mtime_ns
    except OSError:
        version = -1
    key = (str(path), version)
    if key not in _policy_cache:
        try:
            loaded = load()
        except PolicyMapError as error:
            _policy_cache[key] = error
        else:
            for warning in loaded.warnings:
                logger.warning("%s: %s", loaded.path, warning)
            _policy_cache[key] = loaded
    return _policy_cache[key]


_policy_of_loop: list[Any] = [None, None]  # [graph, policy] of the check loop in progress


def policy_for_graph(graph: Any) -> LoadedPolicy | PolicyMapError:
    """current_policy(), read once per scanned graph: every check calls it for every resource, and the map
    cannot change within one check loop (a plan or .tf.json scan, with no graph, reads it each time)."""
    if graph is not None and _policy_of_loop[0] is graph:
        return _policy_of_loop[1]  # type: ignore[no-any-return]
    loaded = current_policy()
    if graph is not None:
        _policy_of_loop[:] = [graph, loaded]
    return loaded


_heap_frozen = [False]


def _freeze_checkov_heap() -> None:
    """Move what checkov has built so far (its definitions and graph, most of the heap) out of the cyclic
    garbage collector's reach before the model is built: otherwise every full collection our allocations
    trigger walks all of it again (measured: about 15% of a scan's CPU at 2,000 resources). The objects stay
    alive as before (they are checkov's, held until the scan ends); only cycles among them that become garbage
    while frozen wait until `release_checkov_heap` or the end of the process. Once per scan."""
    if not _heap_frozen[0]:
        # Collect first: garbage still waiting for a collection when the heap is frozen would never be freed
        # (with checkov's built-in checks 35 MiB at 8,000 resources; 21 MiB with ours alone).
        gc.collect()
        gc.freeze()
        _heap_frozen[0] = True


def release_checkov_heap() -> None:
    """Give the frozen objects back to the collector (the CLI does this before each scan it starts)."""
    if _heap_frozen[0]:
        gc.unfreeze()
        _heap_frozen[0] = False


def model_for_conf(graph: Any, conf: dict[str, Any]) -> Infrastructure:
    """The model a resource configuration belongs to: its plan's in a plan scan, else the graph's."""
    plan_file = conf.get("__file__")
    plan_file = plan_file[0] if isinstance(plan_file, list) and plan_file else plan_file
    if isinstance(plan_file, str) and plan_file.endswith(".json"):
        return plan_model(plan_file)
    plan_file = _plan_file_of(graph)
    if plan_file is not None:  # checkov leaves __file__ out of some plan resources (values unknown until apply)
        return plan_model(plan_file)
    return model_for(graph)


@dataclass(frozen=True)
class _GraphFiles:
    """The files a checkov graph has vertices of, read once per graph."""

    real_paths: frozenset[str]
    plan_file: str | None  # the plan file every vertex names; None for a graph of HCL, or of several files


_graph_files: dict[int, tuple[Any, _GraphFiles]] = {}


def _files_of(graph: Any) -> _GraphFiles:
    cached = _graph_files.get(id(graph))
    if cached is None or cached[0] is not graph:
        if len(_graph_files) > 32:
            _graph_files.clear()
        files = {str(attributes.get("file_path_", "")) for _, attributes in vertices(graph)}
        plans = {path for path in files if path.endswith(".json") and not path.endswith(".tf.json")}
        found = next(iter(plans)) if len(plans) == 1 and files == plans else None
        cached = _graph_files[id(graph)] = (graph, _GraphFiles(frozenset(map(os.path.realpath, files)), found))
    return cached[1]


def _plan_file_of(graph: Any) -> str | None:
    """The plan file a plan scan's graph was built from (every vertex names it); None for a graph of HCL, or of
    several files."""
    return _files_of(graph).plan_file if graph is not None else None


def graph_reads(graph: Any, file_path: str) -> bool:
    """Whether a checkov graph has a vertex of the file (compared by real path)."""
    return os.path.realpath(file_path) in _files_of(graph).real_paths


def plan_model(path: str) -> Infrastructure:
    """The model of a plan file, built once per file version."""
    try:
        key = (path, os.stat(path).st_mtime_ns)
    except OSError:
        key = (path, -1)
    if key not in _plan_cache:
        _plan_cache.clear()
        _plan_cache[key] = build_from_plan(load_plan(path), path)
    return run_record.used(_plan_cache[key])


def model_for(graph: Any) -> Infrastructure:
    """The infrastructure model of a scanned root, built on first use and reused for every resource."""
    if graph is None:
        return Infrastructure([], [], [])
    inputs = current_inputs()  # variables and workspace change what the same graph evaluates to
    cached = _model_cache.get(id(graph))
    if cached is None or cached[0] is not graph or cached[2] != inputs:
        if len(_model_cache) > 32:  # several roots per scan; drop models of finished scans
            _model_cache.clear()
        _freeze_checkov_heap()
        cached = _model_cache[id(graph)] = (graph, build_from_graph(graph), inputs)
        # The evaluation's tree (modules and instances refer to each other) is cyclic garbage now: collect it
        # at once, so the check loop reuses its memory instead of growing the heap (checkov's part is frozen,
        # so this walks only our objects). -4 MiB peak RSS at 8k.
        gc.collect()
    return run_record.used(cached[1])


def scan_roots() -> list[str]:
    """Where the scan started: checkov's terraform_json runner names files relative to it ("/main.tf.json")."""
    from_env = os.environ.get(ENV_SCAN_ROOTS)
    if from_env:
        return [root for root in from_env.split(os.pathsep) if root]
    import sys

    roots = [sys.argv[i + 1] for i, argument in enumerate(sys.argv[:-1]) if argument in ("-d", "--directory")]
    return [os.path.abspath(root) for root in roots] + [os.getcwd()]


def written_file(scanned_file: str) -> str | None:
    """The absolute path of a file checkov's terraform_json runner names relative to the scan root."""
    relative = scanned_file.lstrip("/")
    for root in scan_roots():
        candidate = os.path.realpath(os.path.join(root, relative))
        if os.path.isfile(candidate):
            return candidate
    return scanned_file if os.path.isabs(scanned_file) and os.path.isfile(scanned_file) else None


def model_for_written_file(file_path: str) -> Infrastructure:
    """The model of the roots whose module tree reads `file_path` (its directory, or the roots that call it as a
    local module), evaluated as for any other scan, built once per set of roots."""
    directory = Path(file_path).parent
    parts = directory.parts
    if ".terraform" in parts:  # a module terraform init installed: evaluated in the root that installed it
        roots: tuple[str, ...] = (str(Path(*parts[:parts.index(".terraform")])),)
        return _written_model(roots)
    top = next((Path(root).resolve() for root in scan_roots() if directory.is_relative_to(Path(root).resolve())),
               directory)
    callers = _callers_cache.get(str(top))
    if callers is None:
        callers = _callers_cache[str(top)] = module_callers(top)
    return _written_model(tuple(sorted(str(root) for root in calling_roots(directory, callers))))


def _written_model(roots: tuple[str, ...]) -> Infrastructure:
    key = (roots, current_inputs())
    if key not in _written_cache:
        if len(_written_cache) > 32:
            _written_cache.clear()
        _written_cache[key] = build_from_roots(list(roots))
    return run_record.used(_written_cache[key])
