"""Which directories are root modules: those no other Terraform in the tree calls as a local module.

A directory that other Terraform calls with a relative `source` ("../modules/x") is a module, not a root:
evaluated alone its variables have no values. The pre-commit hook scans the roots that call a changed
module, and a resource checkov hands a check from a `.tf.json` file is evaluated in the roots that call its
directory (transitively), as Terraform would.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# `source = "./x"` in HCL, `"source": "./x"` in Terraform JSON.
_LOCAL_SOURCE = re.compile(r'^\s*"?source"?\s*[=:]\s*"(\.\.?/[^"]*)"', re.MULTILINE)
TERRAFORM_FILE_SUFFIXES = (".tf", ".tf.json")


def is_terraform_file(name: str) -> bool:
    return name.endswith(TERRAFORM_FILE_SUFFIXES) and not name.startswith(".")


def has_terraform(directory: Path) -> bool:
    try:
        return any(is_terraform_file(entry.name) and entry.is_file() for entry in os.scandir(directory))
    except OSError:
        return False


def module_callers(repository: Path) -> dict[Path, set[Path]]:
    """Local module directory -> the directories whose Terraform calls it with a relative `source`."""
    callers: dict[Path, set[Path]] = {}
    top = repository.resolve()
    for directory, subdirectories, files in os.walk(top):
        # .terraform/ (downloaded modules), .git/, other tools' caches
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith(".") and d != "node_modules")
        for name in sorted(files):
            if not is_terraform_file(name):
                continue
            path = Path(directory) / name
            try:
                if not path.is_file():
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for source in _LOCAL_SOURCE.findall(text):
                module = (path.parent / source).resolve()
                if module.is_dir() and module != path.parent and has_terraform(module):
                    callers.setdefault(module, set()).add(path.parent)
    return callers


def calling_roots(directory: Path, callers: dict[Path, set[Path]], seen: frozenset[Path] = frozenset()
                  ) -> set[Path]:
    """The roots whose module tree includes `directory`: itself when nothing calls it."""
    parents = callers.get(directory, set()) - seen - {directory}
    if not parents:
        return {directory}
    roots: set[Path] = set()
    for parent in parents:
        roots |= calling_roots(parent, callers, seen | {directory})
    return roots
