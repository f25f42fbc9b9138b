"""Resolved values that remember where they came from, and explicit unknowns that say why."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Known(Generic[T]):
    value: T
    source: str  # where the value was read, for finding details: 'provider "aws.us" (providers.tf:12)'


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str  # a sentence: what could not be resolved and why
    # An implicit, empty provider configuration (no provider block at all): its region is unknown, but it
    # certainly has no default_tags.
    implicit_provider: bool = field(default=False, compare=False)


Resolution = Known[T] | Unknown


class Unevaluated(str):
    """A value left unknown in an evaluated configuration: the expression as written, and why."""

    reason: str

    def __new__(cls, text: str, reason: str) -> Unevaluated:
        value = super().__new__(cls, text)
        value.reason = reason
        return value


class ReferenceText(str):
    """A value known only after apply, in an evaluated configuration: its text, and the instance it names."""

    target: str | None

    def __new__(cls, text: str, target: str | None) -> ReferenceText:
        value = super().__new__(cls, text)
        value.target = target
        return value

# What checkov leaves in place of a value it could not render: interpolations, references, calls.
_UNRENDERED = re.compile(r"\$\{|^(var|local|module|data|each|count|path|terraform)\.|\b[a-z_][a-z0-9_]*\(")


def is_unrendered(value: Any) -> bool:
    if isinstance(value, Unevaluated):
        return True
    return isinstance(value, str) and bool(_UNRENDERED.search(value))


def unwrap(value: Any) -> Any:
    """Checkov wraps each HCL attribute value in a one-element list; take the value out (one level only:
    `allowed_account_ids = ["1"]` arrives as [["1"]])."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def as_text(value: Any) -> str | None:
    """A scalar as text (numbers included), None for anything else."""
    value = unwrap(value)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str | int | float):
        return str(value)
    return None


_BARE_WORD = re.compile(r"^[A-Za-z0-9_.:/@+-]+$")


def evaluate_merge(text: str) -> dict[str, Any] | None:
    """Evaluate a `merge({...}, {...})` of map literals that checkov substituted but did not evaluate.

    Checkov leaves `merge(var.tags, { tenant = var.tenant })` as "merge({},{'tenant': acme})" once the
    variables are substituted: the values are known, only the call is not. Anything else (a reference left
    in place, a nested call) returns None: the caller reports the value as not evaluated.
    """
    text = text.strip()
    if not (text.startswith("merge(") and text.endswith(")")):
        return None
    merged: dict[str, Any] = {}
    for argument in _split_top_level(text[len("merge("):-1], ","):
        argument = argument.strip()
        if not (argument.startswith("{") and argument.endswith("}")):
            return None
        for entry in _split_top_level(argument[1:-1], ","):
            if not entry.strip():
                continue
            parts = _split_top_level(entry, ":") if ":" in entry else _split_top_level(entry, "=")
            if len(parts) != 2:
                return None
            key, value = (_literal(part) for part in parts)
            if key is None or value is None:
                return None
            merged[key] = value
    return merged


def _literal(token: str) -> str | None:
    token = token.strip()
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "'\"":
        return token[1:-1]
    if _BARE_WORD.match(token) and not is_unrendered(token):
        return token
    return None


def _split_top_level(text: str, separator: str) -> list[str]:
    parts, current, depth, quote = [], "", 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    return parts
