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
from data_handling.model.records import Resource
from data_handling.model.values import Known, Unknown
from data_handling.policy.loader import parse
from data_handling.rules import copy_mechanisms, replication
from data_handling.rules.copy_mechanisms import Copy, Site

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


# Terraform's regex()/regexall() (RE2 like Terraform's own): the shapes of the terraform console's answers.
@pytest.mark.parametrize(("text", "expected"), [
    ('regex("[a-z]+", "53454353abc")', "abc"),
    (r'regex("(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)", "2019-02-01")', ["2019", "02", "01"]),
    ('regex("^arn:aws:s3:::(?P<bucket>[^/]+)/(?P<key>.*)$", "arn:aws:s3:::orders/2024/a")',
     {"bucket": "orders", "key": "2024/a"}),
    ('regexall("[a-z]+", "1234abcd5678efgh9")', ["abcd", "efgh"]),
    ('length(regexall("^eu-", "eu-west-1")) > 0 ? "eu" : "other"', "eu"),
    ('regexall("(a)|(b)", "b")', [[None, "b"]]),  # a group that took no part is null
    ('regexall("x", "abc")', []),
    ('regexall("x*", "axb")', ["", "x", ""]),  # terraform console's answer (Go drops the empty match after "x")
    ('can(regex("^eu-", "us-east-1")) ? "eu" : "other"', "other"),
    # HCL escapes in a quoted string of an expression (python-hcl2 hands them over as written)
    (r'replace("C:\\tmp\\x", "\\", "/")', "C:/tmp/x"),
    (r'"tab\there\n"', "tab\there\n"),
    (r'"say \"hi\" \u00e9\U0001F600"', 'say "hi" \u00e9\U0001F600'),
    (r'"\\n"', "\\n"),  # an escaped backslash, then n
])
def test_regex_functions(text, expected):
    assert evaluate(text, {}, lookup) == expected


@pytest.mark.parametrize("text", [
    'regex("x", "abc")',  # no match is an error in Terraform
    'regex("(?P<a>x)(y)", "xy")',  # named and unnamed groups mixed
    'regex("(", "x")',  # not a regular expression
    'regex("(a|aa)+$", var.unknown)',
])
def test_regex_errors_are_not_values(text):
    with pytest.raises(NotEvaluable):
        evaluate(text, {}, lookup)


# replace(), format() and join() over text with a part known only after apply (a policy document's JSON holding a
# bucket ARN): the known text is transformed, the unknown part is carried as ${...} (Terraform's value is unknown;
# the rules read the known parts).
@pytest.mark.parametrize(("text", "expected"), [
    ('replace("{\\"Resource\\":\\"_ARN_/*\\"}", "_ARN_", aws_s3_bucket.b.arn)',
     Reference('{"Resource":"${aws_s3_bucket.b.arn}/*"}', template=True)),
    ('replace("arn:aws:s3:::${aws_s3_bucket.b.id}/_KEY_", "_KEY_", "*")',
     Reference("arn:aws:s3:::${aws_s3_bucket.b.id}/*", template=True)),
    ('replace("${aws_s3_bucket.b.id}-x", "/-x$/", "-y")', Reference("${aws_s3_bucket.b.id}-y", template=True)),
    ('replace("$${aws:username}/${aws_s3_bucket.b.id}", "aws:username", "aws:userid")',  # an IAM policy variable
     Reference("${aws:userid}/${aws_s3_bucket.b.id}", template=True)),
    ('format("arn:aws:s3:::%s/*", aws_s3_bucket.b.id)',
     Reference("arn:aws:s3:::${aws_s3_bucket.b.id}/*", template=True)),
    ('join(",", ["a", aws_s3_bucket.b.arn])', Reference("a,${aws_s3_bucket.b.arn}", template=True)),
    # Terraform checks the type first: jsondecode() of a list is an error, so try() moves on
    ("try(jsondecode([aws_s3_bucket.b.id]), \"fallback\")", "fallback"),
])
def test_text_functions_over_unknown_parts(text, expected):
    assert evaluate(text, {}, lookup) == expected


@pytest.mark.parametrize("text", [
    'replace(aws_s3_bucket.b.arn, "arn", "x")',  # the match is inside the unknown part
    'replace("${aws_s3_bucket.b.arn}/x", "/\\$\\{[^}]*\\}/", "*")',  # a pattern over the unknown part
    'replace("a_b", aws_s3_bucket.b.id, "x")',  # what to replace is unknown
    'format(aws_s3_bucket.b.id, "x")',
    'format("%d", aws_s3_bucket.b.id)',  # a number known only after apply
    'replace("a", "a", var.unknown)',
])
def test_text_functions_that_reach_into_unknown_parts_are_not_evaluated(text):
    with pytest.raises(NotEvaluable):
        evaluate(text, {}, lookup)


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


def test_quoted_interpolations_are_unquoted_one_at_a_time():
    # python-hcl2 writes a map of templates as {'Name': '${local.n}-dr', 'Region': '${var.r}'}: the unquoting of a
    # whole-interpolation string must not run from the first "'${" to the last "}'" across the other strings.
    text = "merge({'a': 1},{'Name': '${var.regions[0]}-dr', 'Type': 'dr', 'Region': '${var.regions[1]}'})"
    assert evaluate(text, {}, lookup) == {"a": 1, "Name": "us-east-1-dr", "Type": "dr", "Region": "eu-west-2"}


def test_an_unknown_part_of_a_template_leaves_the_known_text_readable():
    # The region of this ARN is known although its vault name is not: Terraform will produce us-east-1 there.
    value = evaluate('{ arn = "arn:aws:backup:${var.regions[0]}:vault/${var.unknown}" }', {}, lookup)["arn"]
    assert value.text == "arn:aws:backup:us-east-1:vault/${var.unknown}" and "var.unknown" in value.reason


def test_values_as_python_hcl2_writes_them():
    assert evaluate_value("arn:aws:s3:::${var.regions[0]}-copy", {}, lookup) == "arn:aws:s3:::us-east-1-copy"
    assert evaluate_value("${var.regions}", {}, lookup) == ["us-east-1", "eu-west-2"]
    assert evaluate_value({"bucket": "${var.regions[1]}", "class": "STANDARD"}, {}, lookup) == {
        "bucket": "eu-west-2", "class": "STANDARD"}
    assert evaluate_value("Enabled") == "Enabled"  # a literal stays a literal


def test_for_each_over_a_set_binds_each_element_as_key_and_value():
    regions = evaluate("toset(var.regions)", {}, lookup)
    assert isinstance(regions, TerraformSet)
    # Terraform iterates a set of strings in lexical order
    assert pairs(regions) == [("eu-west-2", "eu-west-2"), ("us-east-1", "us-east-1")]
    assert pairs(["a"]) == [(0, "a")] and pairs({"b": 1, "a": 2}) == [("a", 2), ("b", 1)]


# --- dynamic blocks and mechanisms on checkov's graph -----------------------------------------------------

def model(root: Path) -> Infrastructure:
    """The model as the checks see it: checkov's graph, the values evaluated by model/hcl."""
    from checkov.common.graph.db_connectors.rustworkx.rustworkx_db_connector import RustworkxConnector
    from checkov.terraform.graph_manager import TerraformGraphManager

    manager = TerraformGraphManager(db_connector=RustworkxConnector())
    local_graph, _ = manager.build_graph_from_source_directory(str(root), render_variables=True)
    graph = manager.save_graph(local_graph)
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
    # count = 0 makes no instance, as in Terraform: the model holds only module.on's key.
    assert [r.address for r in infra.of_type("aws_kms_key")] == ["module.on.aws_kms_key.this[0]"]


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


def test_a_selection_picks_by_pattern_and_is_narrowed_by_not_resources_and_conditions(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        resource "aws_dynamodb_table" "a" {
          name = "acme-a"
          tags = { data_class = "internal", team = "web" }
        }
        resource "aws_dynamodb_table" "b" {
          name = "acme-b"
          tags = { data_class = "internal", team = "web" }
        }
        resource "aws_dynamodb_table" "c" {
          name = "acme-c"
          tags = { data_class = "confidential", team = "data" }
        }
        resource "aws_dynamodb_table" "other" {
          name = "other-d"
          tags = { data_class = "confidential" }
        }
        resource "aws_dynamodb_table" "us" {
          provider = aws.us
          name     = "acme-us"
        }
        resource "aws_backup_plan" "p" {
          name = "p"
          rule {
            rule_name         = "r"
            target_vault_name = "main"
          }
        }
        resource "aws_backup_selection" "s" {
          name          = "s"
          plan_id       = aws_backup_plan.p.id
          iam_role_arn  = "arn:aws:iam::111122223333:role/b"
          resources     = ["arn:aws:dynamodb:*:*:table/acme-*"]
          not_resources = [aws_dynamodb_table.b.arn]
          condition {
            string_not_equals {
              key   = "aws:ResourceTag/team"
              value = "data"
            }
          }
        }
        resource "aws_backup_selection" "by_class" {
          name         = "by-class"
          plan_id      = aws_backup_plan.p.id
          iam_role_arn = "arn:aws:iam::111122223333:role/b"
          selection_tag {
            type  = "STRINGEQUALS"
            key   = "data_class"
            value = "internal"
          }
        }
        """})
    data, declared, unseen = copy_mechanisms._backup_selected(resource(infra, "aws_backup_plan.p"), infra, POLICY)
    # acme-a by the pattern (acme-b is excluded, acme-c fails the condition, other-d does not match, acme-us is in
    # another region than the plan); by_class adds the internal tables and declares that class for what it picks.
    assert sorted(r.address for r in data) == ["aws_dynamodb_table.a", "aws_dynamodb_table.b"]
    assert [c for c, _ in declared] == ["internal"]
    [stores] = unseen  # the pattern also picks tables this configuration cannot see; by_class names its class
    assert stores.startswith("the stores outside this configuration that aws_backup_selection.s (main.tf:")
    assert stores.endswith('selects (resources "arn:aws:dynamodb:*:*:table/acme-*")')


def _store(resource_type: str, **config: str) -> Resource:
    return Resource(address=f"{resource_type}.x", type=resource_type, name="x", root_dir="", module="",
                    config={key: [value] for key, value in config.items()})


@pytest.mark.parametrize(("arn", "store", "expected"), [
    ("*", _store("aws_dynamodb_table", name="t"), True),
    ("arn:aws:dynamodb:*:*:table/*", _store("aws_dynamodb_table", name="t"), True),
    ("arn:aws:dynamodb:*:*:table/*", _store("aws_s3_bucket", bucket="b"), False),
    ("arn:aws:dynamodb:*:*:table/acme-*", _store("aws_dynamodb_table", name="acme-orders"), True),
    ("arn:aws:dynamodb:*:*:table/acme-*", _store("aws_dynamodb_table", name="other"), False),
    ("arn:aws:dynamodb:eu-west-1:111122223333:table/acme-orders", _store("aws_dynamodb_table", name="acme-orders"),
     True),
    ("arn:aws:s3:::*", _store("aws_s3_bucket", bucket="b"), True),
    ("arn:aws:s3:::logs-*", _store("aws_s3_bucket", bucket="acme-assets"), False),
    ("arn:aws:rds:*:*:db:*", _store("aws_db_instance", identifier="db"), True),
    ("arn:aws:rds:*:*:db:*", _store("aws_rds_cluster", cluster_identifier="c"), False),
    ("arn:aws:rds:*:*:cluster:*", _store("aws_rds_cluster", cluster_identifier="c"), True),
    ("arn:aws:rds:*:*:cluster:*", _store("aws_neptune_cluster"), True),  # no name to read: the wildcard covers it
    ("arn:aws:ec2:*:*:volume/*", _store("aws_ebs_volume"), True),
    ("arn:aws:ec2:*:*:volume/*", _store("aws_instance"), False),
    ("arn:aws:ec2:*:*:volume/vol-0abc", _store("aws_ebs_volume"), False),  # an id only AWS knows
    ("arn:aws:elasticfilesystem:*:*:file-system/*", _store("aws_efs_file_system"), True),
])
def test_backup_arn_patterns_cover_store_types_and_names(arn, store, expected):
    pattern = copy_mechanisms._pattern(arn)
    assert pattern is not None and pattern.selects(store) is expected


def test_what_a_backup_pattern_covers_beyond_the_configuration():
    pattern = copy_mechanisms._pattern
    assert pattern("arn:aws:dynamodb:*:*:table/*").types() == {"aws_dynamodb_table"}
    assert copy_mechanisms._OTHER_TYPES in pattern("*").types() and "aws_s3_bucket" in pattern("*").types()
    assert pattern("arn:aws:s3:::acme-*").types(whole=True) == set()  # excluding acme-* leaves other buckets
    home = Known("eu-west-1", "provider")
    assert not pattern("arn:aws:dynamodb:us-west-2:*:table/*").in_region(home)
    assert pattern("arn:aws:dynamodb:*:*:table/*").in_region(home)
    assert pattern("aws_dynamodb_table.orders.arn") is None and pattern("${var.tables}") is None


@pytest.mark.parametrize(("operator", "tags", "expected"), [
    ("string_equals", {"backup": "daily"}, True),
    ("string_equals", {"backup": "Daily"}, False),  # AWS compares case-sensitively
    ("string_like", {"backup": "daily-eu"}, True),
    ("string_not_equals", {}, True),  # an absent tag is not equal
    ("string_not_equals", {"backup": "daily"}, False),
    ("string_not_like", {"backup": "daily-eu"}, False),
    ("string_equals", None, True),  # tags that cannot be read may meet any condition
])
def test_backup_conditions(operator, tags, expected):
    value = "daily*" if operator.endswith("like") else "daily"
    assert copy_mechanisms._holds(operator, "backup", value, tags) is expected


def test_unseen_stores_take_classification_default_or_leave_the_class_unknown(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        resource "aws_backup_plan" "p" {
          name = "p"
          rule {
            rule_name         = "r"
            target_vault_name = "main"
          }
        }
        """})
    plan = resource(infra, "aws_backup_plan.p")
    stores = "the stores outside this configuration that aws_backup_selection.s selects"
    copy = Copy("AWS Backup copy_action", Site("a", Known("eu-west-1", "x")), Site("b", Known("us-east-1", "y")),
                unseen=(stores,), sources_listed=True)
    judged = replication.judge_class(copy, plan, infra, POLICY)
    assert judged.sensitive is None
    assert judged.unknown == (f"the class of {stores} cannot be determined: this configuration cannot see them and "
                              "the policy map sets no classification.default",)
    confidential, _ = parse("version: 1\nclassification:\n  default: confidential\n", "pm.yaml")
    assert replication.judge_class(copy, plan, infra, confidential).sensitive == \
        f"confidential (classification.default for {stores})"
    # Selections that pick nothing copy nothing, whatever the default.
    empty = Copy(copy.how, copy.source, copy.destination, sources_listed=True)
    assert replication.judge_class(empty, plan, infra, confidential) == replication.CopiedClass(None, ())


def test_only_a_class_known_to_be_below_confidential_passes(model_of_tree):
    infra = model_of_tree({"main.tf": PROVIDERS + """
        variable "klass" {
          type = string
        }
        resource "aws_dynamodb_table" "unreadable" {
          name = "u"
          tags = { data_class = var.klass }
          replica {
            region_name = "us-east-1"
          }
        }
        resource "aws_dynamodb_table" "untagged" {
          name = "n"
          replica {
            region_name = "us-east-1"
          }
        }
        resource "aws_dynamodb_table" "internal" {
          name = "i"
          tags = { data_class = "internal" }
          replica {
            region_name = "us-east-1"
          }
        }
        resource "aws_dynamodb_table" "local" {
          name = "l"
          replica {
            region_name = "eu-west-1"
          }
        }
        """})
    outcome = {name: replication.evaluate(resource(infra, f"aws_dynamodb_table.{name}"), infra, POLICY)
               for name in ("unreadable", "untagged", "internal", "local")}
    assert outcome["internal"].passed and outcome["local"].passed  # below Confidential; within one region
    for name in ("unreadable", "untagged"):
        assert not outcome[name].passed
        assert f"the class of aws_dynamodb_table.{name} cannot be determined: " in outcome[name].found
        assert "the source is in eu-west-1" in outcome[name].found and "lands in us-east-1" in outcome[name].found
    assert "classification.default" in outcome["untagged"].found


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
