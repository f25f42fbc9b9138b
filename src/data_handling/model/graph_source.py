"""Build the infrastructure records from checkov's graph of a scanned root (rustworkx or networkx).

Checkov's own `__provider_address__` is unreliable across files and modules, so the records keep what the
graph states (provider blocks, module calls with their `providers` maps, resources, reference edges) and
the model resolves the rest itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from data_handling.model.addresses import module_address_of, root_dir_of
from data_handling.model.hcl.source import evaluate_roots
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.raw_hcl import module_outputs_referenced
from data_handling.model.records import ModuleCall, ProviderBlock, Resource
from data_handling.model.values import unwrap

# Vertices a reference passes through on its way to a resource.
_PASS_THROUGH = {"output", "locals"}
_MAX_REFERENCE_DEPTH = 12


def vertices(graph: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if hasattr(graph, "node_indices"):  # rustworkx.PyDiGraph: each payload is (index, attributes)
        for index in graph.node_indices():
            payload = graph[index]
            yield index, payload[1] if isinstance(payload, tuple) else payload
    else:  # networkx.DiGraph
        yield from graph.nodes(data=True)


def edges(graph: Any) -> Iterator[tuple[int, int, str]]:
    if hasattr(graph, "weighted_edge_list"):
        for source, target, data in graph.weighted_edge_list():
            yield source, target, _label(data)
    else:
        for source, target, data in graph.edges(data=True):
            yield source, target, _label(data)


def _label(data: Any) -> str:
    # Checkov adds "[cross-variable] <attribute>" edges for references through module inputs.
    return str((data or {}).get("label", "")).removeprefix("[cross-variable] ")


def _single(mapping: Any) -> tuple[str, Any]:
    if isinstance(mapping, dict) and len(mapping) == 1:
        return next(iter(mapping.items()))
    return "", {}


def _reference(value: Any) -> str:
    """A provider reference as written: checkov renders `aws.replica = aws.us` as '${aws.us}'."""
    return str(value).strip().removeprefix("${").removesuffix("}").strip()


def _correct_module_output_edges(out_edges: dict[int, list[tuple[int, str]]], kinds: dict[int, str],
                                 blocks: dict[int, tuple[str, str, str, str, tuple[str, ...]]],
                                 outputs: dict[tuple[str, str, str], int]) -> None:
    """Point each `module.<call>.<output>` reference at the output of the call the expression names.

    Checkov links such a reference by the module's inner names, so with two calls of one module source it
    can pick the other call's output; the expression in the file says which call was meant.
    """
    for source, edges in out_edges.items():
        if source not in blocks or not any(kinds.get(target) == "output" for target, _ in edges):
            continue
        root, module, file_path, kind, labels = blocks[source]
        corrected: list[tuple[int, str]] = []
        for target, label in edges:
            if kinds.get(target) != "output":
                corrected.append((target, label))
                continue
            written = module_outputs_referenced(file_path, kind, labels, label)
            meant = []
            for call, key, output in written:
                prefix = f"{module}.module.{call}" if module else f"module.{call}"
                meant += [vertex for (r, instance, name), vertex in outputs.items()
                          if r == root and name == output
                          and (instance == prefix + key or (not key and instance.startswith(prefix + "[")))]
            corrected += [(vertex, label) for vertex in dict.fromkeys(meant)] if meant else [(target, label)]
        out_edges[source] = corrected


def build_from_graph(graph: Any) -> Infrastructure:
    resources: dict[int, Resource] = {}
    providers: list[ProviderBlock] = []
    calls: list[ModuleCall] = []
    kinds: dict[int, str] = {}
    names: dict[int, str] = {}
    # For reading the written expressions: vertex -> (root, module, file, block kind, block labels)
    blocks: dict[int, tuple[str, str, str, str, tuple[str, ...]]] = {}
    outputs: dict[tuple[str, str, str], int] = {}  # (root, module instance, output name) -> vertex

    for index, attributes in vertices(graph):
        kind = attributes.get("block_type_", "")
        kinds[index] = kind
        names[index] = attributes.get("block_name_", "")
        tf_module = attributes.get("source_module_object_")
        file_path = attributes.get("file_path_", "")
        root_dir = root_dir_of(tf_module, file_path)
        module = module_address_of(tf_module)
        if kind in ("resource", "data"):
            resource_type, by_name = _single(attributes.get("config_"))
            name, config = _single(by_name)
            if not isinstance(config, dict):
                continue
            local = f"{resource_type}.{name}" if kind == "resource" else f"data.{resource_type}.{name}"
            address = f"{module}.{local}" if module else local
            if kind == "resource":
                address = config.get("__address__") or address
            blocks[index] = (root_dir, module, file_path, kind, (resource_type, name))
            resources[index] = Resource(
                address=address, type=resource_type, name=name, root_dir=root_dir, module=module,
                config=config, file_path=file_path, line=int(unwrap(config.get("__start_line__")) or 0), mode=kind,
            )
        elif kind == "provider":
            _, config = _single(attributes.get("config_"))
            providers.append(ProviderBlock(
                root_dir=root_dir, module=module, local_name=attributes.get("block_name_", ""),
                config=config if isinstance(config, dict) else {}, file_path=file_path,
                line=int(attributes.get("__start_line__") or 0),
            ))
        elif kind == "output":
            outputs[(root_dir, module, attributes.get("block_name_", ""))] = index
        elif kind == "module":
            _, config = _single(attributes.get("config_"))
            call_name = attributes.get("block_name_", "")
            blocks[index] = (root_dir, module, file_path, "module", (call_name.split("[", 1)[0],))
            passed = unwrap(config.get("providers")) if isinstance(config, dict) else None
            calls.append(ModuleCall(
                root_dir=root_dir, parent=module,
                address=f"{module}.module.{call_name}" if module else f"module.{call_name}",
                providers={_reference(k): _reference(v) for k, v in passed.items()} if isinstance(passed, dict) else {},
                file_path=file_path, line=int(attributes.get("__start_line__") or 0),
            ))

    out_edges: dict[int, list[tuple[int, str]]] = {}
    for source, target, label in edges(graph):
        out_edges.setdefault(source, []).append((target, label))
    _correct_module_output_edges(out_edges, kinds, blocks, outputs)

    def visit(target: int, label: str, variable: str | None, depth: int, seen: set[int],
              found: list[tuple[str, Resource]]) -> None:
        if target in seen or depth > _MAX_REFERENCE_DEPTH:
            return
        seen.add(target)
        kind = kinds.get(target)
        if kind in ("resource", "data"):
            found.append((label, resources[target]))
            return
        if kind == "variable":
            variable = names[target]  # set by the module call: follow only that input of the call
        elif (kind == "module" and variable is None) or kind not in (_PASS_THROUGH | {"variable", "module"}):
            return
        for next_target, edge_label in out_edges.get(target, ()):
            if kind == "module" and edge_label != variable and not edge_label.startswith(f"{variable}."):
                continue
            visit(next_target, label, variable if kind == "variable" else None, depth + 1, seen, found)

    for index, resource in resources.items():
        found: list[tuple[str, Resource]] = []
        for target, label in out_edges.get(index, ()):
            visit(target, label, None, 1, {index}, found)
        unique = {(label, id(target)): (label, target) for label, target in found}
        resource.references = list(unique.values())

    graph_records = list(resources.values())
    root_files: dict[str, set[str]] = {}
    for resource in graph_records:
        root_files.setdefault(resource.root_dir, set())
        if not resource.module and resource.file_path:
            root_files[resource.root_dir].add(resource.file_path)
    for provider in providers:
        root_files.setdefault(provider.root_dir, set())
        if not provider.module and provider.file_path:
            root_files[provider.root_dir].add(provider.file_path)
    for call in calls:
        if not call.parent and call.file_path:
            root_files.setdefault(call.root_dir, set()).add(call.file_path)
    evaluation = evaluate_roots(graph_records, root_files)
    # A root the evaluator could not read keeps its graph records only so that each check can fail on them,
    # naming the reason: checkov's own rendering is never judged.
    failed = [r for r in graph_records if r.root_dir in evaluation.failed_roots]
    return Infrastructure(
        evaluation.resources + failed, evaluation.providers, evaluation.calls,
        instances_of=evaluation.instances_of, problems=evaluation.problems,
        missing_modules=evaluation.missing_modules, failed_roots=evaluation.failed_roots,
    )
