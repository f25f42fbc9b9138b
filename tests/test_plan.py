"""Plans (`terraform show -json`): every data-handling check gives the same answers as on the source.

The plan fixtures under tests/fixtures/plans/ are synthesised from their source trees by
tests/plans/synthesize.py (no Terraform binary can run here); test_plan_fixtures_are_current keeps them in
step with the source.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, outcomes, run_checkov

sys.path.insert(0, str(Path(__file__).resolve().parent / "plans"))
from synthesize import fixture_plans, render

TEST_MAP = FIXTURES / "policy_map.yaml"
PLANS = fixture_plans()

# Where a plan and its source legitimately disagree, by plan file name: (check, address) -> (source, plan).
KNOWN_DIFFERENCES: dict[str, dict[tuple[str, str], tuple[str, str]]] = {
    # Provider v5 plans carry no per-resource region, and the plan does not record locals: aws.us takes its
    # region from local.us_region, so on the plan those regions are unknown and the check fails closed.
    "ckv_dh_101_provider_v5.json": {
        ("CKV_DH_101", "aws_s3_bucket.globex_home"): ("passed", "failed"),
        ("CKV_DH_101", "aws_sqs_queue.shared_in_home_regions"): ("passed", "failed"),
        ("CKV_DH_101", "module.globex_nested.module.bucket.aws_s3_bucket.this"): ("passed", "failed"),
    },
    # The key policy names a role ARN known only after apply, so the plan shows the whole policy as unknown: its
    # statements cannot be read there, and CKV_DH_103 fails closed on the key of a Restricted secret.
    # CKV_DH_105 needs the account of every principal and destination. These synthesised plans leave unknown what
    # the source evaluates (a key policy jsonencode'd from var.account_id, a principal from local.account_id,
    # replication destinations from a map in locals), so on the plan the recipient cannot be verified.
    "payments.json": {
        ("CKV_DH_103", "aws_kms_key.legacy_vault"): ("passed", "failed"),
        ("CKV_DH_105", "aws_kms_key.legacy_vault"): ("passed", "failed"),
    },
    "ckv_dh_102_s3.json": {("CKV_DH_105", "aws_s3_bucket_replication_configuration.uploads"): ("passed", "failed")},
    "ckv_dh_20x_vault_kms.json": {
        ("CKV_DH_105", "module.kms.aws_kms_key.this[0]"): ("passed", "failed"),
        ("CKV_DH_105", "module.kms_unrotated.aws_kms_key.this[0]"): ("passed", "failed"),
    },
}


def _policy_map_for(source: Path) -> Path:
    """The nearest policy_map.yaml walking up from the source directory (the repository's for sample_infra)."""
    return next(directory / "policy_map.yaml" for directory in [source, *source.parents]
                if (directory / "policy_map.yaml").is_file())


@pytest.mark.parametrize(("source", "plan", "v6"), PLANS, ids=[p.name for _, p, _ in PLANS])
def test_plan_gives_the_same_results_as_the_source(source: Path, plan: Path, v6: bool):
    policy_map = _policy_map_for(source)
    _, from_source, _ = run_checkov(source, policy_map)
    _, from_plan, stderr = run_checkov(plan, policy_map, "--repo-root-for-plan-enrichment", str(source),
                                          framework="terraform_plan")
    assert "Traceback" not in stderr
    expected = outcomes(from_source)
    for (check_id, address), (on_source, on_plan) in KNOWN_DIFFERENCES.get(plan.name, {}).items():
        assert (check_id, address, on_source) in expected, "stale KNOWN_DIFFERENCES entry"
        expected = (expected - {(check_id, address, on_source)}) | {(check_id, address, on_plan)}
    assert outcomes(from_plan) == expected
    assert from_plan, "the plan scan produced no data-handling results"
    # Findings point at the Terraform source (checkov enriches failures only), so code-scanning annotations
    # land on the code a reviewer changes.
    for result in from_plan:
        if result.result == "failed":
            assert result.file.endswith(".tf"), result


def test_plan_findings_explain_themselves():
    _, results, _ = run_checkov(REPO / "tests/fixtures/plans/ckv_dh_101.json", TEST_MAP,
                                framework="terraform_plan")
    details = {r.resource: " ".join(r.details) for r in results if r.result == "failed"}
    assert "planned region" in details["aws_s3_bucket.acme_in_us"]
    assert "us-east-1" in details["aws_s3_bucket.acme_in_us"]
    assert "could not be evaluated" in details["aws_s3_bucket.region_unknown"]


@pytest.mark.parametrize(("source", "plan", "v6"), PLANS, ids=[p.name for _, p, _ in PLANS])
def test_plan_fixtures_are_current(source: Path, plan: Path, v6: bool):
    assert plan.read_text() == render(source, v6), "regenerate with: python tests/plans/synthesize.py --all"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def test_cli_scans_a_plan_and_points_at_the_source():
    done = _cli("tests/fixtures/plans/ckv_dh_101.json", "--policy-map", str(TEST_MAP), "--output", "json",
                "--repo-root-for-plan-enrichment", "tests/fixtures/ckv_dh_101")
    assert done.returncode == 1, done.stderr
    failed = {(c["check_id"], c["resource"], c["file_path"])
              for c in json.loads(done.stdout)["results"]["failed_checks"]}
    assert ("CKV_DH_101", "aws_s3_bucket.acme_in_us", "main.tf") in failed


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not JSON"),
    ('{"resources": []}', "not a Terraform plan"),
    ('{"format_version": "2.0", "resource_changes": []}', "unsupported plan format_version"),
    ('{"format_version": "1.0", "values": {}}', "not a plan"),
    ('{"format_version": "1.2", "resource_changes": {}, "configuration": {}}', "malformed plan"),
])
def test_a_file_that_is_not_a_plan_is_refused(tmp_path: Path, content: str, message: str):
    bad = tmp_path / "plan.json"
    bad.write_text(content)
    done = _cli(str(bad), "--policy-map", str(TEST_MAP))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert message in done.stderr
