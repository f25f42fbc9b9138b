"""Nested blocks of a rendered configuration, `dynamic` blocks included.

Checkov renders a top-level `dynamic "attribute"` of a resource into plain `attribute` blocks, but leaves nested
ones (`storage_descriptor { dynamic "columns" {...} }`) and those of data sources (`dynamic "statement"`) as a
`dynamic` entry with `content` and `for_each`, plus a copy of the unexpanded content under the block name. This
module expands them where `for_each` was rendered and reports them as not evaluated where it was not, so a
name taken from `columns.value.name` is never mistaken for a field called "columns.value.name".
"""

from __future__ import annotations

import re
from typing import Any

from data_handling.model.values import is_unrendered, unwrap


def blocks(config: Any, name: str, optional: bool = False) -> tuple[list[dict[str, Any]], list[str]]:
    """The `name` blocks of a configuration: (blocks, problems). A problem says which dynamic block could not be
    expanded and why; the blocks that could be read are still returned.

    Checkov 3.3 is ambiguous about empty dynamic blocks: a top-level one over an empty list or over a map becomes
    one "phantom" block that still reads `attribute.value.name`, its for_each dropped; a nested one over an empty
    list and one over a variable it could not evaluate both get `for_each = []`. For an `optional` block (DynamoDB
    indexes, secret replicas, policy statements behind a condition: modules default them to none) that counts as
    no block; otherwise it is reported as not evaluated.
    """
    if not isinstance(config, dict):
        return [], []
    unknown = (config.get("__unknown_blocks__") or {}).get(name)
    if unknown:  # model/hcl could not expand this dynamic block
        return _as_list_of_dicts(config.get(name)), [unknown]
    specs = _dynamic_specs(config, name)
    iterators = {name} | {str(unwrap(spec.get("iterator"))) for spec in specs
                          if isinstance(spec, dict) and spec.get("iterator")}
    # Checkov also copies an unexpanded dynamic content under the block name: a placeholder, not a block.
    static = [entry for entry in _as_list(config.get(name)) if isinstance(entry, dict)
              and not (specs and any(refers_to_iterator(entry, iterator) for iterator in iterators))]
    expanded: list[dict[str, Any]] = []
    problems: list[str] = []
    written = unwrap(config.get(name))
    if isinstance(written, str) and is_unrendered(written):  # a plan's "${unknown until apply}"
        problems.append(f'the {name} block is "{written}", which could not be evaluated')
    for spec in specs:
        if isinstance(spec, list):  # rendered by checkov, or a phantom of what it could not render
            rendered = [entry for entry in spec if isinstance(entry, dict)]
            phantoms = [entry for entry in rendered if refers_to_iterator(entry, name)]
            expanded += [entry for entry in rendered if entry not in phantoms]
            if phantoms and not optional:
                problems.append(f'dynamic "{name}" block: checkov could not expand it (its for_each is a map or '
                                "could not be evaluated), so its blocks are unknown")
        elif isinstance(spec, dict):
            content = [entry for entry in _as_list(spec.get("content")) if isinstance(entry, dict)]
            entries, problem = _expand(name, spec, content, optional)
            expanded += entries
            if problem:
                problems.append(problem)
    result = list(static)
    result += [entry for entry in expanded if entry not in result]
    return result, problems


def _as_list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [entry for entry in _as_list(value) if isinstance(entry, dict)]


def string_list(value: Any) -> list[Any]:
    """A list-valued attribute (actions, identifiers, non_key_attributes) as a flat list: checkov wraps lists
    once (`[["a", "b"]]`), except where it substituted a variable (`["a"]`); a single string is a list of one."""
    if value is None:
        return []
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    return list(value) if isinstance(value, list) else [value]


def refers_to_iterator(value: Any, iterator: str) -> bool:
    """Whether a value still holds a reference to a dynamic block's iterator (`columns.value.name`)."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(iterator)}(\.|\[)(value|key|\"value\"|\"key\")")
    if isinstance(value, str):
        return bool(pattern.search(value))
    if isinstance(value, list):
        return any(refers_to_iterator(item, iterator) for item in value)
    if isinstance(value, dict):
        return any(refers_to_iterator(item, iterator) for item in value.values())
    return False


# --- expansion ----------------------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _dynamic_specs(config: dict[str, Any], name: str) -> list[Any]:
    specs = []
    for entry in _as_list(config.get("dynamic")):
        if isinstance(entry, dict) and name in entry:
            specs.append(entry[name])
    return specs


def _expand(name: str, spec: dict[str, Any], content: list[dict[str, Any]],
            optional: bool) -> tuple[list[dict[str, Any]], str]:
    iterator = str(unwrap(spec.get("iterator")) or name)
    if spec.get("for_each") == [] and not optional:  # a literal [] arrives as [[]]: this may be an unknown value
        return [], f'dynamic "{name}" block: for_each is empty or could not be evaluated'
    items = _items(spec.get("for_each"), content, iterator)
    if items is None:
        return [], f'dynamic "{name}" block: for_each = {spec.get("for_each")!r} could not be evaluated'
    expanded = []
    for key, value in items:
        for entry in content:
            rendered = _substitute(entry, iterator, key, value)
            if refers_to_iterator(rendered, iterator):
                return [], (f'dynamic "{name}" block: its content could not be evaluated for the item {value!r} '
                            f"of for_each")
            expanded.append(rendered)
    return expanded, ""


def _items(for_each: Any, content: list[dict[str, Any]], iterator: str) -> list[tuple[Any, Any]] | None:
    """(key, value) pairs of a rendered for_each; None when it was not rendered."""
    if isinstance(for_each, str) or for_each is None:
        return None
    if isinstance(for_each, dict):
        return list(for_each.items())
    if not isinstance(for_each, list):
        return None
    if len(for_each) == 1 and isinstance(for_each[0], list):  # a list wrapped by checkov
        for_each = for_each[0]
    elif len(for_each) == 1 and isinstance(for_each[0], dict) and _wrapped_map(for_each[0], content, iterator):
        return list(for_each[0].items())
    if any(isinstance(item, str) and _looks_unrendered(item) for item in for_each):
        return None
    return list(enumerate(for_each))


def _wrapped_map(candidate: dict[str, Any], content: list[dict[str, Any]], iterator: str) -> bool:
    """[{...}] is either a map wrapped by checkov or a list of one object: the content's references decide."""
    text = repr(content)
    if re.search(rf"\b{re.escape(iterator)}\.key\b", text):
        return True
    attributes = set(re.findall(rf"\b{re.escape(iterator)}\.value\.(\w+)", text))
    if attributes and attributes <= set(candidate):
        return False
    return bool(candidate) and all(isinstance(item, dict) for item in candidate.values())


def _looks_unrendered(text: str) -> bool:
    return "${" in text or bool(re.match(r"^(var|local|module|data)\.", text))


_REFERENCE = re.compile(r"^\$\{(.*)\}$")


def _substitute(node: Any, iterator: str, key: Any, value: Any) -> Any:
    if isinstance(node, dict):
        return {name: _substitute(item, iterator, key, value) for name, item in node.items()}
    if isinstance(node, list):
        return [_substitute(item, iterator, key, value) for item in node]
    if not isinstance(node, str):
        return node
    whole = _lookup(_REFERENCE.sub(r"\1", node.strip()), iterator, key, value)
    if whole is not _MISSING:
        return whole
    return re.sub(r"\$\{([^}]*)\}", lambda match: _interpolate(match, iterator, key, value), node)


_MISSING = object()


_FALLBACK = re.compile(r'^(?:try\((?P<ref>[^,()]+),(?P<default>[^()]*)\)'
                       r'|lookup\((?P<map>[^,()]+),\s*"(?P<key>[^"]*)"\s*,(?P<lookup_default>[^()]*)\))$')
_DEFAULTS = {"null": None, "None": None, "[]": [], "{}": {}, '""': "", "true": True, "false": False}


def _lookup(expression: str, iterator: str, key: Any, value: Any) -> Any:
    """The value of `it.key`, `it.value`, `it.value.a.b` or `it.value["a"]`, also inside `try(ref, default)` and
    `lookup(it.value, "a", default)` (as modules write optional attributes); _MISSING for anything else."""
    fallback = _FALLBACK.match(expression.strip())
    if fallback:
        reference = fallback["ref"] or f'{fallback["map"].strip()}["{fallback["key"]}"]'
        default = (fallback["default"] if fallback["ref"] else fallback["lookup_default"]).strip()
        found = _lookup(reference, iterator, key, value)
        if found is not _MISSING:
            return found
        if default in _DEFAULTS:
            return _DEFAULTS[default]
        return default[1:-1] if len(default) >= 2 and default[0] == default[-1] == '"' else _MISSING
    match = re.fullmatch(rf'{re.escape(iterator)}\.(key|value)((?:\.\w+|\["[^"]*"\])*)', expression.strip())
    if not match:
        return _MISSING
    current = key if match.group(1) == "key" else value
    for step in re.findall(r'\.(\w+)|\["([^"]*)"\]', match.group(2)):
        attribute = step[0] or step[1]
        if not isinstance(current, dict) or attribute not in current:
            return _MISSING
        current = current[attribute]  # for_each items are plain values, not wrapped by checkov
    return current


def _interpolate(match: re.Match[str], iterator: str, key: Any, value: Any) -> str:
    found = _lookup(match.group(1), iterator, key, value)
    if found is _MISSING or isinstance(found, dict | list):
        return match.group(0)
    return str(found)
