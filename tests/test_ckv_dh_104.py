"""CKV_DH_104 (data access to Confidential and Restricted stores is logged): end to end through the checkov CLI
on tests/fixtures/ckv_dh_104, exact outcomes and the key phrases of each finding; unit tests of the selector
semantics in model/audit_logging.py."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from conftest import FIXTURES, Result, outcomes, run_checkov
from data_handling.model.audit_logging import S3_OBJECTS, SPECS, _Identity, _literal_covers, access_logging
from data_handling.policy.schema import DEFAULT_STORE_TYPES

HERE = FIXTURES / "ckv_dh_104"
POLICY_MAP = HERE / "policy_map.yaml"
ORG_TRAIL_MAP = HERE / "policy_map_org_trail.yaml"
CLAUSE = "Role-gated, audited"


@cache
def _scan(fixture: str, policy_map: Path = POLICY_MAP) -> tuple[int, tuple[Result, ...]]:
    code, results, stderr = run_checkov(HERE / fixture, policy_map, check="CKV_DH_104")
    assert "Traceback" not in stderr, stderr
    return code, tuple(results)


def _details(fixture: str, policy_map: Path = POLICY_MAP) -> dict[str, str]:
    _, results = _scan(fixture, policy_map)
    return {r.resource: " ".join(r.details) for r in results}


def _expected(passed: set[str], failed: set[str]) -> set[tuple[str, str, str]]:
    return {("CKV_DH_104", a, "passed") for a in passed} | {("CKV_DH_104", a, "failed") for a in failed}


def _assert_well_formed(fixture: str, policy_map: Path = POLICY_MAP) -> None:
    _, results = _scan(fixture, policy_map)
    for result in results:
        if result.result == "failed":
            assert result.details[0].startswith("Found: "), result
            assert result.details[1].startswith("Policy: ") and CLAUSE in result.details[1], result
            assert result.details[2].startswith("Fix: "), result


def test_s3_buckets_are_logged_by_access_logs_or_trail_data_events():
    code, results = _scan("s3")
    assert code == 1
    assert outcomes(list(results)) == _expected(
        passed={"aws_s3_bucket.orders", "aws_s3_bucket.legacy", 'aws_s3_bucket.exports["daily"]',
                'aws_s3_bucket.exports["monthly"]', "aws_s3_bucket.invoices", "aws_s3_bucket.statements",
                "module.archive.aws_s3_bucket.this"},
        failed={"aws_s3_bucket.customer_uploads", "aws_s3_bucket.reports", "aws_s3_bucket.us_ledger",
                "aws_s3_bucket.payroll", "module.scratch.aws_s3_bucket.this"},
    )  # the Internal log buckets are not reported
    details = _details("s3")
    uploads = details["aws_s3_bucket.customer_uploads"]
    assert "no data-access logging of it was found" in uploads
    assert "aws_s3_bucket_logging" in uploads and "AWS::S3::Object data events" in uploads
    assert "declare audit.organization_trail.data_events: [s3] if an organisation trail logs S3 data events" in uploads
    assert '"arn:aws:s3:::acme-reports-archive/" selects another bucket' in details["aws_s3_bucket.reports"]
    assert "single-region trail in eu-west-1, and the store is in us-east-1" in details["aws_s3_bucket.us_ledger"]
    assert "aws_cloudtrail.paused (trails.tf:69) has enable_logging = false" in details["aws_s3_bucket.payroll"]
    assert "module.archive.aws_s3_bucket.this" in details["module.scratch.aws_s3_bucket.this"]
    _assert_well_formed("s3")


def test_tables_pass_by_a_trail_or_the_organisation_trail_declaration():
    code, results = _scan("tables")
    assert code == 1
    assert outcomes(list(results)) == _expected(
        passed={"aws_dynamodb_table.orders", "aws_secretsmanager_secret.stripe"},
        failed={"aws_dynamodb_table.customers", "aws_sqs_queue.order_events"},
    )
    details = _details("tables")
    assert "declare audit.organization_trail.data_events: [dynamodb] if an organisation trail logs DynamoDB data " \
        "events" in details["aws_dynamodb_table.customers"]
    assert '"aws_dynamodb_table.orders.arn" names aws_dynamodb_table.orders' in details["aws_dynamodb_table.customers"]
    assert "data_events: [sqs]" in details["aws_sqs_queue.order_events"]
    _assert_well_formed("tables")

    # A second policy map declares the organisation trail's DynamoDB data events: the table passes, SQS does not.
    _, declared = _scan("tables", ORG_TRAIL_MAP)
    assert outcomes(list(declared)) == _expected(
        passed={"aws_dynamodb_table.orders", "aws_dynamodb_table.customers", "aws_secretsmanager_secret.stripe"},
        failed={"aws_sqs_queue.order_events"},
    )


def test_databases_need_the_engine_audit_log():
    code, results = _scan("databases")
    assert code == 1
    assert outcomes(list(results)) == _expected(
        passed={"aws_db_instance.orders", "aws_db_instance.ledger", "aws_rds_cluster.catalog",
                "aws_docdb_cluster.profiles", "aws_redshift_cluster.warehouse", "aws_opensearch_domain.search"},
        failed={"aws_db_instance.billing", "aws_db_instance.support", "aws_db_instance.reporting",
                "aws_neptune_cluster.graph", "aws_efs_file_system.shared"},
    )
    details = _details("databases")
    billing = details["aws_db_instance.billing"]
    assert "enabled_cloudwatch_logs_exports = ['error', 'slowquery'] has no \"audit\"" in billing
    assert "MARIADB_AUDIT_PLUGIN" in details["aws_db_instance.billing"]  # what it looked for
    assert "option_group_name is not set: the default option group has no audit plugin" in \
        details["aws_db_instance.support"]
    assert "var.reporting_engine" in details["aws_db_instance.reporting"]
    assert "Could not be evaluated" in details["aws_db_instance.reporting"]
    assert "neptune_enable_audit_log = 1" in details["aws_neptune_cluster.graph"]
    assert "AWS records no data access to EFS" in details["aws_efs_file_system.shared"]
    assert "waiver" in details["aws_efs_file_system.shared"]
    _assert_well_formed("databases")


def test_a_read_replica_takes_its_engine_from_the_source(tmp_path):
    """A replica sets no engine (RDS gives it the source's), as in terraform-aws-modules/rds's replica examples:
    its audit log is judged by the source's engine, not failed as unknown."""
    source = (HERE / "databases" / "main.tf").read_text()
    start = source.index('resource "aws_db_instance" "orders"')
    end = source.index("# ---", source.index('resource "aws_db_option_group" "audit"'))
    (tmp_path / "main.tf").write_text('provider "aws" {\n  region = "eu-west-1"\n}\n'
                                      'locals {\n  confidential = { data_class = "confidential" }\n}\n'
                                      + source[start:end] + """
resource "aws_db_instance" "orders_replica" {
  replicate_source_db             = aws_db_instance.orders.identifier
  instance_class                  = "db.t3.micro"
  option_group_name               = aws_db_option_group.audit.name
  enabled_cloudwatch_logs_exports = ["audit"]
  tags                            = local.confidential
}

resource "aws_db_instance" "orders_replica_unlogged" {
  replicate_source_db = aws_db_instance.orders.identifier
  instance_class      = "db.t3.micro"
  tags                = local.confidential
}

# The engine written as Terraform knows it only after apply (terraform-aws-modules/rds: is_replica is read from
# the source's ARN): still the source's engine.
resource "aws_db_instance" "orders_cross_region_replica" {
  replicate_source_db             = aws_db_instance.orders.arn
  engine                          = aws_db_instance.orders.arn != null ? null : "postgres"
  instance_class                  = "db.t3.micro"
  option_group_name               = aws_db_option_group.audit.name
  enabled_cloudwatch_logs_exports = ["audit"]
  tags                            = local.confidential
}
""")
    _, results, stderr = run_checkov(tmp_path, POLICY_MAP, check="CKV_DH_104")
    assert "Traceback" not in stderr, stderr
    assert outcomes(results) == {("CKV_DH_104", "aws_db_instance.orders", "passed"),
                                 ("CKV_DH_104", "aws_db_instance.billing", "failed"),  # as in databases/
                                 ("CKV_DH_104", "aws_db_instance.support", "failed"),
                                 ("CKV_DH_104", "aws_db_instance.orders_replica", "passed"),
                                 ("CKV_DH_104", "aws_db_instance.orders_replica_unlogged", "failed"),
                                 ("CKV_DH_104", "aws_db_instance.orders_cross_region_replica", "passed")}
    unlogged = " ".join(next(r.details for r in results if r.resource.endswith("orders_replica_unlogged")))
    assert 'has no "audit"' in unlogged or "enabled_cloudwatch_logs_exports" in unlogged, unlogged
    assert "engine of" not in unlogged


def test_a_waiver_turns_a_store_without_an_audit_mechanism_into_a_skip(tmp_path):
    policy_map = tmp_path / "policy_map.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + "waivers:\n  - {check: CKV_DH_104, resource: "
                          "\"aws_efs_file_system.shared\", reason: \"clients run auditd\", expires: 2027-06-30}\n")
    _, results, _ = run_checkov(HERE / "databases", policy_map, check="CKV_DH_104")
    assert ("CKV_DH_104", "aws_efs_file_system.shared", "skipped") in outcomes(results)


# --- the model ----------------------------------------------------------------------------------------------


_ORDERS = _Identity("arn:aws:s3:::acme-orders/", "s3", "acme-orders", None, None)
_TABLE = _Identity("arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "dynamodb", "table/orders", "eu-west-1",
                   "123456789012")


@pytest.mark.parametrize(("identity", "value", "operator", "covered"), [
    (_ORDERS, "arn:aws:s3", "starts_with", True),  # every bucket
    (_ORDERS, "arn:aws:s3:::", "starts_with", True),
    (_ORDERS, "arn:aws:s3:::acme-orders/", "starts_with", True),
    (_ORDERS, "arn:aws:s3:::acme-orders", "starts_with", True),
    (_ORDERS, "arn:aws:s3:::acme-orders/exports/", "starts_with", False),  # only a prefix of its objects
    (_ORDERS, "arn:aws:s3:::acme-orders-archive/", "starts_with", False),
    (_ORDERS, "arn:aws:s3:::acme-orders/", "equals", False),  # one object named ""
    (_ORDERS, "arn:aws:dynamodb", "starts_with", False),
    (_TABLE, "arn:aws:dynamodb", "starts_with", True),
    (_TABLE, "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "equals", True),
    (_TABLE, "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", "starts_with", True),
    (_TABLE, "arn:aws:dynamodb:eu-west-1:210987654321:table/orders", "equals", False),  # another account
    (_TABLE, "arn:aws:dynamodb:us-east-1:123456789012:table/orders", "equals", False),  # another region
    (_TABLE, "arn:aws:dynamodb:eu-west-1:123456789012:table/customers", "equals", False),
])
def test_literal_selector_values(identity, value, operator, covered):
    assert _literal_covers(value, identity, operator)[0] is covered


def test_every_default_store_type_has_a_decision():
    # A store type with no entry would fail as unknown; the defaults must all be decided and documented.
    assert set(DEFAULT_STORE_TYPES) <= set(SPECS)
    docs = (Path(__file__).resolve().parents[1] / "docs/checks/CKV_DH_104.md").read_text()
    for store_type in DEFAULT_STORE_TYPES:
        assert f"`{store_type}`" in docs, store_type
    assert S3_OBJECTS.basic_selector


def test_management_event_coverage(model_of):
    infra = model_of({"main.tf": """
        provider "aws" { region = "eu-west-1" }
        resource "aws_secretsmanager_secret" "a" { name = "a" }
        resource "aws_cloudtrail" "writes" {
          name           = "writes"
          s3_bucket_name = "logs"
          event_selector {
            read_write_type = "WriteOnly"
          }
        }
        resource "aws_cloudtrail" "us" {
          name           = "us"
          s3_bucket_name = "logs"
          region         = "us-east-1"
        }
    """})
    secret = next(r for r in infra.resources if r.type == "aws_secretsmanager_secret")
    logging = access_logging(secret, infra)
    assert logging is not None and not logging.found
    assert any("WriteOnly, so reads are not recorded" in n for n in logging.near)
    assert any("single-region trail in us-east-1" in n for n in logging.near)


# --- plans ------------------------------------------------------------------------------------------------------

# Real `terraform show -json` plans of the three roots (Terraform 1.11, AWS provider 5.100 from /opt/tf-plugins,
# offline: mock credentials and the provider's skip_* flags in an override file, the roots copied with
# ../modules beside them). The databases plan was made with -var reporting_engine=postgres, since the variable
# has no value: there the instance fails for the missing postgresql export instead of the unknown engine.
REAL_PLANS = FIXTURES / "plans" / "terraform"


@pytest.mark.parametrize(("fixture", "policy_map"), [("s3", POLICY_MAP), ("tables", POLICY_MAP),
                                                     ("tables", ORG_TRAIL_MAP), ("databases", POLICY_MAP)])
def test_real_plans_give_the_same_results_as_the_source(fixture: str, policy_map: Path):
    _, from_source = _scan(fixture, policy_map)
    _, from_plan, stderr = run_checkov(REAL_PLANS / f"ckv_dh_104_{fixture}.json", policy_map,
                                       "--repo-root-for-plan-enrichment", str(HERE / fixture), check="CKV_DH_104",
                                       framework="terraform_plan")
    assert "Traceback" not in stderr
    assert from_plan
    assert outcomes(from_plan) == outcomes(list(from_source))


def test_an_organisation_trail_declaration_covers_management_event_stores(model_of):
    from data_handling.policy.loader import parse
    from data_handling.rules import access_audited

    infra = model_of({"main.tf": """
        provider "aws" { region = "eu-west-1" }
        resource "aws_secretsmanager_secret" "api" {
          name = "api"
          tags = { data_class = "restricted" }
        }
        resource "aws_s3_bucket" "exports" {
          bucket = "exports"
          tags   = { data_class = "confidential" }
        }
    """})
    secret, bucket = (next(r for r in infra.resources if r.type == kind)
                      for kind in ("aws_secretsmanager_secret", "aws_s3_bucket"))
    plain = parse(POLICY_MAP.read_text(), str(POLICY_MAP))[0]
    declared = parse(ORG_TRAIL_MAP.read_text(), str(ORG_TRAIL_MAP))[0]  # data_events: [dynamodb]
    outcome = access_audited.evaluate(secret, infra, plain)
    assert outcome is not None and not outcome.passed
    assert "no aws_cloudtrail in this configuration" in outcome.found
    assert "declare audit.organization_trail in the policy map if an organisation trail" in outcome.found
    assert access_audited.evaluate(secret, infra, declared).passed  # the organisation trail records reads
    assert not access_audited.evaluate(bucket, infra, declared).passed  # S3 data events are not declared
