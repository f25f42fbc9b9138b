"""`data-handling-pre-commit [options] FILE...`: the pre-commit hook (.pre-commit-hooks.yaml).

pre-commit passes the changed files; Terraform is checked per root module, not per file, so the hook scans
the directories those files are in. A directory that other Terraform in the repository calls as a local
module (`source = "../modules/x"`) is not a root: scanned alone its variables have no values, and the checks
would fail closed on everything. The hook scans the roots that call it instead (transitively). Directories
inside another scanned root are covered by it (checkov scans directories recursively).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from data_handling.model.hcl.roots import calling_roots, has_terraform, module_callers
from data_handling.safe_text import one_line

TERRAFORM_SUFFIXES = (".tf", ".tfvars", ".tf.json", ".tfvars.json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="data-handling-pre-commit", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="changed files (pre-commit passes them)")
    parser.add_argument("--policy-map", help="policy map (default: ./policy_map.yaml, else the packaged one)")
    parser.add_argument("--with-builtin-checks", action="store_true", help="also run checkov's built-in checks")
    args = parser.parse_args(argv)
    roots = roots_for(args.files, Path.cwd())
    options = [*(["--policy-map", args.policy_map] if args.policy_map else []),
               *(["--with-builtin-checks"] if args.with_builtin_checks else [])]
    worst = 0
    for root in roots:
        print(f"data-handling: scanning {one_line(_shown(root))}", file=sys.stderr, flush=True)
        # one process per root: checkov keeps global state between runs
        done = subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", str(root), *options])
        worst = max(worst, done.returncode)
    return worst


def roots_for(files: Iterable[str], repository: Path) -> list[Path]:
    """The directories to scan for these changed files: their directories, with local modules replaced by the
    roots that call them, and directories inside another chosen one dropped."""
    changed = {Path(name).resolve().parent for name in files if name.endswith(TERRAFORM_SUFFIXES)}
    callers = module_callers(repository)
    roots: set[Path] = set()
    for directory in changed:
        roots |= calling_roots(directory, callers)
    kept: list[Path] = []
    for root in sorted(roots, key=lambda path: len(path.parts)):
        if not any(root.is_relative_to(outer) for outer in kept) and _holds_terraform(root):
            kept.append(root)
    return sorted(kept)


def _holds_terraform(root: Path) -> bool:
    """A .tf or .tf.json file in the directory or below it (checkov scans directories recursively)."""
    return any(has_terraform(Path(directory)) for directory, _, _ in os.walk(root))


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
