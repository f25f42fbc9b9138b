"""Shared test helpers: build the infrastructure model from Terraform text, and run the checkov CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHECKS_DIR = REPO / "checks"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def build_model(root: Path):
    """The infrastructure model of a Terraform directory, from checkov's own graph (as the checks see it)."""
    from checkov.common.graph.db_connectors.rustworkx.rustworkx_db_connector import RustworkxConnector
    from checkov.terraform.graph_manager import TerraformGraphManager

    from data_handling.model.graph_source import build_from_graph

    manager = TerraformGraphManager(db_connector=RustworkxConnector())
    local_graph, _ = manager.build_graph_from_source_directory(str(root), render_variables=True)
    graph = manager.save_graph(local_graph)
    return build_from_graph(graph)


@pytest.fixture(autouse=True)
def _environment_restored():
    """The CLI run in-process (cli.main) sets its scan's variables in os.environ, as a process entry point may: each
    test gets the environment back as it found it, so a later test's checkov subprocess never inherits them."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def model_of(tmp_path: Path):
    def make(files: dict[str, str]):
        return build_model(write_tree(tmp_path, files))

    return make


@dataclass(frozen=True)
class Result:
    check_id: str
    resource: str
    result: str  # passed / failed / skipped
    file: str
    details: tuple[str, ...]
    suppress_comment: str | None = None


def run_checkov(target: Path, policy_map: Path | None = None, *extra: str, cwd: Path | None = None,
                checks_dir: Path = CHECKS_DIR, check: str = "CKV_DH_*", framework: str = "terraform",
                ) -> tuple[int, list[Result], str]:
    """Run the real checkov CLI on a directory with our checks; returns exit code, results and stderr."""
    env = dict(os.environ)
    env.pop("DATA_HANDLING_POLICY_MAP", None)
    if policy_map is not None:
        env["DATA_HANDLING_POLICY_MAP"] = str(policy_map)
    command = [sys.executable, "-m", "checkov.main", "-d" if target.is_dir() else "-f", str(target),
               "--external-checks-dir", str(checks_dir), "--skip-download", "--framework", framework,
               "--check", check, "-o", "json", *extra]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd or REPO, timeout=600)
    results: list[Result] = []
    if completed.stdout.strip():
        payload = json.loads(completed.stdout)
        reports = payload if isinstance(payload, list) else [payload]
        for report in reports:
            checks = report.get("results", {}) if isinstance(report, dict) else {}
            for status in ("passed_checks", "failed_checks", "skipped_checks"):
                for item in checks.get(status, []):
                    results.append(Result(
                        check_id=item["check_id"], resource=item["resource"], result=status.split("_")[0],
                        file=item["file_path"], details=tuple(item.get("details") or ()),
                        suppress_comment=(item.get("check_result") or {}).get("suppress_comment"),
                    ))
    return completed.returncode, results, completed.stderr


def outcomes(results: list[Result], check_prefix: str = "CKV_DH_") -> set[tuple[str, str, str]]:
    return {(r.check_id, r.resource, r.result) for r in results if r.check_id.startswith(check_prefix)}
