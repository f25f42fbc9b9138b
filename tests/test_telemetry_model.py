"""Unit tests of the central telemetry model: the field matcher, the API Gateway format table and parser, central
destination recognition, nested and dynamic blocks, and data protection policies."""

from __future__ import annotations

import pytest

from conftest import FIXTURES, REPO
from data_handling.model.apigw_format import IP_ADDRESS, URL_PATH, USER_IDENTITY, carried_by, parse_format
from data_handling.model.nested_blocks import blocks, values_at
from data_handling.model.raw_logs import protection, raw_flow_of
from data_handling.model.telemetry import assess, bucket_name_of, destinations, judge_field
from data_handling.model.telemetry_sinks import namespace_selected, sink_of, struct_members
from data_handling.policy.loader import parse

REPOSITORY_MAP = parse((REPO / "policy_map.yaml").read_text(), "policy_map.yaml")[0]
FIXTURE_MAP = parse((FIXTURES / "ckv_dh_30x" / "policy_map.yaml").read_text(), "policy_map.yaml")[0]


def resource(infra, address: str):
    found = [r for r in infra.resources if r.address == address]
    assert len(found) == 1, f"{address} not in {[r.address for r in infra.resources]}"
    return found[0]


# --- the field matcher --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "reason"), [
    ("client_ip", "IP addresses never flow centrally"),
    ("sourceIp", "IP addresses never flow centrally"),
    ("customerEmail", "customer emails never flow centrally"),
    ("Customer-Email", "customer emails never flow centrally"),
    ("remote_ip_address", "IP addresses never flow centrally"),
])
def test_forbidden_names_match_the_repository_patterns(name, reason):
    judgement = judge_field(name, REPOSITORY_MAP)
    assert not judgement.allowed
    assert judgement.reason.startswith(reason) and "forbidden_fields pattern" in judgement.reason


@pytest.mark.parametrize("name", ["route", "endpoint_host", "tenant_id", "Route", "tenantId", "latencyMs",
                                  "request-count", "delivery_success_rate", "timestamp"])
def test_approved_names_pass_whatever_their_spelling(name):
    assert judge_field(name, REPOSITORY_MAP).allowed


@pytest.mark.parametrize("name", ["route", "endpoint_host", "tenant_id", "resourcePath", "hostname", "billing_total"])
def test_approved_and_harmless_names_match_no_forbidden_pattern(name):
    for policy in (REPOSITORY_MAP, FIXTURE_MAP):
        reason = judge_field(name, policy).reason
        assert "forbidden_fields" not in reason


def test_url_path_is_not_approved_and_with_the_url_pattern_forbidden():
    defaults_only = parse("version: 1\n", "pm.yaml")[0]  # no forbidden_fields: unlisted is "not approved"
    assert judge_field("url_path", defaults_only).reason == "not on telemetry.approved_fields"
    assert "never by URL path" in judge_field("url_path", FIXTURE_MAP).reason
    assert "never by URL path" in judge_field("url_path", REPOSITORY_MAP).reason
    assert judge_field("route", FIXTURE_MAP).allowed


@pytest.mark.parametrize(("name", "fragment"), [
    ("customer_id", "never by customer id"), ("shipping_address", "addresses"), ("order_line_items", "line items"),
    ("payment_token", "payment tokens"), ("first_name", "names"), ("request_path", "URL path"),
])
def test_proposed_patterns_for_the_rest_of_the_policy_list(name, fragment):
    assert fragment in judge_field(name, FIXTURE_MAP).reason


def test_what_a_field_carries_decides_not_its_key():
    route_is_a_path = judge_field("route", parse("version: 1\n", "pm.yaml")[0], carries=("url_path",),
                                  forbidden=(URL_PATH,))
    assert not route_is_a_path.allowed and route_is_a_path.reason == URL_PATH
    # With the repository map, its own URL-path pattern names the reason first.
    route_is_a_path = judge_field("route", REPOSITORY_MAP, carries=("url_path",), forbidden=(URL_PATH,))
    assert not route_is_a_path.allowed and "never by URL path" in route_is_a_path.reason
    ip = judge_field("ip", REPOSITORY_MAP, carries=("client_ip_address",), forbidden=(IP_ADDRESS,))
    assert ip.reason.startswith("IP addresses never flow centrally") and "forbidden_fields pattern" in ip.reason
    assert judge_field("when", REPOSITORY_MAP, carries=("timestamp",)).allowed
    assert "request_id" in judge_field("id", REPOSITORY_MAP, carries=("request_id",)).reason


def test_a_json_path_that_selects_forbidden_data_fails_whatever_the_key():
    judgement = judge_field("tenant_id", REPOSITORY_MAP, selects=("email",))
    assert not judgement.allowed and "emails" in judgement.reason


def test_a_forbidden_pattern_wins_over_the_approved_list():
    policy = parse("version: 1\ntelemetry:\n  approved_fields: [client_ip]\n  forbidden_fields:\n"
                   "    - {pattern: 'client_?ip', reason: 'no IPs'}\n", "pm.yaml")[0]
    assert judge_field("client_ip", policy).reason.startswith("no IPs")


# --- API Gateway access log formats ---------------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "field", "forbidden", "identifies"), [
    ("$context.identity.sourceIp", "client_ip_address", IP_ADDRESS, True),
    ("$context.identity.userAgent", "user_agent", None, True),
    ("$context.identity.user", "user_identity", USER_IDENTITY, True),
    ("$context.identity.userArn", "user_identity", USER_IDENTITY, True),
    ("$context.identity.caller", "user_identity", USER_IDENTITY, True),
    ("$context.identity.cognitoIdentityId", "user_identity", USER_IDENTITY, True),
    ("$context.identity.clientCert.subjectDN", "client_certificate", pytest.approx, True),
    ("$context.identity.somethingNew", "user_identity", USER_IDENTITY, True),
    ("$context.authorizer.principalId", "user_identity", USER_IDENTITY, True),
    ("$context.authorizer.claims.email", "user_identity", USER_IDENTITY, True),
    ("$context.authorizer.claims.sub", "user_identity", USER_IDENTITY, True),
    ("$context.authorizer.claims['custom:tenant_id']", "tenant_id", None, False),
    ("$context.authorizer.jwt.claims.tenant_id", "tenant_id", None, False),
    ("$context.authorizer.tenantId", "tenant_id", None, False),
    ("$context.path", "url_path", URL_PATH, True),
    ("$context.resourcePath", "route", None, False),
    ("$context.routeKey", "route", None, False),
    ("$context.httpMethod", "route", None, False),
    ("$context.status", "status", None, False),
    ("$context.integration.status", "status", None, False),
    ("$context.requestTime", "timestamp", None, False),
    ("$context.requestTimeEpoch", "timestamp", None, False),
    ("$context.responseLatency", "latency_ms", None, False),
    ("$context.integrationLatency", "latency_ms", None, False),
    ("$context.domainName", "endpoint_host", None, False),
    ("$context.requestId", "request_id", None, False),
    ("$context.error.message", "error_message", None, False),
    ("$context.somethingNew", "something_new", None, False),
])
def test_the_variable_table(variable, field, forbidden, identifies):
    carried = carried_by(variable)
    assert carried.field == field
    assert carried.identifies is identifies
    if forbidden is pytest.approx:
        assert carried.forbidden
    else:
        assert carried.forbidden == forbidden


def test_json_formats_keep_their_keys_and_every_variable_of_a_value():
    fields = parse_format({"route": "$context.httpMethod $context.resourcePath",
                           "req": {"ip": "$context.identity.sourceIp"}, "service": "orders"})
    assert [(f.name, [c.field for c in f.carried]) for f in fields] == [
        ("route", ["route", "route"]), ("req.ip", ["client_ip_address"]), ("service", [])]


def test_json_as_a_string_and_heredoc():
    fields = parse_format('{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp" }\n')
    assert [(f.name, f.carried[0].variable) for f in fields] == [
        ("requestId", "$context.requestId"), ("ip", "$context.identity.sourceIp")]


def test_clf_csv_and_xml_templates_name_fields_by_what_they_carry():
    clf = parse_format('$context.identity.sourceIp - $context.identity.caller [$context.requestTime] '
                       '"$context.httpMethod $context.resourcePath $context.protocol" $context.status')
    assert [f.name for f in clf] == ["client_ip_address", "user_identity", "timestamp", "route", "route", "protocol",
                                     "status"]
    csv = parse_format("$context.requestTime,$context.status,$context.path")
    assert [f.name for f in csv] == ["timestamp", "status", "url_path"]
    xml = parse_format('<request id="$context.requestId"><ip>$context.identity.sourceIp</ip></request>')
    assert [f.name for f in xml] == ["request_id", "client_ip_address"]


@pytest.mark.parametrize("value", ["var.access_log_format", "${var.format}", "${jsonencode(local.x)}", None, 42])
def test_formats_that_could_not_be_evaluated(value):
    assert parse_format(value) is None


# --- small parsers ------------------------------------------------------------------------------------------


def test_struct_members():
    assert struct_members("struct<a:string,b:array<struct<c:int,d:decimal(10,2)>>,e:map<string,struct<f:int>>>") == [
        "a", "b", "b.c", "b.d", "e", "e.f"]
    assert struct_members("string") == []


@pytest.mark.parametrize(("text", "namespace", "selected"), [
    ("Namespace IN ('Acme/Api', 'AWS/EC2')", "Acme/Api", True),
    ("Namespace IN ('Acme/Api', 'AWS/EC2')", "Acme/Internal", False),
    ("Namespace NOT IN ('Acme/Internal')", "Acme/Internal", False),
    ("Namespace NOT LIKE 'AWS/%'", "Acme/Api", True),
    ("Namespace LIKE 'AWS/%'", "Acme/Api", False),
    ("Namespace = 'Acme/Api' OR Namespace = 'X'", "Other", True),  # too complex: assumed to select
])
def test_oam_metric_filters(text, namespace, selected):
    assert namespace_selected(text, namespace) is selected


@pytest.mark.parametrize(("text", "bucket"), [
    ("central-telemetry-logs", "central-telemetry-logs"),
    ("arn:aws:s3:::central-telemetry-logs/prefix/", "central-telemetry-logs"),
    ("s3://central-telemetry-logs/a/b", "central-telemetry-logs"),
    ("central-telemetry-logs.s3.amazonaws.com", "central-telemetry-logs"),
    ("central-telemetry-logs.s3.eu-west-1.amazonaws.com", "central-telemetry-logs"),
    ("arn:aws:logs:eu-west-1:111111111111:log-group:x", ""),
])
def test_bucket_names(text, bucket):
    assert bucket_name_of(text) == bucket


# --- nested and dynamic blocks ------------------------------------------------------------------------------


def _evaluated(tmp_path, text: str, address: str) -> dict:
    from data_handling.model.hcl.evaluator import Tree
    from data_handling.model.hcl.inputs import ScanInputs

    (tmp_path / "main.tf").write_text(text)
    return Tree(str(tmp_path), None, ScanInputs()).instances[address].config


def test_static_blocks_and_nested_dynamic_blocks(tmp_path):
    config = _evaluated(tmp_path, """
resource "aws_glue_catalog_table" "t" {
  name          = "t"
  database_name = "d"
  storage_descriptor {
    columns {
      name = "route"
    }
    dynamic "columns" {
      for_each = ["a", "b"]
      content {
        name = columns.value
      }
    }
    dynamic "columns" {
      for_each = { k = { type = "int" } }
      iterator = col
      content {
        name = col.key
        type = col.value.type
      }
    }
  }
}
""", "aws_glue_catalog_table.t")
    names, unresolved = values_at(config, "storage_descriptor.columns.name")
    assert names == ["route", "a", "b", "k"] and not unresolved
    assert values_at(config, "storage_descriptor.columns.type")[0] == ["int"]


def test_dynamic_blocks_that_cannot_be_evaluated_are_reported_not_guessed(tmp_path):
    config = _evaluated(tmp_path, """
variable "stages" {}
resource "aws_api_gateway_stage" "s" {
  stage_name    = "prod"
  rest_api_id   = "x"
  deployment_id = "y"
  dynamic "access_log_settings" {
    for_each = var.stages
    content {
      destination_arn = access_log_settings.value.arn
      format          = access_log_settings.value.format
    }
  }
}
""", "aws_api_gateway_stage.s")
    found = blocks(config, "access_log_settings")
    assert found.found == [] and "could not be evaluated" in found.unresolved[0]
    assert "var.stages" in found.unresolved[0]


# --- central destinations -------------------------------------------------------------------------------------

PROVIDERS = """
provider "aws" {
  region              = "eu-west-1"
  allowed_account_ids = ["222222222222"]
}

provider "aws" {
  alias               = "central"
  region              = "eu-west-1"
  allowed_account_ids = ["111111111111"]
}

provider "aws" {
  alias  = "assumed"
  region = "eu-west-1"
  assume_role {
    role_arn = "arn:aws:iam::111111111111:role/x"
  }
}

provider "aws" {
  alias  = "tagged"
  region = "eu-west-1"
  default_tags {
    tags = { telemetry_scope = "Central" }
  }
}
"""


def test_central_by_account_assume_role_tag_and_bucket_name(model_of):
    infra = model_of({"main.tf": PROVIDERS + """
resource "aws_s3_bucket" "by_account" {
  provider = aws.central
  bucket   = "archive"
}
resource "aws_s3_bucket" "by_role" {
  provider = aws.assumed
  bucket   = "archive-2"
}
resource "aws_s3_bucket" "by_default_tags" {
  provider = aws.tagged
  bucket   = "archive-3"
}
resource "aws_s3_bucket" "by_tag" {
  bucket = "archive-4"
  tags   = { telemetry_scope = "central" }
}
resource "aws_s3_bucket" "by_name" {
  bucket = "central-telemetry-x"
}
resource "aws_s3_bucket" "local" {
  bucket = "acme-logs"
  tags   = { telemetry_scope = "tenant" }
}
"""})
    why = {name: assess(resource(infra, f"aws_s3_bucket.{name}"), infra, REPOSITORY_MAP).central
           for name in ("by_account", "by_role", "by_default_tags", "by_tag", "by_name", "local")}
    assert "account 111111111111 (allowed_account_ids of provider \"aws.central\"" in why["by_account"]
    assert "account 111111111111 (assume_role of provider \"aws.assumed\"" in why["by_role"]
    assert 'telemetry_scope = "Central" (default_tags of provider "aws.tagged"' in why["by_default_tags"]
    assert 'telemetry_scope = "central" (tags of aws_s3_bucket.by_tag' in why["by_tag"]
    assert 'bucket name "central-telemetry-x" (bucket) matches' in why["by_name"]
    assert why["local"] is None


def test_literal_arns_names_and_forwarders(model_of):
    infra = model_of({"main.tf": PROVIDERS + """
resource "aws_s3_bucket" "archive" {
  provider = aws.central
  bucket   = "archive"
}
resource "aws_kinesis_firehose_delivery_stream" "forwarder" {
  name        = "fwd"
  destination = "extended_s3"
  extended_s3_configuration {
    bucket_arn = aws_s3_bucket.archive.arn
    role_arn   = "r"
  }
}
resource "aws_flow_log" "by_arn" {
  log_destination = "arn:aws:logs:eu-west-1:111111111111:log-group:central"
}
resource "aws_flow_log" "other_account" {
  log_destination = "arn:aws:logs:eu-west-1:333333333333:log-group:x"
}
resource "aws_flow_log" "named_bucket" {
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::archive/prefix/"
}
resource "aws_flow_log" "via_firehose" {
  log_destination_type = "kinesis-data-firehose"
  log_destination      = aws_kinesis_firehose_delivery_stream.forwarder.arn
}
resource "aws_s3_bucket" "tags_unknown" {
  bucket = "x"
  tags   = { telemetry_scope = var.scope }
}
variable "scope" {
  type = string
}
resource "aws_flow_log" "tags_unknown" {
  log_destination_type = "s3"
  log_destination      = aws_s3_bucket.tags_unknown.arn
}
"""})

    def first(name: str):
        found = destinations(resource(infra, f"aws_flow_log.{name}"), "log_destination", infra, REPOSITORY_MAP)
        assert len(found) == 1, found
        return found[0]

    assert first("by_arn").central == "the ARN's account 111111111111 is in telemetry.central.account_ids"
    assert first("other_account").central is None and first("other_account").unresolved is None
    named = first("named_bucket")
    assert named.shown.startswith('"arn:aws:s3:::archive/prefix/" (aws_s3_bucket.archive') and named.central
    forwarded = first("via_firehose")
    assert forwarded.central.startswith("it delivers to aws_s3_bucket.archive")
    unknown = first("tags_unknown")
    assert unknown.central is None and "could not be evaluated" in unknown.unresolved


def test_a_firehose_sink_reads_its_conversion_schema_by_name(model_of):
    infra = model_of({"main.tf": PROVIDERS + """
resource "aws_glue_catalog_table" "requests" {
  provider      = aws.central
  name          = "requests"
  database_name = "telemetry"
  storage_descriptor {
    columns {
      name = "route"
      type = "string"
    }
  }
}
resource "aws_kinesis_firehose_delivery_stream" "s" {
  name        = "s"
  destination = "extended_s3"
  extended_s3_configuration {
    bucket_arn = "arn:aws:s3:::central-telemetry-x"
    role_arn   = "r"
    data_format_conversion_configuration {
      schema_configuration {
        database_name = "telemetry"
        table_name    = "requests"
        role_arn      = "r"
      }
    }
  }
}
"""})
    sink = sink_of(resource(infra, "aws_kinesis_firehose_delivery_stream.s"), infra, REPOSITORY_MAP)
    assert [f.name for f in sink.fields] == ["route"]
    assert "aws_glue_catalog_table.requests" in sink.fields[0].where
    assert sink.central[0].central.startswith('the bucket name "central-telemetry-x"')


# --- data protection policies --------------------------------------------------------------------------------

GROUP_AND_FILTER = """
provider "aws" {
  region = "eu-west-1"
}
resource "aws_cloudwatch_log_group" "app" {
  name = "/app"
}
resource "aws_cloudwatch_log_subscription_filter" "f" {
  name            = "f"
  log_group_name  = aws_cloudwatch_log_group.app.name
  filter_pattern  = ""
  destination_arn = "arn:aws:logs:eu-west-1:111111111111:destination:central"
}
"""


def _guard(model_of, policy_text: str):
    infra = model_of({"main.tf": GROUP_AND_FILTER + policy_text})
    flow = raw_flow_of(resource(infra, "aws_cloudwatch_log_subscription_filter.f"), infra, REPOSITORY_MAP)
    return protection(flow, infra)


def test_a_heredoc_json_policy_that_masks_everything_protects(model_of):
    guard = _guard(model_of, """
resource "aws_cloudwatch_log_data_protection_policy" "p" {
  log_group_name  = "/app"
  policy_document = <<EOT
{"Name": "p", "Version": "2021-06-01", "Statement": [
  {"Sid": "mask", "DataIdentifier": ["arn:aws:dataprotection::aws:data-identifier/EmailAddress",
   "arn:aws:dataprotection::aws:data-identifier/IpAddress", "arn:aws:dataprotection::aws:data-identifier/Name",
   "arn:aws:dataprotection::aws:data-identifier/Address",
   "arn:aws:dataprotection::aws:data-identifier/CreditCardNumber"],
   "Operation": {"Deidentify": {"MaskConfig": {}}}}]}
EOT
}
""")
    assert guard.protected and "aws_cloudwatch_log_data_protection_policy.p" in guard.found


def test_an_audit_only_account_policy_does_not_protect(model_of):
    guard = _guard(model_of, """
resource "aws_cloudwatch_log_account_policy" "p" {
  policy_name     = "p"
  policy_type     = "DATA_PROTECTION_POLICY"
  policy_document = jsonencode({
    Name      = "p"
    Version   = "2021-06-01"
    Statement = [{ Sid = "audit", DataIdentifier = ["arn:aws:dataprotection::aws:data-identifier/IpAddress"],
                   Operation = { Audit = { FindingsDestination = {} } } }]
  })
}
""")
    assert not guard.protected and "only audits IpAddress" in guard.found


def test_flow_log_groups_need_only_ip_addresses_masked(model_of):
    guard = _guard(model_of, """
resource "aws_flow_log" "vpc" {
  log_destination = aws_cloudwatch_log_group.app.arn
}
resource "aws_cloudwatch_log_data_protection_policy" "p" {
  log_group_name  = aws_cloudwatch_log_group.app.name
  policy_document = jsonencode({
    Name      = "p"
    Version   = "2021-06-01"
    Statement = [{ Sid = "mask", DataIdentifier = ["arn:aws:dataprotection::aws:data-identifier/IpAddress"],
                   Operation = { Deidentify = { MaskConfig = {} } } }]
  })
}
""")
    assert guard.protected and "masks IpAddress" in guard.found
