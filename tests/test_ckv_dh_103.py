"""End to end: CKV_DH_103 through the real checkov CLI on tests/fixtures/ckv_dh_103; exact outcomes per stack and
the key phrases of each finding (the store exposed, its class, the mechanism), plus the rule's class judgement."""

from __future__ import annotations

import json
from functools import cache

import pytest

from conftest import FIXTURES, Result, outcomes, run_checkov
from data_handling.policy.catalogue import CATALOGUE

HERE = FIXTURES / "ckv_dh_103"
POLICY_MAP = HERE / "policy_map.yaml"
CHECK = "CKV_DH_103"


@cache
def _scan() -> tuple[int, tuple[Result, ...]]:
    code, results, stderr = run_checkov(HERE, POLICY_MAP, check=CHECK)
    assert "Traceback" not in stderr, stderr
    return code, tuple(results)


def _outcomes(stack: str) -> set[tuple[str, str, str]]:
    _, results = _scan()
    return outcomes([r for r in results if r.file.startswith(f"/{stack}/")], CHECK)


def _details(stack: str) -> dict[str, str]:
    _, results = _scan()
    return {r.resource: " ".join(r.details) for r in results if r.file.startswith(f"/{stack}/")}


def _expect(stack: str, failed: set[str], passed: set[str]) -> None:
    assert _outcomes(stack) == {(CHECK, a, "failed") for a in failed} | {(CHECK, a, "passed") for a in passed}


def test_s3_acls_policies_and_public_access_blocks():
    _expect("s3", failed={
        "aws_s3_bucket_policy.invoices", "aws_s3_bucket.exports", "aws_s3_bucket_acl.exports",
        "aws_s3_bucket_public_access_block.reports", "aws_s3_bucket.legacy", "aws_s3_bucket_policy.archive_any_org",
        "aws_s3_bucket_policy.archive_unknown_org", "aws_s3_bucket.scratch", "aws_s3_bucket_acl.statements",
    }, passed={
        "aws_s3_bucket.statements", "aws_s3_bucket_public_access_block.statements",
        "aws_s3_bucket.orders", "aws_s3_bucket_public_access_block.orders", "aws_s3_bucket_policy.orders",
        "aws_s3_bucket.invoices", "aws_s3_bucket_public_access_block.invoices", "aws_s3_bucket.website",
        "aws_s3_bucket_policy.website", "aws_s3_bucket.reports", "aws_s3_bucket_public_access_block.legacy",
        "aws_s3_bucket.archive", "aws_s3_bucket_public_access_block.archive",
    })
    details = _details("s3")
    invoices = details["aws_s3_bucket_policy.invoices"]
    assert "makes aws_s3_bucket.invoices, which holds confidential" in invoices
    assert 'statement "ReadOverTls" of data.aws_iam_policy_document.invoices_open' in invoices
    assert "wildcard principal *" in invoices and 'aws:SecureTransport = "true" restrict no caller' in invoices
    assert "has no aws_s3_bucket_public_access_block" in details["aws_s3_bucket.exports"]
    assert 'canned ACL "public-read"' in details["aws_s3_bucket_acl.exports"]
    assert "access_control_policy grant 1" in details["aws_s3_bucket_acl.statements"]
    assert "grants READ to AllUsers" in details["aws_s3_bucket_acl.statements"]
    assert "turns off block_public_policy" in details["aws_s3_bucket_public_access_block.reports"]
    assert "holds restricted" in details["aws_s3_bucket_public_access_block.reports"]
    assert "grants READ to AuthenticatedUsers" in details["aws_s3_bucket.legacy"]
    assert "policy of aws_s3_bucket.legacy" not in details["aws_s3_bucket.legacy"]  # scoped to the org
    assert 'StringLike aws:PrincipalOrgID = "*"' in details["aws_s3_bucket_policy.archive_any_org"]
    unknown = details["aws_s3_bucket_policy.archive_unknown_org"]
    assert "cannot be verified" in unknown and '"var.reader_org" could not be evaluated' in unknown
    assert "class of the data cannot be determined" in details["aws_s3_bucket.scratch"]


def test_the_account_wide_block_covers_the_buckets_of_its_account_only():
    # aws_s3_bucket.baselined: covered by the block of its account in another stack (account_baseline).
    _expect("account_block", failed={"aws_s3_bucket.other_account"}, passed={
        "aws_s3_bucket.covered", "aws_s3_bucket.loosened", "aws_s3_bucket_public_access_block.loosened",
        "aws_s3_bucket.baselined"})
    assert _outcomes("account_baseline") == set()  # the account block itself exposes no store
    assert "has no aws_s3_bucket_public_access_block" in _details("account_block")["aws_s3_bucket.other_account"]


def test_a_module_that_creates_buckets_and_their_policies():
    buckets = 'module.buckets["{}"].aws_s3_bucket{}.this'
    _expect("modules", failed={buckets.format("customers", "_policy"), "module.ledger.aws_s3_bucket_policy.this"},
            passed={buckets.format(key, kind) for key in ("customers", "catalogue", "analytics")
                    for kind in ("", "_public_access_block")}
            | {buckets.format("catalogue", "_policy"), buckets.format("analytics", "_policy"),
               "module.ledger.aws_s3_bucket.this", "module.ledger.aws_s3_bucket_public_access_block.this"})
    details = _details("modules")
    assert 'holds restricted (classification rule "module.ledger.*"' in \
        details["module.ledger.aws_s3_bucket_policy.this"]
    assert f'makes {buckets.format("customers", "")}, which holds confidential' in \
        details[buckets.format("customers", "_policy")]


def test_resource_policies_of_queues_topics_secrets_keys_tables_catalogs_and_domains():
    _expect("services", failed={
        "aws_sqs_queue.orders", "aws_secretsmanager_secret_policy.api", "aws_dynamodb_resource_policy.customers",
        "aws_glue_resource_policy.catalog", "aws_opensearch_domain.public_search",
    }, passed={
        "aws_sqs_queue.events", "aws_sqs_queue_policy.events", "aws_sns_topic.alerts", "aws_sns_topic_policy.alerts",
        "aws_secretsmanager_secret.api", "aws_kms_key.tables", "aws_kms_key_policy.tables",
        "aws_opensearch_domain.vpc_search", "aws_opensearch_domain.office_search",
        "aws_opensearch_domain_policy.office_search",
    })
    details = _details("services")
    assert 'default_tags of provider "aws"' in details["aws_sqs_queue.orders"]
    assert "NotPrincipal" in details["aws_secretsmanager_secret_policy.api"]
    assert "makes aws_dynamodb_table.customers" in details["aws_dynamodb_resource_policy.customers"]
    assert "makes aws_glue_catalog_database.lake" in details["aws_glue_resource_policy.catalog"]
    assert "public endpoint (no vpc_options)" in details["aws_opensearch_domain.public_search"]


def test_the_class_is_that_of_the_data_exposed():
    _expect("classes", failed={"aws_kms_key.queues", "aws_sqs_queue_policy.elsewhere"}, passed={
        "aws_sqs_queue.orders", "aws_kms_key.build_cache", "aws_sqs_queue.builds",
        "aws_ecr_repository_policy.base_images"})
    details = _details("classes")
    assert "aws_kms_key.queues (the key of aws_sqs_queue.orders)" in details["aws_kms_key.queues"]
    assert "tags of aws_sqs_queue.orders" in details["aws_kms_key.queues"]
    elsewhere = details["aws_sqs_queue_policy.elsewhere"]
    assert "names no aws_sqs_queue of the configuration" in elsewhere
    assert "class of the data cannot be determined" in elsewhere


def test_databases_snapshots_and_images():
    _expect("databases", failed={
        "aws_db_instance.orders", "aws_db_instance.unknown", "aws_redshift_cluster.warehouse",
        "aws_redshiftserverless_workgroup.analytics", "aws_db_snapshot.orders", "aws_ami_launch_permission.app_public",
        "aws_rds_cluster_instance.ledger[1]", "aws_db_snapshot_copy.orders_copy",
    }, passed={
        "aws_db_instance.billing", "aws_db_instance.demo", "aws_rds_cluster_instance.ledger[0]",
        "aws_redshift_cluster.private_warehouse", "aws_db_cluster_snapshot.ledger",
        "aws_snapshot_create_volume_permission.data", "aws_ami_launch_permission.base_public",
    })
    details = _details("databases")
    assert "sets publicly_accessible = true" in details["aws_db_instance.orders"]
    assert '"var.public_db", which could not be evaluated' in details["aws_db_instance.unknown"]
    assert "before 6.0 default to true" in details["aws_redshift_cluster.warehouse"]
    assert "makes aws_redshiftserverless_namespace.analytics" in details["aws_redshiftserverless_workgroup.analytics"]
    assert "made from aws_db_instance.billing" in details["aws_db_snapshot.orders"]
    assert 'shared with "all"' in details["aws_db_snapshot.orders"]
    assert "made from aws_db_snapshot.orders, aws_db_instance.billing" in details["aws_db_snapshot_copy.orders_copy"]
    assert "made from aws_ebs_snapshot.data, aws_ebs_volume.data" in details["aws_ami_launch_permission.app_public"]
    assert "makes aws_rds_cluster.ledger, which holds restricted" in details["aws_rds_cluster_instance.ledger[1]"]


def test_the_redshift_default_follows_the_provider_version_terraform_picks():
    # publicly_accessible unset: public before AWS provider 6.0, private from 6.0 on
    _expect("provider_v6", failed=set(), passed={"aws_redshift_cluster.reporting"})
    _expect("provider_locked_v5", failed={"aws_redshift_cluster.reporting"}, passed=set())
    locked = _details("provider_locked_v5")["aws_redshift_cluster.reporting"]
    assert "before 6.0 default to true" in locked and "pins hashicorp/aws 5.100.0" in locked
    assert 'admits hashicorp/aws ">= 6.0"' not in locked
    assert "no required_providers constraint or lock file" in _details("databases")["aws_redshift_cluster.warehouse"]


def test_every_finding_has_the_found_policy_fix_form():
    code, results = _scan()
    assert code == 1
    failed = [r for r in results if r.result == "failed"]
    assert failed
    for result in failed:
        assert result.details[0].startswith("Found: "), result
        assert result.details[1].startswith("Policy: ") and "Role-gated, audited" in result.details[1], result
        assert result.details[2] == f"Fix: {CATALOGUE[CHECK].fix}", result


# --- the rule over the model ---------------------------------------------------------------------------------


PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'


@pytest.mark.parametrize(("tags", "default", "expected"), [
    ('{ data_class = "public" }', None, "passed"),
    ('{ data_class = "internal" }', "restricted", "passed"),  # a declaration beats the default
    ("{}", "confidential", "failed"),
    ("{}", "internal", "passed"),
    ("{}", None, "failed"),  # unclassified: cannot pass
    ('{ data_class = "secret" }', None, "failed"),  # not a class: cannot pass
])
def test_an_open_bucket_policy_by_class(model_of, tags: str, default: str | None, expected: str):
    from data_handling.policy.loader import parse
    from data_handling.rules import public_access

    infra = model_of({"main.tf": PROVIDER + f"""
resource "aws_s3_bucket" "b" {{
  bucket = "b"
  tags   = {tags}
}}

resource "aws_s3_bucket_policy" "b" {{
  bucket = aws_s3_bucket.b.id
  policy = jsonencode({{ Statement = [{{ Effect = "Allow", Principal = "*", Action = "s3:GetObject" }}] }})
}}
"""})
    policy_text = "version: 1\n" + (f"classification:\n  default: {default}\n" if default else "")
    policy = parse(policy_text, "map.yaml")[0]
    holder = next(r for r in infra.resources if r.type == "aws_s3_bucket_policy")
    outcome = public_access.evaluate(holder, infra, policy)
    assert outcome is not None and ("passed" if outcome.passed else "failed") == expected, outcome


# --- plan parity: real `terraform show -json` plans (tests/plans/terraform_plan.py --all writes them) ----------

PLANS = FIXTURES / "plans" / "terraform"
# Terraform plans only with a value for every variable (SUITE_ROOTS passes -var): the plan then knows what the
# source cannot, so the finding that fails closed on the source passes on the plan.
PLAN_DIFFERENCES = {
    "s3": {"aws_s3_bucket_policy.archive_unknown_org": ("failed", "passed")},  # -var reader_org=o-abc123def4
    "databases": {"aws_db_instance.unknown": ("failed", "passed")},  # -var public_db=false
}


@pytest.mark.parametrize("stack", ["s3", "modules", "databases"])
def test_a_real_plan_gives_the_same_results_as_the_source(stack: str):
    plan = PLANS / f"ckv_dh_103_{stack}.json"
    assert json.loads(plan.read_text())["terraform_version"], "not a terraform show -json plan"
    _, from_source, _ = run_checkov(HERE / stack, POLICY_MAP, check=CHECK)
    _, from_plan, stderr = run_checkov(plan, POLICY_MAP, "--repo-root-for-plan-enrichment", str(HERE / stack),
                                       check=CHECK, framework="terraform_plan")
    assert "Traceback" not in stderr
    expected = outcomes(from_source, CHECK)
    for address, (on_source, on_plan) in PLAN_DIFFERENCES.get(stack, {}).items():
        assert (CHECK, address, on_source) in expected, "stale PLAN_DIFFERENCES entry"
        expected = (expected - {(CHECK, address, on_source)}) | {(CHECK, address, on_plan)}
    assert outcomes(from_plan, CHECK) == expected
    assert any(r.result == "failed" for r in from_plan)


@pytest.mark.parametrize(("constraints", "locked", "at_least_6"), [
    ((">= 6.27",), None, True),
    (("~> 6.0",), None, True),
    ((">= 5.0, < 7.0",), None, False),  # admits 5.x
    ((">= 5.0", "~> 6.2"), None, True),  # Terraform intersects the constraints of every module
    (("> 5.99.99",), None, False),  # 5.99.100 is admitted
    (("!= 5.0",), None, False),
    (("not a constraint",), None, False),  # unreadable: nothing assumed
    ((), None, False),  # nothing said: the older default
    ((">= 6.0",), (5, 100, 0), False),  # the lock file decides
    ((">= 5.0",), (6, 2, 0), True),
])
def test_which_provider_versions_a_configuration_admits(constraints, locked, at_least_6):
    from data_handling.model.provider_version import AwsProviderVersions

    versions = AwsProviderVersions(locked=locked, constraints=tuple((c, "versions.tf") for c in constraints))
    assert versions.always_at_least(6) is at_least_6
