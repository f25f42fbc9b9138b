"""The `json` of a `data "aws_iam_policy_document"`, rendered as the AWS provider renders it at plan time.

Terraform reads this data source without calling AWS, so its JSON is known before apply whenever its arguments
are. Modules build bucket and key policies from it with string functions (terraform-aws-modules/s3-bucket:
`replace(data.aws_iam_policy_document.combined[0].json, "_S3_BUCKET_ARN_", aws_s3_bucket.this[0].arn)`), so the
text itself has to exist for those functions to work on.

The provider's rules (hashicorp/terraform-provider-aws, internal/service/iam/policy_document_data_source.go),
checked against `terraform apply` of the data source:

- `Version` defaults to 2012-10-17, `policy_id` is `Id`; `Effect` defaults to Allow; an empty `sid` is omitted;
- `actions`, `resources` and each principal type's `identifiers` are sets, written in reverse sorted order, as
  a string when there is one; principal blocks of one type merge; `type = "*"` with `["*"]` is `Principal: "*"`;
- conditions are `{test: {variable: values}}`, values as written (a string when one);
- IAM policy variables written `&{aws:username}` in resources, principals and condition values become
  `${aws:username}`;
- principal blocks of one type merge in the order of the provider's set hash, which is not reproduced here (the
  order of a principal's identifiers means nothing to IAM);
- `source_policy_documents` come first, then the document's own statements, then
  `override_policy_documents`; a statement with a non-empty Sid replaces an earlier one with the same Sid;
- `json` is indented by two spaces, `minified_json` is not; both escape <, > and & as Go's encoder does.

A value known only after apply is written as `${its reference}` (the way a template with an unknown part keeps
its text, model/expressions.py): the caller makes the whole text a value known only after apply that still
reads as JSON, so a rule sees every known statement and the reference in place of the unknown one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.values import ReferenceText, Unevaluated, unwrap

DEFAULT_VERSION = "2012-10-17"
_STATEMENT_ORDER = ("Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal",
                    "Condition")


class NotRendered(Exception):
    """The document cannot be rendered before apply (a merged document, or a whole block, known only after apply)."""


@dataclass
class Rendering:
    """What went into a rendered document: whether parts are known only after apply, and why any are unknown."""

    references: list[str] = field(default_factory=list)  # reference texts written as ${...}
    unknown: list[str] = field(default_factory=list)  # why a value could not be evaluated at all

    def mark(self, value: Any) -> Any:
        """A leaf value of an evaluated block, with a value known only after apply written as ${...}."""
        if isinstance(value, Unevaluated):
            self.unknown.append(f"{value} could not be evaluated: {value.reason}")
            return value if "${" in value else "${" + value + "}"
        if isinstance(value, ReferenceText):
            self.references.append(str(value))
            return str(value) if "${" in value else "${" + value + "}"
        return value


def render(config: dict[str, Any], merged: Callable[[str], list[dict[str, Any]]], minified: bool,
           rendering: Rendering) -> str:
    """The JSON text of an evaluated aws_iam_policy_document body (checkov's shape: attributes in one-element
    lists, blocks as lists of dicts). `merged(attribute)` gives the statements of the documents
    source_policy_documents or override_policy_documents name, already parsed."""
    if config.get("__unknown_blocks__"):
        raise NotRendered("; ".join(config["__unknown_blocks__"].values()))
    version = _scalar(config, "version", rendering) or DEFAULT_VERSION
    statements: list[dict[str, Any]] = []
    for statement in merged("source_policy_documents"):
        _merge(statements, statement)
    for block in config.get("statement") or []:
        _merge(statements, _statement(block, rendering, version))
    for statement in merged("override_policy_documents"):
        _merge(statements, statement)
    document: dict[str, Any] = {"Version": version}
    policy_id = _scalar(config, "policy_id", rendering)
    if policy_id:
        document["Id"] = policy_id
    if statements:
        document["Statement"] = statements
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) if minified else \
        json.dumps(document, ensure_ascii=False, indent=2)
    # Go's encoding/json escapes HTML characters and the two Unicode line separators
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return text


def parse_merged(text: str, where: str) -> list[dict[str, Any]]:
    """The statements of a document source_policy_documents or override_policy_documents holds."""
    try:
        document = json.loads(text)
    except ValueError as error:
        raise NotRendered(f"{where} is not a JSON policy document ({error})") from None
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise NotRendered(f"{where} has no readable Statement list")
    return statements


def _merge(statements: list[dict[str, Any]], statement: dict[str, Any]) -> None:
    sid = statement.get("Sid")
    for index, existing in enumerate(statements):
        if sid and existing.get("Sid") == sid:
            statements[index] = statement
            return
    statements.append(statement)


def _policy_variables(values: list[str], version: str) -> list[str]:
    """IAM policy variables are written &{aws:username} (${ is Terraform's): the provider turns them into ${."""
    if version == "2008-10-17" and any("&{" in value for value in values):
        raise NotRendered("a policy variable (&{...}) in a version 2008-10-17 document")
    return [value.replace("&{", "${") for value in values]


def _statement(block: dict[str, Any], rendering: Rendering, version: str) -> dict[str, Any]:
    written: dict[str, Any] = {}
    sid = _scalar(block, "sid", rendering)
    if sid:
        written["Sid"] = sid
    written["Effect"] = _scalar(block, "effect", rendering) or "Allow"
    for attribute, key in (("actions", "Action"), ("not_actions", "NotAction"), ("resources", "Resource"),
                           ("not_resources", "NotResource")):
        values = _strings(block, attribute, rendering)
        if values:
            written[key] = _set_value(_policy_variables(values, version) if "resources" in attribute else values)
    for attribute, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        principals = _principals(block.get(attribute) or [], rendering, version)
        if principals is not None:
            written[key] = principals
    conditions: dict[str, dict[str, Any]] = {}
    for condition in block.get("condition") or []:
        if condition.get("__unknown_blocks__"):
            raise NotRendered("; ".join(condition["__unknown_blocks__"].values()))
        test, variable = _scalar(condition, "test", rendering), _scalar(condition, "variable", rendering)
        values = _policy_variables(_strings(condition, "values", rendering), version)
        if test is None or variable is None:
            raise NotRendered("a condition block without test or variable")
        conditions.setdefault(str(test), {})[str(variable)] = values[0] if len(values) == 1 else values
    if conditions:
        written["Condition"] = {test: dict(sorted(keys.items())) for test, keys in sorted(conditions.items())}
    return {key: written[key] for key in _STATEMENT_ORDER if key in written}


def _principals(blocks: list[dict[str, Any]], rendering: Rendering, version: str) -> Any:
    by_type: dict[str, list[str]] = {}
    for principal in blocks:
        kind = _scalar(principal, "type", rendering)
        if kind is None:
            raise NotRendered("a principals block without type")
        by_type.setdefault(str(kind), []).extend(_policy_variables(_strings(principal, "identifiers", rendering),
                                                                   version))
    if not by_type:
        return None
    if list(by_type) == ["*"] and set(by_type["*"]) == {"*"}:
        return "*"
    return {kind: _set_value(identifiers) for kind, identifiers in sorted(by_type.items())}


def _set_value(values: list[str]) -> Any:
    values = sorted(dict.fromkeys(values), reverse=True)
    return values[0] if len(values) == 1 else values


def _scalar(body: dict[str, Any], name: str, rendering: Rendering) -> Any:
    value = unwrap(body.get(name))
    if value is None:
        return None
    if isinstance(value, list | dict):
        raise NotRendered(f"{name} is not a single value")
    return _as_text(rendering.mark(value))


def _as_text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _strings(body: dict[str, Any], name: str, rendering: Rendering) -> list[str]:
    """A list argument's elements as text; a whole list known only after apply is one marked element."""
    value = unwrap(body.get(name))  # the attribute's wrapping
    if value is None:
        return []
    if isinstance(value, dict):
        raise NotRendered(f"{name} is not a list")
    found = []
    for item in value if isinstance(value, list) else [value]:
        if item is None:
            continue
        if isinstance(item, list | dict):
            raise NotRendered(f"{name} holds {item!r}, which is not a string")
        found.append(_as_text(rendering.mark(item)))
    return found
