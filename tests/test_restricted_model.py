"""Model helpers of the CKV_DH_20x checks: nested and dynamic blocks (model/blocks.py), where a vault's KMS key
resolves to (model/kms_keys.py), and the fields a store declares (model/schema_fields.py)."""

from __future__ import annotations

import pytest

from data_handling.model.blocks import blocks, string_list
from data_handling.model.kms_keys import key_settings, keys_of, resolve
from data_handling.model.schema_fields import declared_by

PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'


def resource(infra, address: str):
    found = [r for r in infra.resources if r.address == address]
    assert len(found) == 1, [r.address for r in infra.resources]
    return found[0]


# --- blocks ---------------------------------------------------------------------------------------------------


def names(found) -> list:
    return [string_list(block.get("name"))[0] for block in found]


def test_static_blocks():
    config = {"columns": [{"name": ["a"]}, {"name": ["b"]}]}
    assert blocks(config, "columns") == ([{"name": ["a"]}, {"name": ["b"]}], [])
    assert blocks({}, "columns") == ([], [])


def _table_columns(tmp_path, for_each: str, content_name: str, variables: str = "", iterator: str = "") -> tuple:
    """The `columns` blocks of a Glue table's storage_descriptor, as model/hcl evaluates a nested dynamic block."""
    from data_handling.model.hcl.evaluator import Tree
    from data_handling.model.hcl.inputs import ScanInputs

    (tmp_path / "main.tf").write_text(f"""
{variables}
resource "aws_glue_catalog_table" "t" {{
  name          = "t"
  database_name = "d"
  storage_descriptor {{
    dynamic "columns" {{
      for_each = {for_each}
      {f"iterator = {iterator}" if iterator else ""}
      content {{
        name = {content_name}
      }}
    }}
  }}
}}
""")
    config = Tree(str(tmp_path), None, ScanInputs()).instances["aws_glue_catalog_table.t"].config
    descriptor, _ = blocks(config, "storage_descriptor")
    return blocks(descriptor[0], "columns")


@pytest.mark.parametrize(("for_each", "content_name", "expected"), [
    ('["a", "pan"]', "columns.value", ["a", "pan"]),  # a literal list
    ("var.names", "columns.value", ["a", "pan"]),  # a variable's list
    ('[{ n = "a" }, { n = "pan" }]', "columns.value.n", ["a", "pan"]),  # a list of objects
    ('{ a = "S", pan = "S" }', "columns.key", ["a", "pan"]),  # a map
    ('[{ n = "pan" }]', '"${columns.value.n}"', ["pan"]),
    ('[{ n = "pan" }]', 'try(columns.value.n, "x")', ["pan"]),
    ('[{ m = "pan" }]', 'try(columns.value.n, "fallback")', ["fallback"]),
    ('[{ n = "pan" }]', 'lookup(columns.value, "n", null)', ["pan"]),
    ("[]", "columns.value", []),  # nothing to expand: no block
])
def test_nested_dynamic_block_is_expanded(tmp_path, for_each, content_name, expected):
    variables = 'variable "names" {\n  default = ["a", "pan"]\n}'
    found, problems = _table_columns(tmp_path, for_each, content_name, variables)
    assert names(found) == expected and not problems


def test_custom_iterator_name(tmp_path):
    assert names(_table_columns(tmp_path, '["x"]', "col.value", iterator="col")[0]) == ["x"]


def test_dynamic_blocks_whose_for_each_is_not_known_are_reported(tmp_path):
    # A variable with no value (the pipeline would pass it): the columns are unknown, never guessed.
    found, problems = _table_columns(tmp_path, "var.columns", "columns.value", 'variable "columns" {}')
    assert found == [] and len(problems) == 1
    assert "var.columns" in problems[0] and "no value was given" in problems[0]


# --- vault keys -----------------------------------------------------------------------------------------------

KEYS = PROVIDER + """
resource "aws_kms_key" "k" {
  enable_key_rotation = true
}

resource "aws_kms_alias" "k" {
  name          = "alias/vault"
  target_key_id = aws_kms_key.k.key_id
}

module "wrapped" {
  source = "./kms"
}
"""
KMS_MODULE = """
resource "aws_kms_key" "this" {
  enable_key_rotation = true
}

output "arn" {
  value = aws_kms_key.this.arn
}
"""


@pytest.mark.parametrize(("kms_key_id", "kind", "key_address"), [
    ("aws_kms_key.k.arn", "key", "aws_kms_key.k"),
    ("aws_kms_alias.k.arn", "key", "aws_kms_key.k"),
    ("aws_kms_alias.k.name", "key", "aws_kms_key.k"),
    ('"alias/vault"', "key", "aws_kms_key.k"),  # a literal alias name of the configuration
    ("module.wrapped.arn", "key", "module.wrapped.aws_kms_key.this"),
    ('"alias/aws/secretsmanager"', "aws_managed", None),
    ('"arn:aws:kms:eu-west-1:111122223333:alias/aws/secretsmanager"', "aws_managed", None),
    ('"alias/shared-vault"', "outside", None),
    ('"arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"', "outside", None),
    ('"1234abcd-12ab-34cd-56ef-1234567890ab"', "outside", None),
    ('"mrk-1234abcd12ab34cd56ef1234567890ab"', "multi_region_id", None),
    ('"not-a-key"', "unknown", None),
    ("var.no_value", "unknown", None),
])
def test_where_a_vault_key_resolves(model_of, kms_key_id, kind, key_address):
    infra = model_of({
        "main.tf": KEYS + f"""
variable "no_value" {{
  type = string
}}

resource "aws_secretsmanager_secret" "s" {{
  name       = "s"
  kms_key_id = {kms_key_id}
}}
""",
        "kms/main.tf": KMS_MODULE,
    })
    secret = resource(infra, "aws_secretsmanager_secret.s")
    (setting,), problems = key_settings(secret)
    (target,) = resolve(secret, setting, infra)
    assert not problems and target.kind == kind, target
    assert (target.key.address if target.key else None) == key_address
    if key_address:
        assert keys_of([secret], infra)[id(target.key)][0][0] is secret


def test_unset_key_and_replica_blocks(model_of):
    infra = model_of({"main.tf": KEYS + """
resource "aws_secretsmanager_secret" "s" {
  name = "s"

  replica {
    region     = "eu-central-1"
    kms_key_id = aws_kms_key.k.arn
  }

  replica {
    region = "eu-north-1"
  }
}
""", "kms/main.tf": KMS_MODULE})
    secret = resource(infra, "aws_secretsmanager_secret.s")
    settings, _ = key_settings(secret)
    assert [s.attribute for s in settings] == ["kms_key_id", "replica[0].kms_key_id", "replica[1].kms_key_id"]
    assert resolve(secret, settings[0], infra) == []  # unset: the AWS-managed default applies
    assert [t.key.address for t in resolve(secret, settings[1], infra)] == ["aws_kms_key.k"]
    assert resolve(secret, settings[2], infra) == []


# --- declared fields ------------------------------------------------------------------------------------------


def test_fields_declared_by_a_table_and_by_the_tag(model_of):
    infra = model_of({"main.tf": PROVIDER + """
resource "aws_dynamodb_table" "t" {
  name      = "t"
  hash_key  = "id"
  range_key = "created_at"

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "created_at"
    type = "S"
  }

  local_secondary_index {
    name               = "by-token"
    range_key          = "card_token"
    projection_type    = "INCLUDE"
    non_key_attributes = ["last4", "amount"]
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  tags = { data_fields = "id; card_token  last4,amount" }
}

resource "aws_s3_bucket" "untagged" {
  bucket = "b"
}
"""})
    declared = declared_by(resource(infra, "aws_dynamodb_table.t"), infra, "data_fields")
    assert declared.declares and not declared.problems
    assert {(f.name, f.where) for f in declared.fields} == {
        ("id", "attribute"), ("created_at", "attribute"), ("id", "hash_key"), ("created_at", "range_key"),
        ("card_token", "local_secondary_index.range_key"), ("last4", "local_secondary_index.non_key_attributes"),
        ("amount", "local_secondary_index.non_key_attributes"),
        ("id", "tag data_fields"), ("card_token", "tag data_fields"), ("last4", "tag data_fields"),
        ("amount", "tag data_fields"),
    }
    assert not declared_by(resource(infra, "aws_s3_bucket.untagged"), infra, "data_fields").declares


# --- a passing key outside the configuration carries a note --------------------------------------------------


def test_a_key_outside_the_configuration_passes_with_a_note(model_of):
    from data_handling.policy.loader import parse
    from data_handling.rules import vault_kms

    policy, _ = parse("version: 1\n", "pm.yaml")
    infra = model_of({"main.tf": PROVIDER + """
resource "aws_secretsmanager_secret" "s" {
  name       = "s"
  kms_key_id = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  tags       = { data_class = "restricted" }
}
"""})
    outcome = vault_kms.evaluate(resource(infra, "aws_secretsmanager_secret.s"), infra, policy)
    assert outcome is not None and outcome.passed
    assert "outside the scanned configuration" in outcome.found and "could not be verified" in outcome.found
