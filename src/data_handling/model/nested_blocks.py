"""Blocks at a path of nested block names (`extended_s3_configuration.data_format_conversion_configuration`)
and the attribute values under them, read through model/blocks.py, the one reading of blocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from data_handling.model import blocks as block_reader
from data_handling.model.records import Resource
from data_handling.model.values import unwrap


@dataclass
class Blocks:
    found: list[dict[str, Any]] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # dynamic blocks that could not be expanded, as sentences


def blocks(config: Any, name: str) -> Blocks:
    """The `name` blocks of a configuration, and the dynamic blocks among them that could not be expanded."""
    found, problems = block_reader.blocks(config, name)
    return Blocks(found=found, unresolved=problems)


def resource_blocks(resource: Resource, name: str) -> Blocks:
    """A resource's top-level `name` blocks."""
    return blocks(resource.config, name)


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
