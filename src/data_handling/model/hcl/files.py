"""The blocks of one Terraform module directory, read from its `.tf` and `.tf.json` files.

`.tf` files are read with python-hcl2 (the parser checkov itself uses, so expressions arrive in the same
"${...}" form); `.tf.json` files are brought into that shape: attribute values in one-element lists, nested
blocks as lists of dicts, so one evaluator reads both syntaxes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from data_handling.model.provider_version import AWS_SOURCES
from data_handling.model.raw_hcl import parsed
from data_handling.model.values import unwrap

# Attribute names that hold maps, never blocks: a `.tf.json` object under them is a value.
_MAP_ATTRIBUTES = {"tags", "tags_all", "default_tags", "variables", "environment", "parameters", "labels",
                   "input_paths", "dimensions", "triggers", "policy", "attributes", "providers", "value", "default"}


@dataclass(frozen=True, slots=True)
class WrittenBlock:
    """A block as written: its labels, its body in python-hcl2's shape, and where it is."""

    kind: str  # resource, data, module, provider, output, variable
    labels: tuple[str, ...]
    body: dict[str, Any]
    file_path: str
    line: int


@dataclass
class ModuleFiles:
    directory: str
    files: tuple[str, ...]
    variables: dict[str, WrittenBlock] = field(default_factory=dict)
    locals: dict[str, tuple[Any, str]] = field(default_factory=dict)  # name -> (expression, file)
    resources: list[WrittenBlock] = field(default_factory=list)  # kind "resource" or "data"
    modules: dict[str, WrittenBlock] = field(default_factory=dict)
    providers: list[WrittenBlock] = field(default_factory=list)
    outputs: dict[str, WrittenBlock] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    # `terraform { required_providers { aws = { version = "..." } } }`: (constraint, "file:line")
    aws_version_constraints: list[tuple[str, str]] = field(default_factory=list)


# The repository root the CLI confines the scan to: a symlink in the tree that resolves outside it is not read.
CONFINE_ENV = "DATA_HANDLING_CONFINE_TO"


def outside_confinement(path: str, root: Path) -> bool:
    """Whether `path`, inside the tree, resolves to somewhere outside `root` (through a symlink)."""
    real = Path(os.path.realpath(path))
    return not real.is_relative_to(root.resolve()) and Path(os.path.abspath(path)).is_relative_to(root.resolve())


def terraform_files(directory: str) -> tuple[str, ...]:
    """The configuration files Terraform reads in a directory, in its order (lexical), overrides last. Only
    regular files: a FIFO would block the reader, and a symlink leaving the confinement root is not read."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return ()
    chosen = [name for name in names if name.endswith((".tf", ".tf.json")) and not name.startswith(".")]
    confine = os.environ.get(CONFINE_ENV)
    return tuple(os.path.join(directory, name) for name in chosen
                 if os.path.isfile(os.path.join(directory, name))
                 and not (confine and outside_confinement(os.path.join(directory, name), Path(confine))))


def load_module(directory: str, files: tuple[str, ...] | None = None) -> ModuleFiles:
    return _load(directory, files if files is not None else terraform_files(directory))


def forget_loaded() -> None:
    """Drop the blocks read so far (after an evaluation: they are large, and only its records are kept)."""
    _load.cache_clear()
    _json_document.cache_clear()


@lru_cache(maxsize=512)
def _load(directory: str, files: tuple[str, ...]) -> ModuleFiles:
    module = ModuleFiles(directory, files)
    for file_path in files:
        document = _json_document(file_path) if file_path.endswith(".json") else parsed(file_path)
        if document is None:
            module.unreadable.append(file_path)
            continue
        _collect(module, document, file_path)
    return module


def _collect(module: ModuleFiles, document: dict[str, Any], file_path: str) -> None:
    for entry in document.get("variable", []):
        for name, body in _named(entry):
            module.variables[name] = WrittenBlock("variable", (name,), body, file_path, _line(body))
    for entry in document.get("locals", []):
        for name, value in (entry.items() if isinstance(entry, dict) else ()):
            if not name.startswith("__"):
                module.locals[name] = (value, file_path)
    for kind in ("resource", "data"):
        for entry in document.get(kind, []):
            for resource_type, by_name in (entry.items() if isinstance(entry, dict) else ()):
                for name, body in _named(by_name):
                    module.resources.append(WrittenBlock(kind, (resource_type, name), body, file_path, _line(body)))
    for entry in document.get("module", []):
        for name, body in _named(entry):
            module.modules[name] = WrittenBlock("module", (name,), body, file_path, _line(body))
    for entry in document.get("provider", []):
        for name, body in _named(entry):
            module.providers.append(WrittenBlock("provider", (name,), body, file_path, _line(body)))
    for entry in document.get("output", []):
        for name, body in _named(entry):
            module.outputs[name] = WrittenBlock("output", (name,), body, file_path, _line(body))
    for entry in document.get("terraform", []):
        if isinstance(entry, dict):
            module.aws_version_constraints += _aws_constraints(entry, file_path)


def _aws_constraints(terraform: dict[str, Any], file_path: str) -> list[tuple[str, str]]:
    """The version constraints of hashicorp/aws in a terraform block (python-hcl2's or .tf.json's shape)."""
    found = []
    where = f"{os.path.basename(file_path)}:{_line(terraform)}" if _line(terraform) else os.path.basename(file_path)
    entries = terraform.get("required_providers")
    for entry in entries if isinstance(entries, list) else [entries]:
        for name, requirement in (entry.items() if isinstance(entry, dict) else ()):
            requirement = unwrap(requirement)
            if isinstance(requirement, str) and name == "aws":  # the pre-0.13 form `aws = "~> 3.0"`
                found.append((requirement, where))
            if not isinstance(requirement, dict):
                continue
            source, version = unwrap(requirement.get("source", name)), unwrap(requirement.get("version"))
            if str(source).lower() in AWS_SOURCES | {"aws"} and isinstance(version, str):
                found.append((version, where))
    return found


def _named(entry: Any) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(entry, dict):
        return []
    found = []
    for name, body in entry.items():
        for item in body if isinstance(body, list) else [body]:  # .tf.json may list several provider blocks
            if isinstance(item, dict):
                found.append((name, item))
    return found


def _line(body: dict[str, Any]) -> int:
    line = body.get("__start_line__", 0)
    return int(line) if isinstance(line, int) else 0


# --- .tf.json -------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _json_document(file_path: str) -> dict[str, Any] | None:
    try:
        with open(file_path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(raw, dict):
        return None
    document: dict[str, list[Any]] = {}
    for kind, content in raw.items():
        if kind in ("resource", "data"):
            document[kind] = [{resource_type: {name: _json_body(body) for name, body in _items(by_name)}}
                              for resource_type, by_name in _items(content)]
        elif kind in ("variable", "module", "output", "provider"):
            document[kind] = [{name: [_json_body(item) for item in (body if isinstance(body, list) else [body])]}
                              for name, body in _items(content)]
        elif kind == "locals":
            blocks = content if isinstance(content, list) else [content]
            document[kind] = [{name: [_json_value(value)] for name, value in _items(block)} for block in blocks]
        elif kind == "terraform":
            document[kind] = [content]
    return document


def _items(value: Any) -> list[tuple[str, Any]]:
    return list(value.items()) if isinstance(value, dict) else []


def _json_body(body: Any) -> dict[str, Any]:
    """A JSON object as a block body: nested objects become blocks unless the name says it is a map."""
    if not isinstance(body, dict):
        return {}
    converted: dict[str, Any] = {}
    for key, value in body.items():
        if key == "dynamic" and isinstance(value, dict):
            converted[key] = [{name: _json_body(spec) for name, spec in value.items()}]
        elif key not in _MAP_ATTRIBUTES and key != "content" and (
                isinstance(value, dict) or (isinstance(value, list) and value and all(isinstance(v, dict)
                                                                                      for v in value))):
            converted[key] = [_json_body(item) for item in (value if isinstance(value, list) else [value])]
        elif key == "content" and isinstance(value, dict):
            converted[key] = [_json_body(value)]
        else:
            converted[key] = [_json_value(value)]
    return converted


def _json_value(value: Any) -> Any:
    """JSON strings are templates; HCL's python-hcl2 shape keeps them as written, so no change is needed."""
    return value
