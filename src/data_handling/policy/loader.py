"""Finding, reading and validating policy_map.yaml.

Lookup order: an explicit path (--policy-map), the DATA_HANDLING_POLICY_MAP environment variable,
./policy_map.yaml, the map shipped with the package. Every problem is a PolicyMapError whose message
names the file, the key path and the reason, so a scan can fail closed with one line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from data_handling.policy.schema import PolicyMap

ENV_VAR = "DATA_HANDLING_POLICY_MAP"
DEFAULT_FILE_NAME = "policy_map.yaml"


class PolicyMapError(Exception):
    """The policy map cannot be used; the message is one line naming file, key and reason."""


@dataclass(frozen=True)
class LoadedPolicy:
    policy: PolicyMap
    path: str
    origin: str  # "--policy-map", "$DATA_HANDLING_POLICY_MAP", "./policy_map.yaml" or "packaged default"
    warnings: tuple[str, ...] = field(default=())


def packaged_default_path() -> Path:
    return Path(str(resources.files("data_handling.policy").joinpath("default_policy_map.yaml")))


def locate(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The policy map to use, and where the choice came from."""
    if explicit:
        return Path(explicit), "--policy-map"
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return Path(from_env), f"${ENV_VAR}"
    local = Path.cwd() / DEFAULT_FILE_NAME
    if local.is_file():
        return local, f"./{DEFAULT_FILE_NAME}"
    return packaged_default_path(), "packaged default"


def load(explicit: str | os.PathLike[str] | None = None) -> LoadedPolicy:
    path, origin = locate(explicit)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyMapError(f"{path}: policy map not found (chosen by {origin})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise PolicyMapError(f"{path}: policy map cannot be read: {error}") from None
    policy, warnings = parse(text, str(path))
    return LoadedPolicy(policy=policy, path=str(path), origin=origin, warnings=tuple(warnings))


def parse(text: str, file_name: str) -> tuple[PolicyMap, list[str]]:
    """Validate the text of a policy map; returns the map and its warnings."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise PolicyMapError(f"{file_name}: not valid YAML: {where}{error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise PolicyMapError(f"{file_name}: not valid YAML: {' '.join(str(error).split())}") from None
    if data is None:
        raise PolicyMapError(f"{file_name}: the policy map is empty (it needs at least `version: 1`)")
    if not isinstance(data, dict):
        raise PolicyMapError(f"{file_name}: the top level must be a mapping, got {type(data).__name__}")
    context: dict[str, Any] = {"warnings": []}
    try:
        policy = PolicyMap.model_validate(data, context=context)
    except ValidationError as error:
        raise PolicyMapError(_describe(file_name, error)) from None
    return policy, context["warnings"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys instead of keeping the last one silently."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be a plain value, not {type(key).__name__}", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _key_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int) and not isinstance(part, bool):
            path += f"[{part}]"
        elif isinstance(part, str) and ("(" in part or "[" in part):
            continue  # pydantic's names for validators and union members are not keys of the file
        else:
            path += f".{part}" if path else str(part)  # YAML reads some keys (no, 1) as bools or numbers
    return path or "(top level)"


def _describe(file_name: str, error: ValidationError) -> str:
    """All problems on one line: file: key: reason; key: reason."""
    problems = []
    for detail in error.errors(include_url=False):
        key = _key_path(tuple(detail["loc"]))
        kind = detail["type"]
        if kind == "extra_forbidden":
            reason = "unknown key"
        elif kind == "missing":
            reason = "required key is missing"
        elif kind == "value_error":
            reason = str(detail["ctx"]["error"]) if "ctx" in detail else detail["msg"]
        elif kind == "string_type":
            reason = f"expected a string (quote it in YAML), got {detail['input']!r}"
        else:
            message = detail["msg"]
            reason = f"{message[:1].lower()}{message[1:]}, got {detail['input']!r}"
        problems.append(f"{key}: {reason}")
    return f"{file_name}: " + "; ".join(problems)
