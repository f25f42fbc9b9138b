"""Units of CKV_DH_102: the expression evaluator, dynamic-block expansion, and the copy mechanisms on small
configurations built into checkov's real graph."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import FIXTURES, write_tree
from data_handling.model import dynamic_blocks
from data_handling.model.expressions import NotEvaluable, Reference, TerraformSet, evaluate, evaluate_value, pairs
from data_handling.model.graph_source import build_from_graph
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.values import Known, Unknown
from data_handling.policy.loader import parse
from data_handling.rules import copy_mechanisms, replication

POLICY, _ = parse("version: 1\nclassification:\n  tag_keys: [data_class]\n", "pm.yaml")
VARIABLES = {
    "rules": {"role": "r", "rules": [{"id": "a", "destination": {"bucket": "arn:aws:s3:::x"}}]},
    "regions": ["us-east-1", "eu-west-2"],
    "empty": {},
}


def lookup(namespace: str, name: str):
    if namespace == "var" and name in VARIABLES:
        return VARIABLES[name]
    raise NotEvaluable(f"{namespace}.{name}")


# --- the expression evaluator --------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ('flatten(try([var.rules["rule"]], [var.rules["rules"]], []))',
     [{"id": "a", "destination": {"bucket": "arn:aws:s3:::x"}}]),
    ('flatten(try([var.empty["rule"]], [var.empty["rules"]], []))', []),
    ("${flatten(try(['${var.empty[\"rule\"]}'],[]))}", []),  # checkov quotes interpolations inside lists
    ("[for r in var.regions : { region_name = r }]", [{"region_name": "us-east-1"}, {"region_name": "eu-west-2"}]),
    ('{ for r in var.regions : r => { region = r } if r != "us-east-1" }', {"eu-west-2": {"region": "eu-west-2"}}),
    ("{for r in ['us-east-1'] : r :> r}", {"us-east-1": "us-east-1"}),  # checkov writes => as :>
    ("{'a': 'b', 'c': ['d']}", {"a": "b", "c": ["d"]}),
    ("{'us-east-1'}", ["us-east-1"]),  # a Python set repr
    ('lookup(replica.value, "kms_key_arn", None)', "k"),
    ("try(replica.value.region, replica.key)", "us-west-2"),
    ('try(tobool(rule.value.status) ? "Enabled" : "Disabled", "Enabled")', "Enabled"),
    ("var.regions[1]", "eu-west-2"),
    ("keys(var.rules)", ["role", "rules"]),
    ("concat(var.regions, [\"ap-south-1\"])", ["us-east-1", "eu-west-2", "ap-south-1"]),
    ("aws_s3_bucket.replica.arn", Reference("aws_s3_bucket.replica.arn")),
])
def test_evaluate(text, expected):
    bindings = {"replica": {"key": "us-west-2", "value": {"kms_key_arn": "k"}}, "rule": {"key": 0, "value": {}}}
    assert evaluate(text, bindings, lookup) == expected


@pytest.mark.parametrize("text", [
    "var.unknown", "each.value.region", "setproduct(var.regions, var.regions)", "var.regions[*].name",
    "var.regions[5]", "data.aws_region.current.name == \"x\"", "var.regions[",
])
def test_what_cannot_be_evaluated_says_so(text):
    with pytest.raises(NotEvaluable):
        evaluate(text, {}, lookup)


@pytest.mark.parametrize(("text", "expected"), [
    ("length(keys(var.empty)) > 0 ? 1 : 0", 0),
    ('var.regions[0] == "us-east-1" && !(length(var.regions) >= 3)', True),
    ('false || "true"', True),  # checkov renders boolean variables as text
    ("tobool(\"false\") ? 1 : 0", 0),
])
def test_conditions_and_boolean_operators(text, expected):
    assert evaluate(text, {}, lookup) == expected


def test_values_as_python_hcl2_writes_them():
    assert evaluate_value("arn:aws:s3:::${var.regions[0]}-copy", {}, lookup) == "arn:aws:s3:::us-east-1-copy"
    assert evaluate_value("${var.regions}", {}, lookup) == ["us-east-1", "eu-west-2"]
    assert evaluate_value({"bucket": "${var.regions[1]}", "class": "STANDARD"}, {}, lookup) == {
        "bucket": "eu-west-2", "class": "STANDARD"}
    assert evaluate_value("Enabled") == "Enabled"  # a literal stays a literal


def test_for_each_over_a_set_binds_each_element_as_key_and_value():
    regions = evaluate("toset(var.regions)", {}, lookup)
    assert isinstance(regions, TerraformSet)
    assert pairs(regions) == [("us-east-1", "us-east-1"), ("eu-west-2", "eu-west-2")]
    assert pairs(["a"]) == [(0, "a")] and pairs({"b": 1, "a": 2}) == [("a", 2), ("b", 1)]


# --- dynamic blocks and mechanisms on checkov's graph -----------------------------------------------------

def model(root: Path) -> Infrastructure:
    """The model as the checks see it, with the graph indexed for dynamic blocks (as the CKV_DH_102 check does)."""
    from checkov.common.graph.db_connectors.rustworkx.rustworkx_db_connector import RustworkxConnector
    from checkov.terraform.graph_manager import TerraformGraphManager

    manager = TerraformGraphManager(db_connector=RustworkxConnector())
    local_graph, _ = manager.build_graph_from_source_directory(str(root), render_variables=True)
    graph = manager.save_graph(local_graph)
    dynamic_blocks.observe(graph)
    return build_from_graph(graph)


@pytest.fixture
def model_of_tree(tmp_path: Path):
    def make(files: dict[str, str]) -> Infrastructure:
        return model(write_tree(tmp_path, files))
    return make


def resource(infra: Infrastructure, address: str):
    found = [r for r in infra.resources if r.address == address]
    assert len(found) == 1, [r.address for r in infra.resources]
    return found[0]


PROVIDERS = """
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
"""


def test_nested_dynamic_blocks_are_expanded_from_the_written_expressions(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        locals {
          rules = [
            { id = "one", destination = { bucket = "arn:aws:s3:::first" } },
            { id = "two", destination = [{ bucket = "arn:aws:s3:::second" }, { bucket = "arn:aws:s3:::third" }] },
          ]
        }
        resource "aws_s3_bucket_replication_configuration" "r" {
          bucket = "source"
          role   = "arn:aws:iam::111122223333:role/r"
          dynamic "rule" {
            for_each = local.rules
            content {
              id     = rule.value.id
              status = "Enabled"
              dynamic "destination" {
                for_each = try(flatten([rule.value.destination]), [])
                content {
                  bucket = destination.value.bucket
                }
              }
            }
          }
        }
        """})
    rules, unknown = dynamic_blocks.blocks(resource(infra, "aws_s3_bucket_replication_configuration.r"), "rule")
    assert not unknown
    assert [(r["id"], [d["bucket"] for d in r["destination"]]) for r in rules] == [
        (["one"], [["arn:aws:s3:::first"]]),
        (["two"], [["arn:aws:s3:::second"], ["arn:aws:s3:::third"]]),
    ]


def test_dynamic_blocks_over_nothing_are_no_blocks_and_unevaluable_ones_are_unknown(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        variable "none" {
          default = []
        }
        data "aws_regions" "all" {}
        resource "aws_dynamodb_table" "empty" {
          name = "e"
          dynamic "replica" {
            for_each = var.none
            content {
              region_name = replica.value
            }
          }
        }
        resource "aws_dynamodb_table" "opaque" {
          name = "o"
          dynamic "replica" {
            for_each = data.aws_regions.all.names
            content {
              region_name = replica.value
            }
          }
        }
        """})
    assert dynamic_blocks.blocks(resource(infra, "aws_dynamodb_table.empty"), "replica") == ([], [])
    found, unknown = dynamic_blocks.blocks(resource(infra, "aws_dynamodb_table.opaque"), "replica")
    assert found == [] and len(unknown) == 1
    assert 'for_each of dynamic "replica"' in unknown[0].reason and "data.aws_regions.all.names" in unknown[0].reason


def test_a_for_expression_in_a_module_argument_is_evaluated_where_it_is_written(model_of_tree):
    # checkov turns `[for ...]` in a module argument into an empty list; the replica must not disappear.
    infra = model_of_tree({
        "main.tf": PROVIDERS + """
            variable "dr_regions" {
              default = ["us-east-1"]
            }
            module "table" {
              source          = "./table"
              replica_regions = [for r in var.dr_regions : { region_name = r }]
            }
            """,
        "table/main.tf": """
            variable "replica_regions" {
              type    = any
              default = []
            }
            variable "source_db" {
              type    = string
              default = null
            }
            resource "aws_dynamodb_table" "this" {
              name = "t"
              dynamic "replica" {
                for_each = var.replica_regions
                content {
                  region_name = replica.value.region_name
                }
              }
            }
            resource "aws_db_instance" "this" {
              identifier          = "db"
              replicate_source_db = var.source_db
            }
            """,
    })
    table = resource(infra, "module.table.aws_dynamodb_table.this")
    replicas, unknown = dynamic_blocks.blocks(table, "replica")
    assert not unknown and [r["region_name"] for r in replicas] == [["us-east-1"]]
    # A variable whose default is null means the argument is not set (checkov leaves "var.source_db").
    assert dynamic_blocks.value_of(resource(infra, "module.table.aws_db_instance.this"), "replicate_source_db") is None
    assert copy_mechanisms.copies_made_by(resource(infra, "module.table.aws_db_instance.this"), infra, POLICY) == []


def test_resources_count_leaves_out_are_not_instantiated(model_of_tree):
    infra = model_of_tree({
        "main.tf": PROVIDERS + """
            module "off" {
              source = "./m"
              create = false
            }
            module "on" {
              source = "./m"
            }
            """,
        "m/main.tf": """
            variable "create" {
              type    = bool
              default = true
            }
            resource "aws_kms_key" "this" {
              count        = var.create ? 1 : 0
              multi_region = true
              tags         = { data_class = "confidential" }
            }
            """,
    })
    states = {r.address.split(".aws_")[0]: dynamic_blocks.instantiated(r) for r in infra.of_type("aws_kms_key")}
    assert states == {"module.off": False, "module.on": True}
    assert all(replication.evaluate(r, infra, POLICY) is None
               for r in infra.of_type("aws_kms_key") if r.address.startswith("module.off"))


def test_s3_destinations_resolve_by_reference_by_name_or_not_at_all(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        resource "aws_s3_bucket" "source" {
          bucket = "acme-source"
          tags   = { data_class = "confidential" }
        }
        resource "aws_s3_bucket" "named" {
          provider = aws.us
          bucket   = "acme-named"
        }
        resource "aws_s3_bucket_replication_configuration" "r" {
          bucket = "acme-source"
          role   = "arn:aws:iam::111122223333:role/r"
          rule {
            id     = "by-name"
            status = "Enabled"
            destination {
              bucket = "arn:aws:s3:::acme-named"
            }
          }
          rule {
            id     = "elsewhere"
            status = "Enabled"
            destination {
              bucket = "arn:aws:s3:::somebody-elses"
            }
          }
          rule {
            id     = "off"
            status = "Disabled"
            destination {
              bucket = "arn:aws:s3:::somebody-elses"
            }
          }
        }
        """})
    config = resource(infra, "aws_s3_bucket_replication_configuration.r")
    copies = copy_mechanisms.copies_made_by(config, infra, POLICY)
    assert [(c.how, c.source.what.split(" ")[0], c.destination.what.split(" ")[0]) for c in copies] == [
        ('S3 replication rule "by-name"', "aws_s3_bucket.source", "aws_s3_bucket.named"),
        ('S3 replication rule "elsewhere"', "aws_s3_bucket.source", "bucket"),
    ]
    assert copies[0].destination.region == Known("us-east-1", copies[0].destination.region.source)
    assert isinstance(copies[1].destination.region, Unknown)
    outcome = replication.evaluate(config, infra, POLICY)
    assert outcome is not None and not outcome.passed
    assert "aws_s3_bucket.named" in outcome.found and '"somebody-elses"' in outcome.found
    assert "cannot be verified" in outcome.found


def test_rds_replica_by_identifier_is_in_the_replica_region_and_by_arn_in_the_arn_region(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        resource "aws_db_instance" "by_identifier" {
          identifier          = "reader"
          replicate_source_db = "acme-primary"
          tags                = { data_class = "confidential" }
        }
        resource "aws_db_instance" "by_arn" {
          identifier          = "dr"
          replicate_source_db = "arn:aws:rds:us-west-2:111122223333:db:acme-primary"
          tags                = { data_class = "confidential" }
        }
        """})
    assert replication.evaluate(resource(infra, "aws_db_instance.by_identifier"), infra, POLICY).passed
    outcome = replication.evaluate(resource(infra, "aws_db_instance.by_arn"), infra, POLICY)
    assert not outcome.passed and "us-west-2 (from the ARN" in outcome.found and "eu-west-1" in outcome.found


def test_the_class_is_the_most_sensitive_of_sources_copier_and_selection(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        resource "aws_backup_vault" "dr" {
          provider = aws.us
          name     = "dr"
        }
        resource "aws_ebs_volume" "internal" {
          availability_zone = "eu-west-1a"
          size              = 1
          tags              = { data_class = "internal" }
        }
        resource "aws_backup_plan" "p" {
          name = "p"
          rule {
            rule_name         = "r"
            target_vault_name = "main"
            copy_action {
              destination_vault_arn = aws_backup_vault.dr.arn
            }
          }
        }
        resource "aws_backup_selection" "by_resource" {
          name         = "internal"
          plan_id      = aws_backup_plan.p.id
          iam_role_arn = "arn:aws:iam::111122223333:role/b"
          resources    = [aws_ebs_volume.internal.arn]
        }
        resource "aws_backup_selection" "by_class" {
          name         = "restricted"
          plan_id      = aws_backup_plan.p.id
          iam_role_arn = "arn:aws:iam::111122223333:role/b"
          resources    = ["*"]
          condition {
            string_like {
              key   = "aws:ResourceTag/data_class"
              value = "restr*"
            }
          }
        }
        """})
    plan = resource(infra, "aws_backup_plan.p")
    [copy] = copy_mechanisms.copies_made_by(plan, infra, POLICY)
    assert [r.address for r in copy.data] == ["aws_ebs_volume.internal"]  # the condition selects nothing here
    [(declared, where)] = copy.declared
    assert declared == "restricted" and where.endswith('selects data_class = "restr*"')
    assert replication.class_of_copy(copy, plan, infra, POLICY).startswith("restricted (")


def test_efs_destination_region_from_the_availability_zone(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        resource "aws_efs_file_system" "fs" {
          tags = { data_class = "confidential" }
        }
        resource "aws_efs_replication_configuration" "zone" {
          source_file_system_id = aws_efs_file_system.fs.id
          destination {
            availability_zone_name = "us-west-2b"
          }
        }
        """})
    [copy] = copy_mechanisms.copies_made_by(resource(infra, "aws_efs_replication_configuration.zone"), infra, POLICY)
    assert copy.destination.region.value == "us-west-2"
    assert copy.source.region.value == "eu-west-1" and [r.address for r in copy.data] == ["aws_efs_file_system.fs"]


@pytest.mark.parametrize(("label", "path", "expected"), [
    ("rule.destination.bucket", "rule.destination.bucket", True),
    ("dynamic.rule.content.destination.bucket", "rule.destination.bucket", True),
    ("dynamic.0.rule.for_each", "rule.destination.bucket", True),
    ("rule", "rule.destination.bucket", True),
    ("bucket", "rule.destination.bucket", False),
    ("rule.destination.bucket", "bucket", False),
    ("plan_id", "plan_id", True),
])
def test_reference_labels_under_an_attribute(label, path, expected):
    assert copy_mechanisms._under(label, path) is expected


def test_every_mechanism_has_a_fixture():
    written = "\n".join(path.read_text() for path in (FIXTURES / "ckv_dh_102").rglob("*.tf"))
    declared = set(re.findall(r'resource "([a-z0-9_]+)"', written))
    assert set(copy_mechanisms.BY_TYPE) - declared == set()
