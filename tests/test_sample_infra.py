"""sample_infra/: a scan finds each commented violation (`# VIOLATION <check> <address>: ...`) and nothing else."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_checkov

SAMPLE = REPO / "sample_infra"
POLICY_MAP = REPO / "policy_map.yaml"
ANNOTATION = re.compile(r"^\s*#\s*VIOLATION\s+(CKV_DH_\d+)\s+(\S+?):\s+\S")
STACKS = sorted(path for path in (SAMPLE / "stacks").iterdir() if path.is_dir())


def annotated(stack: Path) -> set[tuple[str, str]]:
    found = set()
    for tf_file in stack.glob("*.tf"):
        for line in tf_file.read_text().splitlines():
            match = ANNOTATION.match(line)
            if match:
                found.add((match.group(1), match.group(2)))
            else:
                assert "VIOLATION" not in line, f"malformed annotation in {tf_file}: {line}"
    return found


def test_every_stack_has_annotated_violations():
    assert len(STACKS) >= 3
    assert all(annotated(stack) for stack in STACKS)
    assert len({c for stack in STACKS for c, _ in annotated(stack)}) >= 2


@pytest.mark.parametrize("stack", STACKS, ids=[s.name for s in STACKS])
def test_stack_findings_are_exactly_its_annotations(stack: Path):
    code, results, stderr = run_checkov(stack, POLICY_MAP)
    assert "Traceback" not in stderr
    failed = {(r.check_id, r.resource) for r in results if r.result == "failed"}
    assert failed == annotated(stack)
    assert code == 1
    # Compliant stores are evaluated too, not silently skipped.
    assert any(r.result == "passed" for r in results)
    for result in results:
        if result.result == "failed":
            assert result.details[0].startswith("Found: ") and result.details[1].startswith("Policy: ")


def test_readme_command_scans_the_whole_tree():
    done = subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", "sample_infra", "--output", "json"],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr
    import json

    report = json.loads(done.stdout)
    failed = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}
    assert failed == set().union(*(annotated(stack) for stack in STACKS))
