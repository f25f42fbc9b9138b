"""Plain records of the scanned configuration, whatever it was read from (checkov's graph, later a plan)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.values import as_text, unwrap

ModuleKey = tuple[str, str]  # (root module directory, module instance address; "" for the root module)


def _where(file_path: str, line: int) -> str:
    if not file_path:
        return "unknown file"
    return f"{os.path.basename(file_path)}:{line}" if line else os.path.basename(file_path)


@dataclass(eq=False, slots=True)
class ProviderBlock:
    """A `provider` block: `aws` (the default configuration) or `aws.<alias>`."""

    root_dir: str
    module: str
    local_name: str
    config: dict[str, Any]
    file_path: str = ""
    line: int = 0

    def describe(self) -> str:
        return f'provider "{self.local_name}" ({_where(self.file_path, self.line)})'

    def get(self, key: str) -> Any:
        return unwrap(self.config.get(key))


@dataclass(eq=False, slots=True)
class ModuleCall:
    """A `module` block instance: which parent calls it and which provider configurations it passes."""

    root_dir: str
    parent: str  # module address of the caller ("" for the root module)
    address: str  # module address of the instance it creates: module.a["x"].module.b
    providers: dict[str, str]  # name inside the child -> configuration name in the parent
    file_path: str = ""
    line: int = 0

    def describe(self) -> str:
        return f'{self.address} ({_where(self.file_path, self.line)})'


@dataclass(eq=False, slots=True)
class Resource:
    address: str  # module.a.aws_s3_bucket.b
    type: str
    name: str
    root_dir: str
    module: str  # module instance address, "" in the root module
    config: dict[str, Any]  # checkov's rendered configuration: values wrapped in one-element lists
    file_path: str = ""
    line: int = 0
    references: list[tuple[str, Resource]] = field(default_factory=list)  # (attribute, target)
    mode: str = "resource"  # "resource", or "data" for a data source (data.aws_iam_policy_document.x)
    # A plan states the provider configuration each resource uses (root_dir, module, local name): no resolution.
    provider_key: tuple[str, str, str] | None = None
    # Values evaluated from the written HCL (model/hcl): dynamic blocks expanded, nulls omitted, unknowns marked.
    evaluated: bool = False

    @property
    def module_key(self) -> ModuleKey:
        return (self.root_dir, self.module)

    def get(self, key: str) -> Any:
        return unwrap(self.config.get(key))

    def text(self, key: str) -> str | None:
        return as_text(self.config.get(key))

    @property
    def provider_ref(self) -> str:
        """The provider configuration the resource names (`provider = aws.us`), else the default one."""
        named = self.text("provider")
        if named:
            return named.removeprefix("${").removesuffix("}").strip()
        return self.type.split("_", 1)[0]

    def describe(self) -> str:
        return f"{self.address} ({_where(self.file_path, self.line)})"

    def how_to_know(self, terraform_advice: str) -> str:
        """What makes a value of this resource known that is not: for Terraform, the advice given (a literal, a
        variable with a value, or the plan); a source of its own says its own (the live audit: the call to grant)."""
        return terraform_advice
