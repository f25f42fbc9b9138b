"""End to end: the real checkov CLI loads checks/ and runs it on the fixtures; exact IDs, addresses, results."""

from __future__ import annotations

from conftest import FIXTURES, outcomes, run_checkov

POLICY_MAP = FIXTURES / "policy_map.yaml"


def _scan(fixture: str):
    code, results, stderr = run_checkov(FIXTURES / fixture, POLICY_MAP)
    assert "Traceback" not in stderr, stderr
    return code, results


def test_ckv_dh_100_from_tags_rules_waivers_and_skip_comments():
    code, results = _scan("ckv_dh_100/tags")
    assert code == 1
    assert {o for o in outcomes(results) if o[0] == "CKV_DH_100"} == {
        ("CKV_DH_100", "aws_s3_bucket.tagged_confidential", "passed"),
        ("CKV_DH_100", "aws_s3_bucket.second_tag_key", "passed"),
        ("CKV_DH_100", "aws_s3_bucket.no_class", "failed"),
        ("CKV_DH_100", "aws_dynamodb_table.bad_value", "failed"),
        ("CKV_DH_100", "aws_s3_bucket.conflicting_keys", "failed"),
        ("CKV_DH_100", "aws_s3_bucket.unrendered", "failed"),
        ("CKV_DH_100", "aws_sqs_queue.by_rule_jobs", "passed"),
        ("CKV_DH_100", "aws_s3_bucket.waived", "skipped"),
        ("CKV_DH_100", "aws_s3_bucket.waiver_expired", "failed"),
        ("CKV_DH_100", "aws_s3_bucket.inline_skip", "skipped"),
    }
    by_resource = {r.resource: r for r in results if r.check_id == "CKV_DH_100"}
    assert any('"secret"' in d and "not one of" in d for d in by_resource["aws_dynamodb_table.bad_value"].details)
    assert any("could not be evaluated" in d for d in by_resource["aws_s3_bucket.unrendered"].details)
    assert by_resource["aws_s3_bucket.waived"].suppress_comment == (
        "Waived by the policy map until 2099-12-31: legacy bucket, owner DATA-123")
    assert any("expired on 2020-01-31" in d for d in by_resource["aws_s3_bucket.waiver_expired"].details)
    assert by_resource["aws_s3_bucket.inline_skip"].suppress_comment.startswith("classified in the data catalogue")
    for result in by_resource.values():
        if result.result == "failed":
            assert result.details[0].startswith("Found: ")
            assert any(d.startswith("Policy: ") and "four buckets" in d for d in result.details)
            assert any(d.startswith("Fix: ") for d in result.details)


def test_ckv_dh_100_from_provider_default_tags_and_modules():
    code, results = _scan("ckv_dh_100/default_tags")
    assert code == 1
    assert {o for o in outcomes(results) if o[0] == "CKV_DH_100"} == {
        ("CKV_DH_100", "aws_s3_bucket.from_default_provider", "passed"),
        ("CKV_DH_100", "aws_s3_bucket.untagged_provider", "failed"),
        ("CKV_DH_100", "aws_s3_bucket.from_variable_default_tags", "passed"),
        ("CKV_DH_100", "module.tagged_store.aws_s3_bucket.this", "passed"),
        ("CKV_DH_100", "module.untagged_store.aws_s3_bucket.this", "failed"),
    }


def test_ckv_dh_101_regions_tenants_and_modules():
    code, results = _scan("ckv_dh_101")
    assert code == 1
    assert {o for o in outcomes(results) if o[0] == "CKV_DH_101"} == {
        ("CKV_DH_101", "aws_s3_bucket.acme_home", "passed"),
        ("CKV_DH_101", "aws_s3_bucket.acme_in_us", "failed"),
        ("CKV_DH_101", "aws_dynamodb_table.v6_region", "failed"),
        ("CKV_DH_101", "aws_s3_bucket.tenant_typo", "failed"),
        ("CKV_DH_101", "aws_s3_bucket.globex_home", "passed"),
        ("CKV_DH_101", "aws_s3_bucket.restricted_away", "failed"),
        ("CKV_DH_101", "aws_sqs_queue.shared_in_home_regions", "passed"),
        ("CKV_DH_101", "aws_sqs_queue.shared_in_sydney", "failed"),
        ("CKV_DH_101", "aws_s3_bucket.region_unknown", "failed"),
        ("CKV_DH_101", "module.acme_in_us_module.aws_s3_bucket.this", "failed"),
        ("CKV_DH_101", "module.acme_nested.module.bucket.aws_s3_bucket.this", "passed"),
        ("CKV_DH_101", "module.globex_nested.module.bucket.aws_s3_bucket.this", "passed"),
        ("CKV_DH_101", "module.acme_nested_wrong.module.bucket.aws_s3_bucket.this", "failed"),
    }
    details = {r.resource: " ".join(r.details) for r in results if r.check_id == "CKV_DH_101"}
    assert "us-east-1" in details["aws_s3_bucket.acme_in_us"] and "eu-west-1" in details["aws_s3_bucket.acme_in_us"]
    assert "us-west-2" in details["aws_dynamodb_table.v6_region"]
    assert '"acm"' in details["aws_s3_bucket.tenant_typo"] and "acme, globex" in details["aws_s3_bucket.tenant_typo"]
    assert "cannot be determined" in details["aws_s3_bucket.region_unknown"]
    assert "var.region_from_pipeline" in details["aws_s3_bucket.region_unknown"]
    nested = details["module.acme_nested_wrong.module.bucket.aws_s3_bucket.this"]
    assert "ap-southeast-2" in nested and "aws.sydney" in nested


def test_invalid_policy_map_fails_every_check_under_plain_checkov(tmp_path):
    broken = tmp_path / "policy_map.yaml"
    broken.write_text("version: 1\nresidency:\n  tenants:\n    acme: {home_region: eu-wst-1}\n")
    code, results, _ = run_checkov(FIXTURES / "ckv_dh_101", broken)
    assert code == 1
    ours = [r for r in results if r.check_id.startswith("CKV_DH_")]
    assert ours and all(r.result == "failed" for r in ours)
    assert all("residency.tenants.acme.home_region" in r.details[0] and str(broken) in r.details[0] for r in ours)


def test_a_raising_check_fails_instead_of_vanishing(tmp_path):
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "__init__.py").write_text("")
    (checks / "dh_999_raises.py").write_text(
        "from data_handling.checkov_adapter.base import DataHandlingCheck\n"
        "def explode(resource, infra, policy):\n"
        "    raise RuntimeError('boom')\n"
        "check = DataHandlingCheck('CKV_DH_100', explode)\n"
    )
    code, results, _ = run_checkov(FIXTURES / "ckv_dh_100/tags", POLICY_MAP, checks_dir=checks)
    assert code == 1
    ours = [r for r in results if r.check_id == "CKV_DH_100"]
    assert ours and all(r.result in ("failed", "skipped") for r in ours)
    failed = [r for r in ours if r.result == "failed"]
    assert failed and all("RuntimeError: boom" in r.details[0] for r in failed)
