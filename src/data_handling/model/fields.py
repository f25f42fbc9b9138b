"""Field names as declared in schemas, dimensions, log formats and tags, normalised for matching.

`customerEmail`, `customer-email`, `Customer Email` and `customer_email` all normalise to `customer_email`,
so one policy pattern matches every spelling.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from data_handling.patterns import regex_search

_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def normalise_field_name(name: str) -> str:
    """Lower case, camelCase split, any run of separators (-, ., space, $) turned into one underscore."""
    spaced = _CAMEL_BOUNDARY.sub("_", name.strip())
    return _SEPARATORS.sub("_", spaced).strip("_").lower()


def first_match(name: str, patterns: Iterable[str]) -> str | None:
    """The first policy-map regex (RE2, searched in the normalised name) that matches, else None."""
    normalised = normalise_field_name(name)
    for pattern in patterns:
        if regex_search(pattern, normalised):
            return pattern
    return None


def declared_fields(tag_value: str) -> list[str]:
    """The field names a field-declaration tag lists: separated by commas, semicolons or white space."""
    return [field for field in re.split(r"[,;\s]+", tag_value or "") if field]
