"""The `data-handling scan` command: exit codes, fail-closed errors, outputs, built-in checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO

POLICY_MAP = FIXTURES / "policy_map.yaml"


def cli(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None, prelude: str = ""):
    """Run the CLI in a fresh interpreter; `prelude` runs first (to inject faults)."""
    environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
    environment.update(env or {})
    code = textwrap.dedent(prelude) + "\nimport sys\nfrom data_handling.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=600)


def test_clean_scan_exits_zero():
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(POLICY_MAP))
    assert done.returncode == 0, done.stderr
    assert "0 finding(s)" in done.stderr


def test_findings_exit_one_and_json_output_lists_them():
    done = cli("scan", str(FIXTURES / "ckv_dh_101"), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    failed = {(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]}
    assert ("CKV_DH_101", "aws_s3_bucket.acme_in_us") in failed
    assert all(c["check_id"].startswith("CKV_DH_") for c in report["results"]["failed_checks"])


def test_policy_map_from_environment_variable():
    done = cli("scan", str(FIXTURES / "clean"), env={"DATA_HANDLING_POLICY_MAP": str(POLICY_MAP)})
    assert done.returncode == 0, done.stderr
    assert "$DATA_HANDLING_POLICY_MAP" in done.stderr


def _assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("data-handling: error: ")]
    assert len(errors) == 1, done.stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_invalid_policy_map_exits_two_before_scanning(tmp_path):
    broken = tmp_path / "map.yaml"
    broken.write_text("version: 1\nclassification:\n  defaults: confidential\n")
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(broken))
    _assert_one_line_error(done, str(broken), "classification.defaults", "unknown key")
    assert done.stdout == ""


def test_missing_policy_map_exits_two(tmp_path):
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(tmp_path / "nope.yaml"))
    _assert_one_line_error(done, "nope.yaml", "not found")


def test_unreadable_or_empty_input_exits_two(tmp_path):
    _assert_one_line_error(cli("scan", str(tmp_path / "missing"), "--policy-map", str(POLICY_MAP)),
                           "no such file")
    _assert_one_line_error(cli("scan", str(tmp_path), "--policy-map", str(POLICY_MAP)), "no Terraform")


def test_malformed_hcl_exits_two():
    done = cli("scan", str(FIXTURES / "malformed"), "--policy-map", str(POLICY_MAP))
    _assert_one_line_error(done, "is not valid HCL", "malformed/main.tf")


def test_a_raising_rule_exits_two():
    prelude = """
        import data_handling.rules.store_classified as rule
        def explode(*args, **kwargs):
            raise RuntimeError("injected fault")
        rule.classify = explode
    """
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(POLICY_MAP), prelude=prelude)
    _assert_one_line_error(done, "CKV_DH_100 raised", "injected fault")


def test_a_check_that_did_not_load_exits_two(tmp_path):
    partial = tmp_path / "checks"
    partial.mkdir()
    (partial / "__init__.py").write_text("")
    source = REPO / "checks" / "dh_100_store_classified.py"
    (partial / source.name).write_text(source.read_text())
    prelude = f"""
        import pathlib, data_handling.cli as cli
        cli.checks_dir = lambda: pathlib.Path({str(partial)!r})
    """
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(POLICY_MAP), prelude=prelude)
    _assert_one_line_error(done, "CKV_DH_101", "did not load")


def test_builtin_checks_run_beside_ours_without_ckv_aws_144():
    done = cli("scan", str(FIXTURES / "ckv_dh_101"), "--policy-map", str(POLICY_MAP), "--with-builtin-checks",
               "--output", "json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    reports = report if isinstance(report, list) else [report]
    # The CLI reports failures only (--quiet); CKV_AWS_144 would fail every bucket here had it run.
    ids = {c["check_id"] for r in reports for c in r["results"]["failed_checks"]}
    assert "CKV_DH_101" in ids
    assert any(i.startswith("CKV_AWS_") for i in ids)
    assert "CKV_AWS_144" not in ids


def test_only_our_checks_run_by_default():
    done = cli("scan", str(FIXTURES / "ckv_dh_100/tags"), "--policy-map", str(POLICY_MAP), "--output", "json")
    report = json.loads(done.stdout)
    ids = {c["check_id"] for c in report["results"]["failed_checks"]}
    # No built-in check: the unclassified stores fail CKV_DH_100, and nothing logs their access (CKV_DH_104).
    # ... and nothing shows they are not public, which an unclassified store must show (CKV_DH_103)
    assert ids == {"CKV_DH_100", "CKV_DH_103", "CKV_DH_104"}


def test_output_file_path_writes_reports(tmp_path):
    done = cli("scan", str(FIXTURES / "ckv_dh_101"), "--policy-map", str(POLICY_MAP), "--output", "json",
               "--output-file-path", str(tmp_path))
    assert done.returncode == 1, done.stderr
    written = list(tmp_path.glob("*.json"))
    assert written and json.loads(written[0].read_text())["results"]["failed_checks"]


@pytest.mark.parametrize(("item", "resource_type"), [
    ("/repo/main.tf:aws_s3_bucket.orders", "aws_s3_bucket"),
    ('/repo/main.tf:aws_s3_bucket.orders["eu.orders"]', "aws_s3_bucket"),  # a for_each key with a dot
    ('/repo/m.tf:module.a["x.y"].aws_dynamodb_table.t["arn:aws:dynamodb:eu-west-1:1:table/t"]', "aws_dynamodb_table"),
    ("/repo/stack.tf.json:aws_sqs_queue.jobs", "aws_sqs_queue"),
])
def test_the_type_of_a_reported_resource_survives_dots_and_colons_in_instance_keys(item, resource_type):
    from data_handling.cli import _resource_type

    assert _resource_type(item) == resource_type
