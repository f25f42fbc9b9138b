"""Build the infrastructure records from a Terraform plan (`terraform show -json plan.out`).

A plan knows what source cannot: module expansions, `for_each`/`count` instances, the pipeline's variable
values and, with AWS provider v6, each resource's effective region. What it does not record (locals, module
variables, values unknown until apply) stays unknown. The records are the same as for source, so every rule
runs unchanged:

- values: `resource_changes[].change.after`, wrapped like checkov's HCL configuration (one-element lists);
  an attribute unknown until apply keeps its configuration expression as text (`aws_kms_key.k.arn`);
- provider: the resource's `provider_config_key` (Terraform already resolved providers passed into modules)
  into `configuration.provider_config`, whose expressions are constants or root variables the plan records;
- references: from the `configuration` expressions, followed through module outputs and module inputs.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from typing import Any

from data_handling.model.addresses import split_address, strip_instance_key
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.plan_shape import PlanError, check_complete, check_shape, read_plan_document
from data_handling.model.provider_version import AWS_SOURCES, AwsProviderVersions
from data_handling.model.records import ProviderBlock, Resource
from data_handling.model.values import ReferenceText, unwrap
from data_handling.safe_text import one_line, quoted

__all__ = ["PlanError", "build_from_plan", "check_plan", "load_plan", "module_input_references"]


_SKIPPED_REFERENCE_ROOTS = ("each.", "count.", "path.", "terraform.", "self.")


def load_plan(path: str) -> dict[str, Any]:
    """The plan at `path`, refused with a one-line PlanError unless it is a complete plan of the expected shape
    (checkov and the model index into it freely)."""
    plan = read_plan_document(path)
    check_plan(plan, one_line(path))
    return plan


def check_plan(plan: Any, path: str) -> None:
    """Refuse JSON that is not `terraform show -json` output of a plan, or that a reader would crash on."""
    if isinstance(plan, dict) and "format_version" in plan and not isinstance(plan["format_version"], str):
        check_shape(plan, path)  # names the path and the type
    if not isinstance(plan, dict) or not isinstance(plan.get("format_version"), str):
        raise PlanError(f"{path}: not a Terraform plan (no format_version; produce it with "
                        "`terraform show -json plan.out`)")
    major = plan["format_version"].split(".", 1)[0]
    if major != "1":
        raise PlanError(f"{path}: unsupported plan format_version {quoted(plan['format_version'], 40)} "
                        "(1.x is supported)")
    if "resource_changes" not in plan and "planned_values" not in plan:
        raise PlanError(f"{path}: a Terraform state or configuration, not a plan (no resource_changes)")
    check_shape(plan, path)
    check_complete(plan, path)


def build_from_plan(plan: dict[str, Any], path: str) -> Infrastructure:
    root_dir = os.path.dirname(os.path.abspath(path))
    configuration = plan.get("configuration") or {}
    variables = {name: (entry or {}).get("value") for name, entry in (plan.get("variables") or {}).items()}
    modules = _config_modules(configuration.get("root_module") or {})

    providers = []
    provider_keys: dict[str, tuple[str, str, str]] = {}
    for key, config in (configuration.get("provider_config") or {}).items():
        module, _, local_name = key.rpartition(":")
        local_name = config.get("name", local_name) + (f".{config['alias']}" if config.get("alias") else "")
        expressions = config.get("expressions") or {}
        values = _expressions_as_config(expressions, variables if not module else {})
        providers.append(ProviderBlock(root_dir=root_dir, module=module, local_name=local_name, config=values,
                                       file_path=path))
        provider_keys[key] = (root_dir, module, local_name)

    records: list[Resource] = []
    pending: list[tuple[Resource, str, dict[str, Any]]] = []  # resource, config path, configuration entry
    for change in _changes(plan):
        address = change["address"]
        instance = change.get("module_address", "")
        config_path = _config_path(instance)
        entry = modules.get(config_path, {}).get("resources", {}).get(_config_address(address, instance), {})
        after = ((change.get("change") or {}).get("after")) or change.get("values") or {}
        unknown = ((change.get("change") or {}).get("after_unknown")) or {}
        expressions = entry.get("expressions") or {}
        config = _values_as_config(after, unknown, _through_inputs(expressions, config_path, modules))
        if "region" not in expressions and "region" not in after:
            # A computed `region` attribute the configuration does not set (AWS provider v5 plans show it as
            # unknown): the resource is created in its provider's region, as with HCL.
            config.pop("region", None)
        if entry:
            # Likewise any computed argument the configuration does not set (an S3 bucket's `acl`, `policy` and
            # `grant` in provider v5 plans): unknown only because the provider reports it after apply, unset as
            # in the source, not a value a check must fail closed on.
            for key, flag in (unknown.items() if isinstance(unknown, dict) else ()):
                if flag is True and key not in expressions and after.get(key) is None:
                    config.pop(key, None)
        config["__address__"] = address
        resource = Resource(
            address=address, type=change.get("type", ""), name=change.get("name", ""), root_dir=root_dir,
            module=instance, config=config, file_path=path,
            mode="data" if change.get("mode") == "data" else "resource",
            provider_key=provider_keys.get(entry.get("provider_config_key", "")),
        )
        records.append(resource)
        pending.append((resource, config_path, entry))

    by_module: dict[str, list[Resource]] = {}
    for resource in records:
        by_module.setdefault(resource.module, []).append(resource)
    for resource, config_path, entry in pending:
        found: dict[tuple[str, int], tuple[str, Resource]] = {}
        for label, reference in _expression_references(entry.get("expressions") or {}):
            for target in _resolve(reference, config_path, resource.module, modules, by_module, set()):
                if target is not resource:
                    found[(label, id(target))] = (label, target)
        resource.references = list(found.values())
        inputs: dict[tuple[str, int], tuple[str, Resource]] = {}
        for label, reference in _call_references(config_path, modules):
            parent_path = _parent_and_call(config_path)[0]
            parent_instance = resource.module.rpartition(".module.")[0] if ".module." in resource.module else ""
            for target in _resolve(reference, parent_path, parent_instance, modules, by_module, set()):
                inputs[(label, id(target))] = (label, target)
        _module_inputs[id(resource.config)] = list(inputs.values())
    _documents_as_written(records, variables)
    # required_providers constraints, as the plan's configuration records them per provider configuration
    constraints = {(str(config["version_constraint"]), f"the plan's configuration ({key})"): None
                   for key, config in (configuration.get("provider_config") or {}).items()
                   if str(config.get("full_name", "")).lower() in AWS_SOURCES and config.get("version_constraint")}
    return Infrastructure(records, providers, [],
                          aws_versions={root_dir: AwsProviderVersions(constraints=tuple(constraints))})


# id(resource config) -> (argument, resource) for what the arguments of the resource's module call refer to.
_module_inputs: dict[int, list[tuple[str, Resource]]] = {}


def module_input_references(resource: Resource) -> list[tuple[str, Resource]]:
    """(argument, resource) for every resource the arguments of the module call creating a plan resource refer
    to (a destination bucket ARN passed in a map of replication rules): the plan's counterpart of what checkov's
    graph links a module call's inputs to."""
    return _module_inputs.get(id(resource.config), [])


def _call_references(config_path: str, modules: dict[str, dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(argument, reference) for the references in the arguments of the module call at `config_path`."""
    if not config_path:
        return
    parent_path, call_name = _parent_and_call(config_path)
    call = modules.get(parent_path, {}).get("calls", {}).get(call_name, {})
    yield from _expression_references(call.get("expressions") or {})


def _parent_and_call(config_path: str) -> tuple[str, str]:
    """'module.a.module.b' -> ('module.a', 'b'); 'module.a' -> ('', 'a')."""
    parent_path, separator, call_name = config_path.rpartition(".module.")
    return (parent_path, call_name) if separator else ("", config_path.removeprefix("module."))


# --- reading the plan ------------------------------------------------------------------------------------

def _changes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """resource_changes (what will exist after apply), plus data sources read during planning."""
    seen = set()
    for change in plan.get("resource_changes") or []:
        if "delete" in ((change.get("change") or {}).get("actions") or []) and \
                (change.get("change") or {}).get("after") is None:
            continue  # being destroyed: nothing of it remains
        seen.add(change.get("address"))
        yield change
    prior = ((plan.get("prior_state") or {}).get("values") or {}).get("root_module") or {}
    for state_resource in _state_resources(prior):
        if state_resource.get("mode") == "data" and state_resource.get("address") not in seen:
            module = state_resource["address"].rsplit(".data.", 1)[0] if ".data." in state_resource["address"] \
                else ""
            yield {**state_resource, "module_address": module}


def _state_resources(module: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield from module.get("resources") or []
    for child in module.get("child_modules") or []:
        yield from _state_resources(child)


def _config_modules(root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Configuration modules by static path ('' root, 'module.a.module.b'): resources by address, calls, outputs."""
    modules: dict[str, dict[str, Any]] = {}

    def visit(module: dict[str, Any], path: str) -> None:
        modules[path] = {
            "resources": {r.get("address", ""): r for r in module.get("resources") or []},
            "calls": module.get("module_calls") or {},
            "outputs": module.get("outputs") or {},
        }
        for name, call in (module.get("module_calls") or {}).items():
            visit(call.get("module") or {}, f"{path}.module.{name}" if path else f"module.{name}")

    visit(root, "")
    return modules


def _config_path(instance: str) -> str:
    return ".".join(strip_instance_key(part) for part in split_address(instance)) if instance else ""


def _config_address(address: str, instance: str) -> str:
    """The resource's address inside its module, without instance key: aws_s3_bucket.this."""
    local = address[len(instance) + 1:] if instance else address
    parts = split_address(local)
    return ".".join(strip_instance_key(part) for part in parts)


# --- values ----------------------------------------------------------------------------------------------

def _values_as_config(after: Any, unknown: Any, expressions: Any) -> dict[str, Any]:
    """Plan values in checkov's shape: attributes wrapped in one-element lists, blocks as lists of dicts."""
    config: dict[str, Any] = {}
    if not isinstance(after, dict):
        return config
    for key, value in after.items():
        if value is None and isinstance(unknown, dict) and unknown.get(key) is True:
            continue
        config[key] = _wrap(value, unknown.get(key) if isinstance(unknown, dict) else None,
                            expressions.get(key) if isinstance(expressions, dict) else None)
    for key, flag in (unknown.items() if isinstance(unknown, dict) else ()):
        if flag is True and key not in config:
            expression = expressions.get(key) if isinstance(expressions, dict) else None
            # An unknown attribute the written block does not set is the provider's computed default, not a
            # value of the configuration (still unrendered text, so a check that needs it fails closed).
            written = isinstance(expressions, dict) and bool(expressions) and key not in expressions
            config[key] = [COMPUTED if written else _expression_text(expression)]
    return config


COMPUTED = "${computed by the provider}"  # an unknown attribute the configuration leaves to the provider


def _wrap(value: Any, unknown: Any, expression: Any) -> Any:
    is_attribute = isinstance(expression, dict) and bool({"constant_value", "references"} & expression.keys())
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value) and not is_attribute:
        # Nested blocks: each block's attributes wrapped in turn.
        unknowns = unknown if isinstance(unknown, list) else []
        expressions = expression if isinstance(expression, list) else []
        return [_values_as_config(item, unknowns[i] if i < len(unknowns) else {},
                                  expressions[i] if i < len(expressions) else {})
                for i, item in enumerate(value)]
    return [value]


def _through_inputs(expressions: Any, config_path: str, modules: dict[str, dict[str, Any]], depth: int = 0) -> Any:
    """Expressions with each one that is only a module variable (`var.key_users`) replaced by the argument its
    module call passes (`[aws_iam_role.api.arn]`), up the module tree: an unknown value then reads as the
    reference that produces it, as checkov renders module variables in source."""
    if isinstance(expressions, list):
        return [_through_inputs(item, config_path, modules, depth) for item in expressions]
    if not isinstance(expressions, dict):
        return expressions
    if not ({"references", "constant_value"} & expressions.keys()):
        return {key: _through_inputs(value, config_path, modules, depth) for key, value in expressions.items()}
    references = expressions.get("references") or []
    variable = split_address(references[0]) if references else []
    if not config_path or depth > 8 or len(variable) != 2 or variable[0] != "var" or "[" in variable[1] or \
            references != [references[0]]:
        return expressions  # only a whole variable: `var.rules["a"]` or `"${var.a}-${var.b}"` stay as they are
    parent_path, call_name = _parent_and_call(config_path)
    call = modules.get(parent_path, {}).get("calls", {}).get(call_name, {})
    argument = (call.get("expressions") or {}).get(strip_instance_key(variable[1]))
    if not isinstance(argument, dict) or not argument:
        return expressions
    return _through_inputs(argument, parent_path, modules, depth + 1)


def _expression_text(expression: Any) -> str:
    """An unknown value shown as the expression that will produce it (as checkov shows unrendered HCL)."""
    if isinstance(expression, dict):
        references = expression.get("references") or []
        if references:
            return str(references[0])
    return "${unknown until apply}"


def _expressions_as_config(expressions: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """A provider block's expressions as values: constants, and root variables the plan records."""
    config: dict[str, Any] = {}
    for key, expression in expressions.items():
        if isinstance(expression, list):
            config[key] = [_expressions_as_config(block, variables) for block in expression if isinstance(block, dict)]
        elif isinstance(expression, dict) and "constant_value" in expression:
            config[key] = [expression["constant_value"]]
        elif isinstance(expression, dict):
            references = expression.get("references") or []
            variable = next((ref[4:] for ref in references if ref.startswith("var.")), None)
            if len(references) == 1 and variable in variables:
                config[key] = [variables[variable]]
            else:
                config[key] = [references[0] if references else "${unknown until apply}"]
    return config


# --- references ------------------------------------------------------------------------------------------

def _expression_references(expressions: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """(attribute path, reference) for every reference in a resource's expressions."""
    if isinstance(expressions, list):
        for block in expressions:
            yield from _expression_references(block, prefix)
        return
    if not isinstance(expressions, dict):
        return
    if "references" in expressions or "constant_value" in expressions:
        for reference in expressions.get("references") or []:
            yield prefix, reference
        return
    for key, value in expressions.items():
        yield from _expression_references(value, f"{prefix}.{key}" if prefix else key)


_RESOURCE_REFERENCE = re.compile(r"^(data\.)?([a-z0-9]+_[a-z0-9_]+)\.([A-Za-z0-9_-]+)")


def _resolve(reference: str, config_path: str, instance: str, modules: dict[str, dict[str, Any]],
             by_module: dict[str, list[Resource]], seen: set[tuple[str, str, str]]) -> list[Resource]:
    """The resources a reference written in module `config_path` (instance `instance`) points at."""
    if (reference, config_path, instance) in seen or reference.startswith(_SKIPPED_REFERENCE_ROOTS):
        return []
    seen.add((reference, config_path, instance))
    parts = split_address(reference)
    if parts[0] == "module" and len(parts) >= 3:
        call = strip_instance_key(parts[1])
        child_path = f"{config_path}.module.{call}" if config_path else f"module.{call}"
        child_instances = _instances(by_module, instance, call, parts[1])
        output = modules.get(child_path, {}).get("outputs", {}).get(parts[2], {})
        found = []
        for output_reference in (output.get("expression") or {}).get("references") or []:
            for child_instance in child_instances:
                found += _resolve(output_reference, child_path, child_instance, modules, by_module, seen)
        return found
    if parts[0] == "var" and len(parts) >= 2 and config_path:
        parent_path, call_name = _parent_and_call(config_path)
        call = modules.get(parent_path, {}).get("calls", {}).get(call_name, {})
        expression = (call.get("expressions") or {}).get(strip_instance_key(parts[1])) or {}
        parent_instance = instance.rpartition(".module.")[0] if ".module." in instance else ""
        found = []
        for _, parent_reference in _expression_references(expression):
            found += _resolve(parent_reference, parent_path, parent_instance, modules, by_module, seen)
        return found
    match = _RESOURCE_REFERENCE.match(reference)
    if not match:
        return []  # locals and other values the plan does not record
    mode = "data" if match.group(1) else "resource"
    return [r for r in by_module.get(instance, []) if r.mode == mode and r.type == match.group(2)
            and strip_instance_key(split_address(r.address)[-1]) == match.group(3)]


def _instances(by_module: dict[str, list[Resource]], parent: str, call: str, written: str) -> list[str]:
    """Instance addresses of a module call (module.x, or each module.x["k"]) that hold resources."""
    prefix = f"{parent}.module." if parent else "module."
    wanted = prefix + written
    names = set()
    for module in by_module:
        if module == wanted or module.startswith(wanted + ".") or (
                "[" not in written and (module.startswith(prefix + call + "[") or module == prefix + call)):
            head = module[len(prefix):]
            names.add(prefix + split_address(head)[0])
    return sorted(names)


# --- policies made from an aws_iam_policy_document whose JSON the plan does not know ------------------------

ENRICHMENT_FLAG = "--repo-root-for-plan-enrichment"
# `data.aws_iam_policy_document.x.json` as the plan writes it; the evaluator names the instance, in its module
_DOCUMENT_READ = re.compile(r"^(module\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.)*data\.aws_iam_policy_document\.[A-Za-z0-9_-]+"
                            r"(\[[^\]]*\])?\.(minified_)?json$")


def _documents_as_written(records: list[Resource], variables: dict[str, Any]) -> None:
    """A policy the plan shows as known only after apply, whose configuration names an aws_iam_policy_document: the
    plan's configuration lists the same references for `policy = data.x.json` as for `replace(data.x.json, ...)`,
    so it cannot say whether the policy is the document. With the configuration beside the plan (checkov's
    --repo-root-for-plan-enrichment, which the CLI passes on), the written expression decides: the document itself
    stays the document the rules read; anything made from it is the text the configuration evaluates to (its
    unknown parts marked), so what a function writes into the document is judged."""
    ambiguous = [(record, label) for record in records if record.mode == "resource"
                 for label, target in record.references
                 if "." not in label and target.mode == "data" and target.type == "aws_iam_policy_document"
                 and isinstance(record.get(label), str) and _DOCUMENT_READ.match(str(record.get(label)).strip())]
    if not ambiguous:
        return
    tree = _source_tree(variables)
    if tree is None:
        return  # no configuration beside the plan: read as the document (docs/checks/CKV_DH_103.md, known gap)
    for record, label in ambiguous:
        instance = tree.instances.get(record.address)
        written = unwrap((instance.config or {}).get(label)) if instance is not None else None
        if instance is None or (isinstance(written, ReferenceText) and _DOCUMENT_READ.match(str(written).strip())):
            continue  # the document itself, or a resource the configuration does not have: as the plan says
        record.config[label] = [written]
        record.references = [(name, target) for name, target in record.references
                             if not (name == label and target.type == "aws_iam_policy_document")]


def _source_tree(variables: dict[str, Any]) -> Any:
    """The evaluated configuration the plan was made from, when checkov was told where it is and it is a root
    module (a directory of .tf files); None otherwise or when it cannot be evaluated."""
    from data_handling.model.hcl.evaluator import Tree
    from data_handling.model.hcl.files import terraform_files
    from data_handling.model.hcl.inputs import ScanInputs

    argv = sys.argv
    root = next((argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == ENRICHMENT_FLAG), None) or next(
        (arg.split("=", 1)[1] for arg in argv if arg.startswith(ENRICHMENT_FLAG + "=")), None)
    if not root or not terraform_files(os.path.abspath(root)):
        return None
    given = tuple((name, value if isinstance(value, str) else json.dumps(value))
                  for name, value in variables.items() if value is not None)
    try:
        return Tree(os.path.abspath(root), None, ScanInputs(variables=given))
    except Exception as error:  # the plan is still read as it is (the documents as written), and says so
        logging.getLogger("data_handling").warning(
            "data-handling: the configuration in %s could not be evaluated beside the plan (%s: %s); policies made "
            "from aws_iam_policy_document JSON are read as the documents", root, type(error).__name__, error)
        return None
