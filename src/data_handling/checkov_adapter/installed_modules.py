"""A checkov module loader for what `terraform init` installed under `.terraform/modules`.

Without network checkov loads only local module sources, so the resources of registry and git modules were
never handed to a check, although every real pipeline has them on disk after `terraform init`. This loader
answers checkov's module lookups from `.terraform/modules/modules.json` (Terraform's own manifest: each module
call's key, source, version and directory). It is registered when the data-handling checks are imported, which
checkov does before it parses, so it works under plain checkov as under `data-handling scan`.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

from checkov.terraform.module_loading.content import ModuleContent
from checkov.terraform.module_loading.loader import ModuleLoader
from checkov.terraform.module_loading.module_params import ModuleParams

_REGISTRY_HOST = "registry.terraform.io/"


@lru_cache(maxsize=64)
def _manifest(root: str, modified: int) -> tuple[tuple[str, str, str], ...]:
    """(normalised source, version, directory) of each installed module of a root."""
    path = os.path.join(root, ".terraform", "modules", "modules.json")
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle).get("Modules", [])
    except (OSError, ValueError, AttributeError):
        return ()
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not entry.get("Key") or not isinstance(entry.get("Dir"), str):
            continue
        directory = os.path.normpath(os.path.join(root, entry["Dir"]))
        found.append((_normalised(str(entry.get("Source", ""))), str(entry.get("Version", "")), directory))
    return tuple(found)


def _normalised(source: str) -> str:
    source = source.strip()
    return source.removeprefix(_REGISTRY_HOST).lower()


def _roots(directory: str) -> list[str]:
    """The directories above `directory` (itself first) that hold a module manifest; a module installed under
    .terraform/modules belongs to the root above that folder."""
    found, current = [], os.path.abspath(directory)
    while True:
        if os.path.isfile(os.path.join(current, ".terraform", "modules", "modules.json")):
            found.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            return found
        current = parent


def installed_directory(current_dir: str, source: str, version: str | None) -> str | None:
    """Where terraform init put the module a call in `current_dir` names, or None."""
    wanted = _normalised(source)
    for root in _roots(current_dir):
        manifest = os.path.join(root, ".terraform", "modules", "modules.json")
        entries = [entry for entry in _manifest(root, os.stat(manifest).st_mtime_ns) if entry[0] == wanted]
        exact = [entry for entry in entries if version and entry[1] == version]
        for _, _, directory in exact or entries:
            if os.path.isdir(directory):
                return directory
    return None


class InstalledModuleLoader(ModuleLoader):
    def __init__(self) -> None:
        super().__init__()
        self.is_external = False  # nothing is downloaded: it reads what terraform init left on disk

    def discover(self, module_params: ModuleParams) -> None:
        pass

    def _is_matching_loader(self, module_params: ModuleParams) -> bool:
        source = module_params.module_source
        if not source or source.startswith(("./", "../", "/")):
            return False
        return installed_directory(module_params.current_dir, source, module_params.version) is not None

    def _find_module_path(self, module_params: ModuleParams) -> str:
        return installed_directory(module_params.current_dir, module_params.module_source,
                                   module_params.version) or ""

    def _load_module(self, module_params: ModuleParams) -> ModuleContent:
        return ModuleContent(dir=self._find_module_path(module_params) or None)


loader = InstalledModuleLoader()  # registers itself with checkov's module loader registry
