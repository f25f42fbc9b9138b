"""IAM policy documents (key policies) in the three ways Terraform writes them.

- `jsonencode({...})`: checkov hands over the document as a dict;
- heredoc or literal JSON: a dict too when checkov could parse it, else a JSON string;
- `data "aws_iam_policy_document"`: `policy = data.aws_iam_policy_document.x.json` arrives as a reference edge
  labelled with the attribute, to the data source, whose `statement` blocks (static or `dynamic`) hold
  `effect`, `actions` / `not_actions` and `principals` / `not_principals { type identifiers }`;
  `source_policy_documents` and `override_policy_documents` add the statements of other documents.

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
from data_handling.model.values import as_text, is_unrendered, unwrap

POLICY_DOCUMENT_TYPE = "aws_iam_policy_document"
_ROOT_ARN = re.compile(r"^arn:[^:]+:iam::[^:]+:root$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ACCOUNT_REFERENCE = re.compile(r"account_id\W*$")  # data.aws_caller_identity.current.account_id, var.account_id
_OPEN_VALUE = re.compile(r"(^|\$\{)(var|local)\.")  # a variable or local checkov could not render: could be "*"


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


@dataclass(frozen=True)
class Statement:
    where: str  # 'statement "KeyAdmins" of data.aws_iam_policy_document.key (main.tf:12)'
    effect: str  # Allow or Deny, as written
    actions: tuple[str, ...]
    principals: tuple[Principal, ...]
    not_actions: bool = False  # the actions are NotAction: everything but them is granted
    not_principals: bool = False  # the principals are NotPrincipal: everyone but them

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
        parsed.statements.append(Statement(
            where=where, effect=str(statement.get("Effect", "")), actions=tuple(str(a) for a in _present(actions)),
            principals=principals, not_actions=not_actions, not_principals=not_principals,
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
        parsed.statements.append(Statement(
            where=where, effect=as_text(statement.get("effect")) or "Allow",  # the data source's default
            actions=tuple(str(a) for a in actions), principals=principals,
            not_actions=not_actions, not_principals=not_principals,
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
    return PolicyDocument(source, problems=[f"{source} is {_short(value)}, which could not be evaluated "
                                            "(no jsonencode, JSON or aws_iam_policy_document behind it)"])


# --- helpers -------------------------------------------------------------------------------------------------


def _statement_name(sid: Any, number: int, source: str) -> str:
    sid_text = as_text(sid)
    return f'statement "{sid_text}" of {source}' if sid_text else f"statement {number} of {source}"


def _check_open_values(parsed: PolicyDocument, statement: Statement) -> None:
    """A principal or action left as an unrendered variable could be anything, "*" included: say so."""
    for value in [principal.identifier for principal in statement.principals] + list(statement.actions):
        if _OPEN_VALUE.search(value.strip()) and not Principal("AWS", value).is_account_root:
            parsed.problems.append(f'{statement.where} holds "{value}", which could not be evaluated')


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
