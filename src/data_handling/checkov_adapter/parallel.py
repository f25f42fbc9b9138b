"""`data-handling scan DIR --jobs N`: the Terraform roots under DIR scanned by N worker processes, merged into the
result the serial scan of DIR gives.

Each worker runs checkov with exactly the serial scan's arguments, `-d DIR` included, so checkov names every file
and resource as in the serial scan (`/stacks/a/main.tf`, `/modules/x/main.tf`, the callers, and the SARIF and
summary paths built from them). What differs is what it reads: its Terraform runner walks only down to the roots
of the worker's batch and processes only those as root modules (modules load through their calls, as always);
its module download pass parses only the batch's share of the tree (the union is the serial pass); its
Terraform JSON runner reads only the batch's share of the `.tf.json` files. A worker returns checkov's reports
and what the checks recorded (invocations, resource types handed to them, errors, missing modules, roots that
could not be evaluated, the data map's rows, parse errors); the parent merges the reports per check type with
checkov's merge_reports, then judges, prints and writes them as the serial scan does.

Roots that checkov would treat together stay in one batch (`_together`): two that call one module directory
under the same name (checkov keeps one of the identical records, remove_duplicate_results), or the same
registry or git module once modules are installed (checkov resolves each source once per run). The split is
also checked after the run: a directory checkov reads that no batch processed or loaded as a module, or a
batch's root that checkov loaded as a module elsewhere (a module call model/hcl/roots.py does not see), means
the split read the tree differently; the CLI then scans serially and says so.

Workers are forked from a fork server that imported checkov and nothing else (checkov_adapter/preload.py;
never from the parent, which holds checkov's state), or spawned where there is none. They fail closed: one that
raises, crashes or is killed is exit 2 naming its roots, and Ctrl-C stops them all.

Checkov's rendering of variables (`breadcrumbs`, `entity_tags`, `check_result.entity` in its JSON) depends on its
graph and can differ from the serial scan's, as it differs between two serial scans. The data-handling checks
judge their own evaluation of the Terraform, not that rendering; checkov's built-in checks (--with-builtin-checks)
judge it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from data_handling.checkov_adapter.checks_location import ScanError
from data_handling.checkov_adapter.input_tree import InputTree
from data_handling.checkov_adapter.scan_facts import (
    ModelDigest,
    ModuleProblems,
    RunFacts,
    Scanned,
    name_json_resources,
    terraform_roots,
)
from data_handling.safe_text import one_line

# What checkov's Terraform (HCL) runner reads in a directory it walks (TFParser.handle_variables).
_HCL_SUFFIXES = (".tf", ".hcl", ".auto.tfvars", ".auto.tfvars.json")
_HCL_NAMES = ("terraform.tfvars", "terraform.tfvars.json")


@dataclass(frozen=True)
class Batch:
    """The part of the scan one worker does: one checkov run."""

    index: int
    walked: tuple[str, ...]  # the directories its checkov processes as root modules (absolute, as checkov walks)
    model_roots: tuple[str, ...]  # its roots as model/hcl/roots.py resolves them (the models of every root)
    shown: tuple[str, ...]  # its roots as messages name them
    json_files: frozenset[str]  # its share of the .tf.json files (absolute)
    # its share of the directories checkov's module download pass reads every .tf file of (absolute)
    download_pass: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    batches: tuple[Batch, ...]
    top: str  # the scanned directory, absolute, as checkov walks it
    read_by_checkov: frozenset[str]  # resolved directories in which checkov's HCL runner reads a file


@dataclass(frozen=True)
class Job:
    """What a worker needs besides the environment it inherits (policy map, variables, confinement, scan root)."""

    batch: Batch
    plan_top: str
    target: str
    arguments: tuple[str, ...]  # checkov's arguments, exactly as the serial scan's
    tree: InputTree  # the parent's survey: what checkov must not read
    check_ids: tuple[str, ...]
    policy_map: str
    data_map_base: str | None  # the summary's data map: rows relative to this directory; None when not wanted
    environment: tuple[tuple[str, str], ...] = ()  # the parent's, as set for the scan (a fork server's is older)


@dataclass
class BatchResult:
    reports: list[Any] = field(default_factory=list)
    facts: RunFacts = field(default_factory=RunFacts)
    problems: ModuleProblems = field(default_factory=ModuleProblems)
    module_dirs: set[str] = field(default_factory=set)  # resolved directories checkov resolved module calls to
    keyed_module_dirs: set[str] = field(default_factory=set)  # ... and that it holds module definitions of
    data_map: Any = None  # the output.inventory.Rows of each model, or why they could not be built
    parse_causes: dict[str, BaseException] = field(default_factory=dict)  # why checkov could not parse a file
    log: str = ""  # the worker's stderr (checkov's and the checks' log)
    error: str | None = None


# --- the plan (parent) -------------------------------------------------------------------------------------

def plan(target: Path, checkov_directory: str, jobs: int) -> Plan | str | None:
    """The batches of a parallel scan of the directory `target` (`checkov_directory` is the -d checkov is given);
    None when there are fewer than two roots or jobs; why the roots must be scanned together (serially)."""
    from checkov.terraform_json.utils import get_scannable_file_paths

    from data_handling.model.hcl.roots import module_callers

    top = os.path.abspath(checkov_directory)
    real_top = target.resolve()
    callers = module_callers(real_top)
    roots = sorted(terraform_roots(target, callers))
    if jobs < 2 or len(roots) < 2:
        return None
    groups = _together(roots, callers, real_top)
    if len(groups) < 2:
        return ("its roots call the same modules under the same names, or the same registry or git module, which "
                "checkov resolves and reports once for all of them")
    read = _read_by_checkov(top)
    real_roots = {str(root) for root in roots}
    walked = {str(root): os.path.normpath(os.path.join(top, os.path.relpath(root, real_top))) for root in roots}
    # Directories checkov's HCL runner reads that are neither roots nor Terraform (only .hcl or variable files):
    # serially they are walked as roots too.
    extra = {real: path for real, (path, terraform) in read.items() if real not in real_roots and not terraform}
    costs = _costs(roots, callers)
    count = min(jobs, len(groups))
    loads = [0] * count
    members: list[list[str]] = [[] for _ in range(count)]
    for group in sorted(groups, key=lambda g: (-sum(costs[r] for r in g), str(g[0]))):  # largest first, to the
        chosen = loads.index(min(loads))                                                # least loaded batch
        members[chosen] += [str(root) for root in group]
        loads[chosen] += sum(costs[root] for root in group)
    for real in sorted(extra):
        members[loads.index(min(loads))].append(real)
    json_share: list[set[str]] = [set() for _ in range(count)]
    owner = {walked.get(real, extra.get(real)): index for index, names in enumerate(members) for real in names}
    for path in sorted(str(p) for p in get_scannable_file_paths(root_folder=checkov_directory)):
        absolute = os.path.abspath(path)
        holder = next((owner[d] for d in _ancestors(os.path.dirname(absolute), top) if d in owner), None)
        json_share[loads.index(min(loads)) if holder is None else holder].add(absolute)
    download_pass = _download_pass_shares(top, real_top, count, owner, callers, members)
    batches = []
    for index, names in enumerate(members):
        paths = tuple(walked.get(real) or extra[real] for real in names)
        batches.append(Batch(
            index=index, walked=paths, model_roots=tuple(real for real in names if real in real_roots),
            shown=tuple(_shown(path, top, checkov_directory) for real, path in zip(names, paths, strict=True)
                        if real in real_roots),
            json_files=frozenset(json_share[index]), download_pass=frozenset(download_pass[index])))
    return Plan(batches=tuple(batches), top=top, read_by_checkov=frozenset(read))


# `module "NAME"` and a module source checkov would look up in a registry or a repository (the action's test:
# git::, s3::, https:// ... or namespace/name/provider; a provider's source has two parts).
_MODULE_CALL = re.compile(r'^\s*module\s+"([^"]+)"', re.MULTILINE)
_REMOTE_SOURCE = re.compile(r'^\s*source\s*=\s*"((?:[A-Za-z0-9]+::|[a-z]+://)[^"]*|[^"./][^"/]*/[^"/]+/[^"/]+)"',
                            re.MULTILINE)


def _together(roots: list[Path], callers: dict[Path, set[Path]], real_top: Path) -> list[list[Path]]:
    """The roots in groups that must share one checkov run to be reported as the serial scan reports them.

    Checkov reports a record once per check, file, lines and resource address (remove_duplicate_results, the
    last one kept): two roots that call one module directory under the same name yield such duplicates, and
    only one run can tell which is kept. It also resolves a registry or git module once per source and version
    for the whole scan (its module cache), from the first manifest it finds: roots that call the same one,
    once `terraform init` has installed modules, get the same copy. Both are kept in one batch, so that its
    run does what the serial run does for them."""
    from data_handling.checkov_adapter.input_tree import skipped_paths

    skipped = skipped_paths()  # what the survey keeps checkov from reading (FIFOs, symlinks out of the tree)
    callees = _callees(callers)
    texts: dict[Path, str] = {}

    def text(directory: Path) -> str:
        if directory not in texts:
            parts = []
            try:
                for entry in sorted(os.scandir(directory), key=lambda e: e.name):
                    if (entry.name.endswith((".tf", ".hcl")) and not entry.name.startswith(".") and entry.is_file()
                            and os.path.abspath(entry.path) not in skipped):
                        with contextlib.suppress(OSError):
                            parts.append(Path(entry.path).read_text(encoding="utf-8", errors="replace"))
            except OSError:
                pass
            texts[directory] = "\n".join(parts)
        return texts[directory]

    closure = {root: _reached(root, callees) for root in roots}
    group = {root: root for root in roots}

    def find(root: Path) -> Path:
        while group[root] != root:
            group[root] = group[group[root]]
            root = group[root]
        return root

    def join(members: Iterable[Path]) -> None:
        members = list(members)
        for other in members[1:]:
            group[find(other)] = find(members[0])

    names = {root: set(_MODULE_CALL.findall(text(root))) for root in roots}
    sharing: dict[tuple[Path, str], list[Path]] = {}
    for root in roots:
        for module in closure[root] - {root}:
            for name in names[root]:
                sharing.setdefault((module, name), []).append(root)
    if _modules_installed(real_top):
        for root in roots:
            for directory in closure[root]:
                for source in _REMOTE_SOURCE.findall(text(directory)):
                    sharing.setdefault((Path("/"), source.lower().removeprefix("registry.terraform.io/")),
                                       []).append(root)
    for members in sharing.values():
        join(members)
    grouped: dict[Path, list[Path]] = {}
    for root in roots:
        grouped.setdefault(find(root), []).append(root)
    return list(grouped.values())


def _modules_installed(real_top: Path) -> bool:
    """Whether `terraform init` left a module manifest in the tree or above it (installed_modules.py reads it)."""
    for directory in (real_top, *real_top.parents):
        if (directory / ".terraform" / "modules" / "modules.json").is_file():
            return True
    for directory, subdirectories, files in os.walk(real_top):
        if "modules.json" in files and directory.endswith(os.path.join(".terraform", "modules")):
            return True
        subdirectories[:] = [d for d in subdirectories if d != ".git"]
    return False


def _download_pass_shares(top: str, real_top: Path, count: int, owner: dict[str, int],
                          callers: dict[Path, set[Path]], members: list[list[str]]) -> list[set[str]]:
    """Before it loads anything, checkov's Terraform runner parses every .tf file under the scanned directory,
    hidden ones too, looking for modules to download (module_finder.find_modules): its parse errors count, and
    its parses are reused. Each directory goes to one batch: the batch of the nearest directory above it that a
    batch processes, or of a root that calls it as a module, else the first."""
    from data_handling.model.hcl.roots import calling_roots

    batch_of_root = {real: index for index, names in enumerate(members) for real in names}
    for module in callers:
        relative = os.path.relpath(module, real_top)
        if relative.startswith(".."):
            continue
        roots = sorted(str(root) for root in calling_roots(module, callers) if str(root) in batch_of_root)
        path = os.path.normpath(os.path.join(top, relative))
        if roots and path not in owner:
            owner[path] = batch_of_root[roots[0]]
    shares: list[set[str]] = [set() for _ in range(count)]
    for directory, _, _ in os.walk(top):
        here = os.path.abspath(directory)
        index = next((owner[d] for d in _ancestors(here, top) if d in owner), 0)
        shares[index].add(here)
    return shares


def _callees(callers: dict[Path, set[Path]]) -> dict[Path, set[Path]]:
    """module -> its callers, inverted: caller -> the local modules it calls."""
    callees: dict[Path, set[Path]] = {}
    for module, calling in callers.items():
        for caller in calling:
            callees.setdefault(caller, set()).add(module)
    return callees


def _reached(root: Path, callees: dict[Path, set[Path]]) -> set[Path]:
    """`root` and every local module it calls, directly or through other modules."""
    seen, stack = {root}, [root]
    while stack:
        for module in callees.get(stack.pop(), ()):
            if module not in seen:
                seen.add(module)
                stack.append(module)
    return seen


def _costs(roots: list[Path], callers: dict[Path, set[Path]]) -> dict[Path, int]:
    """Bytes of Terraform each root's checkov run parses: its own files and every local module it calls."""
    callees = _callees(callers)
    sizes: dict[Path, int] = {}

    def size(directory: Path) -> int:
        if directory not in sizes:
            try:
                sizes[directory] = sum(entry.stat().st_size for entry in os.scandir(directory)
                                       if entry.name.endswith((".tf", ".tf.json")) and entry.is_file())
            except OSError:
                sizes[directory] = 0
        return sizes[directory]

    return {root: sum(size(directory) for directory in _reached(root, callees)) + 1 for root in roots}


def _read_by_checkov(top: str) -> dict[str, tuple[str, bool]]:
    """Resolved directory -> (the path checkov walks it by, whether it holds a .tf file) for every directory
    under `top` in which checkov's Terraform runner reads a file: its walk and its file choice, with what the
    survey skipped left out."""
    from checkov.common.runners.base_runner import filter_ignored_paths
    from checkov.terraform.tf_parser import _filter_ignored_paths

    from data_handling.checkov_adapter.input_tree import skipped_paths

    skipped = skipped_paths()
    found: dict[str, tuple[str, bool]] = {}
    for directory, subdirectories, _ in os.walk(top):
        _filter_ignored_paths(directory, subdirectories, None)
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        filter_ignored_paths(directory, entries, None)
        read = [entry.name for entry in entries if _read_by_hcl_runner(entry, skipped)]
        if read:
            found[os.path.realpath(directory)] = (os.path.abspath(directory),
                                                  any(name.endswith(".tf") for name in read))
    return found


def _read_by_hcl_runner(entry: os.DirEntry[str], skipped: frozenset[str]) -> bool:
    if not (entry.name.endswith(_HCL_SUFFIXES) or entry.name in _HCL_NAMES):
        return False
    try:
        return entry.is_file() and os.path.abspath(entry.path) not in skipped
    except OSError:
        return False


def _ancestors(directory: str, top: str) -> list[str]:
    """`directory` and the directories above it up to `top`, nearest first."""
    found = [directory]
    while directory != top and os.path.dirname(directory) != directory:
        directory = os.path.dirname(directory)
        found.append(directory)
    return found


def _shown(path: str, top: str, given: str) -> str:
    relative = os.path.relpath(path, top)
    return given if relative == "." else os.path.normpath(os.path.join(given, relative))


# --- the workers -------------------------------------------------------------------------------------------

_started: Any = None  # the queue a worker announces (batch, pid) on


def _init_worker(started: Any) -> None:
    global _started
    _started = started
    # Ctrl-C reaches the whole process group: the parent stops the workers, which must not print tracebacks.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _scan_batch(job: Job) -> BatchResult:
    if _started is not None:
        _started.put((job.batch.index, os.getpid()))
    os.environ.clear()
    os.environ.update(dict(job.environment))
    log: list[str] = []
    with _captured_stderr(log):
        result = _scan_batch_quietly(job)
    result.log = log[0] if log else ""
    return result


def _scan_batch_quietly(job: Job) -> BatchResult:
    from data_handling.checkov_adapter.input_tree import guard_checkov
    from data_handling.checkov_adapter.isolation import run_checkov
    from data_handling.checkov_adapter.state import run_record
    from data_handling.policy.loader import load

    try:
        guard_checkov(job.tree)
        run_record.reset()
        digest = ModelDigest(Path(job.data_map_base) if job.data_map_base is not None else None,
                             lambda: load(job.policy_map).policy)
        with _confined(job) as seen:
            reports = run_checkov(list(job.arguments), quiet=True, output=False,
                                  amend=lambda found: name_json_resources(found, run_record.json_addresses),
                                  after_resource_checks=digest.take)
        facts = RunFacts.collect(job.check_ids)
        digest.finish(Path(job.target), [Path(r) for r in job.batch.model_roots])
        return BatchResult(reports=reports, facts=facts, problems=digest.problems, module_dirs=seen.module_dirs,
                           keyed_module_dirs=seen.keyed_module_dirs, data_map=digest.rows,
                           parse_causes=_parse_causes())
    except ScanError as error:
        return BatchResult(error=str(error))
    except Exception as error:  # fail closed: the parent turns it into one line, exit 2
        if os.environ.get("DATA_HANDLING_DEBUG"):
            import traceback

            traceback.print_exc()
        return BatchResult(error=f"internal error, the scan could not be trusted: "
                                 f"{one_line(f'{type(error).__name__}: {error}', limit=500)}")


def _parse_causes() -> dict[str, BaseException]:
    """What checkov's parser raised for each file it could not parse (input_tree.describe_parse_failure names the
    cause from it), as exceptions that cross a process boundary: an unpicklable one becomes its text."""
    import pickle

    from data_handling.checkov_adapter.input_tree import parse_causes

    causes: dict[str, BaseException] = {}
    for path, cause in parse_causes.items():
        try:
            pickle.loads(pickle.dumps(cause))
            causes[path] = cause
        except Exception:
            text = str(cause) or type(cause).__name__
            causes[path] = TimeoutError(text) if "Timeout" in type(cause).__name__ else RuntimeError(text)
    return causes


@dataclass
class _Seen:
    module_dirs: set[str] = field(default_factory=set)
    keyed_module_dirs: set[str] = field(default_factory=set)


@contextlib.contextmanager
def _confined(job: Job) -> Iterator[_Seen]:
    """Checkov's Terraform runner walks only down to the batch's directories and processes only them as root
    modules; its Terraform JSON runner reads only the batch's share. Records the module directories checkov
    resolved, and those it holds module definitions of."""
    import checkov.terraform.module_loading.module_finder as module_finder
    import checkov.terraform.tf_parser as tf_parser
    import checkov.terraform_json.runner as json_runner

    own = {os.path.normpath(path) for path in job.batch.walked}
    on_the_way = {ancestor for path in own for ancestor in _ancestors(path, job.plan_top)}
    seen = _Seen()
    parser = tf_parser.TFParser
    originals = (tf_parser._filter_ignored_paths, parser._check_process_dir, parser.get_content_path,
                 parser.parse_directory, json_runner.get_scannable_file_paths)
    filter_paths, check_process_dir, content_path, parse_directory, scannable = originals

    def walk_filter(root: str, paths: list[str], excluded_paths: list[str] | None) -> None:
        filter_paths(root, paths, excluded_paths)
        here = os.path.abspath(root)
        paths[:] = [name for name in paths if os.path.join(here, name) in on_the_way]

    def process_dir(self: Any, directory: str) -> bool:
        if os.path.normpath(directory) in own:
            return bool(check_process_dir(self, directory))
        self._parsed_directories.add(directory)  # on the way to the batch's roots, or a module: not a root here
        return False

    def resolved(*args: Any, **kwargs: Any) -> str | None:
        path = content_path(*args, **kwargs)
        if path:
            seen.module_dirs.add(os.path.realpath(path))
        return path  # type: ignore[no-any-return]

    def parsed(self: Any, *args: Any, **kwargs: Any) -> Any:
        definitions = parse_directory(self, *args, **kwargs)
        seen.keyed_module_dirs.update(os.path.realpath(os.path.dirname(key.file_path)) for key in definitions
                                      if getattr(key, "tf_source_modules", None))
        return definitions

    def share(*args: Any, **kwargs: Any) -> set[Path]:
        return {path for path in scannable(*args, **kwargs) if os.path.abspath(path) in job.batch.json_files}

    tf_parser._filter_ignored_paths = walk_filter
    module_finder.os = _WalkingOnly(job.batch.download_pass)  # type: ignore[assignment]
    parser._check_process_dir = process_dir  # type: ignore[method-assign]
    parser.get_content_path = staticmethod(resolved)  # type: ignore[method-assign,assignment]
    parser.parse_directory = parsed  # type: ignore[method-assign]
    json_runner.get_scannable_file_paths = share
    try:
        yield seen
    finally:
        tf_parser._filter_ignored_paths = filter_paths
        module_finder.os = os
        parser._check_process_dir = check_process_dir  # type: ignore[method-assign]
        parser.get_content_path = staticmethod(content_path)  # type: ignore[method-assign,assignment]
        parser.parse_directory = parse_directory  # type: ignore[method-assign]
        json_runner.get_scannable_file_paths = scannable


class _WalkingOnly:
    """The os module as checkov's module download pass sees it: its walk yields only the batch's share of the
    directories (it still descends into every one)."""

    def __init__(self, directories: frozenset[str]) -> None:
        self._directories = directories

    def walk(self, top: str, *args: Any, **kwargs: Any) -> Iterator[tuple[str, list[str], list[str]]]:
        for entry in os.walk(top, *args, **kwargs):
            if os.path.abspath(entry[0]) in self._directories:
                yield entry

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


@contextlib.contextmanager
def _captured_stderr(into: list[str]) -> Iterator[None]:
    """The worker's stderr (file descriptor 2: checkov's log handler and ours) into `into`, for the parent to
    print once per line, in batch order."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            log.seek(0)
            into.append(log.read().decode("utf-8", errors="replace"))


# --- running and merging (parent) --------------------------------------------------------------------------

def run(scan_plan: Plan, job: Job) -> Scanned | str:
    """Run the batches (`job` is the template every batch's job is made from) and merge their results, or the
    reason the split would differ from the serial scan. ScanError for a worker that failed."""
    results = _run_batches(scan_plan, job)
    reason = _differs_from_serial(scan_plan, results)
    if reason:
        return reason
    _print_logs(result.log for result in results)
    from data_handling.checkov_adapter.input_tree import parse_causes

    for result in results:  # for the verdict's message on a file checkov could not parse
        parse_causes.update(result.parse_causes)
    rows = [result.data_map for result in results]
    data_map = next((row for row in rows if isinstance(row, str)), None) or (
        [part for parts in rows for part in parts] if job.data_map_base else None)
    return Scanned(reports=merge_reports([result.reports for result in results]),
                   facts=RunFacts.merge(result.facts for result in results),
                   problems=ModuleProblems.merge(result.problems for result in results), data_map=data_map)


def start_workers(target: Path) -> None:
    """Before the parent imports checkov: start the process the workers are forked from, which imports checkov
    meanwhile (checkov_adapter/preload.py), when the directory holds several roots. Where there is no fork
    server (Windows), the workers are spawned and each imports checkov itself."""
    import multiprocessing

    from data_handling.model.hcl.roots import calling_roots, has_terraform, module_callers

    if "forkserver" not in multiprocessing.get_all_start_methods() or _context:
        return
    top = target.resolve()
    callers = module_callers(top)
    roots: set[Path] = set()
    for directory, subdirectories, _ in os.walk(top):
        subdirectories[:] = [d for d in subdirectories if not d.startswith(".")]
        if has_terraform(Path(directory)):
            roots |= calling_roots(Path(directory), callers)
        if len(roots) > 1:
            break
    if len(roots) < 2:
        return
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["data_handling.checkov_adapter.preload"])
    # Started with Ctrl-C ignored, which it and the workers forked from it inherit: the parent alone handles it
    # (it stops the workers), and no process prints a traceback of an import it interrupted.
    interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, interrupt if interrupt is not None else signal.default_int_handler)
    _context.append(context)
    atexit.register(_stop_server)


def _stop_server() -> None:
    """At exit: end the fork server and wait for it. Its CPU time and its workers' (it has reaped them) then count
    in this process's, as a benchmark measures them; and it neither tears down the checkov it imported (a second
    or more) nor, interrupted while still importing it, lingers holding this process's stderr (a pipeline reading
    it would wait)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)


_context: list[Any] = []  # the fork server's context, once started


def _run_batches(scan_plan: Plan, job: Job) -> list[BatchResult]:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    # Never a fork of this process, which holds checkov's state: a fork of the server that only imported
    # checkov, or a fresh interpreter.
    context = _context[0] if _context else multiprocessing.get_context("spawn")
    job = replace(job, environment=tuple(os.environ.items()))
    started = context.SimpleQueue()
    extra: dict[str, Any] = {"max_tasks_per_child": 1} if sys.version_info >= (3, 11) else {}  # one checkov run each
    executor = ProcessPoolExecutor(max_workers=len(scan_plan.batches), mp_context=context,
                                   initializer=_init_worker, initargs=(started,), **extra)
    results: dict[int, BatchResult] = {}
    interrupt = signal.getsignal(signal.SIGINT)
    try:
        pending = {executor.submit(_scan_batch, replace(job, batch=batch)): batch for batch in scan_plan.batches}
        import checkov.main  # noqa: F401  # printing the merged reports needs it: now, while the workers scan
        # Ctrl-C is KeyboardInterrupt (checkov.main makes it sys.exit('')): the workers are stopped, and the CLI
        # says the scan was interrupted.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                batch = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    raise ScanError(_crash(scan_plan, executor, started, set(results))) from None
                except Exception as error:  # e.g. a result that could not be sent back
                    raise ScanError(f"internal error in the worker scanning {_names(batch)}: "
                                    f"{one_line(f'{type(error).__name__}: {error}', limit=400)}; the scan could "
                                    "not be trusted") from None
                if result.error is not None:
                    _print_logs([result.log])
                    raise ScanError(f"{result.error} (in the worker scanning {_names(batch)})")
                results[batch.index] = result
    except BaseException:
        _stop(executor)
        raise
    finally:
        signal.signal(signal.SIGINT, interrupt if interrupt is not None else signal.default_int_handler)
    executor.shutdown(wait=True)
    return [results[batch.index] for batch in scan_plan.batches]


def _stop(executor: Any) -> None:
    """Terminate every worker (Ctrl-C, or one failed: the scan's result is decided)."""
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        with contextlib.suppress(Exception):
            process.terminate()
    executor.shutdown(wait=True, cancel_futures=True)


def _crash(scan_plan: Plan, executor: Any, started: Any, finished: set[int]) -> str:
    """Which worker stopped abruptly, and how: the batches started and not finished, narrowed to the process
    that was not terminated by the pool itself."""
    running: dict[int, int] = {}
    while not started.empty():
        index, pid = started.get()
        running[index] = pid
    processes = getattr(executor, "_processes", None) or {}
    suspects = {index: pid for index, pid in running.items() if index not in finished}
    if not suspects:  # it stopped before it started a batch: one of those not finished
        suspects = {batch.index: 0 for batch in scan_plan.batches if batch.index not in finished}
    how = ""
    codes = {index: getattr(processes.get(pid), "exitcode", None) for index, pid in suspects.items()}
    # A worker runs one batch and exits 0 (max_tasks_per_child): one that did so with its result still on its
    # way is not the one that broke the pool, so an abnormal exit is named first, and exit 0 only if none is.
    for normal in (False, True):
        culprit = next((index for index, code in codes.items()
                        if code is not None and code != -signal.SIGTERM and (code == 0) == normal), None)
        if culprit is not None:
            suspects = {culprit: suspects[culprit]}
            how = f" ({_exit_status(codes[culprit])})"
            break
    names = ", ".join(_names(scan_plan.batches[index]) for index in sorted(suspects)) or "its roots"
    return f"the worker process scanning {names} stopped abruptly{how}; the scan could not be trusted"


def _exit_status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit {code}"


def _names(batch: Batch) -> str:
    names = [one_line(name) for name in batch.shown] or ["its directories"]
    return names[0] if len(names) == 1 else f"{', '.join(names[:3])}{' ...' if len(names) > 3 else ''}"


_LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")  # checkov's log format starts with the time


def _print_logs(logs: Iterable[str]) -> None:
    """The workers' stderr, each line once: several workers log the same warning (a policy map's, a module that
    cannot be downloaded) where the serial scan logs it once."""
    printed: set[str] = set()
    for log in logs:
        lines = log.splitlines()
        for line in lines:
            if _LOG_TIME.sub("", line) not in printed:
                print(line, file=sys.stderr)
        printed.update(_LOG_TIME.sub("", line) for line in lines)
    sys.stderr.flush()


def merge_reports(parts: Iterable[list[Any]]) -> list[Any]:
    """One report per check type, as checkov's RunnerRegistry merges its runners' (checkov's merge_reports);
    a file that several workers failed to parse is listed once."""
    from checkov.common.output.report import merge_reports as merge

    merged: dict[str, Any] = {}
    for reports in parts:
        for report in reports:
            if report.check_type in merged:
                merge(merged[report.check_type], report)
            else:
                merged[report.check_type] = report
    for report in merged.values():
        report.parsing_errors = list(dict.fromkeys(report.parsing_errors))
    return list(merged.values())


def _differs_from_serial(scan_plan: Plan, results: list[BatchResult]) -> str | None:
    """Why the batches did not read the tree as the serial scan does, if they did not."""
    module_dirs = set().union(*(result.module_dirs for result in results))
    keyed = set().union(*(result.keyed_module_dirs for result in results))
    processed = {os.path.realpath(path) for batch in scan_plan.batches for path in batch.walked}
    loaded_as_module = sorted(processed & keyed)
    if loaded_as_module:
        return (f"{one_line(loaded_as_module[0])} is loaded as a module by a module call model/hcl/roots.py does not "
                "see, so it is not a root of its own")
    unread = sorted(scan_plan.read_by_checkov - processed - module_dirs)
    if unread:
        return f"checkov reads {one_line(unread[0])} as a root module, but no module call or root covers it"
    return None
