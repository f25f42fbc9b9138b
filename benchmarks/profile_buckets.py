#!/usr/bin/env python3
"""Where a checkov scan's CPU time goes, by bucket, without a profiler's distortion (issue 13 profile).

    python benchmarks/profile_buckets.py -- -d TREE --framework terraform --external-checks-dir checks \
        --check 'CKV_DH_*' --skip-download --quiet --compact -o json > /dev/null

Everything after `--` is checkov's command line; checkov runs in this process. A handful of functions are
wrapped with a timer (process CPU time and wall time; about a microsecond per call, which cProfile's per-call
overhead would multiply into seconds on the ~10 x resources calls of the check loop), and the buckets are
printed to stderr:

- start-up: interpreter, imports, argument parsing (process CPU time before Checkov.run);
- checkov parse (TFParser.parse_hcl_module: python-hcl2 and module expansion), graph build, variable rendering;
- checkov's check loop minus our checks' own time: its per-invocation work (registry.scan, should_run_check,
  run_check, BaseCheck.run, the DEBUG log records, the Record for each result);
- ours: the model build (build_from_graph), of which the python-hcl2 re-parse (raw_hcl.parsed), the
  per-invocation current_inputs() and current_policy(), the rules, and the rest of scan_resource_conf;
- the rest (graph checks, reports, output).

It also sums the cyclic garbage collector's pauses (gc.callbacks), which overlap the buckets above: cProfile
charges them to whichever function happened to allocate.
"""

from __future__ import annotations

import gc
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

CPU: dict[str, float] = defaultdict(float)
WALL: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)
_active: set[str] = set()


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if name in _active:  # recursive: counted once, at the outermost call
            return function(*args, **kwargs)
        _active.add(name)
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            CPU[name] += time.process_time() - cpu
            WALL[name] += time.perf_counter() - wall
            CALLS[name] += 1
            _active.discard(name)

    return wrapper


def patch(owner: Any, attribute: str, name: str) -> None:
    setattr(owner, attribute, timed(name, getattr(owner, attribute)))


def main() -> int:
    argv = sys.argv[1:]
    argv = argv[1:] if argv[:1] == ["--"] else argv
    from checkov.common.graph.graph_builder.variable_rendering.renderer import VariableRenderer
    from checkov.main import Checkov
    from checkov.terraform.graph_builder.local_graph import TerraformLocalGraph
    from checkov.terraform.runner import Runner
    from checkov.terraform.tf_parser import TFParser

    from data_handling.checkov_adapter import base, state
    from data_handling.model.hcl import files

    patch(TFParser, "parse_hcl_module", "checkov parse")
    patch(TerraformLocalGraph, "build_graph", "checkov graph build (with rendering)")
    patch(VariableRenderer, "render_variables_from_local_graph", "checkov rendering")
    patch(Runner, "check_tf_definition", "checkov check loop (with ours)")
    patch(base.DataHandlingCheck, "scan_resource_conf", "ours: scan_resource_conf")
    patch(state, "build_from_graph", "ours: model build (build_from_graph)")
    patch(files, "parsed", "ours: python-hcl2 re-parse")
    patch(state, "current_inputs", "ours: current_inputs()")
    patch(base, "current_policy", "ours: current_policy()")
    original_init = base.DataHandlingCheck.__init__

    def init(self: Any, check_id: str, rule: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, check_id, timed("ours: rules", rule), *args, **kwargs)

    base.DataHandlingCheck.__init__ = init  # type: ignore[method-assign]
    pauses: dict[int, float] = defaultdict(float)
    started: list[float] = []

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = [time.process_time()]
        elif started:
            pauses[info["generation"]] += time.process_time() - started[0]

    gc.callbacks.append(on_gc)
    startup = time.process_time()
    run = timed("Checkov.run", Checkov.run)
    code = 0
    try:
        code = run(Checkov(argv)) or 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 2
    total = time.process_time()
    graph = CPU["checkov graph build (with rendering)"]
    loop = CPU["checkov check loop (with ours)"]
    ours = CPU["ours: scan_resource_conf"]
    model = CPU["ours: model build (build_from_graph)"]
    reparse = CPU["ours: python-hcl2 re-parse"]
    rules = CPU["ours: rules"]
    inputs, policy = CPU["ours: current_inputs()"], CPU["ours: current_policy()"]
    rows = [
        ("start-up (imports, arguments)", startup),
        ("checkov parse (python-hcl2, modules)", CPU["checkov parse"]),
        ("checkov graph build (without rendering)", graph - CPU["checkov rendering"]),
        ("checkov variable rendering", CPU["checkov rendering"]),
        (f"checkov per-invocation work in the check loop ({CALLS['ours: scan_resource_conf']} invocations of ours)",
         loop - ours),
        ("ours: model build, python-hcl2 re-parse", reparse),
        ("ours: model build, evaluation (Tree) and records", model - reparse),
        (f"ours: current_inputs() ({CALLS['ours: current_inputs()']} calls)", inputs),
        (f"ours: current_policy() ({CALLS['ours: current_policy()']} calls)", policy),
        (f"ours: rules ({CALLS['ours: rules']} calls)", rules),
        ("ours: rest of scan_resource_conf", ours - model - inputs - policy - rules),
        ("rest (other checkov work, reports, output)",
         total - startup - CPU["checkov parse"] - graph - loop),
    ]
    out = sys.stderr
    print(f"\nprocess CPU {total:.2f} s (wall of Checkov.run {WALL['Checkov.run']:.2f} s)", file=out)
    for name, seconds in rows:
        print(f"  {seconds:8.2f} s CPU  {100 * seconds / total:5.1f}%  {name}", file=out)
    print(f"  garbage collector pauses (overlapping the above): {sum(pauses.values()):.2f} s CPU, of which "
          f"generation 2: {pauses[2]:.2f} s", file=out)
    return code


if __name__ == "__main__":
    sys.exit(main())
