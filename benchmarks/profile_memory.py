#!/usr/bin/env python3
"""What holds the memory of a checkov scan: checkov run in this process under tracemalloc (issue 13 profile).

    python benchmarks/profile_memory.py [--top 25] -- -d TREE --framework terraform --external-checks-dir checks \
        --check 'CKV_DH_*' --skip-download --quiet --compact -o json

Everything after `--` is checkov's command line. When the terraform runner's checks have run (the graph, checkov's
definitions and our models are all alive then, close to the peak) it takes a snapshot, and after the run prints
to stderr the traced peak, the size at the snapshot, the live memory grouped by package (checkov, hcl2/lark,
data_handling, logging, ...) and the top allocation sites. tracemalloc slows the scan by 2-3x; the figures are
Python allocations only (not the interpreter's own arenas), so they stay below the peak RSS bench_scan.py reports.
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from collections import Counter

BUCKETS = (  # first match wins: a path fragment -> the bucket it is counted in
    ("/data_handling/", "data_handling (our model and checks)"),
    ("/checks/dh_", "data_handling (our model and checks)"),
    ("/hcl2/", "python-hcl2 / lark (parsing)"),
    ("/lark/", "python-hcl2 / lark (parsing)"),
    ("/checkov/terraform/graph_builder/", "checkov graph + rendering"),
    ("/checkov/common/graph/", "checkov graph + rendering"),
    ("/igraph/", "checkov graph + rendering"),
    ("/rustworkx/", "checkov graph + rendering"),
    ("/checkov/terraform/tf_parser", "checkov parser / module expansion"),
    ("/checkov/terraform/modules/", "checkov parser / module expansion"),
    ("/checkov/terraform/parser", "checkov parser / module expansion"),
    ("/checkov/common/output/", "checkov reports / records"),
    ("/checkov/", "checkov other"),
    ("/logging/", "logging (checkov keeps every DEBUG record in a StringIO)"),
    ("<frozen importlib", "imports (code objects)"),
    ("/site-packages/", "other third-party"),
)


def bucket(filename: str) -> str:
    return next((name for fragment, name in BUCKETS if fragment in filename), "stdlib / other")


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--top", type=int, default=25, help="allocation sites to list")
    parser.add_argument("checkov", nargs=argparse.REMAINDER, help="checkov's arguments, after --")
    args = parser.parse_args()
    argv = args.checkov[1:] if args.checkov[:1] == ["--"] else args.checkov
    tracemalloc.start(1)
    from checkov.logging_init import log_stream
    from checkov.main import Checkov
    from checkov.terraform.runner import Runner

    taken: list[tuple[tracemalloc.Snapshot, int]] = []
    original = Runner.check_tf_definition

    def check_tf_definition(self: Runner, *a: object, **k: object) -> object:
        result = original(self, *a, **k)
        taken.append((tracemalloc.take_snapshot(), tracemalloc.get_traced_memory()[0]))
        return result

    Runner.check_tf_definition = check_tf_definition  # type: ignore[method-assign]
    code = 0
    try:
        code = Checkov(argv).run() or 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 2
    at_end, peak = tracemalloc.get_traced_memory()
    snapshot, current = taken[-1] if taken else (tracemalloc.take_snapshot(), at_end)
    tracemalloc.stop()
    stats = snapshot.statistics("lineno")
    by_bucket: Counter[str] = Counter()
    for stat in stats:
        by_bucket[bucket(stat.traceback[0].filename)] += stat.size
    mib = 1024 * 1024
    out = sys.stderr
    print(f"\ntracemalloc: peak {peak / mib:.1f} MiB, {current / mib:.1f} MiB live after the checks ran, "
          f"{at_end / mib:.1f} MiB at the end (checkov's DEBUG log StringIO holds "
          f"{len(log_stream.getvalue()) / mib:.1f} MiB of text)", file=out)
    print("live memory after the checks ran, by package (where the allocating line is):", file=out)
    for name, size in by_bucket.most_common():
        print(f"  {size / mib:8.1f} MiB  {100 * size / current:5.1f}%  {name}", file=out)
    print(f"top {args.top} allocation sites (live after the checks ran):", file=out)
    for stat in stats[: args.top]:
        frame = stat.traceback[0]
        print(f"  {stat.size / mib:8.1f} MiB  {stat.count:>8} blocks  {frame.filename}:{frame.lineno}", file=out)
    return code


if __name__ == "__main__":
    sys.exit(main())
