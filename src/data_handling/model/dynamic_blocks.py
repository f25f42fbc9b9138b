"""The nested blocks of a resource, with its `dynamic` blocks expanded the way Terraform would.

Checkov 3.3.30 cannot be trusted with dynamic blocks in a resource's configuration: with an empty `for_each` it
leaves one phantom block whose values still read `replica.value`; with a single list `for_each` it copies the
content without substituting the values; with a map `for_each`, or one written with functions
(`flatten(try([var.rules["rule"]], ...))`), it does not expand at all; a nested `for_each` becomes a list of
characters; a for-expression in a module argument silently becomes an empty list. So the blocks are rebuilt
from the resource block as written (python-hcl2): one block per `for_each` item, each "${...}" evaluated
(model/expressions.py) with the iterators bound and the module's variables and locals in scope. A variable
is evaluated from the expression its module call passes (in the caller's scope), else from checkov's rendered
value (defaults, tfvars); checkov's rendered `for_each` is the fallback. A block that cannot be rebuilt comes
back as Unknown with the reason, never as a guess.

The variables, locals and reference edges come from checkov's graph, which is not part of the infrastructure
records: the model builder (checkov_adapter.state.model_for) calls `observe(graph)` once per graph. Without it (a
plan scan, where Terraform expanded the blocks already) the resource's own configuration is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from data_handling.model.addresses import module_address_of, root_dir_of, strip_instance_key
from data_handling.model.expressions import Lookup, NotEvaluable, Reference, evaluate, evaluate_value, pairs
from data_handling.model.graph_source import edges as graph_edges
from data_handling.model.graph_source import vertices as graph_vertices
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.raw_hcl import parsed
from data_handling.model.records import Resource
from data_handling.model.values import Unknown, is_unrendered

Block = dict[str, Any]  # shaped like checkov's configuration: attribute values wrapped in one-element lists

_PASS_THROUGH = {"output", "locals", "variable"}  # what a reference passes through on its way to a resource
_MAX_DEPTH = 12


@dataclass(frozen=True)
class Value:
    """A module variable or local: checkov's rendered value, and where its expression is written."""

    rendered: Any  # wrapped in a one-element list; [] when checkov could not evaluate it (a real [] is [[]])
    file_path: str = ""  # the module call that sets the variable, or the locals block
    block: tuple[str, str] = ("", "")  # ("module", call name) or ("locals", "")
    scope: str = ""  # the module the written expression is evaluated in (the caller, for a variable)


@dataclass
class GraphFacts:
    """What one checkov graph knows beyond resource configurations, indexed once."""

    graph: Any  # kept so the configuration objects (keys of the indexes below) stay alive
    dynamic: dict[int, Any] = field(default_factory=dict)  # id(resource config) -> the vertex's `dynamic`
    scope: dict[int, tuple[str, str]] = field(default_factory=dict)  # id(resource config) -> (root, module)
    lost_for_each: dict[int, set[str]] = field(default_factory=dict)  # id(config) -> for_each labels not rendered
    values: dict[tuple[str, str, str, str], Value] = field(default_factory=dict)  # (root, module, var|local, name)
    module_inputs: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)


_observed: dict[int, GraphFacts] = {}  # id(graph) -> facts
_by_conf: dict[int, GraphFacts] = {}  # id(resource config) -> facts of its graph


def observe(graph: Any) -> None:
    """Index a checkov graph (once) so the resources scanned from it can be expanded."""
    if graph is None:
        return
    known = _observed.get(id(graph))
    if known is not None and known.graph is graph:
        return
    if len(_observed) > 32:  # several roots per scan; drop the graphs of finished scans
        _observed.clear()
        _by_conf.clear()
    facts = _index(graph)
    _observed[id(graph)] = facts
    for conf_id in facts.scope:
        _by_conf[conf_id] = facts


def facts_for(resource: Resource) -> GraphFacts | None:
    return _by_conf.get(id(resource.config))


def _single_config(attributes: dict[str, Any]) -> tuple[str, Any]:
    config = attributes.get("config_")
    if isinstance(config, dict):
        for key, value in config.items():
            if not key.startswith("__"):
                return key, value
    return "", None


def _index(graph: Any) -> GraphFacts:
    facts = GraphFacts(graph)
    vertices = dict(graph_vertices(graph))
    out_edges: dict[int, list[tuple[int, str]]] = {}
    for source, target, label in graph_edges(graph):
        out_edges.setdefault(source, []).append((target, label))
    resource_conf: dict[int, dict[str, Any]] = {}
    calls: dict[tuple[str, str], tuple[int, str, str, str]] = {}  # (root, instance) -> (vertex, file, call, caller)
    for index, attributes in vertices.items():
        if attributes.get("block_type_") == "module":
            tf_module = attributes.get("source_module_object_")
            caller, call = module_address_of(tf_module), attributes.get("block_name_", "")
            address = f"{caller}.module.{call}" if caller else f"module.{call}"
            calls[(root_dir_of(tf_module, attributes.get("file_path_", "")), address)] = (
                index, attributes.get("file_path_", ""), strip_instance_key(call), caller)

    for index, attributes in vertices.items():
        kind = attributes.get("block_type_")
        tf_module = attributes.get("source_module_object_")
        root, module = root_dir_of(tf_module, attributes.get("file_path_", "")), module_address_of(tf_module)
        name, config = _single_config(attributes)
        if kind == "resource" and isinstance(config, dict):
            conf = next(iter(config.values()), None)
            if isinstance(conf, dict):
                resource_conf[index] = conf
                facts.scope[id(conf)] = (root, module)
                if "dynamic" in attributes:
                    facts.dynamic[id(conf)] = attributes["dynamic"]
        elif kind == "variable" and isinstance(config, dict):
            _, file_path, call, caller = calls.get((root, module), (0, "", "", ""))
            facts.values[(root, module, "var", name)] = Value(config.get("default", [None]), file_path,
                                                              ("module", call), caller)
        elif kind == "locals":
            facts.values[(root, module, "local", name)] = Value(config, attributes.get("file_path_", ""),
                                                                ("locals", ""), module)

    def lost(vertex: int) -> bool:
        attributes = vertices.get(vertex, {})
        _, config = _single_config(attributes)
        value = config.get("default") if attributes.get("block_type_") == "variable" and config else config
        return value == []  # checkov's empty wrapper: it could not evaluate the value (a real [] is [[]])

    def resolve(vertex: int, depth: int, seen: set[int]) -> list[dict[str, Any]]:
        """Resource configurations a module input, output or local ends up referring to."""
        if vertex in seen or depth > _MAX_DEPTH:
            return []
        seen.add(vertex)
        if vertex in resource_conf:
            return [resource_conf[vertex]]
        if vertices.get(vertex, {}).get("block_type_") not in _PASS_THROUGH:
            return []
        return [conf for target, _ in out_edges.get(vertex, ()) for conf in resolve(target, depth + 1, seen)]

    for index, conf in resource_conf.items():
        labels = {label for target, label in out_edges.get(index, ())
                  if label.endswith("for_each") and lost(target)}
        if labels:
            facts.lost_for_each[id(conf)] = labels
    for key, (index, *_) in calls.items():
        facts.module_inputs[key] = [(label, conf) for target, label in out_edges.get(index, ())
                                    for conf in resolve(target, 1, {index})]
    return facts


# --- expansion ------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _resource_blocks(file_path: str) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in (parsed(file_path) or {}).get("resource", []):
        for resource_type, by_name in (entry.items() if isinstance(entry, dict) else ()):
            for name, block in (by_name.items() if isinstance(by_name, dict) else ()):
                if isinstance(block, dict):
                    found.setdefault((resource_type, name), block)
    return found


def _written(resource: Resource) -> dict[str, Any] | None:
    """The resource block as written (python-hcl2: expressions kept as "${...}" text, values in lists)."""
    if not resource.file_path:
        return None
    return _resource_blocks(resource.file_path).get((resource.type, strip_instance_key(resource.name)))


_ABSENT = object()


def _expression(value: Value, name: str) -> Any:
    """The expression a module call passes for a variable, or a local's expression, as written."""
    kind, label = value.block
    document = parsed(value.file_path) if value.file_path and kind else None
    for entry in (document or {}).get(kind, []):
        block = entry.get(label) if kind == "module" and isinstance(entry, dict) else entry
        if isinstance(block, dict) and name in block:
            return _one(block[name])
    return _ABSENT


def _lookup(facts: GraphFacts | None, root: str, module: str, depth: int = 0) -> Lookup:
    """var.* and local.* of a module instance: its written expression evaluated in the caller's scope (checkov
    mis-renders for expressions and indexing into module arguments), else checkov's rendered value."""
    def lookup(namespace: str, name: str) -> Any:
        value = facts.values.get((root, module, namespace, name)) if facts else None
        if value is None:
            raise NotEvaluable(f"{namespace}.{name} is not known in {module or 'the root module'}")
        written = _expression(value, name) if depth < 8 else _ABSENT
        if written is not _ABSENT:
            try:
                return evaluate_value(written, {}, _lookup(facts, root, value.scope, depth + 1))
            except NotEvaluable:
                if value.rendered == []:
                    raise
        if value.rendered == []:
            raise NotEvaluable(f"checkov could not evaluate {namespace}.{name}")
        rendered = _one(value.rendered)
        if isinstance(rendered, str) and is_unrendered(rendered) and depth < 8:  # an expression left as text
            inner = _lookup(facts, root, module, depth + 1)
            return evaluate_value(rendered, {}, inner) if "${" in rendered else evaluate(rendered, {}, inner)
        return rendered
    return lookup


def _as_blocks(value: Any) -> list[Block]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _specs(dynamic: Any, name: str) -> list[dict[str, Any]]:
    """The dynamic blocks called `name` in a `dynamic` attribute (a dict, or a list of one-key dicts)."""
    entries = dynamic if isinstance(dynamic, list) else [dynamic]
    return [entry[name] for entry in entries if isinstance(entry, dict) and isinstance(entry.get(name), dict)]


def _has_dynamic(value: Any) -> bool:
    if isinstance(value, dict):
        return "dynamic" in value or any(_has_dynamic(item) for item in value.values())
    return isinstance(value, list) and any(_has_dynamic(item) for item in value)


def _names(dynamic: Any) -> list[str]:
    entries = dynamic if isinstance(dynamic, list) else [dynamic]
    return list(dict.fromkeys(key for entry in entries if isinstance(entry, dict) for key in entry))


class _Expander:
    """Rebuilds written blocks: evaluates each "${...}" with the iterators bound and variables in scope."""

    def __init__(self, lookup: Lookup, where: str):
        self.lookup = lookup
        self.where = where

    def expand(self, name: str, spec: dict[str, Any], bindings: dict[str, Any], rendered: Any = None
               ) -> list[Block] | Unknown:
        iterator = str(_one(spec.get("iterator")) or name).removeprefix("${").removesuffix("}")
        written = _one(spec.get("for_each"))
        try:  # the written expression, else checkov's rendering (it knows each.value and more functions)
            try:
                for_each = evaluate_value(written, bindings, self.lookup)
            except NotEvaluable:
                if not isinstance(rendered, list | dict):
                    raise
                for_each = rendered
            if not isinstance(for_each, list | dict):
                raise NotEvaluable(f"it is {for_each!r}, not a list, set or map")
            items = pairs(for_each)
        except NotEvaluable as error:
            return Unknown(f'the for_each of dynamic "{name}" in {self.where} ({written}) could not be evaluated '
                           f"({error}); give it a value that can be evaluated (a literal, a variable default or a "
                           "tfvars value) or scan the plan")
        found = []
        for key, value in items:
            if isinstance(value, list) and len(value) == 1 and isinstance(rendered, list):
                value = value[0]  # checkov sometimes wraps each item: [["us-east-1"], ["us-west-2"]]
            for content in _as_blocks(spec.get("content")):
                block = self.block(content, {**bindings, iterator: {"key": key, "value": value}})
                if isinstance(block, Unknown):
                    return block
                found.append(block)
        return found

    def block(self, written: dict[str, Any], bindings: dict[str, Any]) -> Block | Unknown:
        block: Block = {}
        for key, value in written.items():
            if key.startswith("__") or key == "dynamic":
                continue
            value = _one(value)
            if isinstance(value, dict) or (isinstance(written[key], list) and written[key]
                                           and all(isinstance(v, dict) for v in written[key])):
                nested = [self.block(item, bindings) for item in _as_blocks(written[key])]
                unknown = next((n for n in nested if isinstance(n, Unknown)), None)
                if unknown:
                    return unknown
                block[key] = nested
            elif isinstance(value, str) and "${" in value:
                try:
                    result = evaluate_value(value, bindings, self.lookup)
                    block[key] = [result.text if isinstance(result, Reference) else result]
                except NotEvaluable:
                    block[key] = [value]  # left as written: callers see an unrendered value
            else:
                block[key] = [value]
        for nested_name in _names(written.get("dynamic")):
            for spec in _specs(written["dynamic"], nested_name):
                expanded = self.expand(nested_name, spec, bindings)
                if isinstance(expanded, Unknown):
                    return expanded
                block[nested_name] = [*_as_blocks(block.get(nested_name)), *expanded]
        return block


def blocks(resource: Resource, name: str, required: bool = False) -> tuple[list[Block], list[Unknown]]:
    """The instances of the top-level block `name` (`replica`, `rule`): those written as blocks and one per item of
    each dynamic block's for_each, nested dynamic blocks expanded inside them; and what could not be expanded.
    A resource without a dynamic `name` block keeps checkov's rendering of its configuration.

    A plan shows a block it cannot know yet as text ("unknown until apply"). For a block the resource requires
    (a backup plan's `rule`) that hides the copies; an optional one is also shown so when it is merely computed
    by the provider (a bucket's legacy `replication_configuration`), so it is read as absent."""
    if resource.evaluated:  # model/hcl expanded the dynamic blocks already
        unknown = (resource.config.get("__unknown_blocks__") or {}).get(name)
        return _as_blocks(resource.config.get(name)), [Unknown(
            f"{unknown} in {resource.address}; give it a value that can be evaluated (a literal, a variable "
            "default or a tfvars value) or scan the plan")] if unknown else []
    value = resource.config.get(name)
    # Checkov keeps a `dynamic` key wherever one was written: without one, its rendering stands (and no file is
    # parsed again).
    written = _written(resource) if "dynamic" in resource.config or _has_dynamic(value) else None
    specs = _specs(written.get("dynamic"), name) if written else []
    if not specs and not (written and _has_dynamic(written.get(name))):
        if any(isinstance(item, str) for item in (value if isinstance(value, list) else [value])):
            if not required:
                return [], []
            return [], [Unknown(f"the {name} blocks of {resource.address} are {_one(value)!r}, which could not be "
                                "evaluated")]
        return _as_blocks(value), []
    facts = facts_for(resource)
    lost = facts.lost_for_each.get(id(resource.config), set()) if facts else set()
    # A for_each fed by a value checkov lost renders as an empty list: evaluate what is written instead.
    trust_graph = not any(re.match(rf"dynamic\.(\d+\.)?{re.escape(name)}\.for_each$", label) for label in lost)
    lookup = _lookup(facts, resource.root_dir, resource.module)
    expander = _Expander(lookup, resource.address)
    bindings = _instance_bindings(resource, written, lookup)
    found: list[Block] = []
    for block in _as_blocks(written.get(name)):
        built = expander.block(block, bindings)
        if not isinstance(built, Unknown):
            found.append(built)
    rendered = _specs(facts.dynamic.get(id(resource.config)), name) if facts else []
    unknown: list[Unknown] = []
    for index, spec in enumerate(specs):
        graph_value = rendered[index].get("for_each") if trust_graph and len(rendered) == len(specs) else None
        expanded = expander.expand(name, spec, bindings, graph_value)
        if isinstance(expanded, Unknown):
            unknown.append(expanded)
        else:
            found.extend(expanded)
    return found, unknown


def _instance_bindings(resource: Resource, written: dict[str, Any], lookup: Lookup) -> dict[str, Any]:
    """`each` or `count` of a resource instance (aws_x.y["a"], aws_x.y[0]), for expressions that use them."""
    key = re.search(r'\[("?)([^\]]*)\1\]$', resource.address)
    if not key:
        return {}
    if "count" in written:
        return {"count": {"index": int(key.group(2))}} if key.group(2).isdigit() else {}
    try:
        collection = evaluate_value(_one(written.get("for_each")), {}, lookup)
        value = dict(pairs(collection))[int(key.group(2)) if not key.group(1) else key.group(2)]
    except (NotEvaluable, KeyError, ValueError):
        return {}
    return {"each": {"key": key.group(2), "value": value}}


def instantiated(resource: Resource) -> bool:
    """False when the written `count` evaluates to 0 or `for_each` to an empty collection: checkov creates the
    resource anyway (`count = var.create ? 1 : 0` in a module called with create = false)."""
    if resource.evaluated:
        return True  # model/hcl makes only the instances that exist
    written = _written(resource)
    lookup = _lookup(facts_for(resource), resource.root_dir, resource.module)
    for meta in ("count", "for_each"):
        if not written or meta not in written:
            continue
        try:
            value = evaluate_value(_one(written[meta]), {}, lookup)
        except NotEvaluable:
            continue
        if (meta == "count" and value in (0, False)) or (meta == "for_each" and value in ([], {})):
            return False
    return True


def value_of(resource: Resource, key: str) -> Any:
    """An attribute's value; one checkov left as an expression (`var.source_arn` whose default is null, an index
    into a module argument) is evaluated in the resource's module scope. A reference stays as its text."""
    value = resource.get(key)
    if resource.evaluated or not (isinstance(value, str) and is_unrendered(value)):
        return value
    lookup = _lookup(facts_for(resource), resource.root_dir, resource.module)
    try:
        result = evaluate_value(value, {}, lookup) if "${" in value else evaluate(value, {}, lookup)
    except NotEvaluable:
        return value
    return result.text if isinstance(result, Reference) else result


def sub_blocks(block: Block, name: str) -> list[Block]:
    return _as_blocks(block.get(name))


def input_references(infra: Infrastructure, resource: Resource) -> list[tuple[str, Resource]]:
    """(input path, resource) for every resource the arguments of the module call creating `resource` refer
    to: where a value passed into a module (a destination bucket ARN inside a map) points."""
    if resource.evaluated:
        return []  # model/hcl keeps the reference inside the evaluated value and as an edge of the resource
    facts = facts_for(resource)
    if facts is None and resource.module:  # a plan: its configuration records the module call's arguments
        from data_handling.model.plan_source import module_input_references

        return module_input_references(resource)
    if facts is None or not resource.module:
        return []
    found = []
    for label, conf in facts.module_inputs.get((resource.root_dir, resource.module), []):
        target = infra.resource_for(conf)
        if target is not None:
            found.append((label, target))
    return found
