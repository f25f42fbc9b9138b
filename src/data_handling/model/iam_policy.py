"""IAM policy documents (key policies) in the three ways Terraform writes them.

- `jsonencode({...})`: checkov hands over the document as a dict;
- heredoc or literal JSON: a dict too when checkov could parse it, else a JSON string;
- `data "aws_iam_policy_document"`: `policy = data.aws_iam_policy_document.x.json` arrives as a reference edge
  labelled with the attribute, to the data source, whose `statement` blocks (static or `dynamic`) hold
  `effect`, `actions` / `not_actions`, `resources` / `not_resources`, `principals` / `not_principals { type
  identifiers }` and `condition { test variable values }`; `source_policy_documents` and
  `override_policy_documents` add the statements of other documents.

Each statement keeps its conditions (operator, key, values) and resources, so a rule can tell a wildcard
principal narrowed to one VPC endpoint or organisation from one open to everyone (`restricting_conditions`).

Statements keep where they came from, so a finding can name the statement a reviewer has to change.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from data_handling.model.blocks import blocks, string_list
from data_handling.model.records import Resource
from data_handling.model.values import Unevaluated, as_text, is_unrendered, unwrap

POLICY_DOCUMENT_TYPE = "aws_iam_policy_document"
_ROOT_ARN = re.compile(r"^arn:[^:]+:iam::[^:]+:root$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_REFERENCE = re.compile(r"account_id\W*$")  # data.aws_caller_identity.current.account_id, var.account_id
_UNKNOWN_IN_PLAN = "unknown until apply"  # what a plan source leaves for a value known only after apply
_OPEN_VALUE = re.compile(r"(^|\$\{)(var|local)\.")  # a variable or local checkov could not render: could be "*"
_MARK = re.compile(r"\$\{([^{}]*)\}")  # a part of a text known only after apply, or an IAM policy variable
# A resource or data source attribute (through modules): one concrete value, known after apply.
_RESOURCE_ATTRIBUTE = re.compile(r"^(module\.[\w-]+(\[[^\]]*\])?\.)*(data\.)?aws_\w+\.[\w-]+(\[[^\]]*\])?"
                                 r"(\.\w+|\[[^\]]*\])+$")


@dataclass(frozen=True)
class Principal:
    kind: str  # AWS, Service, Federated, CanonicalUser, or * for `Principal: "*"`
    identifier: str

    @property
    def is_wildcard(self) -> bool:
        return self.identifier.strip() == "*"

    @property
    def is_account_root(self) -> bool:
        """The account itself (arn:aws:iam::<account>:root or the bare account ID): delegates to IAM policies."""
        text = self.identifier.strip()
        if self.kind != "AWS":
            return False
        return bool(_ROOT_ARN.match(text) or _ACCOUNT_ID.match(text)
                    or (is_unrendered(text) and ":" not in text and _ACCOUNT_REFERENCE.search(text)))

    def __str__(self) -> str:
        return self.identifier if self.kind in ("AWS", "*") else f"{self.kind} {self.identifier}"


# Condition keys that pin the caller (its network, account, organisation, identity or the calling resource) to
# concrete values: a wildcard principal narrowed by one of them with concrete values is not "everyone".
RESTRICTING_KEYS = frozenset(key.lower() for key in (
    "aws:SourceVpc", "aws:SourceVpce", "aws:SourceVpcArn", "aws:SourceIp", "aws:VpcSourceIp",
    "aws:SourceAccount", "aws:SourceArn", "aws:SourceOwner", "aws:SourceOrgID", "aws:SourceOrgPaths",
    "aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:PrincipalAccount", "aws:PrincipalArn", "aws:userid",
    "kms:CallerAccount", "s3:DataAccessPointAccount", "s3:DataAccessPointArn",
))
# Operators that allow only the listed values (optionally ForAnyValue:). Negated operators allow everything but
# them; ...IfExists and ForAllValues: hold when the key is absent from the request, so neither restricts.
_POSITIVE_OPERATORS = frozenset(op.lower() for op in (
    "StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "IpAddress",
))
_OPEN_NETWORKS = frozenset({"0.0.0.0/0", "::/0"})


@dataclass(frozen=True)
class Condition:
    """One condition of a statement: `"StringEquals": {"aws:SourceVpce": ["vpce-1"]}` or a `condition` block."""

    operator: str  # as written: StringEquals, ForAnyValue:StringLike, ArnLikeIfExists, Bool, ...
    key: str  # aws:SourceVpce (as written; AWS compares keys case-insensitively)
    values: tuple[str, ...]  # as text; an unevaluated value keeps its expression (model.values.Unevaluated)

    @property
    def unknown_values(self) -> list[str]:
        """Values that could not be evaluated (a variable without a value): they could be "*"."""
        return [value for value in self.values if is_open_text(value)]

    @property
    def open_values(self) -> list[str]:
        """Known values that let anyone through: "*", 0.0.0.0/0, a Like pattern with a wildcard account."""
        like = "like" in self.operator.lower()
        return [value for value in self.values if value not in self.unknown_values and _is_open(value, like)]

    @property
    def restricts(self) -> bool:
        """Whether the condition narrows a request to concrete callers: a restricting key, a positive operator,
        and every value concrete (a list matches any of its values, so one open value opens it)."""
        operator = self.operator.strip().lower().removeprefix("foranyvalue:")
        return (self.key.strip().lower() in RESTRICTING_KEYS and operator in _POSITIVE_OPERATORS
                and bool(self.values) and not self.unknown_values and not self.open_values)

    def __str__(self) -> str:
        shown = self.values[0] if len(self.values) == 1 else list(self.values)
        return f'{self.operator} {self.key} = {json.dumps(shown)}'


def is_open_text(value: str) -> bool:
    """A value that is not one concrete value: not evaluated, a variable or local left as text, unknown in a
    plan, or a text with a part that is not a resource's attribute (`${aws_vpc_endpoint.s3.id}` is one endpoint,
    whatever its ID turns out to be), an IAM policy variable (${aws:username}, a different value per request)
    included."""
    if isinstance(value, Unevaluated) or _OPEN_VALUE.search(value) or _UNKNOWN_IN_PLAN in value:
        return True
    return any(not _RESOURCE_ATTRIBUTE.match(inner.strip()) for inner in _MARK.findall(value))


def _is_open(value: str, like: bool) -> bool:
    text = value.strip()
    if not text.strip("*?") or text in _OPEN_NETWORKS:
        return True
    if not like or not any(char in text for char in "*?"):
        return False
    parts = text.split(":")
    if text.startswith("arn:") and len(parts) >= 6:  # arn:partition:service:region:account:resource
        account = parts[4]
        return any(char in account for char in "*?") or not parts[5].strip("*?/")
    return True  # vpce-*, o-*, 10.*: a pattern over identifiers anyone can hold


@dataclass(frozen=True)
class Statement:
    where: str  # 'statement "KeyAdmins" of data.aws_iam_policy_document.key (main.tf:12)'
    effect: str  # Allow or Deny, as written
    actions: tuple[str, ...]
    principals: tuple[Principal, ...]
    not_actions: bool = False  # the actions are NotAction: everything but them is granted
    not_principals: bool = False  # the principals are NotPrincipal: everyone but them
    conditions: tuple[Condition, ...] = ()  # all must hold (AND); the values of one key are alternatives (OR)
    resources: tuple[str, ...] = ()  # Resource / resources as written ("" when the statement names none)
    not_resources: bool = False  # the resources are NotResource: everything but them
    # Why some conditions are unknown (a dynamic condition block whose for_each is known only after apply, a
    # Condition that is not a map): a rule that relies on conditions must not pass on them.
    condition_problems: tuple[str, ...] = ()

    @property
    def allows(self) -> bool:
        return self.effect.strip().lower() == "allow"

    def grants(self, action: str) -> bool:
        """Whether the statement covers an action (IAM wildcards * and ?, case-insensitive)."""
        hit = any(fnmatchcase(action.lower(), pattern.strip().lower()) for pattern in self.actions)
        return hit != self.not_actions

    def patterns_granting(self, action: str) -> list[str]:
        """The written patterns that grant an action (for a NotAction statement: the whole NotAction list)."""
        if self.not_actions:
            return [f"NotAction {list(self.actions)}"] if self.grants(action) else []
        return [p for p in self.actions if fnmatchcase(action.lower(), p.strip().lower())]

    @property
    def wildcard_principal(self) -> bool:
        """Anyone: Principal "*" / {"AWS": "*"}, or an Allow with NotPrincipal (everyone but the listed)."""
        return self.not_principals or any(principal.is_wildcard for principal in self.principals)


def restricting_conditions(statement: Statement) -> tuple[list[Condition], list[str]]:
    """The conditions that narrow a statement to concrete callers, and what keeps the others unknown (a
    restricting key whose values could not be evaluated; conditions that could not be read). One restricting
    condition is enough: the conditions of a statement must all hold."""
    restricting = [condition for condition in statement.conditions if condition.restricts]
    unknown = [f"{statement.where}: condition {condition} could not be evaluated"
               for condition in statement.conditions
               if condition.key.strip().lower() in RESTRICTING_KEYS and condition.unknown_values]
    return restricting, unknown + list(statement.condition_problems)


@dataclass
class PolicyDocument:
    source: str  # where the document was written: "policy of aws_kms_key.k (main.tf:3)"
    statements: list[Statement] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be read, for a fail-closed finding


# --- JSON (jsonencode, heredoc) ------------------------------------------------------------------------------


def from_json(document: Any, source: str) -> PolicyDocument:
    """A policy document given as a dict (jsonencode, parsed heredoc) or a JSON string."""
    parsed = PolicyDocument(source)
    document = unwrap(document)
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            parsed.problems.append(f"{source} is {_short(document)}, which could not be read as a JSON policy")
            return parsed
    if not isinstance(document, dict):
        parsed.problems.append(f"{source} is {_short(document)}, which is not a policy document")
        return parsed
    statements = document.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list):
        parsed.problems.append(f"{source} has no readable Statement list ({_short(statements)})")
        return parsed
    for number, statement in enumerate(statements, start=1):
        where = _statement_name(statement.get("Sid") if isinstance(statement, dict) else None, number, source)
        if not isinstance(statement, dict):
            parsed.problems.append(f"{where} is {_short(statement)}, which is not a statement")
            continue
        not_actions = "Action" not in statement and "NotAction" in statement
        not_principals = "Principal" not in statement and "NotPrincipal" in statement
        actions = statement.get("NotAction" if not_actions else "Action")
        principals = _json_principals(statement.get("NotPrincipal" if not_principals else "Principal"))
        not_resources = "Resource" not in statement and "NotResource" in statement
        resources = statement.get("NotResource" if not_resources else "Resource")
        conditions, condition_problems = _json_conditions(statement.get("Condition"), where)
        parsed.statements.append(Statement(
            where=where, effect=str(statement.get("Effect", "")), actions=tuple(str(a) for a in _present(actions)),
            principals=principals, not_actions=not_actions, not_principals=not_principals,
            conditions=conditions, resources=tuple(_text(r) for r in _present(resources)),
            not_resources=not_resources, condition_problems=condition_problems,
        ))
        _check_open_values(parsed, parsed.statements[-1])
    return parsed


def _json_principals(value: Any) -> tuple[Principal, ...]:
    if value is None:
        return ()
    if isinstance(value, dict):
        return tuple(Principal(str(kind), str(identifier))
                     for kind, identifiers in value.items() for identifier in _present(identifiers))
    return tuple(Principal("*", str(identifier)) for identifier in _present(value))


def _json_conditions(value: Any, where: str) -> tuple[tuple[Condition, ...], tuple[str, ...]]:
    """`{"StringEquals": {"aws:SourceVpce": "vpce-1"}}` as conditions; anything else set is a problem."""
    value = unwrap(value)
    if value is None or value == {}:
        return (), ()
    if not isinstance(value, dict):
        return (), (f"{where} has a Condition {_short(value)}, which could not be read",)
    conditions, problems = [], []
    for operator, entries in value.items():
        entries = unwrap(entries)
        if not isinstance(entries, dict):
            problems.append(f"{where} has a Condition {operator} {_short(entries)}, which could not be read")
            continue
        for key, values in entries.items():
            conditions.append(Condition(str(operator), str(key), tuple(_text(v) for v in _present(values))))
    return tuple(conditions), tuple(problems)


# --- data "aws_iam_policy_document" --------------------------------------------------------------------------


def from_policy_document(data_source: Resource, seen: frozenset[int] = frozenset()) -> PolicyDocument:
    """The statements of an aws_iam_policy_document data source, with the documents it merges in."""
    parsed = PolicyDocument(data_source.describe())
    seen = seen | {id(data_source)}
    # Statements behind a condition (`for_each = var.x ? [1] : []`) are optional: an empty for_each is none.
    statements, problems = blocks(data_source.config, "statement")
    parsed.problems += [f"{data_source.describe()}: {problem}" for problem in problems]
    for number, statement in enumerate(statements, start=1):
        where = _statement_name(as_text(statement.get("sid")), number, data_source.describe())
        principals, not_principals = _block_principals(statement, "principals"), False
        if not principals and _block_principals(statement, "not_principals"):
            principals, not_principals = _block_principals(statement, "not_principals"), True
        actions, not_actions = _present(statement.get("actions")), False
        if not actions and _present(statement.get("not_actions")):
            actions, not_actions = _present(statement.get("not_actions")), True
        resources, not_resources = _present(statement.get("resources")), False
        if not resources and _present(statement.get("not_resources")):
            resources, not_resources = _present(statement.get("not_resources")), True
        condition_blocks, condition_problems = blocks(statement, "condition")
        conditions = tuple(Condition(as_text(block.get("test")) or "", as_text(block.get("variable")) or "",
                                     tuple(_text(v) for v in _present(block.get("values"))))
                           for block in condition_blocks)
        parsed.statements.append(Statement(
            where=where, effect=as_text(statement.get("effect")) or "Allow",  # the data source's default
            actions=tuple(str(a) for a in actions), principals=principals,
            not_actions=not_actions, not_principals=not_principals, conditions=conditions,
            resources=tuple(_text(r) for r in resources), not_resources=not_resources,
            condition_problems=tuple(f"{where}: {problem}" for problem in condition_problems),
        ))
        _check_open_values(parsed, parsed.statements[-1])
        for kind in ("principals", "not_principals"):
            parsed.problems += [f"{where}: {problem}" for problem in blocks(statement, kind)[1]]
    _merge_documents(parsed, data_source, seen)
    return parsed


def _present(value: Any) -> list[Any]:
    """A list attribute of a block without the nulls a dynamic block's try(..., null) leaves."""
    return [item for item in string_list(value) if item is not None]


def _block_principals(statement: dict[str, Any], kind: str) -> tuple[Principal, ...]:
    found, _ = blocks(statement, kind)
    return tuple(Principal(str(as_text(block.get("type")) or ""), str(identifier))
                 for block in found for identifier in _present(block.get("identifiers")))


def _merge_documents(parsed: PolicyDocument, data_source: Resource, seen: frozenset[int]) -> None:
    """source_policy_documents / override_policy_documents: other data sources (edges) or inline JSON. Their
    statements all count: a statement an override replaces by Sid is still read (a stricter reading)."""
    for attribute in ("source_policy_documents", "override_policy_documents"):
        referenced = [target for label, target in data_source.references
                      if label.split(".")[0] == attribute and target.type == POLICY_DOCUMENT_TYPE]
        for target in referenced:
            if id(target) not in seen:
                merged = from_policy_document(target, seen)
                parsed.statements += merged.statements
                parsed.problems += merged.problems
        for number, value in enumerate(string_list(data_source.get(attribute)), start=1):
            if isinstance(value, dict) or (isinstance(value, str) and value.strip().startswith("{")):
                merged = from_json(value, f"{attribute}[{number}] of {data_source.describe()}")
                parsed.statements += merged.statements
                parsed.problems += merged.problems
            elif value is not None and not referenced:
                parsed.problems.append(f"{attribute} of {data_source.describe()} holds {_short(value)}, "
                                       "which could not be evaluated")


# --- the policy of a resource --------------------------------------------------------------------------------


def policy_of(resource: Resource, attribute: str = "policy") -> PolicyDocument | None:
    """The policy document an attribute sets, in any of the three forms; None when the attribute is not set."""
    value = resource.get(attribute)
    source = f"{attribute} of {resource.describe()}"
    if isinstance(value, dict) or (isinstance(value, str) and value.strip().startswith(("{", "["))):
        return from_json(value, source)
    documents = [target for label, target in resource.references
                 if label == attribute and target.type == POLICY_DOCUMENT_TYPE and target.mode == "data"]
    if documents:
        parsed = PolicyDocument(source)
        for document in documents:
            merged = from_policy_document(document)
            parsed.statements += merged.statements
            parsed.problems += merged.problems
        return parsed
    if value is None:
        return None
    reason = getattr(value, "reason", "")  # an unevaluated value says why (a read the live audit could not make)
    return PolicyDocument(source, problems=[f"{source} is {_short(value)}, which could not be evaluated" + (
        f": {reason}" if reason else " (no jsonencode, JSON or aws_iam_policy_document behind it)")])


# --- helpers -------------------------------------------------------------------------------------------------


def _statement_name(sid: Any, number: int, source: str) -> str:
    sid_text = as_text(sid)
    return f'statement "{sid_text}" of {source}' if sid_text else f"statement {number} of {source}"


def _check_open_values(parsed: PolicyDocument, statement: Statement) -> None:
    """A principal or action left as an unrendered variable could be anything, "*" included: say so."""
    for value in [principal.identifier for principal in statement.principals] + list(statement.actions):
        if is_open_text(value.strip()) and not Principal("AWS", value).is_account_root:
            parsed.problems.append(f'{statement.where} holds "{value}", which could not be evaluated')


def _text(value: Any) -> str:
    """A policy value as text, keeping an Unevaluated or ReferenceText string as it is (it says why)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else json.dumps(value, default=str)


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
