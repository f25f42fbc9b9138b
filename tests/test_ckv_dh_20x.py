"""End to end: CKV_DH_201..204 through the real checkov CLI on tests/fixtures/ckv_dh_20x; exact outcomes and the
key phrases of each finding."""

from __future__ import annotations

from functools import cache

import pytest

from conftest import FIXTURES, Result, outcomes, run_checkov

HERE = FIXTURES / "ckv_dh_20x"
POLICY_MAP = HERE / "policy_map.yaml"


@cache
def _scan(fixture: str, check: str) -> tuple[int, tuple[Result, ...]]:
    code, results, stderr = run_checkov(HERE / fixture, POLICY_MAP, check=check)
    assert "Traceback" not in stderr, stderr
    return code, tuple(results)


def _details(fixture: str, check: str) -> dict[str, str]:
    _, results = _scan(fixture, check)
    return {r.resource: " ".join(r.details) for r in results if r.check_id == check}


def _assert_well_formed(fixture: str, check: str, clause: str) -> None:
    _, results = _scan(fixture, check)
    for result in results:
        if result.result == "failed":
            assert result.details[0].startswith("Found: "), result
            assert result.details[1].startswith("Policy: ") and clause in result.details[1], result
            assert result.details[2].startswith("Fix: "), result


# --- CKV_DH_201 ---------------------------------------------------------------------------------------------


def test_ckv_dh_201_restricted_data_only_in_vault_types():
    code, results = _scan("vault_only", "CKV_DH_201")
    assert code == 1
    assert outcomes(list(results), "CKV_DH_201") == {
        ("CKV_DH_201", "aws_s3_bucket.restricted_bucket", "failed"),
        ("CKV_DH_201", "aws_dynamodb_table.restricted_table", "failed"),
        ("CKV_DH_201", "aws_db_instance.restricted_db", "failed"),
        ("CKV_DH_201", "aws_cloudwatch_log_group.restricted_logs", "failed"),
        ("CKV_DH_201", "aws_sqs_queue.restricted_by_default_tags", "failed"),
        ("CKV_DH_201", "aws_ssm_parameter.restricted_string", "failed"),
        ("CKV_DH_201", "aws_ssm_parameter.restricted_string_list", "failed"),
        ("CKV_DH_201", "aws_ssm_parameter.restricted_type_unknown", "failed"),
        ("CKV_DH_201", "aws_secretsmanager_secret.restricted_secret", "passed"),
        ("CKV_DH_201", "aws_ssm_parameter.restricted_secure", "passed"),
        ("CKV_DH_201", "module.payments.aws_s3_bucket.this", "failed"),
        ("CKV_DH_201", "module.payments.aws_secretsmanager_secret.this", "passed"),
    }
    details = _details("vault_only", "CKV_DH_201")
    vault_types = "aws_secretsmanager_secret, aws_ssm_parameter"
    assert "aws_s3_bucket is not a vault type" in details["aws_s3_bucket.restricted_bucket"]
    assert vault_types in details["aws_s3_bucket.restricted_bucket"]
    assert '"Restricted "' in details["aws_dynamodb_table.restricted_table"]
    assert 'default_tags of provider "aws.vault_account"' in details["aws_sqs_queue.restricted_by_default_tags"]
    assert 'type = "String"' in details["aws_ssm_parameter.restricted_string"]
    assert 'type = "StringList"' in details["aws_ssm_parameter.restricted_string_list"]
    assert "var.parameter_type" in details["aws_ssm_parameter.restricted_type_unknown"]
    assert "could not be evaluated" in details["aws_ssm_parameter.restricted_type_unknown"]
    # The module's bucket is tagged internal: the policy map's rule still makes it Restricted.
    assert 'classification rule "module.payments.*"' in details["module.payments.aws_s3_bucket.this"]
    _assert_well_formed("vault_only", "CKV_DH_201", "Vault, KMS-encrypted")


def test_ckv_dh_201_vault_types_come_from_the_policy_map(tmp_path):
    policy_map = tmp_path / "policy_map.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + "vaults:\n  resource_types: [aws_secretsmanager_secret, "
                          "aws_dynamodb_table]\n")
    _, results, _ = run_checkov(HERE / "vault_only", policy_map, check="CKV_DH_201")
    found = {(r.resource, r.result) for r in results}
    assert ("aws_dynamodb_table.restricted_table", "passed") in found
    assert ("aws_ssm_parameter.restricted_secure", "failed") in found  # no longer a vault type
    failed = {r.resource: " ".join(r.details) for r in results if r.result == "failed"}
    assert "accepts aws_secretsmanager_secret, aws_dynamodb_table" in failed["aws_s3_bucket.restricted_bucket"]


# --- CKV_DH_202 ---------------------------------------------------------------------------------------------


def test_ckv_dh_202_restricted_vaults_use_rotated_single_region_customer_managed_keys():
    code, results = _scan("vault_kms", "CKV_DH_202")
    assert code == 1
    passed = {"via_key", "via_alias", "via_alias_name", "replica_with_cmk", "outside_configuration",
              "via_data_source", "via_module"}
    failed = {"no_key", "aws_managed_alias", "aws_managed_arn", "aws_managed_data_source", "unrotated_key",
              "unrotated_by_alias_name", "rotation_disabled", "multi_region_key", "multi_region_literal",
              "replica_key", "imported_key", "replica_aws_managed", "key_unresolved", "via_module_unrotated"}
    expected = {("CKV_DH_202", f"aws_secretsmanager_secret.{name}", "passed") for name in passed}
    expected |= {("CKV_DH_202", f"aws_secretsmanager_secret.{name}", "failed") for name in failed}
    expected |= {("CKV_DH_202", "aws_ssm_parameter.secure_with_cmk", "passed"),
                 ("CKV_DH_202", "aws_ssm_parameter.secure_default_key", "failed")}
    assert outcomes(list(results), "CKV_DH_202") == expected

    details = {address.removeprefix("aws_secretsmanager_secret."): text
               for address, text in _details("vault_kms", "CKV_DH_202").items()}
    assert "not set" in details["no_key"] and "aws/secretsmanager" in details["no_key"]
    assert 'kms_key_id = "alias/aws/secretsmanager" is an AWS-managed key' in details["aws_managed_alias"]
    assert "AWS-managed" in details["aws_managed_arn"]
    assert "data.aws_kms_key.aws_managed" in details["aws_managed_data_source"]
    assert "aws_kms_key.not_rotated" in details["unrotated_key"]
    assert "rotation is off by default" in details["unrotated_key"]
    assert "aws_kms_alias.not_rotated" in details["unrotated_by_alias_name"]
    assert '"alias/legacy-vault"' in details["unrotated_by_alias_name"]
    assert "enable_key_rotation = false" in details["rotation_disabled"]
    assert "multi_region = true" in details["multi_region_key"]
    assert "mrk-" in details["multi_region_literal"]
    assert "aws_kms_replica_key.replica" in details["replica_key"]
    assert "imported key material" in details["imported_key"]
    assert "replica[0].kms_key_id is not set" in details["replica_aws_managed"]
    assert "var.key_from_pipeline" in details["key_unresolved"]
    assert "module.kms_unrotated.aws_kms_key.this[0]" in details["via_module_unrotated"]
    assert "aws/ssm" in details["aws_ssm_parameter.secure_default_key"]
    _assert_well_formed("vault_kms", "CKV_DH_202", "Vault, KMS-encrypted")


# --- CKV_DH_203 ---------------------------------------------------------------------------------------------


def test_ckv_dh_203_no_store_declares_card_number_or_cvv_fields():
    code, results = _scan("card_fields", "CKV_DH_203")
    assert code == 1
    assert outcomes(list(results), "CKV_DH_203") == {
        ("CKV_DH_203", "aws_glue_catalog_table.card_settlements", "failed"),
        ("CKV_DH_203", "aws_glue_catalog_table.payment_events", "passed"),
        ("CKV_DH_203", "aws_glue_catalog_table.dynamic_columns", "failed"),
        ("CKV_DH_203", "aws_glue_catalog_table.columns_unknown", "failed"),
        ("CKV_DH_203", "aws_dynamodb_table.cards_by_number", "failed"),
        ("CKV_DH_203", "aws_dynamodb_table.payment_intents", "passed"),
        ("CKV_DH_203", "aws_dynamodb_table.attributes_from_map", "failed"),
        ("CKV_DH_203", "aws_timestreamwrite_table.authorisations", "failed"),
        ("CKV_DH_203", "aws_keyspaces_table.cards", "failed"),
        ("CKV_DH_203", "aws_keyspaces_table.tokens", "passed"),
        ("CKV_DH_203", "aws_kinesis_firehose_delivery_stream.settlements_to_lake", "failed"),
        ("CKV_DH_203", "aws_kinesis_firehose_delivery_stream.events_to_lake", "passed"),
        ("CKV_DH_203", "aws_s3_bucket.exports_declaring_pan", "failed"),
        ("CKV_DH_203", "aws_sqs_queue.refunds", "passed"),
        ("CKV_DH_203", "module.card_vault_table.aws_dynamodb_table.this", "failed"),
        ("CKV_DH_203", "module.tokens_table.aws_dynamodb_table.this", "passed"),
    }
    details = _details("card_fields", "CKV_DH_203")
    glue = details["aws_glue_catalog_table.card_settlements"]
    assert '"card_number" (storage_descriptor.columns)' in glue and '"CVV2" (partition_keys)' in glue
    assert "PAN" in glue and "CVV" in glue
    assert '"primaryAccountNumber"' in details["aws_glue_catalog_table.dynamic_columns"]
    assert "could not be evaluated" in details["aws_glue_catalog_table.columns_unknown"]
    dynamo = details["aws_dynamodb_table.cards_by_number"]
    assert '"cardNumber" (attribute, range_key)' in dynamo
    assert '"security_code" (global_secondary_index.non_key_attributes)' in dynamo
    assert '"cvv" (attribute)' in details["aws_dynamodb_table.attributes_from_map"]
    assert '"security_code" (schema.composite_partition_key)' in details["aws_timestreamwrite_table.authorisations"]
    assert '"CardNumber" (schema_definition.column)' in details["aws_keyspaces_table.cards"]
    firehose = details["aws_kinesis_firehose_delivery_stream.settlements_to_lake"]
    assert '"card_number"' in firehose and "aws_glue_catalog_table.card_settlements" in firehose
    assert '"ccNum" (tag data_fields)' in details["aws_s3_bucket.exports_declaring_pan"]
    assert '"pan" (attribute, global_secondary_index.hash_key)' in \
        details["module.card_vault_table.aws_dynamodb_table.this"]
    _assert_well_formed("card_fields", "CKV_DH_203", "Store full card numbers (PAN)")


def test_ckv_dh_203_patterns_come_from_the_policy_map(tmp_path):
    policy_map = tmp_path / "policy_map.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + (
        "card_data:\n"
        "  forbidden_fields:\n"
        '    - {pattern: "(^|_)refund_id$", reason: "refund IDs count as card data here"}\n'
        '  tokenised_fields: ["payment_method_id"]\n'
    ))
    _, results, _ = run_checkov(HERE / "card_fields", policy_map, check="CKV_DH_203")
    found = {r.resource: r for r in results}
    assert found["aws_sqs_queue.refunds"].result == "failed"
    assert 'refund IDs count as card data here' in " ".join(found["aws_sqs_queue.refunds"].details)
    # The map's list replaces the default patterns: card_number is no longer matched.
    assert found["aws_glue_catalog_table.card_settlements"].result == "passed"


def test_ckv_dh_203_field_declaration_tag_key_comes_from_the_policy_map(tmp_path):
    policy_map = tmp_path / "policy_map.yaml"
    policy_map.write_text(POLICY_MAP.read_text() + "fields:\n  tag_key: columns\n")
    _, results, _ = run_checkov(HERE / "card_fields", policy_map, check="CKV_DH_203")
    found = {r.resource for r in results}
    # data_fields tags declare nothing now: the tagged bucket and queue, which have no schema, are not reported.
    assert "aws_s3_bucket.exports_declaring_pan" not in found and "aws_sqs_queue.refunds" not in found
    assert "aws_glue_catalog_table.card_settlements" in found


# --- CKV_DH_204 ---------------------------------------------------------------------------------------------


def test_ckv_dh_204_keys_protecting_restricted_data_have_two_person_policies():
    code, results = _scan("key_policy", "CKV_DH_204")
    assert code == 1
    assert outcomes(list(results), "CKV_DH_204") == {
        ("CKV_DH_204", "aws_kms_key.policy_document", "passed"),
        ("CKV_DH_204", "aws_kms_key.jsonencode_separated", "passed"),
        ("CKV_DH_204", "aws_kms_key.separate_policy_resource", "passed"),
        ("CKV_DH_204", "aws_kms_key.dynamic_statements", "passed"),
        ("CKV_DH_204", "module.kms_two_person.aws_kms_key.this[0]", "passed"),
        ("CKV_DH_204", "aws_kms_key.no_policy", "failed"),
        ("CKV_DH_204", "aws_kms_key.wildcard_principal", "failed"),
        ("CKV_DH_204", "aws_kms_key.heredoc_one_role", "failed"),
        ("CKV_DH_204", "aws_kms_key.policy_document_one_person", "failed"),
        ("CKV_DH_204", "aws_kms_key.not_action", "failed"),
        ("CKV_DH_204", "aws_kms_key.bad_policy_resource", "failed"),
        ("CKV_DH_204", "aws_kms_key.policy_unknown", "failed"),
        ("CKV_DH_204", "module.kms_owner.aws_kms_key.this[0]", "failed"),
        ("CKV_DH_204", "module.kms_extra_statement.aws_kms_key.this[0]", "failed"),
    }
    details = _details("key_policy", "CKV_DH_204")
    assert "no explicit key policy" in details["aws_kms_key.no_policy"]
    assert "aws_secretsmanager_secret.uses_no_policy" in details["aws_kms_key.no_policy"]
    assert "wildcard principal" in details["aws_kms_key.wildcard_principal"]
    assert '"AnyoneInTheAccountViaSecretsManager"' in details["aws_kms_key.wildcard_principal"]
    heredoc = details["aws_kms_key.heredoc_one_role"]
    assert "via aws_kms_alias.heredoc_one_role" in heredoc
    assert "role/payments-operator" in heredoc and "kms:*" in heredoc
    document = details["aws_kms_key.policy_document_one_person"]
    assert '"PaymentsOperator" of data.aws_iam_policy_document.one_person' in document
    assert "key administration (kms:Put*, kms:ScheduleKeyDeletion)" in document
    assert "decryption (kms:Decrypt)" in document
    assert "everything but ['kms:ScheduleKeyDeletion']" in details["aws_kms_key.not_action"]
    assert "aws_kms_key_policy.bad_policy_resource" in details["aws_kms_key.bad_policy_resource"]
    assert "var.key_policy_json" in details["aws_kms_key.policy_unknown"]
    assert "could not be verified" in details["aws_kms_key.policy_unknown"]
    assert '"KeyOwner"' in details["module.kms_owner.aws_kms_key.this[0]"]
    assert "role/payments-owner" in details["module.kms_owner.aws_kms_key.this[0]"]
    assert '"Everyone"' in details["module.kms_extra_statement.aws_kms_key.this[0]"]
    _assert_well_formed("key_policy", "CKV_DH_204", "Two-person rule, logged")


@pytest.mark.parametrize("fixture", ["vault_only", "vault_kms", "card_fields", "key_policy"])
def test_every_fixture_has_passing_and_failing_results(fixture):
    check = {"vault_only": "CKV_DH_201", "vault_kms": "CKV_DH_202", "card_fields": "CKV_DH_203",
             "key_policy": "CKV_DH_204"}[fixture]
    _, results = _scan(fixture, check)
    assert {r.result for r in results if r.check_id == check} == {"passed", "failed"}
