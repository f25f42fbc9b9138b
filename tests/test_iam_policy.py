"""model/iam_policy.py: key policies written as jsonencode(...), heredoc JSON and aws_iam_policy_document data
sources, read from checkov's real graph; principals, actions and the statement-level judgement of CKV_DH_204."""

from __future__ import annotations

import pytest

from data_handling.model.iam_policy import Principal, Statement, from_json, policy_of
from data_handling.rules.key_policy import statement_finding

PROVIDER = 'provider "aws" {\n  region = "eu-west-1"\n}\n'


def key(infra, address: str):
    found = [r for r in infra.resources if r.address == address]
    assert len(found) == 1, [r.address for r in infra.resources]
    return found[0]


def by_sid(document) -> dict[str, Statement]:
    return {s.where.split('"')[1] if '"' in s.where else s.where: s for s in document.statements}


# --- the three forms ------------------------------------------------------------------------------------------


def test_jsonencode_policy_arrives_as_a_dict(model_of):
    infra = model_of({"main.tf": PROVIDER + """
resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = "{}"
}

resource "aws_kms_key" "k" {
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "Root", Effect = "Allow", Principal = { AWS = "arn:aws:iam::111122223333:root" },
        Action = "kms:*", Resource = "*" },
      { Sid = "App", Effect = "Allow", Principal = { AWS = [aws_iam_role.app.arn] },
        Action = ["kms:Decrypt", "kms:GenerateDataKey*"], Resource = "*" },
      { Sid = "Service", Effect = "Allow", Principal = { Service = "logs.amazonaws.com" },
        Action = "kms:Encrypt", Resource = "*" },
    ]
  })
}
"""})
    document = policy_of(key(infra, "aws_kms_key.k"))
    assert document is not None and not document.problems
    statements = by_sid(document)
    assert set(statements) == {"Root", "App", "Service"}
    assert statements["Root"].actions == ("kms:*",) and statements["Root"].principals[0].is_account_root
    assert statements["App"].actions == ("kms:Decrypt", "kms:GenerateDataKey*")
    assert [str(p) for p in statements["App"].principals] == ["aws_iam_role.app.arn"]
    assert str(statements["Service"].principals[0]) == "Service logs.amazonaws.com"
    assert "policy of aws_kms_key.k" in statements["App"].where


def test_heredoc_json_policy_is_read_whether_checkov_parsed_it_or_not(model_of):
    infra = model_of({"main.tf": PROVIDER + """
resource "aws_kms_key" "k" {
  policy = <<-EOT
    {
      "Version": "2012-10-17",
      "Statement": {"Sid": "Ops", "Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:role/ops"]},
                    "NotAction": "kms:ScheduleKeyDeletion", "Resource": "*"}
    }
  EOT
}
"""})
    document = policy_of(key(infra, "aws_kms_key.k"))
    assert document is not None and not document.problems
    (ops,) = document.statements
    assert ops.not_actions and ops.actions == ("kms:ScheduleKeyDeletion",)
    assert ops.grants("kms:Decrypt") and ops.grants("kms:PutKeyPolicy") and not ops.grants("kms:ScheduleKeyDeletion")
    # The same document as the raw string a heredoc with unparsed interpolations leaves.
    raw = from_json('{"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"}]}', "raw")
    assert raw.statements[0].wildcard_principal and raw.statements[0].principals == (Principal("*", "*"),)
    broken = from_json('{"Statement": [${var.statements}]}', "policy of x")
    assert broken.problems and "could not be read as a JSON policy" in broken.problems[0]


def test_policy_document_data_source_is_followed_through_the_reference(model_of):
    infra = model_of({"main.tf": PROVIDER + """
data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Root"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

data "aws_iam_policy_document" "key" {
  source_policy_documents = [data.aws_iam_policy_document.base.json]

  statement {
    sid       = "Admins"
    actions   = ["kms:Create*", "kms:Put*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:role/admin"]
    }
  }

  statement {
    sid       = "Everyone"
    effect    = "Deny"
    actions   = ["kms:Decrypt"]
    resources = ["*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
  }

  dynamic "statement" {
    for_each = { Users = ["kms:Decrypt"], Auditors = ["kms:DescribeKey"] }
    content {
      sid     = statement.key
      actions = statement.value
      principals {
        type        = "AWS"
        identifiers = ["arn:aws:iam::111122223333:role/${statement.key}"]
      }
    }
  }

  dynamic "statement" {
    for_each = length([]) > 0 ? [1] : []
    content {
      sid     = "NeverRendered"
      actions = ["kms:*"]
    }
  }
}

resource "aws_kms_key" "k" {
  policy = data.aws_iam_policy_document.key.json
}
"""})
    document = policy_of(key(infra, "aws_kms_key.k"))
    assert document is not None and not document.problems, document.problems
    statements = by_sid(document)
    assert set(statements) == {"Admins", "Everyone", "Users", "Auditors", "Root"}
    assert statements["Admins"].allows and statements["Admins"].actions == ("kms:Create*", "kms:Put*")
    assert not statements["Everyone"].allows and statements["Everyone"].wildcard_principal
    assert [str(p) for p in statements["Users"].principals] == ["arn:aws:iam::111122223333:role/Users"]
    assert statements["Users"].actions == ("kms:Decrypt",)
    assert statements["Root"].principals[0].is_account_root  # account ID from data.aws_caller_identity
    assert "data.aws_iam_policy_document.key" in statements["Admins"].where


def test_a_policy_that_cannot_be_evaluated_is_a_problem_not_a_pass(model_of):
    infra = model_of({"main.tf": PROVIDER + """
variable "policy_json" {
  type = string
}

resource "aws_kms_key" "unknown" {
  policy = var.policy_json
}

resource "aws_kms_key" "none" {
  description = "default key policy"
}
"""})
    unknown = policy_of(key(infra, "aws_kms_key.unknown"))
    assert unknown is not None and not unknown.statements
    assert "var.policy_json" in unknown.problems[0] and "could not be evaluated" in unknown.problems[0]
    assert policy_of(key(infra, "aws_kms_key.none")) is None


# --- principals, actions and the two-person judgement ---------------------------------------------------------


@pytest.mark.parametrize(("identifier", "root"), [
    ("arn:aws:iam::111122223333:root", True),
    ("arn:aws-us-gov:iam::111122223333:root", True),
    ("111122223333", True),
    ("arn:aws:iam::${data.aws_caller_identity.current.account_id}:root", True),
    ("data.aws_caller_identity.current.account_id", True),
    ("arn:aws:iam::111122223333:role/root", False),
    ("arn:aws:iam::111122223333:user/admin", False),
    ("*", False),
])
def test_account_root_principal(identifier, root):
    assert Principal("AWS", identifier).is_account_root is root


@pytest.mark.parametrize(("patterns", "action", "granted"), [
    (("kms:*",), "kms:PutKeyPolicy", True),
    (("*",), "kms:Decrypt", True),
    (("kms:Put*",), "kms:PutKeyPolicy", True),
    (("KMS:decrypt",), "kms:Decrypt", True),  # IAM actions are case-insensitive
    (("kms:ReEncrypt*",), "kms:ReEncryptFrom", True),
    (("kms:Re?ncrypt*",), "kms:ReEncryptTo", True),
    (("kms:Describe*", "kms:List*"), "kms:Decrypt", False),
    (("kms:CreateGrant",), "kms:CreateAlias", False),
])
def test_action_wildcards(patterns, action, granted):
    statement = Statement("s", "Allow", patterns, (Principal("AWS", "arn:aws:iam::1:role/x"),))
    assert statement.grants(action) is granted


def _statement(actions, *identifiers, effect="Allow", not_actions=False):
    principals = tuple(Principal("AWS", i) if i != "*" else Principal("*", "*") for i in identifiers)
    return Statement('statement "S"', effect, tuple(actions), principals, not_actions=not_actions)


@pytest.mark.parametrize(("statement", "phrase"), [
    (_statement(["kms:*"], "arn:aws:iam::111122223333:role/ops"), "grants key administration (kms:*)"),
    (_statement(["kms:Put*", "kms:Decrypt"], "arn:aws:iam::111122223333:role/ops"), "decryption (kms:Decrypt)"),
    (_statement(["*"], "arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:role/ops"), "role/ops"),
    (_statement(["kms:ScheduleKeyDeletion"], "arn:aws:iam::111122223333:role/x", not_actions=True),
     "everything but"),
    (_statement(["kms:Decrypt"], "*"), "wildcard principal"),
])
def test_statements_that_break_the_two_person_rule(statement, phrase):
    assert phrase in statement_finding(statement)


@pytest.mark.parametrize("statement", [
    _statement(["kms:*"], "arn:aws:iam::111122223333:root"),  # the root only delegates to IAM
    _statement(["kms:*"], "111122223333"),
    _statement(["kms:Create*", "kms:Put*", "kms:ScheduleKeyDeletion"], "arn:aws:iam::111122223333:role/admin"),
    _statement(["kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "arn:aws:iam::111122223333:role/app"),
    _statement(["kms:CreateGrant", "kms:Decrypt"], "arn:aws:iam::111122223333:role/app"),  # a grant is not admin
    _statement(["kms:*"], "*", effect="Deny"),
])
def test_statements_that_keep_the_two_person_rule(statement):
    assert statement_finding(statement) == ""


# --- values with parts known only after apply -----------------------------------------------------------------


@pytest.mark.parametrize(("value", "restricts"), [
    ("vpce-0abc", True),
    ("${aws_vpc_endpoint.s3.id}", True),  # one endpoint of the configuration, whatever its ID
    ('${module.network.aws_vpc_endpoint.s3["eu"].id}', True),
    ("${var.endpoint}", False),  # a variable without a value could be anything
    ('${lookup(local.endpoints, "s3")}', False),  # an expression left unevaluated
    ("${module.network.endpoint_id}", False),  # a module output not followed to its resource
    ("${aws:SourceVpce}", False),  # an IAM policy variable: a different value per request
])
def test_a_condition_value_with_an_unknown_part_restricts_only_when_it_is_one_resource(value, restricts):
    document = from_json({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                                         "Condition": {"StringEquals": {"aws:SourceVpce": value}}}]}, "p")
    assert document.statements[0].conditions[0].restricts is restricts


def test_a_principal_with_an_unevaluated_part_is_a_problem():
    document = from_json({"Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                         "Principal": {"AWS": '${lookup(local.readers, "x")}'}}]}, "p")
    assert document.problems and "could not be evaluated" in document.problems[0]
