"""The model of a checkov graph (rustworkx or networkx): which resource configurations checkov scans, and in
which root modules. The values, providers, module calls and references come from model/hcl, which evaluates
the written Terraform; checkov's rendering of them is not used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from data_handling.model.addresses import module_address_of, root_dir_of
from data_handling.model.hcl.source import Evaluation, evaluate_roots
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import unwrap


def vertices(graph: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if hasattr(graph, "node_indices"):  # rustworkx.PyDiGraph: each payload is (index, attributes)
        for index in graph.node_indices():
            payload = graph[index]
            yield index, payload[1] if isinstance(payload, tuple) else payload
    else:  # networkx.DiGraph
        yield from graph.nodes(data=True)


def _single(mapping: Any) -> tuple[str, Any]:
    if isinstance(mapping, dict) and len(mapping) == 1:
        return next(iter(mapping.items()))
    return "", {}


def build_from_graph(graph: Any) -> Infrastructure:
    """The model of the roots in a checkov graph: checkov's resource configurations (which the checks are handed)
    mapped to the instances model/hcl evaluates from the written Terraform of each root."""
    graph_records: list[Resource] = []
    root_files: dict[str, set[str]] = {}  # root module directory -> the root-level files checkov read there
    for _, attributes in vertices(graph):
        kind = attributes.get("block_type_", "")
        tf_module = attributes.get("source_module_object_")
        file_path = attributes.get("file_path_", "")
        root_dir = root_dir_of(tf_module, file_path)
        module = module_address_of(tf_module)
        files = root_files.setdefault(root_dir, set())
        if not module and file_path:
            files.add(file_path)
        if kind != "resource":
            continue
        resource_type, by_name = _single(attributes.get("config_"))
        name, config = _single(by_name)
        if not isinstance(config, dict):
            continue
        address = config.get("__address__") or (f"{module}.{resource_type}.{name}" if module
                                                 else f"{resource_type}.{name}")
        graph_records.append(Resource(
            address=address, type=resource_type, name=name, root_dir=root_dir, module=module, config=config,
            file_path=file_path, line=int(unwrap(config.get("__start_line__")) or 0),
        ))
    return _infrastructure(evaluate_roots(graph_records, root_files), graph_records)


def build_from_roots(root_dirs: list[str]) -> Infrastructure:
    """The model of root modules read without checkov's graph (the .tf.json files checkov's terraform_json
    runner hands the checks): the same evaluator, the same records."""
    return _infrastructure(evaluate_roots([], {root: set() for root in root_dirs}), [])


def _infrastructure(evaluation: Evaluation, graph_records: list[Resource]) -> Infrastructure:
    # A root the evaluator could not read keeps its graph records only so that each check can fail on them,
    # naming the reason: checkov's own rendering is never judged.
    failed = [r for r in graph_records if r.root_dir in evaluation.failed_roots]
    return Infrastructure(
        evaluation.resources + failed, evaluation.providers, evaluation.calls,
        instances_of=evaluation.instances_of, problems=evaluation.problems,
        missing_modules=evaluation.missing_modules, failed_roots=evaluation.failed_roots,
        written=evaluation.written, aws_versions=evaluation.aws_versions,
    )
