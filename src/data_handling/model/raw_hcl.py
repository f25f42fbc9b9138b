"""The expressions as written in the .tf files, for the few places where checkov's rendering loses them.

Checkov renders `module.src.id` to the inner name (`aws_s3_bucket.this.id`) and, when two calls share a
module source, can link the reference to the wrong call. The written expression says which call was meant.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_MODULE_OUTPUT = re.compile(r'module\.([A-Za-z0-9_-]+)((?:\[[^\]]*\])?)\.([A-Za-z0-9_-]+)')


@lru_cache(maxsize=256)
def parsed(file_path: str) -> dict[str, Any] | None:
    """A .tf file as python-hcl2 reads it (expressions kept as "${...}" text), once per file; None if unreadable."""
    try:
        import hcl2

        with open(file_path, encoding="utf-8") as handle:
            return hcl2.load(handle)
    except Exception:  # unreadable or unparsable here: callers keep checkov's own answer
        return None


def _block(file_path: str, kind: str, labels: tuple[str, ...]) -> dict[str, Any] | None:
    document = parsed(file_path)
    if not document:
        return None
    for entry in document.get(kind, []):
        node: Any = entry
        for label in labels:
            node = node.get(label) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return node
    return None


def _values_at(node: Any, path: list[str]) -> list[Any]:
    if isinstance(node, list):
        return [value for item in node for value in _values_at(item, path)]
    if not path:
        return [node]
    if isinstance(node, dict) and path[0] in node:
        return _values_at(node[path[0]], path[1:])
    return []


def module_outputs_referenced(file_path: str, kind: str, labels: tuple[str, ...], attribute: str
                              ) -> list[tuple[str, str, str]]:
    """(call name, instance key as written or '', output name) for each `module.x.y` the attribute names."""
    block = _block(file_path, kind, labels)
    if block is None:
        return []
    found = []
    for value in _values_at(block, attribute.split(".")):
        found += _MODULE_OUTPUT.findall(str(value))
    return found
