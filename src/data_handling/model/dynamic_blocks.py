"""A resource's nested blocks and values as the copy mechanisms read them (rules/copy_mechanisms.py).

Dynamic blocks are expanded once by the model's HCL source (model/hcl), with Terraform's rules, and plans have
them expanded by Terraform: this reads what the records hold, through model/blocks.py like every other check.
"""

from __future__ import annotations

from typing import Any

from data_handling.model import blocks as block_reader
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import Unknown

Block = dict[str, Any]  # shaped like checkov's configuration: attribute values wrapped in one-element lists


def blocks(resource: Resource, name: str, required: bool = False) -> tuple[list[Block], list[Unknown]]:
    """The instances of the top-level block `name` (`replica`, `rule`), and what could not be expanded.

    A plan shows a block it cannot know yet as text ("unknown until apply"). For a block the resource requires
    (a backup plan's `rule`) that hides the copies; an optional one is also shown so when it is merely computed
    by the provider (a bucket's legacy `replication_configuration`), so it is read as absent."""
    found, problems = block_reader.blocks(resource.config, name)
    evaluated = (resource.config.get(block_reader.UNKNOWN_BLOCKS) or {}).get(name)
    unknown = [Unknown(f"{problem} in {resource.address}; give it a value that can be evaluated (a literal, a "
                       "variable default or a tfvars value) or scan the plan") for problem in problems
               if problem == evaluated]
    if required:
        unknown += [Unknown(f"the {name} blocks of {resource.address}: {problem}") for problem in problems
                    if problem != evaluated]
    return found, unknown


def value_of(resource: Resource, key: str) -> Any:
    """An attribute's evaluated value (a reference known only after apply stays as its text)."""
    return resource.get(key)


def sub_blocks(block: Block, name: str) -> list[Block]:
    return block_reader.blocks(block, name)[0]


def input_references(infra: Infrastructure, resource: Resource) -> list[tuple[str, Resource]]:
    """(input path, resource) for every resource the arguments of the module call creating a plan resource refer
    to (a destination bucket ARN inside a map). From HCL the evaluated values carry their references and the
    resource's own edges name them, so there is nothing to add."""
    if resource.evaluated or not resource.module:
        return []
    from data_handling.model.plan_source import module_input_references

    return module_input_references(resource)
