"""The values a pipeline gives a root module's variables, in Terraform's order of precedence.

Later sources win: the variable's default, `TF_VAR_name` environment variables, `terraform.tfvars`,
`terraform.tfvars.json`, `*.auto.tfvars` / `*.auto.tfvars.json` in lexical order, then `-var-file` and
`-var` options in the order given. The workspace is `default` unless `TF_WORKSPACE` or `--workspace` says
otherwise.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

ENV_VAR_FILES = "DATA_HANDLING_VAR_FILES"  # os.pathsep-separated, set by the CLI for checks running in checkov
ENV_VARS = "DATA_HANDLING_VARS"  # JSON list of [name, value] pairs from --var, in order
ENV_WORKSPACE = "DATA_HANDLING_WORKSPACE"


@dataclass(frozen=True)
class ScanInputs:
    var_files: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()  # --var name=value, as text, in order
    workspace: str | None = None
    environment: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def workspace_name(self) -> str:
        if self.workspace:
            return self.workspace
        return dict(self.environment).get("TF_WORKSPACE") or "default"


_memo: tuple[tuple[Any, ...], ScanInputs] | None = None


def current_inputs() -> ScanInputs:
    """What this process was asked to scan with: the CLI passes its options through the environment, so the
    checks (which run inside checkov) see the same values under `data-handling scan` and plain checkov.

    Called for every resource a check is handed: the environment is decoded again only when one of the
    variables that set it (or the number of variables) changed, not on every call."""
    global _memo
    key = (os.environ.get(ENV_VAR_FILES), os.environ.get(ENV_VARS), os.environ.get(ENV_WORKSPACE),
           os.environ.get("TF_WORKSPACE"), len(os.environ))
    if _memo is None or _memo[0] != key:
        _memo = (key, _read_inputs())
    return _memo[1]


def _read_inputs() -> ScanInputs:
    files = tuple(path for path in os.environ.get(ENV_VAR_FILES, "").split(os.pathsep) if path)
    try:
        pairs = json.loads(os.environ.get(ENV_VARS) or "[]")
        variables = tuple((str(name), str(value)) for name, value in pairs)
    except (ValueError, TypeError):
        variables = ()
    environment = tuple(sorted((key, value) for key, value in os.environ.items()
                               if key.startswith("TF_VAR_") or key == "TF_WORKSPACE"))
    return ScanInputs(files, variables, os.environ.get(ENV_WORKSPACE) or None, environment)


@dataclass(frozen=True)
class VariableSource:
    """Where a root variable's value came from, for finding details."""

    value: Any
    source: str
    is_text: bool = False  # TF_VAR_* and --var values: text, parsed by the variable's type


def root_values(root_dir: str, inputs: ScanInputs, read_file: Any) -> tuple[dict[str, VariableSource], list[str]]:
    """Each root variable's value by precedence, and the var files that could not be read."""
    values: dict[str, VariableSource] = {}
    problems: list[str] = []
    for key, value in inputs.environment:
        if key.startswith("TF_VAR_"):
            values[key.removeprefix("TF_VAR_")] = VariableSource(value, f"environment variable {key}", True)
    automatic = []
    for name in ("terraform.tfvars", "terraform.tfvars.json"):
        if os.path.isfile(os.path.join(root_dir, name)):
            automatic.append(os.path.join(root_dir, name))
    try:
        names = sorted(os.listdir(root_dir))
    except OSError:
        names = []
    automatic += [os.path.join(root_dir, name) for name in names
                  if name.endswith((".auto.tfvars", ".auto.tfvars.json"))]
    for path in automatic:
        _read_into(values, path, read_file, problems, required=False)
    for path in inputs.var_files:
        _read_into(values, path, read_file, problems, required=True)
    for name, value in inputs.variables:
        values[name] = VariableSource(value, f"--var {name}", True)
    return values, problems


def _read_into(values: dict[str, VariableSource], path: str, read_file: Any, problems: list[str],
               required: bool) -> None:
    document = read_file(path)
    if document is None:
        if required or os.path.exists(path):
            problems.append(f"{path}: cannot be read as a variables file")
        return
    for name, value in document.items():
        if not name.startswith("__"):
            values[name] = VariableSource(value[0] if isinstance(value, list) and len(value) == 1 else value,
                                          os.path.basename(path))
