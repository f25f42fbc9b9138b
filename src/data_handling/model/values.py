"""Resolved values that remember where they came from, and explicit unknowns that say why."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Known(Generic[T]):
    value: T
    source: str  # where the value was read, for finding details: 'provider "aws.us" (providers.tf:12)'


@dataclass(frozen=True)
class Unknown:
    reason: str  # a sentence: what could not be resolved and why


Resolution = Known[T] | Unknown

# What checkov leaves in place of a value it could not render: interpolations, references, calls.
_UNRENDERED = re.compile(r"\$\{|^(var|local|module|data|each|count|path|terraform)\.|\b[a-z_][a-z0-9_]*\(")


def is_unrendered(value: Any) -> bool:
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
