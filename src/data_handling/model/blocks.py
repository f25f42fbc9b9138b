"""The nested blocks of a configuration, as the model holds them: the one reading every check shares.

The HCL source (model/hcl) expands `dynamic` blocks once, with Terraform's rules, into plain blocks; a dynamic
block whose for_each cannot be known before apply is listed under `__unknown_blocks__` with the reason. A plan
has its blocks expanded by Terraform, and shows a block it cannot know yet as text ("unknown until apply").
"""

from __future__ import annotations

from typing import Any

from data_handling.model.values import is_unrendered, unwrap

UNKNOWN_BLOCKS = "__unknown_blocks__"  # in an evaluated configuration: block name -> why it is unknown


def blocks(config: Any, name: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The `name` blocks of a configuration, and the problems that keep some of them unknown (a dynamic block
    whose for_each is known only after apply; in a plan, a block shown as "unknown until apply")."""
    if not isinstance(config, dict):
        return [], []
    problems = []
    unknown = (config.get(UNKNOWN_BLOCKS) or {}).get(name)
    if unknown:
        problems.append(unknown)
    written = unwrap(config.get(name))
    if isinstance(written, str) and is_unrendered(written):
        problems.append(f'the {name} block is "{written}", which could not be evaluated')
    return _as_list_of_dicts(config.get(name)), problems


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


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
