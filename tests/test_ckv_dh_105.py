"""CKV_DH_105 end to end: the real checkov CLI on tests/fixtures/ckv_dh_105/ (policies: resource policies built with
aws_iam_policy_document, jsonencode, conditions and modules; shares: snapshots, permissions, RAM, replication,
backups, streams and grants), exact (check, address, result) sets and the key phrases of the details; plan parity
on a real `terraform show -json` plan; unit tests of model/accounts.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURES, outcomes, run_checkov, write_tree

ROOTS = FIXTURES / "ckv_dh_105"
POLICY_MAP = ROOTS / "policy_map.yaml"
PLANS = FIXTURES / "plans" / "terraform"


def _scan(target: Path, policy_map: Path = POLICY_MAP, framework: str = "terraform", *extra: str,
          ) -> tuple[set[tuple[str, str, str]], dict[str, str]]:
    code, results, stderr = run_checkov(target, policy_map, *extra, check="CKV_DH_105", framework=framework)
    assert "Traceback" not in stderr, stderr
    ours = [r for r in results if r.check_id == "CKV_DH_105"]
    assert code == (1 if any(r.result == "failed" for r in ours) else 0)
    for result in ours:
        if result.result == "failed":
            assert result.details[0].startswith("Found: ")
            assert any(d.startswith("Policy: ") and "third parties" in d for d in result.details)
            assert any(d.startswith("Fix: ") and "organization.account_ids" in d for d in result.details)
    return outcomes(ours), {r.resource: " ".join(r.details) for r in ours}


def _expect(failed: list[str], passed: list[str]) -> set[tuple[str, str, str]]:
    return {("CKV_DH_105", a, "failed") for a in failed} | {("CKV_DH_105", a, "passed") for a in passed}


@pytest.fixture(scope="module")
def policies():
    return _scan(ROOTS / "policies")


@pytest.fixture(scope="module")
def shares():
    return _scan(ROOTS / "shares")


POLICIES = _expect(
    failed=[
        "aws_s3_bucket_policy.orders",
        "aws_s3_bucket_policy.contracts",
        "aws_s3_bucket_policy.statements",
        "aws_kms_key.orders",
        "module.ledger_share.aws_s3_bucket_policy.this[0]",
        "module.payroll_key.aws_kms_key.this",
        "aws_sns_topic_policy.refunds",
    ],
    passed=[
        "aws_s3_bucket_policy.payroll",
        "aws_s3_bucket_policy.checkout_logs",
        "module.reports_key.aws_kms_key.this",
        "aws_s3_bucket_policy.invoices",
        "aws_s3_bucket_policy.reports",
        "aws_s3_bucket_policy.brochures",
        "aws_sqs_queue_policy.order_events",
        "module.metrics_share.aws_s3_bucket_policy.this[0]",
    ],
)

SHARES = _expect(
    failed=[
        "aws_db_snapshot.customers_for_partner",
        "aws_db_cluster_snapshot.legacy_for_partner",
        "aws_snapshot_create_volume_permission.uploads_partner",
        "aws_s3_bucket_replication_configuration.orders_to_partner",
        "aws_s3_bucket_replication_configuration.claims_to_insurer",
        "aws_backup_plan.payments",
        "aws_kinesis_firehose_delivery_stream.clicks_vendor",
        "aws_cloudwatch_log_subscription_filter.checkout_vendor",
        "aws_cloudwatch_event_target.orders_partner",
        "aws_kms_grant.claims_partner",
        "aws_ram_resource_share.ledger",
        "aws_ram_principal_association.ledger_partner",
        "aws_lakeformation_permissions.customers_partner",
        "aws_dlm_lifecycle_policy.ledger",
        "aws_redshift_data_share_authorization.partner",
    ],
    passed=[
        "aws_db_snapshot.customers_dr",
        "aws_ami_launch_permission.base_partner",
        "aws_s3_bucket_replication_configuration.orders_dr",
        "aws_cloudwatch_log_subscription_filter.checkout_central",
        "aws_ram_principal_association.ledger_org",
        "aws_lakeformation_permissions.customers_org",
        "aws_sns_topic.orders",
    ],
)


def test_resource_policies_grant_only_inside_the_organisation(policies):
    found, details = policies
    assert found == POLICIES
    orders = details["aws_s3_bucket_policy.orders"]
    assert "shares Confidential data with an account outside the organisation" in orders
    assert 'statement "PartnerRead" of data.aws_iam_policy_document.orders (buckets.tf:' in orders
    assert "(Allow s3:GetObject)" in orders and "aws_s3_bucket.orders (buckets.tf:3)" in orders
    assert 'principal "arn:aws:iam::999999999999:root": account 999999999999, outside the organisation' in orders
    assert 'tag data_class = "confidential" in tags of aws_s3_bucket.orders' in orders
    # Principal "*" narrowed to another organisation.
    contracts = details["aws_s3_bucket_policy.contracts"]
    assert 'Principal "*" with condition StringEquals aws:PrincipalOrgID = "o-zzzzzzzzzz"' in contracts
    assert "organisation o-zzzzzzzzzz, not organization.id" in contracts and "The data is restricted" in contracts
    # An unrendered variable principal fails, saying what and how to fix it.
    statements = details["aws_s3_bucket_policy.statements"]
    assert "the recipient cannot be verified" in statements
    assert "var.auditor_account" in statements and "give the variable a value" in statements
    # A key policy shares what the key encrypts.
    key = details["aws_kms_key.orders"]
    assert 'statement "PartnerDecrypt"' in key and "aws_s3_bucket.orders (buckets.tf:3)" in key
    assert 'principal "999999999999"' in key and "statement \"Root\"" not in key
    # Through a module: the principal is a module input; the class comes from a classification rule.
    ledger = details["module.ledger_share.aws_s3_bucket_policy.this[0]"]
    assert "arn:aws:iam::888888888888:role/partner-reader" in ledger
    assert 'classification rule "module.ledger_share.*"' in ledger
    # A role passed into a key module is in the account of the provider it is deployed through.
    payroll_key = details["module.payroll_key.aws_kms_key.this"]
    assert "aws_iam_role.vendor_support (organisation.tf:" in payroll_key and "account 666666666666" in payroll_key
    assert "aws_iam_role.payroll_app" not in payroll_key and "aws_s3_bucket.payroll" in payroll_key
    # A role looked up by a data source is in the account of the data source's provider.
    assert "data.aws_iam_role.vendor_support (lookups.tf:" in details["aws_sns_topic_policy.refunds"]


def test_snapshots_ram_copies_streams_and_grants(shares):
    found, details = shares
    assert found == SHARES
    snapshot = details["aws_db_snapshot.customers_for_partner"]
    assert "shared_accounts of aws_db_snapshot.customers_for_partner (snapshots.tf:" in snapshot
    assert "aws_db_instance.customers (snapshots.tf:1)" in snapshot and "account 999999999999" in snapshot
    legacy = details["aws_db_cluster_snapshot.legacy_for_partner"]
    assert "makes a share that cannot be verified" in legacy and "classification.default" in legacy
    volume = details["aws_snapshot_create_volume_permission.uploads_partner"]
    assert "aws_ebs_volume.uploads (snapshots.tf:" in volume  # the snapshot's volume decides its class
    # The destination bucket is deployed through the partner's provider: its assume_role account.
    replication = details["aws_s3_bucket_replication_configuration.orders_to_partner"]
    assert 'S3 replication rule "partner"' in replication and "aws_s3_bucket.orders_landing" in replication
    assert "account 999999999999" in replication
    assert 'destination.account "777777777777"' in details["aws_s3_bucket_replication_configuration.claims_to_insurer"]
    backup = details["aws_backup_plan.payments"]
    assert "arn:aws:backup:eu-west-1:999999999999:backup-vault:partner" in backup
    assert "aws_dynamodb_table.payments" in backup
    firehose = details["aws_kinesis_firehose_delivery_stream.clicks_vendor"]
    assert "https://ingest.vendor.example.com/v1" in firehose and "outside the organisation's AWS accounts" in firehose
    assert "central-telemetry-firehose-backup" not in firehose  # the central backup bucket is inside
    assert "aws_cloudwatch_log_group.checkout" in details["aws_cloudwatch_log_subscription_filter.checkout_vendor"]
    assert "event-bus/partner" in details["aws_cloudwatch_event_target.orders_partner"]
    grant = details["aws_kms_grant.claims_partner"]
    assert "(Decrypt)" in grant and "aws_s3_bucket.claims (replication.tf:" in grant
    assert "aws_s3_bucket_server_side_encryption_configuration" not in grant
    assert "principals outside the organisation may be associated" in details["aws_ram_resource_share.ledger"]
    assert "aws_rds_cluster.ledger" in details["aws_ram_principal_association.ledger_partner"]
    assert "aws_glue_catalog_database.customers" in details["aws_lakeformation_permissions.customers_partner"]
    assert 'target_tags of aws_dlm_lifecycle_policy.ledger' in details["aws_dlm_lifecycle_policy.ledger"]
    datashare = details["aws_redshift_data_share_authorization.partner"]
    assert "consumer_identifier" in datashare and "cannot be determined" in datashare


# --- unit tests of the account model -----------------------------------------------------------------------

def _model(tmp_path: Path, files: dict[str, str]):
    from conftest import build_model

    return build_model(write_tree(tmp_path, files))


def _policy(**organization):
    from data_handling.policy.schema import PolicyMap

    return PolicyMap.model_validate({"version": 1, "organization": organization,
                                     "telemetry": {"central": {"account_ids": ["333333333333"]}}})


def test_recipients_written_as_values(tmp_path: Path):
    from data_handling.model.accounts import placement, recipient_text

    infra = _model(tmp_path, {"main.tf": """
        provider "aws" {
          region              = "eu-west-1"
          allowed_account_ids = ["111111111111"]
        }
        resource "aws_s3_bucket" "b" { bucket = "b" }
    """})
    bucket = infra.resources[0]
    home = placement(bucket, infra)
    assert home.accounts == frozenset({"111111111111"})
    policy = _policy(account_ids=["222222222222"], id="o-abc123def4")

    def party(text: str, kind: str = "arn"):
        return recipient_text(text, bucket, home, infra, policy, "principal", kind)

    assert party("222222222222").inside and party("arn:aws:iam::222222222222:role/x").inside
    assert "scanned account" in party("arn:aws:iam::111111111111:root").inside
    assert "central telemetry" in party("333333333333").inside
    assert party("arn:aws:iam::999999999999:root").external and party("999999999999").account == "999999999999"
    assert party("arn:aws:sts::999999999999:assumed-role/r/s").account == "999999999999"
    assert party("arn:aws:organizations::111111111111:organization/o-abc123def4").inside
    assert party("arn:aws:organizations::111111111111:ou/o-abc123def4/ou-ab12-cdef3456").inside
    other = party("arn:aws:organizations::999999999999:organization/o-zzzzzzzzzz")
    assert other.external and other.organisation == "o-zzzzzzzzzz"
    assert party("logs.amazonaws.com").not_an_account
    assert party("*").anyone and party("*").external
    assert party("arn:aws:iam::${var.partner}:root").unresolved
    assert "scanned account" in party("arn:aws:iam::${data.aws_caller_identity.current.account_id}:root").inside
    # terraform-aws-modules/kms and rds-aurora name the caller by its id (the account ID) and its arn
    assert "scanned account" in party("data.aws_caller_identity.current.id").inside
    assert "scanned account" in party("${data.aws_caller_identity.current.arn}").inside
    assert party("data.aws_caller_identity.current.user_id").unresolved  # not an account or a principal ARN
    assert "S3 ARNs carry no account" in party("arn:aws:s3:::somebody-elses-bucket", "bucket").unresolved
    assert party("arn:aws:s3:::b", "bucket").inside  # the configuration's own bucket, same provider
    assert party("not-an-account").unresolved
    # Without organization.id an organisation ARN cannot be judged.
    unknown_org = recipient_text("arn:aws:organizations::111111111111:organization/o-abc123def4", bucket, home, infra,
                                 _policy(account_ids=["222222222222"]), "principal")
    assert unknown_org.unresolved and "sets no organization.id" in unknown_org.unresolved


def test_placement_of_providers(tmp_path: Path):
    from data_handling.model.accounts import placement

    infra = _model(tmp_path, {"main.tf": """
        variable "role" { type = string }
        provider "aws" { region = "eu-west-1" }
        provider "aws" {
          alias  = "partner"
          region = "eu-west-1"
          assume_role { role_arn = "arn:aws:iam::999999999999:role/t" }
        }
        provider "aws" {
          alias   = "profiled"
          region  = "eu-west-1"
          profile = "vendor"
        }
        provider "aws" {
          alias  = "variable"
          region = "eu-west-1"
          assume_role { role_arn = var.role }
        }
        resource "aws_s3_bucket" "ambient" { bucket = "a" }
        resource "aws_s3_bucket" "partner" {
          provider = aws.partner
          bucket   = "p"
        }
        resource "aws_s3_bucket" "profiled" {
          provider = aws.profiled
          bucket   = "f"
        }
        resource "aws_s3_bucket" "variable" {
          provider = aws.variable
          bucket   = "v"
        }
    """})
    by_name = {r.name: placement(r, infra) for r in infra.resources}
    assert by_name["ambient"].scanned and not by_name["ambient"].unresolved
    assert by_name["partner"].accounts == frozenset({"999999999999"})
    assert "profile" in by_name["profiled"].unresolved and "allowed_account_ids" in by_name["profiled"].unresolved
    assert by_name["variable"].unresolved


def test_conditions_narrow_a_wildcard_principal(tmp_path: Path):
    from data_handling.model.accounts import placement, statement_recipients
    from data_handling.model.iam_policy import from_json

    infra = _model(tmp_path, {"main.tf": 'resource "aws_s3_bucket" "b" { bucket = "b" }\n'})
    bucket = infra.resources[0]
    home = placement(bucket, infra)
    policy = _policy(account_ids=["222222222222"], id="o-abc123def4")

    def parties(condition: dict | None, principal: object = "*"):
        statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": "*"}
        if condition is not None:
            statement["Condition"] = condition
        document = from_json({"Statement": [statement]}, "policy")
        return statement_recipients(document.statements[0], bucket, home, infra, policy)

    assert parties(None)[0].anyone
    assert parties({"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}})[0].inside
    assert parties({"StringEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}})[0].organisation == "o-zzzzzzzzzz"
    assert parties({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123def4/r-ab12/*"}})[0].inside
    assert parties({"StringEquals": {"aws:SourceAccount": "222222222222"}})[0].inside
    assert parties({"StringEquals": {"aws:SourceAccount": "999999999999"}})[0].account == "999999999999"
    assert parties({"ArnLike": {"aws:SourceArn": "arn:aws:sns:*:*:x"}})[0].anyone  # an open pattern
    assert parties({"StringEquals": {"aws:PrincipalAccount": "${var.account}"}})[0].unresolved
    # A negated operator admits everyone else: it narrows nothing.
    assert parties({"StringNotEquals": {"aws:PrincipalOrgID": "o-zzzzzzzzzz"}})[0].anyone
    # An external principal narrowed to the organisation by a condition is inside.
    narrowed = parties({"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"}}, {"AWS": "999999999999"})
    assert narrowed[0].inside
    assert parties(None, {"Service": "cloudtrail.amazonaws.com"})[0].not_an_account
    assert parties(None, {"AWS": "999999999999"})[0].external
    deny = from_json({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*"}]}, "policy")
    assert statement_recipients(deny.statements[0], bucket, home, infra, policy) == []


def test_a_real_plan_gives_the_same_results_as_its_source():
    source, plan = ROOTS / "plan_parity", PLANS / "ckv_dh_105_plan_parity.json"
    assert json.loads(plan.read_text())["terraform_version"], "not a terraform show -json plan"
    from_source, _ = _scan(source)
    from_plan, details = _scan(plan, POLICY_MAP, "terraform_plan", "--repo-root-for-plan-enrichment", str(source))
    assert from_plan == from_source == _expect(
        failed=["aws_s3_bucket_policy.orders", "aws_s3_bucket_policy.contracts",
                "aws_db_snapshot.customers_for_partner", "aws_s3_bucket_replication_configuration.orders_to_insurer",
                "module.ledger_share.aws_s3_bucket_policy.this[0]"],
        passed=["aws_s3_bucket_policy.reports", "aws_s3_bucket_policy.brochures", "aws_db_snapshot.customers_dr",
                "module.metrics_share.aws_s3_bucket_policy.this[0]"],
    )
    assert "account 999999999999" in details["aws_s3_bucket_policy.orders"]


def test_a_provider_whose_account_is_unknown_is_one_account_with_itself(tmp_path: Path):
    from data_handling.model.accounts import placement, recipient_resource

    infra = _model(tmp_path, {"main.tf": """
        provider "aws" {
          region  = "eu-west-1"
          profile = "prod"
        }
        provider "aws" {
          alias   = "other"
          region  = "eu-west-1"
          profile = "elsewhere"
        }
        resource "aws_s3_bucket" "source" { bucket = "s" }
        resource "aws_s3_bucket" "same" { bucket = "t" }
        resource "aws_s3_bucket" "other" {
          provider = aws.other
          bucket   = "o"
        }
    """})
    by_name = {r.name: r for r in infra.resources}
    home = placement(by_name["source"], infra)
    policy = _policy(account_ids=["222222222222"])
    assert home.unresolved and "profile" in home.unresolved
    assert "same provider configuration" in recipient_resource(by_name["same"], home, infra, policy).inside
    other = recipient_resource(by_name["other"], home, infra, policy)
    assert other.unresolved and "allowed_account_ids" in other.unresolved


def test_the_legacy_inline_replication_states_its_destination_account(tmp_path: Path):
    """The inline replication_configuration of aws_s3_bucket names the destination account `account_id` (the S3
    API's Destination.Account, `account` of aws_s3_bucket_replication_configuration): a bucket outside the
    configuration is then judged by that account, as the separate resource's is."""
    from data_handling.rules.no_third_party_sharing import evaluate

    infra = _model(tmp_path, {"main.tf": """
        provider "aws" {
          region              = "eu-west-1"
          allowed_account_ids = ["111111111111"]
        }
        resource "aws_s3_bucket" "to_dr" {
          bucket = "orders"
          tags   = { data_class = "confidential" }
          replication_configuration {
            role = "arn:aws:iam::111111111111:role/replication"
            rules {
              id     = "dr"
              status = "Enabled"
              destination {
                bucket     = "arn:aws:s3:::orders-dr"
                account_id = "222222222222"
              }
            }
          }
        }
        resource "aws_s3_bucket" "to_partner" {
          bucket = "claims"
          tags   = { data_class = "confidential" }
          replication_configuration {
            role = "arn:aws:iam::111111111111:role/replication"
            rules {
              id     = "partner"
              status = "Enabled"
              destination {
                bucket     = "arn:aws:s3:::partner-claims"
                account_id = "999999999999"
              }
            }
          }
        }
    """})
    policy = _policy(account_ids=["222222222222"])
    outcomes = {r.address: evaluate(r, infra, policy) for r in infra.resources}
    assert outcomes["aws_s3_bucket.to_dr"].passed
    failed = outcomes["aws_s3_bucket.to_partner"]
    assert not failed.passed and 'destination.account "999999999999": account 999999999999' in failed.found
