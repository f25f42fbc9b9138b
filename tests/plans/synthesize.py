"""Write the `terraform show -json` plan a Terraform root module would produce, for the plan fixtures.

This machine has no Terraform binary (and no network to fetch one or the AWS provider), so the plan fixtures
are synthesised from the source: the structure follows Terraform's JSON output format (format_version 1.2;
`planned_values`, `resource_changes`, `configuration` with `provider_config`, `module_calls`, expressions with
`references` and `constant_value`, as Terraform's internal/command/jsonconfig writes them; provider keys of
resources in modules normalised to the configuration that is passed in), and the values are what Terraform
would plan: instances expanded, variables evaluated, `tags_all` = provider `default_tags` merged with `tags`,
and, with `--provider-v6`, each resource's effective `region` (AWS provider v6 plans it for every regional
resource). Values checkov cannot render are left out of `after` and marked in `after_unknown`.

    python tests/plans/synthesize.py ROOT_DIR OUTPUT.json [--provider-v6]
    python tests/plans/synthesize.py --all     # regenerate every committed plan fixture
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data_handling.model.expressions import Reference
from data_handling.model.records import Resource
from data_handling.model.values import Known, ReferenceText, evaluate_merge, is_unrendered

_REFERENCE = re.compile(r'(?<![\w.])((?:data\.)?[a-z][a-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\])+)')
_STEP = re.compile(r'\.[A-Za-z_][A-Za-z0-9_-]*|\[[^\]]*\]')
_ROOTS = ("var", "local", "module", "data", "each", "count", "path", "self", "terraform")
_META = {"provider", "count", "for_each", "depends_on", "lifecycle", "providers", "source", "version"}


def references_in(text: str) -> list[str]:
    """The references of an expression as Terraform's jsonconfig lists them: the full traversal, then each shorter
    one down to the referenced object (`aws_x.y[0].arn`, `aws_x.y[0]`), then a keyed resource without its key
    (`aws_x.y`) and a module output's module call (`module.m.out` -> `module.m`)."""
    found: list[str] = []
    for expression in re.findall(r"\$\{(.*?)\}", text):
        for match in _REFERENCE.findall(expression):
            root = match.split(".", 1)[0].split("[", 1)[0]
            if root not in _ROOTS and "_" not in root:
                continue
            steps = _STEP.findall(match[len(root):])
            if not steps or not steps[0].startswith("."):
                continue
            size = {"data": 2}.get(root, 1)  # steps of the referenced object after the root
            keyed = root not in ("var", "local", "each", "count", "path", "self", "terraform") and \
                len(steps) > size and steps[size].startswith("[")
            size += keyed
            output = root == "module" and len(steps) > size and steps[size].startswith(".")
            if len(steps) < size:
                continue
            listed = [root + "".join(steps[:end]) for end in range(len(steps), size - 1, -1)]
            if output:
                listed = [root + "".join(steps[:end]) for end in range(len(steps), size, -1)]
                listed.append(root + "".join(steps[:size]))
            elif keyed and root != "module":
                listed.append(root + "".join(steps[:size - 1]))
            found += [reference for reference in listed if reference not in found]
    return found


def expression_of(value: Any) -> Any:
    """Terraform's expression representation of a raw HCL value from python-hcl2."""
    if isinstance(value, list) and value and all(_is_block_body(v) for v in value):
        return [expressions_of(block) for block in value]  # nested blocks
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # python-hcl2 wraps every attribute value in a list
    text = json.dumps(value) if not isinstance(value, str) else value
    if "${" in text:
        return {"references": references_in(text)}
    return {"constant_value": value}


def _is_block_body(value: Any) -> bool:
    # python-hcl2 writes a nested block as a dict whose attribute values are lists; a map literal is a dict of
    # plain values.
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, list) or k.startswith("__") for k, v in value.items())


def expressions_of(block: dict[str, Any]) -> dict[str, Any]:
    return {key: expression_of(value) for key, value in block.items()
            if not key.startswith("__") and key not in _META and key != "dynamic"}


def _plain(value: Any) -> Any:
    """checkov's rendered value without its one-element list wrapping."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict):
        return {k: _plain_block(v) for k, v in value.items() if not k.startswith("__")}
    return value


def _plain_block(value: Any) -> Any:
    if isinstance(value, list) and value and all(_is_block_body(v) for v in value):
        return [{k: _plain_block(v) for k, v in item.items() if not k.startswith("__")} for item in value]
    return _plain(value)


# A reference checkov (or the dynamic block expansion) leaves as text: an attribute of a resource not yet created,
# which Terraform cannot know before apply.
_RESOURCE_ATTRIBUTE = re.compile(r'^(data\.)?[a-z0-9]+_[a-z0-9_]+\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.[A-Za-z0-9_.]+$')


def _known(value: Any) -> bool:
    if isinstance(value, ReferenceText):  # an attribute the provider computes: unknown until apply
        return False
    if isinstance(value, str):
        return not is_unrendered(value) and not _RESOURCE_ATTRIBUTE.match(value)
    if isinstance(value, dict):
        return all(_known(v) for v in value.values())
    if isinstance(value, list):
        return all(_known(v) for v in value)
    return True


def _split(body: dict[str, Any], attributes: frozenset[str] = frozenset()) -> tuple[dict[str, Any], dict[str, Any]]:
    """A block's known values and, as Terraform's after_unknown does, the attributes unknown until apply.
    `attributes`: keys written as attributes (checkov renders a map argument such as `tags = var.tags` like a block)."""
    after: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("__") or key in _META or key == "dynamic":
            continue
        if key not in attributes and isinstance(value, list) and value and all(_is_block_body(v) for v in value):
            halves = [_split(block) for block in value]  # nested blocks: unknown leaves only
            after[key] = [known for known, _ in halves]
            if any(missing for _, missing in halves):
                unknown[key] = [missing for _, missing in halves]
            continue
        plain = _plain(value)
        if isinstance(plain, str):
            plain = evaluate_merge(plain) or plain  # as the model does: checkov sometimes leaves merge() as text
        if _known(plain):
            after[key] = plain
        else:
            unknown[key] = True
    return after, unknown


def build_model(root: Path) -> Any:
    """The infrastructure model of a Terraform directory as the checks see it: checkov's graph, indexed for the
    values Terraform evaluates (model/hcl)."""
    from checkov.common.graph.db_connectors.rustworkx.rustworkx_db_connector import RustworkxConnector
    from checkov.terraform.graph_manager import TerraformGraphManager

    from data_handling.model.graph_source import build_from_graph

    manager = TerraformGraphManager(db_connector=RustworkxConnector())
    local_graph, _ = manager.build_graph_from_source_directory(str(root), render_variables=True)
    graph = manager.save_graph(local_graph)
    return build_from_graph(graph)


def expanded_config(resource: Resource) -> tuple[dict[str, Any], set[str]]:
    """The resource's configuration as Terraform plans it (model/hcl expanded its dynamic blocks already), and
    the block names whose for_each cannot be known before apply."""
    config = dict(resource.config)
    unknown = set(config.pop("__unknown_blocks__", None) or {})
    for name in unknown:
        config.pop(name, None)
    return config, unknown


def _texts(value: Any) -> Any:
    """An evaluated value with each reference to another object as its text (`aws_kms_key.k.arn`)."""
    if isinstance(value, Reference):
        return value.text
    if isinstance(value, dict):
        return {key: _texts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_texts(item) for item in value]
    return value


def _attributes(resource: Resource) -> frozenset[str]:
    """The keys written as attributes, not blocks (a map argument such as `tags = {...}` looks like a block)."""
    from data_handling.model.hcl.evaluator import _is_block
    from data_handling.model.hcl.files import load_module

    module = load_module(str(Path(resource.file_path).parent))
    for block in module.resources:
        if block.kind == resource.mode and block.labels == (resource.type, resource.name):
            return frozenset(key for key, value in block.body.items() if not _is_block(value))
    return frozenset()


def planned_values(resource: Resource, infra: Any, provider_v6: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    config, unknown_blocks = expanded_config(resource)
    after, unknown = _split(config, _attributes(resource))
    unknown.update({name: True for name in unknown_blocks})
    unknown.update({"id": True, "arn": True})
    if resource.mode == "resource":
        merged: dict[str, Any] = {}
        tags_known = True
        for _, tags in reversed(infra.tag_sources(resource)):  # provider defaults first, resource tags win
            if isinstance(tags, dict):
                merged.update(tags)
            elif tags not in (None, {}):
                tags_known = False
        if tags_known and _known(merged):
            after["tags_all"] = merged
        else:
            unknown["tags_all"] = True
        if provider_v6 and resource.get("region") is None:
            region = infra.region_of(resource)
            if isinstance(region, Known):
                after["region"] = region.value
            else:
                unknown["region"] = True
    return after, unknown


def synthesize(root: Path, provider_v6: bool) -> dict[str, Any]:
    import hcl2

    root = root.resolve()
    infra = build_model(root)
    raw: dict[Path, dict[str, Any]] = {}

    def parsed(path: str) -> dict[str, Any]:
        key = Path(path)
        if key not in raw:
            raw[key] = hcl2.load(key.open())
        return raw[key]

    def module_dir_config(directory: Path, path: str) -> dict[str, Any]:
        module: dict[str, Any] = {"resources": [], "module_calls": {}, "outputs": {}, "variables": {}}
        for tf_file in sorted(directory.glob("*.tf")):
            document = parsed(str(tf_file))
            for mode, key in (("managed", "resource"), ("data", "data")):
                for entry in document.get(key, []):
                    for resource_type, by_name in entry.items():
                        for name, body in by_name.items():
                            provider = body.get("provider", [None])[0]
                            provider = str(provider).removeprefix("${").removesuffix("}") if provider else \
                                resource_type.split("_", 1)[0]
                            module["resources"].append({
                                "address": f"{'data.' if mode == 'data' else ''}{resource_type}.{name}",
                                "mode": mode, "type": resource_type, "name": name,
                                "provider_config_key": f"{path}:{provider}" if path else provider,
                                "expressions": expressions_of(body), "schema_version": 0,
                            })
            for entry in document.get("module", []):
                for name, body in entry.items():
                    source = body["source"][0] if isinstance(body["source"], list) else body["source"]
                    child_path = f"{path}.module.{name}" if path else f"module.{name}"
                    call = {"source": source, "expressions": expressions_of(body),
                            "module": module_dir_config((directory / source).resolve(), child_path)}
                    passed = body.get("providers", [{}])[0]
                    call["_providers"] = {str(k): str(v).removeprefix("${").removesuffix("}")
                                          for k, v in (passed or {}).items()}
                    module["module_calls"][name] = call
            for entry in document.get("output", []):
                for name, body in entry.items():
                    module["outputs"][name] = {"expression": expression_of(body.get("value"))}
            for entry in document.get("variable", []):
                for name, body in entry.items():
                    module["variables"][name] = {"default": _plain(body["default"])} if "default" in body else {}
        return module

    root_module = module_dir_config(root.resolve(), "")

    # Normalise provider keys as Terraform does: a resource in a module points at the configuration passed in.
    def normalise(module: dict[str, Any], mapping: dict[str, str]) -> None:
        for resource in module["resources"]:
            local = resource["provider_config_key"].rpartition(":")[2]
            resource["provider_config_key"] = mapping.get(local, resource["provider_config_key"])
        for call in module["module_calls"].values():
            passed = call.pop("_providers")
            child = {inner: mapping.get(outer, outer) for inner, outer in passed.items()}
            if not passed:  # implicit inheritance of the default configurations
                child = {name: key for name, key in mapping.items() if "." not in name}
            normalise(call["module"], child)

    provider_config: dict[str, Any] = {}
    for provider in infra._providers.values():
        if provider.module or provider.root_dir != str(root.resolve()):
            continue
        document = parsed(provider.file_path)
        for entry in document.get("provider", []):
            for name, body in entry.items():
                alias = body.get("alias", [None])[0]
                key = f"{name}.{alias}" if alias else name
                if key != provider.local_name:
                    continue
                config = {"name": name, "full_name": f"registry.terraform.io/hashicorp/{name}",
                          "expressions": expressions_of({k: v for k, v in body.items() if k != "alias"})}
                if alias:
                    config["alias"] = alias
                provider_config[key] = config
    normalise(root_module, {key: key for key in provider_config})

    variables = {}
    for variable_name, variable in root_module["variables"].items():
        value = infra_variable_value(root, variable_name, variable)
        if value is not None:
            variables[variable_name] = {"value": value}

    changes, planned = [], {}
    for resource in sorted(infra.resources + infra.data_sources, key=lambda r: r.address):
        if resource.root_dir != str(root.resolve()):
            continue
        after, unknown = planned_values(resource, infra, provider_v6)
        change = {"address": resource.address, "mode": "data" if resource.mode == "data" else "managed",
                  "type": resource.type, "name": resource.name,
                  "provider_name": "registry.terraform.io/hashicorp/aws",
                  "change": {"actions": ["read"] if resource.mode == "data" else ["create"], "before": None,
                             "after": after, "after_unknown": unknown}}
        if resource.module:
            change["module_address"] = resource.module
        changes.append(change)
        planned.setdefault(resource.module, []).append(
            {"address": resource.address, "mode": change["mode"], "type": resource.type, "name": resource.name,
             "provider_name": change["provider_name"], "schema_version": 0, "values": after})

    return {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "variables": variables,
        "planned_values": {"root_module": {
            "resources": planned.pop("", []),
            "child_modules": [{"address": address, "resources": resources}
                              for address, resources in sorted(planned.items())],
        }},
        "resource_changes": changes,
        "configuration": {"provider_config": provider_config, "root_module": root_module},
    }


def infra_variable_value(root: Path, name: str, variable: dict[str, Any]) -> Any:
    """The value Terraform would use: *.auto.tfvars and terraform.tfvars over the default."""
    import hcl2

    value = variable.get("default")
    for tfvars in [root / "terraform.tfvars", *sorted(root.glob("*.auto.tfvars"))]:
        if tfvars.is_file():
            values = hcl2.load(tfvars.open())
            if name in values:
                value = values[name]
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "tests" / "fixtures" / "plans"


def fixture_plans() -> list[tuple[Path, Path, bool]]:
    """(source root, plan file, AWS provider v6) for every committed plan fixture."""
    fixtures = REPO / "tests" / "fixtures"
    plans = [
        (fixtures / "ckv_dh_100" / "tags", PLANS / "ckv_dh_100_tags.json", True),
        (fixtures / "ckv_dh_100" / "default_tags", PLANS / "ckv_dh_100_default_tags.json", True),
        (fixtures / "ckv_dh_101", PLANS / "ckv_dh_101.json", True),
        (fixtures / "ckv_dh_101", PLANS / "ckv_dh_101_provider_v5.json", False),
        (fixtures / "clean", PLANS / "clean.json", True),
    ]
    plans += [(stack, PLANS / "sample_infra" / f"{stack.name}.json", True)
              for stack in sorted((REPO / "sample_infra" / "stacks").iterdir()) if stack.is_dir()]
    extra = Path(__file__).with_name("extra_plans.json")  # fixtures other check suites register
    if extra.is_file():
        for source, plan, v6 in json.loads(extra.read_text()):
            plans.append((REPO / source, PLANS / plan, v6))
    return plans


def render(root: Path, provider_v6: bool) -> str:
    return json.dumps(synthesize(root, provider_v6), indent=1, sort_keys=True) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, nargs="?")
    parser.add_argument("output", type=Path, nargs="?")
    parser.add_argument("--provider-v6", action="store_true", help="plan each resource's effective region")
    parser.add_argument("--all", action="store_true", help="regenerate every committed plan fixture")
    args = parser.parse_args()
    if args.all:
        for root, output, v6 in fixture_plans():
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(render(root, v6))
            print(f"wrote {output.relative_to(REPO)}")
        return
    if not (args.root and args.output):
        parser.error("ROOT and OUTPUT are required without --all")
    args.output.write_text(render(args.root, args.provider_v6))


if __name__ == "__main__":
    main()
