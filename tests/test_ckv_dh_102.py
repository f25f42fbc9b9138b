"""CKV_DH_102 end to end: the real checkov CLI on the fixtures under tests/fixtures/ckv_dh_102/, one scan per root
(s3, databases, copies, unreadable_class, backup_selections, real_copies); exact (check, address, result) sets and
the key phrases of the details."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import FIXTURES, outcomes, run_checkov

ROOTS = FIXTURES / "ckv_dh_102"
POLICY_MAP = ROOTS / "policy_map.yaml"  # classification.default: null
DEFAULT_CONFIDENTIAL = ROOTS / "unreadable_class" / "policy_map_default_confidential.yaml"


def _scan(root: str, policy_map: Path = POLICY_MAP) -> tuple[set[tuple[str, str, str]], dict[str, str]]:
    code, results, stderr = run_checkov(ROOTS / root, policy_map, check="CKV_DH_102")
    assert "Traceback" not in stderr, stderr
    ours = [r for r in results if r.check_id == "CKV_DH_102"]
    assert code == (1 if any(r.result == "failed" for r in ours) else 0)
    for result in ours:
        if result.result == "failed":
            assert result.details[0].startswith("Found: ")
            assert any(d.startswith("Policy: ") and "cross-region read replica" in d for d in result.details)
            assert any(d.startswith("Fix: ") for d in result.details)
    return outcomes(ours), {r.resource: " ".join(r.details) for r in ours}


@pytest.fixture(scope="module")
def s3():
    return _scan("s3")


@pytest.fixture(scope="module")
def databases():
    return _scan("databases")


@pytest.fixture(scope="module")
def copies():
    return _scan("copies")


def _expect(failed: list[str], passed: list[str]) -> set[tuple[str, str, str]]:
    return {("CKV_DH_102", a, "failed") for a in failed} | {("CKV_DH_102", a, "passed") for a in passed}


def test_s3_replication_multi_region_access_points_and_modules(s3):
    found, details = s3
    assert found == _expect(
        failed=[
            "aws_s3_bucket_replication_configuration.orders_to_us",
            "aws_s3_bucket_replication_configuration.contracts_to_partner",
            "aws_s3_bucket_replication_configuration.payroll_dr",
            "aws_s3_bucket_replication_configuration.statements_archive",
            "aws_s3_bucket_replication_configuration.uploads",
            "aws_s3_bucket.ledger",
            "aws_s3control_multi_region_access_point.orders_global",
            "module.exports.aws_s3_bucket_replication_configuration.this[0]",
            "module.customer_docs.module.source.aws_s3_bucket_replication_configuration.this[0]",
        ],
        passed=[
            "aws_s3_bucket_replication_configuration.invoices_same_region",
            "aws_s3_bucket_replication_configuration.build_logs_to_us",
            "aws_s3_bucket.brochures",
            "aws_s3control_multi_region_access_point.build_logs_global",
            "module.reports.aws_s3_bucket_replication_configuration.this[0]",
        ],
    )
    # Source, destination and both regions, each with where it came from.
    orders = details["aws_s3_bucket_replication_configuration.orders_to_us"]
    assert "aws_s3_bucket.orders (main.tf:" in orders and "aws_s3_bucket.orders_replica (main.tf:" in orders
    assert 'eu-west-1 (from provider "aws" (providers.tf:' in orders
    assert 'us-east-1 (from provider "aws.replica" (providers.tf:' in orders
    assert 'tag data_class = "confidential" in tags of aws_s3_bucket.orders' in orders
    assert "aws_s3_bucket_replication_configuration.orders_to_us copies Confidential data out of its region" in orders
    # A bucket outside the configuration cannot be verified.
    partner = details["aws_s3_bucket_replication_configuration.contracts_to_partner"]
    assert "copies Confidential data to a region that cannot be verified" in partner
    assert 'bucket "partner-archive-bucket" is not created in this' in partner
    assert "S3 ARNs carry no region" in partner and "scan the plan" in partner
    assert 'classification = "Confidential "' in partner  # the second tag key, trimmed and case-insensitive
    # The region from a variable default, and from the provider v6 region argument.
    assert 'eu-central-1 (from provider "aws.dr"' in details["aws_s3_bucket_replication_configuration.payroll_dr"]
    archive = details["aws_s3_bucket_replication_configuration.statements_archive"]
    assert "ap-southeast-2 (from region argument of aws_s3_bucket.statements_archive" in archive
    assert "The data is restricted" in archive
    # A dynamic rule over a map: only the rule into another region is reported.
    uploads = details["aws_s3_bucket_replication_configuration.uploads"]
    assert 'rule "dr"' in uploads and "aws_s3_bucket.uploads_dr" in uploads and "uploads_local" not in uploads
    assert "aws_s3_bucket.ledger_replica" in details["aws_s3_bucket.ledger"]
    # Module style: a destination ARN built from a local resolves to the replica module's bucket and its provider.
    exports = details["module.exports.aws_s3_bucket_replication_configuration.this[0]"]
    assert "module.exports_replica.aws_s3_bucket.this" in exports
    assert "via module.exports_replica providers { aws = aws.replica }" in exports
    nested = details["module.customer_docs.module.source.aws_s3_bucket_replication_configuration.this[0]"]
    assert "module.customer_docs.module.replica.aws_s3_bucket.this" in nested
    assert "module.customer_docs providers { aws.replica = aws.dr }" in nested and "eu-central-1" in nested


def test_dynamodb_rds_global_clusters_and_secrets(databases):
    found, details = databases
    assert found == _expect(
        failed=[
            "aws_dynamodb_table.orders",
            "aws_dynamodb_table.customers",
            "module.orders_history.aws_dynamodb_table.this",
            "aws_dynamodb_table_replica.ledger_us",
            "aws_dynamodb_global_table.accounts",
            "aws_db_instance.customers_replica_us",
            "aws_db_instance.billing_replica",
            "aws_db_instance_automated_backups_replication.customers_us",
            "module.payments_db_replica.aws_db_instance.this",
            "aws_rds_global_cluster.orders",
            "aws_rds_cluster.orders_reporting_us",
            "aws_rds_cluster.invoices_member",
            "aws_docdb_global_cluster.profiles",
            "aws_neptune_global_cluster.graph",
            "aws_elasticache_global_replication_group.sessions",
            "aws_memorydb_multi_region_cluster.leaderboard",
            "aws_secretsmanager_secret.api_keys",
            "aws_secretsmanager_secret.db_credentials",
        ],
        passed=[
            "aws_dynamodb_table.sessions",
            "module.catalog.aws_dynamodb_table.this",
            "aws_dynamodb_table_replica.metrics_us",
            "aws_dynamodb_global_table.feature_flags",
            "aws_db_instance.customers_reader",
            "aws_db_instance.reporting_replica_us",
            "aws_db_instance_automated_backups_replication.reporting_us",
            "aws_rds_global_cluster.analytics",
            "aws_rds_cluster.orders_reporting_eu",
            "aws_docdb_global_cluster.catalog",
            "aws_neptune_global_cluster.recommendations",
            "aws_elasticache_global_replication_group.pages",
            "aws_memorydb_multi_region_cluster.status",
            "aws_secretsmanager_secret.feature_config",
        ],
    )
    # Not reported: a dynamic replica block over an empty list, a module table without replicas, a primary.
    reported = {address for _, address, _ in found}
    assert not reported & {"aws_dynamodb_table.carts", "module.profiles.aws_dynamodb_table.this",
                           "module.payments_db.aws_db_instance.this", "aws_db_instance.customers"}
    assert '= "eu-central-1"' in details["aws_dynamodb_table.customers"]  # toset(var.dr_regions), replica.key
    assert '= "us-west-2"' in details["module.orders_history.aws_dynamodb_table.this"]
    assert "us-east-1 (from provider \"aws.replica\"" in details["aws_dynamodb_table_replica.ledger_us"]
    replica = details["aws_db_instance.customers_replica_us"]
    assert "copies aws_db_instance.customers (rds.tf:" in replica
    assert "to aws_db_instance.customers_replica_us" in replica
    billing = details["aws_db_instance.billing_replica"]
    assert "us-west-2 (from the ARN arn:aws:rds:us-west-2:" in billing
    payments = details["module.payments_db_replica.aws_db_instance.this"]
    assert "module.payments_db.aws_db_instance.this" in payments
    assert 'classification rule "module.payments_db.*"' in payments and "restricted" in payments
    assert "aws_rds_cluster.orders_secondary" in details["aws_rds_global_cluster.orders"]
    member = details["aws_rds_cluster.invoices_member"]
    assert "cannot be verified" in member and '"acme-invoices-global"' in member
    assert "aws_elasticache_replication_group.sessions_secondary" in \
        details["aws_elasticache_global_replication_group.sessions"]
    assert '= "eu-central-1"' in details["aws_secretsmanager_secret.db_credentials"]  # dynamic replica over a map


def test_kms_backup_snapshots_redshift_efs_dlm_and_ecr(copies):
    found, details = copies
    assert found == _expect(
        failed=[
            "aws_kms_replica_key.orders_us",
            "aws_kms_key.tokens",
            "aws_kms_replica_external_key.partner_us",
            "module.customer_key_replica.aws_kms_replica_key.this[0]",
            "aws_backup_plan.confidential_dr",
            "aws_backup_plan.orders",
            "aws_ebs_snapshot_copy.customer_data_us",
            "aws_ami_copy.billing_app_us",
            "aws_redshift_snapshot_copy.warehouse_dr",
            "aws_redshift_cluster.finance",
            "aws_efs_replication_configuration.shared_dr",
            "aws_dlm_lifecycle_policy.confidential_volumes",
            "aws_ecr_replication_configuration.home_registry",
        ],
        passed=[
            "aws_kms_replica_key.build_us",
            "aws_kms_replica_external_key.partner_local",
            "aws_backup_plan.local_copies",
            "aws_backup_plan.internal_dr",
            "aws_ebs_snapshot_copy.customer_data_local",
            "aws_ami_copy.base_image_us",
            "aws_redshift_snapshot_copy.marketing_dr",
            "aws_redshift_cluster.clickstream",
            "aws_efs_replication_configuration.media_zone",
            "aws_dlm_lifecycle_policy.scratch",
            "aws_ecr_replication_configuration.us_registry",
        ],
    )
    # Module style: the replica created through aws.replica; the primary reached through the module output.
    replica_key = details["module.customer_key_replica.aws_kms_replica_key.this[0]"]
    assert "copies module.customer_key.aws_kms_key.this[0]" in replica_key
    assert "via module.customer_key_replica providers { aws = aws.replica }" in replica_key
    reported = {address for _, address, _ in found}
    assert not {a for a in reported if a.startswith("module.customer_key.")}  # the primary, and count = 0
    tokens = details["aws_kms_key.tokens"]  # its class comes from the bucket it encrypts
    assert "multi_region = true" in tokens and "aws_s3_bucket.tokens" in tokens and "cannot be verified" in tokens
    assert 'selects data_class = "confidential"' in details["aws_backup_plan.confidential_dr"]
    assert "aws_backup_vault.dr" in details["aws_backup_plan.confidential_dr"]
    orders = details["aws_backup_plan.orders"]  # a dynamic copy_action; the class of the selected table
    assert "us-west-2 (from the ARN arn:aws:backup:us-west-2:" in orders and "aws_dynamodb_table.orders" in orders
    snapshot = details["aws_ebs_snapshot_copy.customer_data_us"]
    assert "aws_ebs_volume.customer_data" in snapshot and "source_region" in snapshot
    assert "target_tags" in details["aws_dlm_lifecycle_policy.confidential_volumes"]
    assert "aws_ecr_repository.scoring_model" in details["aws_ecr_replication_configuration.home_registry"]


# --- the class must be known: an unreadable or undeclared class fails closed ---------------------------------

UNREADABLE_FAILED = [
    "module.efs.aws_efs_replication_configuration.this[0]",
    "module.efs_shared.aws_efs_replication_configuration.this[0]",
    "aws_efs_replication_configuration.scratch",
]
UNREADABLE_PASSED = [
    "aws_efs_replication_configuration.media",
    "module.efs_shared_local.aws_efs_replication_configuration.this[0]",
]


def test_a_copy_whose_class_cannot_be_read_fails_as_unverifiable():
    found, details = _scan("unreadable_class")
    assert found == _expect(failed=UNREADABLE_FAILED, passed=UNREADABLE_PASSED)
    assert not {a for _, a, _ in found if a.startswith("module.efs_disabled.")}  # create = false
    for address in UNREADABLE_FAILED:  # unverifiable, naming the store, why, and both regions
        assert f"{address} makes a copy that cannot be verified" in details[address]
        assert "the copy cannot be verified: the class of " in details[address]
        assert "the source is in eu-west-1 (from provider \"aws\" (providers.tf:1)" in details[address]
    shared = details["module.efs_shared.aws_efs_replication_configuration.this[0]"]
    assert "the class of module.efs_shared.aws_efs_file_system.this[0] cannot be determined: " in shared
    assert "could not be evaluated" in shared and "lands in us-east-1" in shared  # var.shared_class has no value
    scratch = details["aws_efs_replication_configuration.scratch"]
    assert 'tag data_class = "internl" in tags of aws_efs_file_system.scratch' in scratch
    assert "is not one of public, internal, confidential, restricted" in scratch
    efs = details["module.efs.aws_efs_replication_configuration.this[0]"]  # no class anywhere, no default
    assert "the class of module.efs.aws_efs_file_system.this[0] cannot be determined" in efs
    assert "lands in eu-west-2" in efs


def test_an_unclassified_store_takes_the_default_but_an_unreadable_class_stays_unverifiable():
    found, details = _scan("unreadable_class", DEFAULT_CONFIDENTIAL)
    assert found == _expect(failed=UNREADABLE_FAILED, passed=UNREADABLE_PASSED)
    efs = details["module.efs.aws_efs_replication_configuration.this[0]"]
    assert "copies Confidential data out of its region" in efs
    assert "The data is confidential (classification.default for module.efs.aws_efs_file_system.this[0])" in efs
    # An unreadable tag might declare anything: the default does not paper over it.
    assert "makes a copy that cannot be verified" in details["module.efs_shared.aws_efs_replication_configuration."
                                                               "this[0]"]


def test_results_are_the_same_under_every_hash_seed(monkeypatch):
    # The EFS-style fixture passed or failed depending on PYTHONHASHSEED: checkov renders the module's merged tags
    # in an order taken from a set, so a run saw them or did not; an unreadable class then passed.
    runs = []
    for seed in ("0", "1", "2", "3"):
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        code, results, stderr = run_checkov(ROOTS / "unreadable_class", DEFAULT_CONFIDENTIAL, check="CKV_DH_102")
        assert "Traceback" not in stderr, stderr
        runs.append((code, sorted((r.check_id, r.resource, r.result, r.details) for r in results)))
    assert all(run == runs[0] for run in runs[1:])
    assert {(c, a, r) for c, a, r, _ in runs[0][1]} == _expect(failed=UNREADABLE_FAILED, passed=UNREADABLE_PASSED)


# --- AWS Backup selections: wildcards, tags, and the stores this configuration cannot see -----------------------

BACKUP_FAILED = [
    "aws_backup_plan.tables",
    "aws_backup_plan.buckets",
    "aws_backup_plan.everything",
    "aws_backup_plan.daily_tag",
    "aws_backup_plan.legacy_db",
    "aws_backup_plan.unassigned",
    "module.cross_region_backup.aws_backup_plan.this[0]",
]
BACKUP_PASSED = [
    "aws_backup_plan.internal_by_tag",
    "aws_backup_plan.internal_tables",
    "aws_backup_plan.assets",
    "aws_backup_plan.oregon_tables",
    "aws_backup_plan.nothing",
]
UNSEEN = {  # what each selection picks outside this configuration
    "aws_backup_plan.tables": 'aws_backup_selection.tables (plans.tf:19) selects (resources '
                              '"arn:aws:dynamodb:*:*:table/*")',
    "aws_backup_plan.buckets": 'aws_backup_selection.buckets (plans.tf:42) selects (resources "arn:aws:s3:::*")',
    "aws_backup_plan.daily_tag": 'aws_backup_selection.daily_tag (plans.tf:86) selects (selection_tag backup = '
                                 '"daily")',
    "aws_backup_plan.legacy_db": 'aws_backup_selection.legacy_db (plans.tf:113) selects (resources '
                                 '"arn:aws:rds:eu-west-1:111122223333:db:acme-legacy-billing")',
    "aws_backup_plan.unassigned": "assign to aws_backup_plan.unassigned (no aws_backup_selection in this "
                                  "configuration refers to it)",
    "module.cross_region_backup.aws_backup_plan.this[0]": (
        'module.cross_region_backup.aws_backup_selection.this[0] (main.tf:49) selects (resources '
        '"arn:aws:rds:*:*:db:*"; resources "arn:aws:rds:*:*:cluster:*"; resources '
        '"arn:aws:elasticfilesystem:*:*:file-system/*")'),
}


def test_backup_selections_pick_what_aws_picks_and_unseen_stores_are_unverifiable_without_a_default():
    found, details = _scan("backup_selections")
    assert found == _expect(failed=BACKUP_FAILED, passed=BACKUP_PASSED)
    assert not {a for _, a, _ in found if a.startswith("module.disabled_backup.")}  # enabled = false
    for plan, selected in UNSEEN.items():
        assert f"{plan} makes a copy that cannot be verified" in details[plan]
        assert "the copy cannot be verified: the class of the stores" in details[plan] and selected in details[plan]
        assert "this configuration cannot see them and the policy map sets no classification.default" in details[plan]
        assert 'the source is in eu-west-1 (from provider "aws" (providers.tf:1)' in details[plan]
        assert 'lands in us-east-1 (from provider "aws.dr" (providers.tf:5))' in details[plan]
    everything = details["aws_backup_plan.everything"]  # "*" picks the confidential table of this configuration
    assert "copies Confidential data out of its region" in everything
    assert 'tag data_class = "confidential" in tags of aws_dynamodb_table.orders (stores.tf:' in everything


def test_unseen_stores_a_backup_selection_picks_take_classification_default():
    found, details = _scan("backup_selections", DEFAULT_CONFIDENTIAL)
    assert found == _expect(failed=BACKUP_FAILED, passed=BACKUP_PASSED)
    for plan, selected in UNSEEN.items():
        assert f"{plan} copies Confidential data out of its region" in details[plan]
        assert "The data is confidential (classification.default for the stores" in details[plan]
        assert selected in details[plan]


# --- real cross-region copies with both regions in the configuration name both ------------------------------------

def test_real_cross_region_copies_name_the_source_and_the_destination_region():
    found, details = _scan("real_copies")
    copies = {
        "module.customers_db_replica.aws_db_instance.this": "RDS read replica",
        "module.ledger_db_replica.aws_db_instance.this": "RDS read replica",
        "aws_db_instance_automated_backups_replication.customers": "RDS automated backups replication",
        "aws_rds_global_cluster.orders": "Aurora global database member",
        "module.sessions_table.aws_dynamodb_table.this": "DynamoDB replica",
        "module.documents.aws_s3_bucket_replication_configuration.this[0]": 'S3 replication rule "dr"',
        "module.warehouse.aws_redshift_snapshot_copy.this[0]": "Redshift cross-Region snapshot copy",
        "module.api_credentials.aws_secretsmanager_secret.this": "Secrets Manager replica",
    }
    assert found == _expect(failed=list(copies), passed=[
        "module.customers_db_reader.aws_db_instance.this",
        "module.documents_local.aws_s3_bucket_replication_configuration.this[0]",
    ])
    for address, how in copies.items():
        detail = details[address]
        assert f"copies Confidential data out of its region. {how} copies " in detail
        assert "the source is in eu-west-1 (from " in detail and "the copy lands in us-east-1 (from " in detail
        assert "cannot be" not in detail  # both regions are known: nothing is left unverified
    # Where each region came from: the modules' `region = var.region` (null) falls back to the provider.
    assert 'eu-west-1 (from provider "aws" (providers.tf:1) via module.customers_db (inherited))' in \
        details["module.customers_db_replica.aws_db_instance.this"]
    assert "via module.customers_db_replica providers { aws = aws.dr }" in \
        details["module.customers_db_replica.aws_db_instance.this"]
    ledger = details["module.ledger_db_replica.aws_db_instance.this"]
    assert "eu-west-1 (from the ARN arn:aws:rds:eu-west-1:111122223333:db:acme-ledger)" in ledger
    assert "us-east-1 (from region argument of module.ledger_db_replica.aws_db_instance.this" in ledger
    assert "module.orders_secondary.aws_rds_cluster.this" in details["aws_rds_global_cluster.orders"]
    assert "module.documents_replica.aws_s3_bucket.this" in \
        details["module.documents.aws_s3_bucket_replication_configuration.this[0]"]
