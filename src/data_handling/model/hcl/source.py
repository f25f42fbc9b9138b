"""Records of the scanned configuration from the evaluated module tree (model/hcl/evaluator.py).

Checkov's graph says which resource configurations the checks are handed; the evaluator says what those
resources are: their instances, their values as Terraform evaluates them, the provider blocks and module calls.
Each configuration checkov hands a check is mapped to the evaluated instances it stands for: one, several (a
block checkov did not expand), or none (an instance that `count = 0`, an empty `for_each` or a module that is
not created never makes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from data_handling.model.hcl.evaluator import ResourceInstance, TooLarge, Tree, absolute_path, strip_keys
from data_handling.model.hcl.files import forget_loaded, terraform_files
from data_handling.model.hcl.inputs import ScanInputs, current_inputs
from data_handling.model.provider_version import AwsProviderVersions
from data_handling.model.records import ModuleCall, ProviderBlock, Resource

logger = logging.getLogger("data_handling")


@dataclass
class Evaluation:
    """What the evaluator made of the roots of one scan."""

    resources: list[Resource] = field(default_factory=list)
    providers: list[ProviderBlock] = field(default_factory=list)
    calls: list[ModuleCall] = field(default_factory=list)
    # id(checkov's resource configuration) -> the evaluated instances it stands for ([] = none exist)
    instances_of: dict[int, list[Resource]] = field(default_factory=dict)
    evaluated_roots: set[str] = field(default_factory=set)
    failed_roots: dict[str, str] = field(default_factory=dict)  # root -> why it could not be evaluated
    problems: list[str] = field(default_factory=list)
    missing_modules: list[str] = field(default_factory=list)
    # (file, type, name) of a .tf.json resource block as written -> its evaluated instances, in every root
    written: dict[tuple[str, str, str], list[Resource]] = field(default_factory=dict)
    aws_versions: dict[str, AwsProviderVersions] = field(default_factory=dict)  # root -> hashicorp/aws versions


def evaluate_roots(graph_resources: list[Resource], root_files: dict[str, set[str]],
                   inputs: ScanInputs | None = None) -> Evaluation:
    """Evaluate every root module the graph holds, and map the graph's resources to the evaluated instances."""
    inputs = inputs or current_inputs()
    evaluation = Evaluation()
    trees: dict[str, Tree] = {}
    for root_dir in sorted(root_files):
        files = _root_files(root_dir, root_files[root_dir])
        try:
            trees[root_dir] = Tree(root_dir, files, inputs)
        except RecursionError:
            evaluation.failed_roots[root_dir] = "the configuration nests too deeply to evaluate"
            continue
        except TooLarge as error:
            evaluation.failed_roots[root_dir] = str(error)
            continue
        except Exception as error:  # fail closed: every check on this root reports it
            logger.error("data-handling: could not evaluate %s (%s: %s)", root_dir, type(error).__name__, error)
            logger.debug("traceback of the error above", exc_info=True)
            evaluation.failed_roots[root_dir] = f"{type(error).__name__}: {error}"
            continue
        evaluation.evaluated_roots.add(root_dir)
        tree = trees[root_dir]
        evaluation.problems += tree.problems
        evaluation.missing_modules += tree.missing_modules
    records: dict[tuple[str, str], Resource] = {}
    for root_dir, tree in trees.items():
        for instance in tree.instances.values():
            records[(root_dir, instance.address)] = _record(root_dir, instance)
        evaluation.providers += [ProviderBlock(root_dir, p.module, p.local_name, p.config, p.file_path, p.line)
                                 for p in tree.providers]
        evaluation.calls += [ModuleCall(root_dir, c.parent, c.address, c.providers, c.file_path, c.line)
                             for c in tree.calls]
        evaluation.aws_versions[root_dir] = tree.aws_versions()
    for (root_dir, _), record in records.items():
        instance = trees[root_dir].instances[record.address]
        record.references = [(label, records[(root_dir, target)]) for label, target in instance.references
                             if (root_dir, target) in records and target != record.address]
    evaluation.resources = list(records.values())
    for root_dir, tree in trees.items():
        for key, instances in tree.written.items():
            evaluation.written.setdefault(key, []).extend(records[(root_dir, i.address)] for i in instances)
    matched: set[int] = set()
    for resource in graph_resources:
        tree = trees.get(resource.root_dir)
        if tree is None:
            continue
        exact = records.get((resource.root_dir, resource.address))
        if exact is not None:
            evaluation.instances_of[id(resource.config)] = [exact]
            matched.add(id(exact))
            _keep_checkov_keys(exact, resource)
            continue
        block = strip_keys(resource.address)
        if block in tree.blocks:
            found = [records[(resource.root_dir, i.address)] for i in tree.blocks[block]]
            evaluation.instances_of[id(resource.config)] = found
            for record in found:
                matched.add(id(record))
                _keep_checkov_keys(record, resource)
    # Checkov does not load modules from .terraform/modules: their resources are evaluated but never handed to
    # a check. Say so rather than pass them silently.
    by_root: dict[str, list[Resource]] = {}
    for record in evaluation.resources:
        by_root.setdefault(record.root_dir, []).append(record)
    for root_dir, tree in trees.items():
        installed = {"module." + ".module.".join(key.split(".")) for key in tree.installed_calls}
        if not installed:
            continue
        for record in by_root.get(root_dir, []):
            if record.mode == "resource" and id(record) not in matched and any(
                    strip_keys(record.module) == call or strip_keys(record.module).startswith(call + ".")
                    for call in installed):
                evaluation.missing_modules.append(
                    f"{record.module} (read from .terraform/modules, but checkov did not load it, so "
                    f"{record.address} and its other resources were not checked)")
                installed.discard(strip_keys(record.module))
    forget_loaded()  # the module files' blocks are evaluated: only the records are kept
    return evaluation


def _root_files(root_dir: str, from_graph: set[str]) -> tuple[str, ...]:
    """The root module's files: as for Terraform, every `.tf` and `.tf.json` file of its directory (a scan of
    one file still needs the variables and providers declared beside it)."""
    return tuple(sorted(set(from_graph) | set(terraform_files(root_dir))))


def _record(root_dir: str, instance: ResourceInstance) -> Resource:
    # The instance's own dict: the tree is evaluated and is discarded once the records are made.
    config = instance.config if instance.config is not None else {}
    config["__address__"] = instance.address
    return Resource(
        address=instance.address, type=instance.type, name=instance.name, root_dir=root_dir,
        module=instance.module.address, config=config, file_path=absolute_path(instance.block.file_path),
        line=instance.block.line, mode=instance.mode, evaluated=True,
    )


def _keep_checkov_keys(record: Resource, graph_resource: Resource) -> None:
    """Checkov's own bookkeeping keys (not values) stay available to code that reads them."""
    for key, value in graph_resource.config.items():
        if key.startswith("__") and key not in record.config:
            record.config[key] = value
    record.config["__address__"] = record.address
