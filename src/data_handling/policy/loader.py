"""Finding, reading and validating policy_map.yaml.

Lookup order: an explicit path (--policy-map), the DATA_HANDLING_POLICY_MAP environment variable,
./policy_map.yaml, the map shipped with the package. Every problem is a PolicyMapError whose message
names the file, the key path and the reason, so a scan can fail closed with one line: any exception while
reading or validating the map becomes one (an impossible date, a 4,301-digit number, deep nesting).

The map may be hostile (a pull request can edit it), so the reader is bounded: at most MAX_FILE_BYTES,
nesting at most MAX_DEPTH deep, no anchors or aliases (a 539-byte "billion laughs" document expands to
gigabytes), and every value quoted in a message is truncated.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from data_handling.policy.schema import KeyedValueError, PolicyMap
from data_handling.safe_text import one_line, quoted

ENV_VAR = "DATA_HANDLING_POLICY_MAP"
DEFAULT_FILE_NAME = "policy_map.yaml"
MAX_FILE_BYTES = 1_000_000  # the packaged map is 2 kB; a real one with many tenants and waivers stays far below
MAX_DEPTH = 32  # mappings and lists nested inside each other; the schema's deepest key is 4 levels down
MAX_MESSAGE = 1_000  # characters of one error message
MAX_PROBLEMS = 5  # validation problems listed in one message; the rest are counted


class PolicyMapError(Exception):
    """The policy map cannot be used; the message is one line naming file, key and reason (bounded, with
    control characters escaped)."""

    def __init__(self, message: object) -> None:
        super().__init__(one_line(message, limit=MAX_MESSAGE))


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


def load(explicit: str | os.PathLike[str] | None = None, *, today: dt.date | None = None) -> LoadedPolicy:
    """The policy map in force; `today` (UTC by default) is what waiver expiries are measured from."""
    try:
        path, origin = locate(explicit)
    except (OSError, ValueError) as error:  # the working directory is gone, a path holds a NUL character
        raise PolicyMapError(f"the policy map cannot be located: {error}") from None
    try:
        text = _read(path, origin)
        policy, warnings = parse(text, str(path), today=today)
    except PolicyMapError:
        raise
    except Exception as error:  # fail closed on anything the reader did not foresee
        raise PolicyMapError(f"{path}: policy map cannot be used: {type(error).__name__}: {error}") from None
    return LoadedPolicy(policy=policy, path=str(path), origin=origin, warnings=tuple(warnings))


def _read(path: Path, origin: str) -> str:
    try:
        if not path.exists():
            raise PolicyMapError(f"{path}: policy map not found (chosen by {origin})")
        if not path.is_file():  # a FIFO would block the read for ever, a directory cannot be read
            raise PolicyMapError(f"{path}: policy map is not a regular file")
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as error:
        raise PolicyMapError(f"{path}: policy map cannot be read: {error}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise PolicyMapError(f"{path}: policy map is larger than {MAX_FILE_BYTES:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PolicyMapError(f"{path}: policy map cannot be read: not UTF-8 text ({error.reason} at byte "
                             f"{error.start})") from None


def parse(text: str, file_name: str, *, today: dt.date | None = None) -> tuple[PolicyMap, list[str]]:
    """Validate the text of a policy map; returns the map and its warnings. Raises only PolicyMapError.

    `today` (UTC by default) is what waiver expiries are measured from (waiver_max_days)."""
    try:
        return _parse(text, file_name, today)
    except PolicyMapError:
        raise
    except RecursionError:
        raise PolicyMapError(f"{file_name}: the policy map is nested too deeply") from None
    except Exception as error:  # fail closed: an exception nobody foresaw is still a policy-map error
        raise PolicyMapError(f"{file_name}: policy map cannot be used: {type(error).__name__}: {error}") from None


def _parse(text: str, file_name: str, today: dt.date | None) -> tuple[PolicyMap, list[str]]:
    if len(text) > MAX_FILE_BYTES:
        raise PolicyMapError(f"{file_name}: policy map is larger than {MAX_FILE_BYTES:,} characters")
    try:
        data = yaml.load(text, Loader=_BoundedLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = one_line(error.problem or error.context, limit=300)
        raise PolicyMapError(f"{file_name}: not valid YAML: {where}{reason}") from None
    except yaml.YAMLError as error:
        raise PolicyMapError(f"{file_name}: not valid YAML: {one_line(' '.join(str(error).split()), 300)}") from None
    if data is None:
        raise PolicyMapError(f"{file_name}: the policy map is empty (it needs at least `version: 1`)")
    if not isinstance(data, dict):
        raise PolicyMapError(f"{file_name}: the top level must be a mapping, got {type(data).__name__}")
    context: dict[str, Any] = {"warnings": [], "today": today}
    try:
        policy = PolicyMap.model_validate(data, context=context)
    except ValidationError as error:
        raise PolicyMapError(_describe(file_name, error)) from None
    return policy, context["warnings"]


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (instead of keeping the last one silently), anchors and aliases
    (an alias bomb expands exponentially), nesting deeper than MAX_DEPTH (the composer and pydantic recurse),
    and names the line of a value that cannot be constructed (2027-02-30, a 5,000-digit integer)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, f"aliases (*{quoted(event.anchor, 40)[1:-1]}) are not allowed in the policy map: "
                "write the value out", event.start_mark)
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(
                None, None, f"anchors (&{quoted(event.anchor, 40)[1:-1]}) are not allowed in the policy map: "
                "write the value out", event.start_mark)
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark)
            try:
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1
        return super().compose_node(parent, index)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as error:
            value = node.value if isinstance(node, yaml.ScalarNode) else f"a {node.id}"
            raise yaml.constructor.ConstructorError(
                None, None, f"{quoted(value, 60)} cannot be read: {one_line(error, 120)}", node.start_mark
            ) from None

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
                    None, None, f"duplicate key {quoted(key, 80)}", key_node.start_mark
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
            # YAML reads some keys (no, 1) as bools or numbers; a hostile map's keys can be huge.
            shown = one_line(part, limit=60)
            path += f".{shown}" if path else shown
    return path or "(top level)"


def _describe(file_name: str, error: ValidationError) -> str:
    """The first problems on one line: file: key: reason; key: reason (and N more)."""
    problems = []
    details = error.errors(include_url=False)
    for detail in details[:MAX_PROBLEMS]:
        location = tuple(detail["loc"])
        kind = detail["type"]
        cause = detail.get("ctx", {}).get("error")
        if isinstance(cause, KeyedValueError):
            location += cause.where
        key = _key_path(location)
        if kind == "extra_forbidden":
            reason = "unknown key"
        elif kind == "missing":
            reason = "required key is missing"
        elif kind == "value_error":
            reason = str(cause) if cause is not None else detail["msg"]
        elif kind == "string_type":
            reason = f"expected a string (quote it in YAML), got {quoted(detail['input'], 80)}"
        else:
            message = detail["msg"]
            reason = f"{message[:1].lower()}{message[1:]}, got {quoted(detail['input'], 80)}"
        problems.append(f"{key}: {one_line(reason, limit=400)}")
    more = f" (and {len(details) - MAX_PROBLEMS} more)" if len(details) > MAX_PROBLEMS else ""
    return f"{file_name}: " + "; ".join(problems) + more
