"""Evaluate a root module's configuration as `terraform plan` would before apply.

Checkov renders values with its own graph, which gives up (or guesses) on much of what module authors write:
a null argument (`region = var.region` with a null default) is not "omitted", `count = var.a && var.b ? 1 : 0`
is rendered as 1, a `for_each` resource's `[each.key]` reference is bound to another instance, functions such
as coalesce() and format() stay text. This module walks the module tree itself, from the written HCL
(model/hcl/files.py), and evaluates with Terraform's rules:

- root variables by Terraform's precedence (model/hcl/inputs.py), module inputs from the calling block in the
  caller's scope; null means omitted (a null input takes the default only when `nullable = false`); type
  constraints convert values and fill `optional()` attributes;
- `count` and `for_each` of modules and resources make instances; one that evaluates to 0 or empty makes none;
  `each.key`, `each.value`, `count.index` are bound per instance; `dynamic` blocks are expanded;
- locals, module outputs, `path.*`, `terraform.workspace`, data sources that Terraform reads at plan time and
  whose answer the configuration decides (`aws_region`, `aws_partition`, `aws_caller_identity` with one allowed
  account);
- a resource attribute that is set in the configuration evaluates to that value; one computed by the provider
  is a `Reference` (known after apply) that remembers which instance it belongs to.

Whatever cannot be known before apply stays unknown with the reason; nothing is guessed.
"""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.expressions import (
    Budget,
    EvaluationError,
    EvaluationLimit,
    Lazy,
    LazyCollection,
    NotEvaluable,
    Reference,
    TerraformSet,
    UnknownValue,
    _check_text,
    _Evaluator,
    _Parser,
    budget,
    evaluate_value,
    pairs,
)
from data_handling.model.hcl.files import ModuleFiles, WrittenBlock, load_module
from data_handling.model.hcl.inputs import ScanInputs, VariableSource, root_values
from data_handling.model.hcl.policy_document import NotRendered, Rendering, parse_merged, render
from data_handling.model.provider_version import AWS_SOURCES, AwsProviderVersions, parse_version
from data_handling.model.raw_hcl import parsed
from data_handling.model.values import ReferenceText, Unevaluated

_RESOURCE_META = {"count", "for_each", "depends_on", "lifecycle", "provisioner", "connection"}
_MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}
_MAX_DEPTH = 64  # nested evaluations (a local reading a local...): deeper is a cycle
# Bounds on one root's evaluation: the scanned code is untrusted (`count = 100000000`, a module that calls itself
# twice per level). Beyond them the root is not evaluated at all, so every check on it fails naming the reason.
MAX_INSTANCES = 10_000  # instances of one resource, data or module block
MAX_TREE_INSTANCES = 100_000  # resource, data and module instances of one root module tree
MAX_MODULE_DEPTH = 32  # module calls nested in module calls
MAX_TREE_STEPS = 2_000_000  # evaluation steps of all the root's expressions together (the largest fixture: 700)
MAX_TREE_TEXT = 50_000_000  # characters of text all of them produce


class TooLarge(Exception):
    """The root module tree exceeds a bound: it is not evaluated, and the scan is untrusted."""


def _written_key(block: WrittenBlock) -> tuple[str, str, str]:
    return absolute_path(block.file_path), block.labels[0], block.labels[-1]


def _looked_up_as_written(block: WrittenBlock) -> bool:
    """Only checkov's terraform_json runner (no graph) finds a resource by its block as written, so only the
    blocks of .tf.json files are indexed that way; the rest are found through the graph's configurations."""
    return block.kind == "resource" and block.file_path.endswith(".tf.json")


def absolute_path(file_path: str) -> str:
    """The file's absolute path, one string per file however many records name it (thousands per file)."""
    return sys.intern(os.path.abspath(file_path))


@dataclass(slots=True)
class ResourceInstance:
    """One instance of a resource or data block (`aws_s3_bucket.b["x"]`), evaluated."""

    module: ModuleInstance
    block: WrittenBlock
    key: Any  # None without count/for_each, an int for count, a string for for_each
    expanded: bool  # False when count/for_each could not be evaluated: one instance stands for all
    address: str
    config: dict[str, Any] | None = None  # checkov's shape: attribute values in one-element lists
    references: list[tuple[str, str]] = field(default_factory=list)  # (attribute path, target address)

    @property
    def mode(self) -> str:
        return self.block.kind

    @property
    def type(self) -> str:
        return self.block.labels[0]

    @property
    def name(self) -> str:
        return self.block.labels[1]

    @property
    def bindings(self) -> dict[str, Any]:
        if self.key is None or not self.expanded:
            return {}
        if isinstance(self.key, int):
            return {"count": {"index": self.key}}
        return {"each": {"key": self.key, "value": self.each_value}}

    each_value: Any = None


@dataclass
class ModuleCallInfo:
    """A module block instance, as the records need it."""

    parent: str
    address: str
    providers: dict[str, str]
    file_path: str
    line: int


@dataclass
class ProviderInfo:
    module: str
    local_name: str  # aws or aws.alias
    config: dict[str, Any]
    file_path: str
    line: int


class Tree:
    """The evaluated module tree of one root module."""

    def __init__(self, root_dir: str, root_files: tuple[str, ...] | None, inputs: ScanInputs):
        self.root_dir = root_dir
        self.inputs = inputs
        self.problems: list[str] = []  # what makes the evaluation incomplete (a module not downloaded...)
        self.missing_modules: list[str] = []
        self.installed_calls: set[str] = set()  # module call keys read from .terraform/modules
        self.instances: dict[str, ResourceInstance] = {}  # address -> instance (resources and data sources)
        self.blocks: dict[str, list[ResourceInstance]] = {}  # address without instance keys -> instances
        # (file, type, name) of a .tf.json resource block as written -> its instances in every module instance
        self.written: dict[tuple[str, str, str], list[ResourceInstance]] = {}
        self.modules: dict[str, ModuleInstance] = {}
        self.calls: list[ModuleCallInfo] = []
        self.providers: list[ProviderInfo] = []
        self.depth = 0
        self.recorders: list[list[str]] = []
        self._installed = _installed_modules(root_dir)
        self.budget = Budget(MAX_TREE_STEPS, MAX_TREE_TEXT)
        self.instance_count = 0
        self.documents: dict[tuple[str, str], Any] = {}  # (policy document address, json|minified_json) -> text
        self._rendering: set[tuple[str, str]] = set()
        with budget(self.budget):
            values, problems = root_values(root_dir, inputs, _read_variables_file)
            self.root_values = values
            self.problems += problems
            root = ModuleInstance(self, "", load_module(root_dir, root_files), None, None, {}, ())
            self._expand(root)
            for instance in self.instances.values():
                self._evaluate_instance(instance)
                self._within_budget()
        self._within_budget()

    def _within_budget(self) -> None:
        if self.budget.exhausted is not None:
            raise TooLarge(f"the configuration is too large to evaluate ({self.budget.exhausted})")

    def count_instances(self, what: str, number: int) -> None:
        """Called before `number` instances of a block are made: a bound on each block and on the whole tree."""
        if number > MAX_INSTANCES:
            raise TooLarge(f"{what} makes {number:,} instances, more than the {MAX_INSTANCES:,} evaluated")
        self.instance_count += max(number, 0)
        if self.instance_count > MAX_TREE_INSTANCES:
            raise TooLarge(f"the configuration makes more than {MAX_TREE_INSTANCES:,} resource and module "
                           "instances (a module that calls itself?)")

    # --- building the tree ------------------------------------------------------------------------------

    def _expand(self, module: ModuleInstance) -> None:
        if len(module.call_path) > MAX_MODULE_DEPTH:
            raise TooLarge(f"module calls nest more than {MAX_MODULE_DEPTH} deep, down to module "
                           f"{module.call_path[-1]} in {module.files.directory} (a module that calls itself?)")
        self._within_budget()
        self.modules[module.address] = module
        for block in module.files.providers:
            alias = module.attribute_value(block.body, "alias", {})
            local_name = f"{block.labels[0]}.{alias}" if isinstance(alias, str) and alias else block.labels[0]
            self.providers.append(ProviderInfo(module.address, local_name,
                                               module.evaluate_body(block.body, {}, "", skip={"alias"}),
                                               block.file_path, block.line))
        for block in module.files.resources:
            written = self.written.setdefault(_written_key(block), []) if _looked_up_as_written(block) else []
            for instance in module.resource_instances(block):
                self.instances[instance.address] = instance
                self.blocks.setdefault(strip_keys(instance.address), []).append(instance)
                written.append(instance)
            if not module.resource_instances(block):
                self.blocks.setdefault(strip_keys(module.resource_address(block, None)), [])
        for name, block in module.files.modules.items():
            for child in module.child_instances(name, block):
                passed = block.body.get("providers")
                providers = _providers_map(passed[0] if isinstance(passed, list) and passed else passed)
                self.calls.append(ModuleCallInfo(module.address, child.address, providers, block.file_path,
                                                 block.line))
                self._expand(child)

    def register_absent(self, module_address: str, files: ModuleFiles, call_path: tuple[str, ...],
                        depth: int = 0) -> None:
        """The blocks of a module call that makes no instance, so checkov's copies of them map to none."""
        if depth > 16:
            return
        for block in files.resources:
            local = ".".join(block.labels) if block.kind == "resource" else "data." + ".".join(block.labels)
            self.blocks.setdefault(f"{module_address}.{local}", [])
            if _looked_up_as_written(block):
                self.written.setdefault(_written_key(block), [])
        for name, block in files.modules.items():
            source = _one(block.body.get("source"))
            if not isinstance(source, str):
                continue
            directory = (os.path.normpath(os.path.join(files.directory, source)) if source.startswith(".")
                         else self._installed.get(".".join([*call_path, name])))
            if directory and os.path.isdir(directory):
                self.register_absent(f"{module_address}.module.{name}", load_module(directory),
                                     (*call_path, name), depth + 1)

    def module_directory(self, module: ModuleInstance, name: str, source: str) -> str | None:
        if source.startswith(("./", "../")) or source in (".", ".."):
            return os.path.normpath(os.path.join(module.files.directory, source))
        key = ".".join([*module.call_path, name])
        installed = self._installed.get(key)
        if installed and os.path.isdir(installed):
            self.installed_calls.add(key)
            return installed
        return None

    # --- evaluating resources -----------------------------------------------------------------------------

    def _evaluate_instance(self, instance: ResourceInstance) -> None:
        module = instance.module
        body = instance.block.body
        references: list[tuple[str, str]] = []
        instance.config = module.evaluate_body(body, instance.bindings, "", references=references,
                                               skip=_RESOURCE_META)
        instance.references = list(dict.fromkeys(references))

    # --- the AWS provider's version -------------------------------------------------------------------------

    def aws_versions(self) -> AwsProviderVersions:
        """The lock file's hashicorp/aws version, else the constraints of the root and every module it calls."""
        lock_file = os.path.join(self.root_dir, ".terraform.lock.hcl")
        document = parsed(lock_file) if os.path.isfile(lock_file) else None
        for entry in (document or {}).get("provider", []):
            for source, body in (entry.items() if isinstance(entry, dict) else ()):
                version = _one(body.get("version")) if isinstance(body, dict) else None
                if source.lower() in AWS_SOURCES and isinstance(version, str) and parse_version(version):
                    return AwsProviderVersions(locked=parse_version(version), locked_in=lock_file)
        constraints: dict[tuple[str, str], None] = {}
        for module in {id(m.files): m for m in self.modules.values()}.values():
            for constraint, where in module.files.aws_version_constraints:
                shown = where if not module.address else f"{where} of {strip_keys(module.address)}"
                constraints[(constraint, shown)] = None
        return AwsProviderVersions(constraints=tuple(constraints))

    # --- aws_iam_policy_document ---------------------------------------------------------------------------

    def policy_document(self, instance: ResourceInstance, name: str) -> Any:
        """The `json` or `minified_json` of an aws_iam_policy_document instance, rendered once."""
        key = (instance.address, name)
        if key in self.documents:
            return self.documents[key]
        if key in self._rendering:
            raise EvaluationError(f"{instance.address} merges itself (a cycle of policy documents)")
        self._rendering.add(key)
        self.recorders.append([])  # what the document reads is its own reference, not the reader's
        try:
            value = self._render_document(instance, name)
        except EvaluationLimit as error:
            # Too large (documents merging each other, doubling): unknown, and not rendered again per reader
            value = UnknownValue(f"{instance.address}.{name}", instance.address, reason=str(error))
        finally:
            self.recorders.pop()
            self._rendering.discard(key)
        self.documents[key] = value
        return value

    def _render_document(self, instance: ResourceInstance, name: str) -> Any:
        module, body, read_as = instance.module, instance.block.body, f"{instance.address}.{name}"
        rendering = Rendering()

        def merged(attribute: str) -> list[dict[str, Any]]:
            if attribute not in body:
                return []
            try:
                value = module.evaluate(body[attribute], instance.bindings)
            except NotEvaluable as error:
                raise NotRendered(f"{attribute} could not be evaluated: {error}") from None
            value = value.as_value() if isinstance(value, _Instances) else value
            if value is None:
                return []
            if isinstance(value, Reference) or not isinstance(value, list | tuple):
                raise NotRendered(f"{attribute} is not a list known before apply")
            statements: list[dict[str, Any]] = []
            for number, item in enumerate(value, start=1):
                if isinstance(item, UnknownValue) and item.template:
                    rendering.unknown.append(item.reason or f"{attribute}[{number}] could not be evaluated")
                elif isinstance(item, Reference) and item.template:
                    rendering.references.append(item.text)
                elif isinstance(item, Reference) or not isinstance(item, str | type(None)):
                    raise NotRendered(f"{attribute}[{number}] is not a JSON document known before apply")
                text = item.text if isinstance(item, Reference) else item
                if text:
                    statements += parse_merged(text, f"{attribute}[{number}] of {instance.address}")
            return statements

        try:
            merged_attributes = {"source_policy_documents", "override_policy_documents"}
            config = module.evaluate_body(body, instance.bindings, "", skip=_RESOURCE_META | merged_attributes)
            text = render(config, merged, name == "minified_json", rendering)
        except NotRendered:
            return Reference(read_as, instance.address)  # known after apply: the rules read the data source itself
        _check_text(len(text))
        self.budget.charge(text=len(text))  # the tree's bound on text: documents may merge documents
        if rendering.unknown:
            return _DocumentUnknown(text, None, template=True, reason="; ".join(rendering.unknown),
                                    document=instance.address, read_as=read_as)
        if rendering.references:
            return _DocumentReference(text, None, template=True, document=instance.address, read_as=read_as)
        return _DocumentText(text, instance.address, read_as)

    def provider_of(self, module: ModuleInstance, reference: str) -> tuple[tuple[str, str] | None, tuple[str, ...]]:
        """The provider block a reference resolves to: through each enclosing call's `providers` map, or
        inherited (default configurations only) from the parent module. Only the data sources that answer from
        their provider need it while the tree is evaluated; the records resolve providers in
        Infrastructure.provider_of, with the reasons a finding gives."""
        trail: list[str] = []
        current: ModuleInstance | None = module
        while current is not None:
            if any(p.module == current.address and p.local_name == reference for p in self.providers):
                return (current.address, reference), tuple(trail)
            call = current.call
            if call is None:
                return None, tuple(trail)
            passed = _providers_map(_first(call.body.get("providers")))
            if reference in passed:
                trail.append(f"{current.address} providers {{ {reference} = {passed[reference]} }}")
                reference = passed[reference]
            elif passed or "." in reference:
                return None, tuple(trail)
            else:
                trail.append(f"{current.address} (inherited)")
            current = current.parent
        return None, tuple(trail)

    def provider_config(self, key: tuple[str, str] | None) -> dict[str, Any] | None:
        if key is None:
            return None
        for provider in self.providers:
            if (provider.module, provider.local_name) == key:
                return provider.config
        return None

    def record(self, target: str) -> None:
        if self.recorders:
            self.recorders[-1].append(target)


class ModuleInstance:
    """One instance of a module (the root, or `module.a["x"]`) and its scope."""

    def __init__(self, tree: Tree, address: str, files: ModuleFiles, parent: ModuleInstance | None,
                 call: WrittenBlock | None, call_bindings: dict[str, Any], call_path: tuple[str, ...]):
        self.tree = tree
        self.address = address
        self.files = files
        self.parent = parent
        self.call = call
        self.call_bindings = call_bindings
        self.call_path = call_path  # module call names from the root: the key in .terraform/modules/modules.json
        self._values: dict[tuple[str, str], tuple[Any, list[str]] | NotEvaluable] = {}
        self._in_progress: set[tuple[str, str]] = set()
        self._instances: dict[tuple[str, str, str], list[ResourceInstance]] = {}
        self._children: dict[str, Any] = {}
        self.types = {block.labels[0] for block in files.resources if block.kind == "resource"}
        self._written_blocks: dict[tuple[str, tuple[str, ...]], WrittenBlock] = {}
        for block in files.resources:  # the first of duplicate labels wins, as a linear search found it
            self._written_blocks.setdefault((block.kind, block.labels), block)
        if not files.files:
            tree.problems.append(f"{address or 'the root module'}: {files.directory} holds no Terraform files")
        for unreadable in files.unreadable:
            tree.problems.append(f"{unreadable} could not be parsed")

    # --- scope --------------------------------------------------------------------------------------------

    def scope(self, bindings: dict[str, Any]) -> dict[str, Any]:
        root = self.tree.root_dir
        scope: dict[str, Any] = {
            "path": {"module": self.files.directory, "root": root, "cwd": root},
            "terraform": {"workspace": self.tree.inputs.workspace_name},
            "module": _Modules(self),
            "data": _DataSources(self),
        }
        for resource_type in self.types:
            scope[resource_type] = _ResourceType(self, resource_type)
        scope.update(bindings)
        return scope

    def lookup(self, namespace: str, name: str) -> Any:
        return self._memoised((namespace, name), lambda: self.variable(name) if namespace == "var"
                              else self.local(name), f"{namespace}.{name}")

    def _memoised(self, key: tuple[str, str], compute: Any, what: str) -> Any:
        """A variable, local or output, evaluated once per module instance; the resources its evaluation touched
        are recorded again each time it is used, so every user of the value gets the edges."""
        cached = self._values.get(key)
        if cached is None:
            if key in self._in_progress or self.tree.depth > _MAX_DEPTH:
                raise NotEvaluable(f"{what} refers to itself")
            self._in_progress.add(key)
            self.tree.depth += 1
            self.tree.recorders.append([])
            try:
                cached = (compute(), self.tree.recorders[-1])
            except NotEvaluable as error:
                cached = error
            finally:
                self.tree.recorders.pop()
                self.tree.depth -= 1
                self._in_progress.discard(key)
            self._values[key] = cached
        if isinstance(cached, NotEvaluable):
            raise cached
        value, references = cached
        for target in references:
            self.tree.record(target)
        return value

    def evaluate(self, written: Any, bindings: dict[str, Any]) -> Any:
        """A value as python-hcl2 writes it, in this module's scope with the given iterators bound."""
        return evaluate_value(_one(written), self.scope(bindings), self.lookup)

    def attribute_value(self, body: dict[str, Any], name: str, bindings: dict[str, Any]) -> Any:
        try:
            return self.evaluate(body[name], bindings) if name in body else None
        except NotEvaluable:
            return None

    # --- variables and locals -----------------------------------------------------------------------------

    def variable(self, name: str) -> Any:
        declaration = self.files.variables.get(name)
        if declaration is None:
            raise EvaluationError(f"var.{name} is not declared in {self.address or 'the root module'}")
        body = declaration.body
        type_node = _type_of(body)
        has_default = "default" in body
        nullable = _one(body.get("nullable", [True])) not in (False, "false")
        where = self.address or "the root module"
        if self.parent is None:
            given = self.tree.root_values.get(name)
            if given is not None:
                value = _root_value(given, type_node)
            elif has_default:
                value = self._default(body)
            else:
                raise NotEvaluable(f"var.{name} of {where} has no default and no value was given (pass it with "
                                   "--var or a tfvars file, as the pipeline does)")
        else:
            assert self.call is not None
            if name in self.call.body:
                value = self.parent.evaluate(self.call.body[name], self.call_bindings)
                if value is None and not nullable and has_default:
                    value = self._default(body)
            elif has_default:
                value = self._default(body)
            else:
                raise NotEvaluable(f"var.{name} of {where} is required but not set by the module call")
        return convert(value, type_node)

    def _default(self, body: dict[str, Any]) -> Any:
        return evaluate_value(_one(body["default"]), {}, _no_lookup)

    def local(self, name: str) -> Any:
        if name not in self.files.locals:
            raise EvaluationError(f"local.{name} is not defined in {self.address or 'the root module'}")
        written, _ = self.files.locals[name]
        return self.evaluate(written, {})

    # --- module calls ---------------------------------------------------------------------------------------

    def child_instances(self, name: str, block: WrittenBlock) -> list[ModuleInstance]:
        if name in self._children:
            return self._children[name]
        source = _one(block.body.get("source"))
        directory = self.tree.module_directory(self, name, str(source)) if isinstance(source, str) else None
        call_address = f"{self.address}.module.{name}" if self.address else f"module.{name}"
        children: list[ModuleInstance] = []
        self._children[name] = children
        if directory is None or not os.path.isdir(directory):
            self.tree.missing_modules.append(f"{call_address} (source {source!r})")
            self.tree.problems.append(f"{call_address}: module source {source!r} is not available locally "
                                      "(run terraform init so .terraform/modules holds it)")
            return children
        files = load_module(directory)
        if not files.files:  # an empty directory is a module Terraform cannot load: a submodule not checked out?
            self.tree.missing_modules.append(f"{call_address} (source {source!r}: {directory} holds no .tf or "
                                             ".tf.json files; a git submodule not checked out?)")
        for key, bindings, expanded in self._expansion(block.body, f"module {call_address}"):
            address = call_address + (_key_text(key) if expanded and key is not None else "")
            children.append(ModuleInstance(self.tree, address, files, self, block, bindings,
                                           (*self.call_path, name)))
        if not children:  # count = 0 or an empty for_each: its resources exist in no instance
            self.tree.register_absent(strip_keys(call_address), files, (*self.call_path, name))
        return children

    def _expansion(self, body: dict[str, Any], what: str) -> list[tuple[Any, dict[str, Any], bool]]:
        """(key, bindings, expanded) for each instance count/for_each makes; one unexpanded instance when the
        meta-argument cannot be evaluated (its value is known only after apply)."""
        if "count" in body:
            try:
                count = self.evaluate(body["count"], {})
                if isinstance(count, bool) or not isinstance(count, int | float | str):
                    raise EvaluationError(f"count is {count!r}")
                number = int(float(count))
            except NotEvaluable:
                return [(None, {}, False)]
            except (ValueError, OverflowError):
                return [(None, {}, False)]
            self.tree.count_instances(what, number)
            return [(index, {"count": {"index": index}}, True) for index in range(max(number, 0))]
        if "for_each" in body:
            try:
                collection = self.evaluate(body["for_each"], {})
                if collection is None:
                    raise EvaluationError("for_each is null")
                items = pairs(collection)
                if isinstance(collection, list) and not isinstance(collection, TerraformSet):
                    items = [(value, value) for _, value in items]  # Terraform requires a set here
            except NotEvaluable:
                return [(None, {}, False)]
            self.tree.count_instances(what, len(items))
            return [(str(key), {"each": {"key": str(key), "value": value}}, True) for key, value in items]
        self.tree.count_instances(what, 1)
        return [(None, {}, True)]

    # --- resources ----------------------------------------------------------------------------------------

    def resource_address(self, block: WrittenBlock, key: Any) -> str:
        local = ".".join(block.labels) if block.kind == "resource" else "data." + ".".join(block.labels)
        address = f"{self.address}.{local}" if self.address else local
        return address + (_key_text(key) if key is not None else "")

    def resource_instances(self, block: WrittenBlock) -> list[ResourceInstance]:
        index = (block.kind, *block.labels)
        if index not in self._instances:
            found = []
            for key, bindings, expanded in self._expansion(block.body, self.resource_address(block, None)):
                instance = ResourceInstance(self, block, key, expanded,
                                            self.resource_address(block, key if expanded else None))
                if "each" in bindings:
                    instance.each_value = bindings["each"]["value"]
                found.append(instance)
            self._instances[index] = found  # type: ignore[index]
        return self._instances[index]  # type: ignore[index]

    def find_block(self, kind: str, resource_type: str, name: str) -> WrittenBlock | None:
        return self._written_blocks.get((kind, (resource_type, name)))

    # --- bodies -------------------------------------------------------------------------------------------

    def evaluate_body(self, body: dict[str, Any], bindings: dict[str, Any], path: str,
                      references: list[tuple[str, str]] | None = None, skip: set[str] | None = None
                      ) -> dict[str, Any]:
        """A block body evaluated into checkov's shape; null attributes are omitted, as Terraform omits them."""
        result: dict[str, Any] = {}
        unknown_blocks: dict[str, str] = {}
        first_reference = len(references) if references is not None else 0
        for key, written in body.items():
            if key.startswith("__"):
                result[key] = written
                continue
            if key in (skip or ()) or key == "dynamic":
                continue
            label = f"{path}.{key}" if path else key
            if key == "provider":
                result[key] = [_provider_text(written)]
                continue
            if _is_block(written):
                result[key] = [self.evaluate_body(item, bindings, f"{label}\0{index}", references)
                               for index, item in enumerate(written)]
                continue
            value = self._attribute(written, bindings, label, references)
            if value is not None:
                result[key] = [value]
        for name, spec in _dynamic_specs(body.get("dynamic")):
            label = f"{path}.{name}" if path else name
            expanded = self._dynamic(name, spec, bindings, label, len(result.get(name) or []), references)
            if isinstance(expanded, str):
                unknown_blocks[name] = expanded
            else:
                result[name] = [*(result.get(name) or []), *expanded]
        if unknown_blocks:
            result["__unknown_blocks__"] = unknown_blocks
        if references is not None:
            _number_block_labels(references, first_reference, path, result)
        return result

    def _attribute(self, written: Any, bindings: dict[str, Any], label: str,
                   references: list[tuple[str, str]] | None) -> Any:
        self.tree.recorders.append([])
        try:
            value = self.evaluate(written, bindings)
            value = _for_config(value, label, references)
        except NotEvaluable as error:
            value = Unevaluated(_expression_text(written), str(error))
        finally:
            touched = self.tree.recorders.pop()
        if references is not None:
            references.extend((label, target) for target in touched)
        return value

    def _dynamic(self, name: str, spec: dict[str, Any], bindings: dict[str, Any], label: str, offset: int,
                 references: list[tuple[str, str]] | None) -> list[dict[str, Any]] | str:
        iterator = str(_one(spec.get("iterator")) or name).removeprefix("${").removesuffix("}")
        try:
            self.tree.recorders.append([])
            try:
                collection = self.evaluate(spec.get("for_each"), bindings)
            finally:
                touched = self.tree.recorders.pop()
            if references is not None:
                references.extend((label, target) for target in touched)
            items = pairs(collection) if collection is not None else []
        except NotEvaluable as error:
            return (f'the for_each of dynamic "{name}" ({_expression_text(spec.get("for_each"))}) could not be '
                    f"evaluated: {error}")
        blocks: list[dict[str, Any]] = []
        for key, value in items:
            for content in spec.get("content") or []:
                if isinstance(content, dict):
                    blocks.append(self.evaluate_body(content, {**bindings, iterator: {"key": key, "value": value}},
                                                     f"{label}\0{offset + len(blocks)}", references))
        return blocks

    # --- module outputs -------------------------------------------------------------------------------------

    def output(self, name: str) -> Any:
        block = self.files.outputs.get(name)
        if block is None:
            raise EvaluationError(f"{self.address} has no output {name!r}")
        return self._memoised(("output", name), lambda: self.evaluate(block.body.get("value"), {}),
                              f"output {name} of {self.address}")


# --- lazy values in a scope -----------------------------------------------------------------------------


class _Modules(Lazy):
    def __init__(self, module: ModuleInstance):
        self.module = module

    def attribute(self, name: str) -> Any:
        block = self.module.files.modules.get(name)
        if block is None:
            raise EvaluationError(f"no module call {name!r} in {self.module.address or 'the root module'}")
        children = self.module.child_instances(name, block)
        if not children and self.module.tree.missing_modules and any(
                m.startswith(f"{self.module.address}.module.{name} " if self.module.address else f"module.{name} ")
                for m in self.module.tree.missing_modules):
            raise NotEvaluable(f"module.{name} is not available locally (run terraform init)")
        if "count" in block.body or "for_each" in block.body:
            if len(children) == 1 and children[0].address.endswith(f"module.{name}"):
                raise NotEvaluable(f"the instances of module.{name} are known only after apply")
            return _Instances({_instance_key(child.address): _ModuleOutputs(child) for child in children},
                              "count" in block.body)
        return _ModuleOutputs(children[0]) if children else None


class _ModuleOutputs(Lazy):
    def __init__(self, module: ModuleInstance):
        self.module = module

    def attribute(self, name: str) -> Any:
        return self.module.output(name)


class _Instances(LazyCollection):
    """The instances of a block with count (a list) or for_each (a map)."""

    def __init__(self, by_key: dict[Any, Any], is_list: bool):
        self.by_key = by_key
        self.is_list = is_list

    def index(self, key: Any) -> Any:
        lookup = int(key) if self.is_list and not isinstance(key, bool) and str(key).isdigit() else str(key)
        if lookup not in self.by_key:
            raise EvaluationError(f"no instance with key {key!r}")
        return self.by_key[lookup]

    def elements(self) -> list[Any]:
        return [self.by_key[key] for key in sorted(self.by_key, key=lambda k: (str(type(k)), k))]

    def as_value(self) -> Any:
        return self.elements() if self.is_list else dict(self.by_key)


class _ResourceType(Lazy):
    def __init__(self, module: ModuleInstance, resource_type: str, kind: str = "resource"):
        self.module = module
        self.resource_type = resource_type
        self.kind = kind

    def attribute(self, name: str) -> Any:
        block = self.module.find_block(self.kind, self.resource_type, name)
        if block is None:
            what = "resource" if self.kind == "resource" else "data source"
            raise EvaluationError(f"no {what} {self.resource_type}.{name} in {self.module.address or 'the root'}")
        instances = self.module.resource_instances(block)
        if "count" in block.body or "for_each" in block.body:
            if len(instances) == 1 and not instances[0].expanded:
                raise NotEvaluable(f"the instances of {instances[0].address} are known only after apply")
            return _Instances({instance.key: _ResourceValue(instance) for instance in instances},
                              "count" in block.body)
        return _ResourceValue(instances[0])


class _DataSources(Lazy):
    def __init__(self, module: ModuleInstance):
        self.module = module

    def attribute(self, name: str) -> Any:
        return _ResourceType(self.module, name, "data")


class _ResourceValue(Lazy):
    """A resource instance in an expression: its configured arguments are known, the rest only after apply."""

    def __init__(self, instance: ResourceInstance):
        self.instance = instance

    def attribute(self, name: str) -> Any:
        instance = self.instance
        tree = instance.module.tree
        tree.record(instance.address)
        if instance.mode == "data" and instance.type == "aws_iam_policy_document" and name in ("json", "minified_json"):
            return tree.policy_document(instance, name)
        special = _data_source_answer(instance, name)
        if special is not None:
            return special
        body = instance.block.body
        if name in body and name not in _RESOURCE_META and not _is_block(body[name]):
            try:
                return instance.module.evaluate(body[name], instance.bindings)
            except NotEvaluable:
                pass
        return Reference(f"{instance.address}.{name}", instance.address)


def _data_source_answer(instance: ResourceInstance, name: str) -> Any:
    """What Terraform reads at plan time for the data sources whose answer the configuration decides."""
    if instance.mode != "data":
        return None
    if instance.type == "aws_partition" and name == "partition":
        return "aws"
    if instance.type == "aws_partition" and name == "dns_suffix":
        return "amazonaws.com"
    if instance.type not in ("aws_region", "aws_caller_identity"):
        return None
    module = instance.module
    key, _ = module.tree.provider_of(module, _provider_reference(instance.block.body, instance.type))
    config = module.tree.provider_config(key) or {}
    if instance.type == "aws_region" and name in ("name", "region", "id"):
        if "name" in instance.block.body or "region" in instance.block.body:
            return None  # a lookup of another region: its own argument answers
        region = _one(config.get("region"))
        return region if isinstance(region, str) and not isinstance(region, Unevaluated | ReferenceText) else None
    if instance.type == "aws_caller_identity" and name == "account_id":
        allowed = _one(config.get("allowed_account_ids"))
        if isinstance(allowed, list) and len(allowed) == 1 and isinstance(allowed[0], str | int):
            return str(allowed[0])
    return None


# --- values in the evaluated configuration ---------------------------------------------------------------


class _DocumentText(str):
    """The JSON of an aws_iam_policy_document, known before apply, as read (`data.aws_iam_policy_document.x.json`)."""

    document: str
    read_as: str

    def __new__(cls, text: str, document: str, read_as: str) -> _DocumentText:
        value = super().__new__(cls, text)
        value.document, value.read_as = document, read_as
        return value


@dataclass(frozen=True)
class _DocumentReference(Reference):
    """The JSON of an aws_iam_policy_document with parts known only after apply, as read."""

    document: str = field(default="", compare=False)
    read_as: str = field(default="", compare=False)


@dataclass(frozen=True)
class _DocumentUnknown(UnknownValue):
    """The JSON of an aws_iam_policy_document with parts that could not be evaluated, as read."""

    document: str = field(default="", compare=False)
    read_as: str = field(default="", compare=False)


def _for_config(value: Any, label: str, references: list[tuple[str, str]] | None) -> Any:
    """An evaluated value as the records keep it: references as their text (with the instance they name)."""
    if isinstance(value, _DocumentText | _DocumentReference | _DocumentUnknown):
        # A document used as it is: the rules read the data source's statements, which name where they are written.
        # Once a function has changed the text (replace(), format()), it is a JSON value of its own.
        if references is not None:
            references.append((label, value.document))
        return ReferenceText(value.read_as, value.document)
    if isinstance(value, UnknownValue):
        return Unevaluated(value.text, value.reason)
    if isinstance(value, Reference):
        if value.target and references is not None:
            references.append((label, value.target))
        return ReferenceText(value.text, value.target)
    if isinstance(value, _Instances):
        return _for_config(value.as_value(), label, references)
    if isinstance(value, _ResourceValue):
        if references is not None:
            references.append((label, value.instance.address))
        return ReferenceText(value.instance.address, value.instance.address)
    if isinstance(value, Lazy):
        return Unevaluated(label, "a whole module or object is not a value here")
    if isinstance(value, dict):
        return {key: _for_config(item, label, references) for key, item in value.items()}
    if isinstance(value, TerraformSet):
        return TerraformSet(_for_config(item, label, references) for item in value)
    if isinstance(value, list | tuple):
        return [_for_config(item, label, references) for item in value]
    return value


def _number_block_labels(references: list[tuple[str, str]], first: int, path: str, body: dict[str, Any]) -> None:
    """Reference labels name the block they are in as checkov's edges do: `replica.kms_key_id` when the body has
    one `replica` block, `replica.1.kms_key_id` for the second of several."""
    prefix = f"{path}." if path else ""
    for position in range(first, len(references)):
        label, target = references[position]
        if not label.startswith(prefix) or "\0" not in label[len(prefix):].split(".", 1)[0]:
            continue
        head, _, rest = label[len(prefix):].partition(".")
        name, _, index = head.partition("\0")
        count = len(body.get(name) or [])
        step = f"{name}.{index}" if count > 1 else name
        references[position] = (f"{prefix}{step}" + (f".{rest}" if rest else ""), target)


def _is_block(written: Any) -> bool:
    """python-hcl2 writes a nested block as a list of dicts whose values are all wrapped in lists; an attribute
    is a one-element list holding its value (a map attribute's values are not wrapped)."""
    if not isinstance(written, list) or not written:
        return False
    if not all(isinstance(item, dict) for item in written):
        return False
    if len(written) > 1:
        return True
    item = written[0]
    return bool(item) and all(isinstance(value, list) or key.startswith("__") for key, value in item.items()) \
        and any(not key.startswith("__") for key in item)


def _dynamic_specs(dynamic: Any) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for entry in dynamic if isinstance(dynamic, list) else [dynamic] if dynamic else []:
        for name, spec in (entry.items() if isinstance(entry, dict) else ()):
            if isinstance(spec, dict):
                found.append((name, spec))
            elif isinstance(spec, list):
                found += [(name, item) for item in spec if isinstance(item, dict)]
    return found


def _one(value: Any) -> Any:
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _expression_text(written: Any) -> str:
    text = str(_one(written))
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1]
    return text


def _provider_text(written: Any) -> str:
    return sys.intern(_expression_text(written).strip())  # one string per provider, not per resource


def _provider_reference(body: dict[str, Any], resource_type: str) -> str:
    if "provider" in body:
        return _provider_text(body["provider"])
    return resource_type.split("_", 1)[0]


def _providers_map(passed: Any) -> dict[str, str]:
    if not isinstance(passed, dict):
        return {}
    return {_reference_name(key): _reference_name(value) for key, value in passed.items()}


def _reference_name(value: Any) -> str:
    return str(_one(value)).strip().removeprefix("${").removesuffix("}").strip()


def _key_text(key: Any) -> str:
    return f"[{key}]" if isinstance(key, int) else f'["{key}"]'


def _instance_key(address: str) -> Any:
    match = re.search(r'\[("?)([^\]]*)\1\]$', address)
    if not match:
        return None
    return int(match.group(2)) if not match.group(1) else match.group(2)


def strip_keys(address: str) -> str:
    """An address without its instance keys: module.a["x"].aws_s3_bucket.b[0] -> module.a.aws_s3_bucket.b."""
    return re.sub(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]', "", address)


def _no_lookup(namespace: str, name: str) -> Any:
    raise NotEvaluable(f"{namespace}.{name} cannot be used in a variable default")


def _installed_modules(root_dir: str) -> dict[str, str]:
    """Module call key -> directory, from .terraform/modules/modules.json (written by terraform init)."""
    manifest = os.path.join(root_dir, ".terraform", "modules", "modules.json")
    try:
        with open(manifest, encoding="utf-8") as handle:
            entries = json.load(handle).get("Modules", [])
    except (OSError, ValueError, AttributeError):
        return {}
    found = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("Key") and isinstance(entry.get("Dir"), str):
            found[str(entry["Key"])] = os.path.normpath(os.path.join(root_dir, entry["Dir"]))
    return found


def _read_variables_file(path: str) -> dict[str, Any] | None:
    if path.endswith(".json"):
        try:
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError):
            return None
        return {key: [value] for key, value in document.items()} if isinstance(document, dict) else None
    return parsed(path)


# --- types --------------------------------------------------------------------------------------------------


def _type_of(body: dict[str, Any]) -> tuple | None:
    written = _one(body.get("type"))
    if not isinstance(written, str):
        return None
    text = written.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    try:
        return _Parser(text).parse()
    except NotEvaluable:
        return None


def _root_value(given: VariableSource, type_node: tuple | None) -> Any:
    value = given.value
    if given.is_text and type_node is not None and not _is_primitive(type_node):
        try:
            return evaluate_value("${" + str(value) + "}", {}, _no_lookup)
        except NotEvaluable:
            return value
    if isinstance(value, str) and "${" in value:
        return evaluate_value(value, {}, _no_lookup)
    return value


def _is_primitive(node: tuple) -> bool:
    return node[0] == "name" and node[1] in ("string", "number", "bool")


def convert(value: Any, node: tuple | None) -> Any:
    """Convert a value to a type constraint as Terraform does: primitives from text, object attributes that
    are missing filled by optional() defaults or null, extra object attributes dropped."""
    if node is None or value is None or isinstance(value, Reference | Lazy):
        return value
    kind = node[0]
    if kind == "name":
        if node[1] == "string" and isinstance(value, bool):
            return "true" if value else "false"
        if node[1] == "string" and isinstance(value, int | float):
            return str(value)
        if node[1] == "number" and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return value
            return int(number) if number.is_integer() else number
        if node[1] == "bool" and value in ("true", "false"):
            return value == "true"
        return value
    if kind != "call":
        return value
    function, arguments = node[1], node[2]
    if function in ("map", "list", "set") and arguments:
        if function == "map" and isinstance(value, dict):
            return {key: convert(item, arguments[0]) for key, item in value.items()}
        if function in ("list", "set") and isinstance(value, list | tuple):
            converted = [convert(item, arguments[0]) for item in value]
            return TerraformSet(converted) if function == "set" else converted
        return value
    if function == "object" and arguments and arguments[0][0] == "map" and isinstance(value, dict):
        converted = {}
        for key_node, attribute_node in arguments[0][1]:
            name = key_node[1]
            if name in value:
                converted[name] = convert(value[name], _optional_type(attribute_node))
                if converted[name] is None and _optional_default(attribute_node) is not _NO_DEFAULT:
                    converted[name] = _optional_default(attribute_node)
            elif attribute_node[0] == "call" and attribute_node[1] == "optional":
                default = _optional_default(attribute_node)
                converted[name] = None if default is _NO_DEFAULT else convert(default, _optional_type(attribute_node))
            else:
                converted[name] = value.get(name)
        return converted
    return value


_NO_DEFAULT = object()


def _optional_type(node: tuple) -> tuple:
    if node[0] == "call" and node[1] == "optional" and node[2]:
        return node[2][0]
    return node


def _optional_default(node: tuple) -> Any:
    if node[0] == "call" and node[1] == "optional" and len(node[2]) > 1:
        try:
            return _Evaluator(_no_lookup, {}).run(node[2][1])
        except NotEvaluable:
            return _NO_DEFAULT
    return _NO_DEFAULT
