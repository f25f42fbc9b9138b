"""Nested blocks of a rendered resource configuration, including the blocks a `dynamic` block generates.

Checkov expands only some dynamic blocks: at the top level of a resource, with a for_each it could evaluate,
it leaves the generated blocks under `dynamic` ({"access_log_settings": [{...}]}); nested dynamic blocks
(columns inside storage_descriptor) arrive as written ({"columns": {"for_each": [...], "content": [...]}}).
This module expands what can be expanded and reports the rest, so callers fail closed instead of missing a block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from data_handling.model import dynamic_blocks
from data_handling.model.blocks import refers_to_iterator
from data_handling.model.records import Resource
from data_handling.model.values import is_unrendered, unwrap


@dataclass
class Blocks:
    found: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # dynamic blocks that could not be expanded, as sentences


def blocks(config: Any, name: str) -> Blocks:
    """The `name` blocks of a configuration: the literal ones and those its dynamic blocks generate."""
    result = Blocks()
    if not isinstance(config, dict):
        return result
    unknown = (config.get("__unknown_blocks__") or {}).get(name)
    if unknown:  # model/hcl could not expand this dynamic block
        return Blocks(found=_dicts(config.get(name)), unresolved=[unknown])
    generated = [entry[name] for entry in _listed(config.get("dynamic")) if isinstance(entry, dict) and name in entry]
    iterators = {name} | {str(unwrap(g.get("iterator"))) for g in generated if isinstance(g, dict) and "iterator" in g}
    # Checkov can also copy a dynamic block's unexpanded content under the block name: not a block of its own.
    for block in _dicts(config.get(name)):
        if not any(refers_to_iterator(block, iterator) for iterator in iterators):
            result.found.append(block)
        elif not generated:
            result.unresolved.append(f'dynamic "{name}" could not be evaluated ({_short(block)})')
    for spec in generated:
        _expand(name, spec, result)
    return result


def resource_blocks(resource: Resource, name: str) -> Blocks:
    """A resource's top-level `name` blocks. When its check indexed the graph (dynamic_blocks.observe), its dynamic
    blocks are rebuilt by model.dynamic_blocks, which evaluates their for_each as Terraform would (an empty one
    yields no block, not checkov's phantom copy); nested dynamic blocks inside are expanded here."""
    generated = any(isinstance(entry, dict) and name in entry for entry in _listed(resource.config.get("dynamic")))
    if dynamic_blocks.facts_for(resource) is None or not (generated or _has_dynamic(resource.config.get(name))):
        return blocks(resource.config, name)  # no dynamic block (the common case): no need to read the file
    found, unknown = dynamic_blocks.blocks(resource, name)
    return Blocks(found=list(found), unresolved=[u.reason for u in unknown])


def resource_values_at(resource: Resource, path: str) -> tuple[list[Any], list[str]]:
    """values_at over a resource, its top-level blocks read by resource_blocks."""
    first, _, rest = path.partition(".")
    if not rest:
        return values_at(resource.config, path)
    top = resource_blocks(resource, first)
    values, unresolved = [], list(top.unresolved)
    for block in top.found:
        found, problems = values_at(block, rest)
        values += found
        unresolved += problems
    return values, unresolved


def resource_blocks_at(resource: Resource, path: str) -> Blocks:
    """blocks_at over a resource, its top-level blocks read by resource_blocks."""
    first, _, rest = path.partition(".")
    top = resource_blocks(resource, first)
    if not rest:
        return top
    result = Blocks(unresolved=list(top.unresolved))
    for block in top.found:
        nested = blocks_at(block, rest)
        result.found += nested.found
        result.unresolved += nested.unresolved
    return result


def blocks_at(config: Any, path: str) -> Blocks:
    """The blocks at a path of nested block names ("extended_s3_configuration.data_format_conversion_configuration")."""
    current = Blocks(found=[config])
    for name in path.split("."):
        nested = Blocks(unresolved=list(current.unresolved))
        for item in current.found:
            found = blocks(item, name)
            nested.found += found.found
            nested.unresolved += found.unresolved
        current = nested
    return current


def values_at(config: Any, path: str) -> tuple[list[Any], list[str]]:
    """The values of an attribute under nested blocks ("access_log_settings.format"), with the dynamic blocks
    on the way that could not be expanded."""
    block_path, _, attribute = path.rpartition(".")
    found = blocks_at(config, block_path) if block_path else Blocks(found=[config])
    values = [unwrap(item[attribute]) for item in found.found if isinstance(item, dict) and attribute in item]
    return values, found.unresolved


def _has_dynamic(node: Any) -> bool:
    if isinstance(node, dict):
        return "dynamic" in node or any(_has_dynamic(value) for value in node.values())
    if isinstance(node, list):
        return any(_has_dynamic(item) for item in node)
    return False


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in _listed(value) if isinstance(item, dict)]


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _expand(name: str, generated: Any, result: Blocks) -> None:
    if isinstance(generated, dict) and "content" in generated:  # as written: expand it here
        iterator = str(unwrap(generated.get("iterator")) or name)
        readings = _for_each_readings(generated.get("for_each"))
        if not readings:
            result.unresolved.append(f'the for_each of dynamic "{name}" could not be evaluated '
                                     f"({generated.get('for_each')!r})")
            return
        contents = _dicts(unwrap(generated["content"]))
        for items in readings:  # the first reading of for_each whose items fill every reference wins
            expanded = [_substitute(content, iterator, key, value) for content in contents for key, value in items]
            if not any(refers_to_iterator(block, iterator) for block in expanded):
                result.found += expanded
                return
        result.unresolved.append(f'dynamic "{name}" generates values that could not be evaluated '
                                 f"({_short(contents)})")
        return
    for block in _dicts(generated):  # generated by checkov, or left as written when it could not evaluate for_each
        if refers_to_iterator(block, name):
            result.unresolved.append(f'dynamic "{name}" could not be evaluated ({_short(block)})')
        else:
            result.found.append(block)


def _for_each_readings(value: Any) -> list[list[tuple[Any, Any]]]:
    """The ways to read a rendered for_each as (key, value) items: checkov wraps a literal collection in a
    one-element list but not a rendered variable, so [{...}] is either a map or a list of one object."""
    readings: list[list[tuple[Any, Any]]] = []
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list | dict | set | tuple):
        readings += _for_each_readings(value[0])
    if isinstance(value, dict):
        readings.append(list(value.items()))
    elif isinstance(value, set):
        readings.append([(item, item) for item in sorted(value, key=str)])
    elif isinstance(value, list | tuple) and not any(isinstance(item, str) and is_unrendered(item) for item in value):
        readings.append(list(enumerate(value)))
    return readings


# columns.value, columns.value.name, columns.value["name"], columns.key
_ITEM_PATH = re.compile(r'^(?P<it>[A-Za-z_][A-Za-z0-9_-]*)\.(?P<part>value|key)'
                        r'(?P<rest>(?:\.[A-Za-z0-9_-]+|\["[^"]*"\])*)$')


def _substitute(node: Any, iterator: str, key: Any, value: Any) -> Any:
    if isinstance(node, dict):
        return {k: _substitute(v, iterator, key, value) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute(v, iterator, key, value) for v in node]
    if isinstance(node, str):
        text = node.strip().removeprefix("${").removesuffix("}")
        match = _ITEM_PATH.match(text)
        if match and match["it"] == iterator:
            found: Any = key if match["part"] == "key" else value
            for step in re.findall(r'\.([A-Za-z0-9_-]+)|\["([^"]*)"\]', match["rest"]):
                attribute = step[0] or step[1]
                if not isinstance(found, dict) or attribute not in found:
                    return node  # not there: left as written, reported as unresolved
                found = found[attribute]
            return found
    return node


def _short(node: Any) -> str:
    text = repr(node)
    return text if len(text) <= 160 else text[:157] + "..."
