"""model/iam_policy.py conditions and resources, and model/resource_policies.py: which resource-policy documents
apply to a store and which stores a policy resource governs, read from checkov's real graph."""

from __future__ import annotations

from data_handling.model.iam_policy import Condition, from_json, policy_of, restricting_conditions
from data_handling.model.resource_policies import attached_policy, policies_of, stores_of
from data_handling.model.values import Unevaluated

PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'


def one(infra, address: str):
    found = [r for r in infra.resources + infra.data_sources if r.address == address]
    assert len(found) == 1, [r.address for r in infra.resources]
    return found[0]


# --- conditions -----------------------------------------------------------------------------------------------


def test_json_conditions_and_resources_are_kept_per_statement():
    document = from_json({"Statement": [
        {"Sid": "Vpce", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
         "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}, "Bool": {"aws:SecureTransport": True}}},
        {"Sid": "Tls", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
         "NotResource": "arn:aws:s3:::b/private/*", "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    ]}, "policy of x")
    assert not document.problems
    vpce, tls = document.statements
    assert vpce.resources == ("arn:aws:s3:::b", "arn:aws:s3:::b/*") and not vpce.not_resources
    assert vpce.conditions == (Condition("StringEquals", "aws:SourceVpce", ("vpce-1a2b",)),
                               Condition("Bool", "aws:SecureTransport", ("true",)))
    assert restricting_conditions(vpce) == ([vpce.conditions[0]], [])
    assert tls.not_resources and tls.resources == ("arn:aws:s3:::b/private/*",)
    assert restricting_conditions(tls) == ([], [])  # aws:SecureTransport narrows nobody


def test_what_counts_as_a_restricting_condition():
    def restricts(operator: str, key: str, *values: str) -> bool:
        return Condition(operator, key, values).restricts

    assert restricts("StringEquals", "aws:PrincipalOrgID", "o-abc123def4")
    assert restricts("ForAnyValue:StringEquals", "AWS:SOURCEVPC", "vpc-1")  # keys are case-insensitive
    assert restricts("IpAddress", "aws:SourceIp", "203.0.113.0/24")
    assert restricts("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111122223333:role/app-*")
    assert restricts("StringEquals", "aws:SourceAccount", "111122223333", "222233334444")
    assert not restricts("StringLike", "aws:PrincipalOrgID", "*")
    assert not restricts("StringLike", "aws:SourceVpce", "vpce-*")
    assert not restricts("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/app")
    assert not restricts("StringEquals", "aws:SourceAccount", "111122223333", "*")  # one open value opens it
    assert not restricts("IpAddress", "aws:SourceIp", "0.0.0.0/0")
    assert not restricts("StringNotEquals", "aws:PrincipalOrgID", "o-abc123def4")  # everyone but them
    assert not restricts("StringEqualsIfExists", "aws:SourceVpce", "vpce-1")  # holds when the key is absent
    assert not restricts("ForAllValues:StringEquals", "aws:SourceVpce", "vpce-1")
    assert not restricts("Bool", "aws:SecureTransport", "true")
    assert not restricts("StringEquals", "aws:SourceVpce")
    unknown = Condition("StringEquals", "aws:SourceVpce", (Unevaluated("var.vpce", "no value"),))
    assert not unknown.restricts and unknown.unknown_values == ["var.vpce"]
    assert Condition("StringEquals", "aws:SourceVpce", ("${unknown until apply}",)).unknown_values


def test_policy_document_conditions_static_dynamic_and_merged(model_of):
    infra = model_of({"main.tf": PROVIDER + """
variable "endpoint" {
  default = "vpce-0a1b2c"
}
variable "unset" {}

locals {
  org_conditions = [{ test = "StringEquals", variable = "aws:PrincipalOrgID", values = ["o-abc123def4"] }]
}

resource "aws_vpc_endpoint" "s3" {
  vpc_id       = "vpc-1"
  service_name = "com.amazonaws.eu-west-1.s3"
}

data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Org"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    dynamic "condition" {
      for_each = local.org_conditions
      content {
        test     = condition.value.test
        variable = condition.value.variable
        values   = condition.value.values
      }
    }
  }
}

data "aws_iam_policy_document" "d" {
  source_policy_documents = [data.aws_iam_policy_document.base.json]
  statement {
    sid       = "Endpoint"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpce"
      values   = [var.endpoint, aws_vpc_endpoint.s3.id]
    }
  }
  statement {
    sid       = "Unset"
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceVpc"
      values   = [var.unset]
    }
  }
}

resource "aws_s3_bucket" "b" {
  bucket = "b"
  policy = data.aws_iam_policy_document.d.json
}
"""})
    document = policy_of(one(infra, "aws_s3_bucket.b"))
    assert document is not None and not document.problems
    statements = {s.where.split('"')[1]: s for s in document.statements}
    assert set(statements) == {"Endpoint", "Unset", "Org"}
    endpoint = statements["Endpoint"]
    assert endpoint.resources == ("arn:aws:s3:::b/*",)
    assert endpoint.conditions == (
        Condition("StringEquals", "aws:SourceVpce", ("vpce-0a1b2c", "aws_vpc_endpoint.s3.id")),)
    assert restricting_conditions(endpoint)[0] == list(endpoint.conditions)
    assert restricting_conditions(statements["Org"])[0] == [
        Condition("StringEquals", "aws:PrincipalOrgID", ("o-abc123def4",))]
    restricting, unknown = restricting_conditions(statements["Unset"])
    assert restricting == [] and "aws:SourceVpc" in unknown[0] and "could not be evaluated" in unknown[0]


def test_a_dynamic_condition_unknown_until_apply_is_a_condition_problem(model_of):
    infra = model_of({"main.tf": PROVIDER + """
resource "aws_vpc_endpoint" "s3" {
  vpc_id       = "vpc-1"
  service_name = "com.amazonaws.eu-west-1.s3"
}

data "aws_iam_policy_document" "d" {
  statement {
    actions = ["sqs:SendMessage"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    dynamic "condition" {
      for_each = toset(aws_vpc_endpoint.s3.route_table_ids)
      content {
        test     = "StringEquals"
        variable = "aws:SourceVpce"
        values   = [condition.value]
      }
    }
  }
}

resource "aws_sqs_queue" "q" {
  policy = data.aws_iam_policy_document.d.json
}
"""})
    (statement,) = policy_of(one(infra, "aws_sqs_queue.q")).statements
    restricting, unknown = restricting_conditions(statement)
    assert restricting == [] and unknown and "condition" in unknown[0]


# --- which policies apply to which store ----------------------------------------------------------------------


STORES = PROVIDER + """
resource "aws_s3_bucket" "orders" {
  bucket = "acme-orders"
}

resource "aws_s3_bucket" "inline" {
  bucket = "acme-inline"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject", Resource = "*" }] })
}

resource "aws_s3_bucket_policy" "orders" {
  bucket = aws_s3_bucket.orders.id
  policy = data.aws_iam_policy_document.orders.json
}

resource "aws_s3_bucket_policy" "by_name" {
  bucket = "acme-orders"
  policy = jsonencode({ Statement = [{ Effect = "Deny", Principal = "*", Action = "s3:*", Resource = "*" }] })
}

resource "aws_s3_bucket_policy" "elsewhere" {
  bucket = "someone-elses-bucket"
  policy = jsonencode({ Statement = [] })
}

data "aws_iam_policy_document" "orders" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.orders.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:root"]
    }
  }
}

resource "aws_sqs_queue" "q" {}

resource "aws_sqs_queue_policy" "q" {
  queue_url = aws_sqs_queue.q.url
  policy    = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "sqs:SendMessage" }] })
}

resource "aws_dynamodb_table" "t" {
  name         = "t"
  hash_key     = "id"
  billing_mode = "PAY_PER_REQUEST"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_dynamodb_resource_policy" "t" {
  resource_arn = aws_dynamodb_table.t.arn
  policy       = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "dynamodb:GetItem" }] })
}

resource "aws_kms_key" "k" {}

resource "aws_kms_key_policy" "k" {
  key_id = aws_kms_key.k.id
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "kms:Decrypt" }] })
}

resource "aws_glue_catalog_database" "lake" {
  name = "lake"
}

resource "aws_glue_resource_policy" "catalog" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "glue:GetTable" }] })
}

resource "aws_opensearch_domain" "search" {
  domain_name = "search"
}

resource "aws_opensearch_domain_policy" "search" {
  domain_name     = aws_opensearch_domain.search.domain_name
  access_policies = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "es:*" }] })
}
"""


def test_policies_of_a_store_inline_attached_by_reference_and_by_name(model_of):
    infra = model_of({"main.tf": STORES})
    orders = policies_of(one(infra, "aws_s3_bucket.orders"), infra)
    assert sorted(p.attached_by.address for p in orders) == ["aws_s3_bucket_policy.by_name",
                                                             "aws_s3_bucket_policy.orders"]
    assert all(not p.inline and p.attribute == "policy" for p in orders)
    by_ref = next(p for p in orders if p.attached_by.address == "aws_s3_bucket_policy.orders")
    assert "data.aws_iam_policy_document.orders" in by_ref.document.statements[0].where
    (inline,) = policies_of(one(infra, "aws_s3_bucket.inline"), infra)
    assert inline.inline and inline.attached_by.address == "aws_s3_bucket.inline"
    assert inline.document.statements[0].wildcard_principal
    for store, holder in [("aws_sqs_queue.q", "aws_sqs_queue_policy.q"),
                          ("aws_dynamodb_table.t", "aws_dynamodb_resource_policy.t"),
                          ("aws_kms_key.k", "aws_kms_key_policy.k"),
                          ("aws_glue_catalog_database.lake", "aws_glue_resource_policy.catalog"),
                          ("aws_opensearch_domain.search", "aws_opensearch_domain_policy.search")]:
        assert [p.attached_by.address for p in policies_of(one(infra, store), infra)] == [holder], store


def test_the_stores_a_policy_resource_applies_to(model_of):
    infra = model_of({"main.tf": STORES})
    attached = attached_policy(one(infra, "aws_s3_bucket_policy.orders"), infra)
    assert attached is not None and [s.address for s in attached.stores] == ["aws_s3_bucket.orders"]
    assert [s.address for s in stores_of(one(infra, "aws_s3_bucket_policy.by_name"), infra)[0]] == [
        "aws_s3_bucket.orders"]
    elsewhere = attached_policy(one(infra, "aws_s3_bucket_policy.elsewhere"), infra)
    assert elsewhere is not None and elsewhere.stores == ()
    assert '"someone-elses-bucket"' in elsewhere.unresolved and "names no aws_s3_bucket" in elsewhere.unresolved
    glue = attached_policy(one(infra, "aws_glue_resource_policy.catalog"), infra)
    assert [s.address for s in glue.stores] == ["aws_glue_catalog_database.lake"]
    search = attached_policy(one(infra, "aws_opensearch_domain_policy.search"), infra)
    assert search.attribute == "access_policies" and search.document.statements[0].wildcard_principal
    # A store without a policy argument holds none; a non-policy type is not an attachment.
    assert attached_policy(one(infra, "aws_s3_bucket.orders"), infra) is None
    assert attached_policy(one(infra, "aws_dynamodb_table.t"), infra) is None


def test_a_store_created_in_a_module_with_its_policy_outside(model_of):
    infra = model_of({
        "main.tf": PROVIDER + """
module "bucket" {
  source = "./modules/bucket"
  name   = "acme-confidential"
}

resource "aws_s3_bucket_policy" "outside" {
  bucket = module.bucket.id
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject" }] })
}
""",
        "modules/bucket/main.tf": """
variable "name" {}

resource "aws_s3_bucket" "this" {
  bucket = var.name
}

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = jsonencode({ Statement = [{ Effect = "Deny", Principal = "*", Action = "s3:*" }] })
}

output "id" {
  value = aws_s3_bucket.this.id
}
""",
    })
    bucket = one(infra, "module.bucket.aws_s3_bucket.this")
    assert sorted(p.attached_by.address for p in policies_of(bucket, infra)) == [
        "aws_s3_bucket_policy.outside", "module.bucket.aws_s3_bucket_policy.this"]
    outside = attached_policy(one(infra, "aws_s3_bucket_policy.outside"), infra)
    assert outside.stores == (bucket,)


def test_an_unfollowable_reference_says_why(model_of):
    infra = model_of({"main.tf": PROVIDER + """
variable "queue_url" {}

resource "aws_sqs_queue_policy" "q" {
  queue_url = var.queue_url
  policy    = jsonencode({ Statement = [] })
}
"""})
    stores, why = stores_of(one(infra, "aws_sqs_queue_policy.q"), infra)
    assert stores == [] and "queue_url of aws_sqs_queue_policy.q" in why and "could not be followed" in why
