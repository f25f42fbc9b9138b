"""The data map (`data-handling inventory`): every data store the model sees, every copy between regions and every
central telemetry flow, each value with where it came from or why it is unknown.

Rows are built from the infrastructure models the checks evaluated in a checkov run, through the same functions
the rules use: classification.classify / tenant_of and Infrastructure.region_of / account_of for the stores
(CKV_DH_100/101), the copy-mechanism table for copies (CKV_DH_102), model.telemetry_sinks.sink_of and
model.raw_logs.raw_flow_of for the flows (CKV_DH_301-303). Nothing here decides pass or fail, and nothing is
resolved a second way. Rendered as an aligned table, JSON (a versioned contract), CSV (stores) or Markdown.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from data_handling.model.classification import classify, tenant_of
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.raw_logs import raw_flow_of
from data_handling.model.records import Resource
from data_handling.model.telemetry import Destination
from data_handling.model.telemetry_sinks import sink_of
from data_handling.model.values import Resolution, Unknown
from data_handling.output import destinations
from data_handling.output.summary import CELL_LIMIT, code, markdown_cell
from data_handling.policy.schema import PolicyMap
from data_handling.rules import store_classified
from data_handling.rules.copy_mechanisms import BY_TYPE
from data_handling.safe_text import escape_controls, one_line

VERSION = 1
FORMATS = ("table", "json", "csv", "markdown")
STORE_VALUES = ("class", "tenant", "account", "region")


# --- rows ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """A resolved value and where it was read; or no value and why (`unknown`); or nothing at all (no tag)."""

    value: str | None = None
    source: str | None = None
    unknown: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"value": self.value, "source": self.source, "unknown": self.unknown}


def _value(resolution: Resolution[Any] | None) -> Value:
    if resolution is None:
        return Value()
    if isinstance(resolution, Unknown):
        return Value(unknown=resolution.reason)
    value = resolution.value
    if isinstance(value, frozenset | set):
        value = ",".join(sorted(str(item) for item in value))
    return Value(str(value), resolution.source)


@dataclass(frozen=True)
class Store:
    address: str
    type: str
    file: str
    line: int
    root: str
    data_class: Value
    tenant: Value
    account: Value
    region: Value

    def values(self) -> dict[str, Value]:
        return {"class": self.data_class, "tenant": self.tenant, "account": self.account, "region": self.region}

    def as_dict(self) -> dict[str, Any]:
        return {"address": self.address, "type": self.type, "file": self.file, "line": self.line,
                "root": self.root, **{name: value.as_dict() for name, value in self.values().items()}}


@dataclass(frozen=True)
class Side:
    what: str
    region: Value

    def as_dict(self) -> dict[str, Any]:
        return {"what": self.what, "region": self.region.as_dict()}


@dataclass(frozen=True)
class CopyRow:
    resource: str
    mechanism: str
    how: str
    source: Side
    destination: Side
    cross_region: bool | None

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "mechanism": self.mechanism, "how": self.how,
                "source": self.source.as_dict(), "destination": self.destination.as_dict(),
                "cross_region": self.cross_region}


@dataclass(frozen=True)
class Flow:
    resource: str
    kind: str  # "telemetry: <what the sink does>" or "raw logs: <what flows>"
    destination: str  # the destination, and why it is central or cannot be told
    central: bool | None  # True: central; None: cannot be told central or not
    fields: tuple[str, ...] | None  # the fields a sink lists; None when none are listed (or raw logs)

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "kind": self.kind, "destination": self.destination,
                "central": self.central, "fields": list(self.fields) if self.fields is not None else None}


@dataclass(frozen=True)
class DataMap:
    path: str
    policy_map: str
    stores: tuple[Store, ...]
    copies: tuple[CopyRow, ...]
    telemetry_flows: tuple[Flow, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "path": self.path, "policy_map": self.policy_map,
                "stores": [store.as_dict() for store in self.stores],
                "copies": [copy.as_dict() for copy in self.copies],
                "telemetry_flows": [flow.as_dict() for flow in self.telemetry_flows]}


def build(models: Iterable[Infrastructure], policy: PolicyMap, *, path: str, policy_map: str,
          relative_to: Path | None = None) -> DataMap:
    """The data map of the models. Files and roots are shown relative to `relative_to` (default: PATH, or the
    directory of a PATH that is a file) when inside it."""
    return assemble([rows(models, policy, relative_to or _base_of(path))], path=path, policy_map=policy_map)


@dataclass
class Rows:
    """What a data map is assembled from, each row with its sort key: the rows of the models of several worker
    processes (`scan --jobs`) concatenate into the rows of one scan."""

    stores: list[tuple[tuple[str, str, str, int], Store]]
    copies: list[tuple[tuple[str, str], CopyRow]]
    flows: list[tuple[tuple[str, str], Flow]]


def rows(models: Iterable[Infrastructure], policy: PolicyMap, base: Path) -> Rows:
    """The rows of the models, files and roots shown relative to `base` when inside it."""
    found = Rows([], [], [])
    for infra in models:
        for resource in infra.resources:
            root = _shown(resource.root_dir, base)
            order = (root, resource.address)
            if resource.type in policy.classification.store_types:
                store = _store(resource, infra, policy, root, base)
                found.stores.append(((root, store.address, store.file, store.line), store))
            found.copies += [(order, row) for row in _copies(resource, infra, policy)]
            found.flows += [(order, row) for row in _flows(resource, infra, policy)]
    return found


def assemble(parts: Iterable[Rows], *, path: str, policy_map: str) -> DataMap:
    """The data map of the rows, in order: a store found twice is listed once (the first)."""
    stores: dict[tuple[str, str, str, int], Store] = {}
    copies: list[tuple[tuple[str, str], CopyRow]] = []
    flows: list[tuple[tuple[str, str], Flow]] = []
    for part in parts:
        for key, store in part.stores:
            stores.setdefault(key, store)
        copies += part.copies
        flows += part.flows
    return DataMap(path=path, policy_map=policy_map,
                   stores=tuple(sorted(stores.values(), key=lambda s: (s.root, s.address, s.file, s.line))),
                   copies=_sorted_unique(copies), telemetry_flows=_sorted_unique(flows))


def _sorted_unique(rows: list[tuple[tuple[str, str], Any]]) -> tuple[Any, ...]:
    # Stable: a resource's rows keep the order its mechanisms and destinations list them in.
    ordered = sorted(rows, key=lambda item: item[0])
    return tuple(dict.fromkeys(row for _, row in ordered))


def _store(resource: Resource, infra: Infrastructure, policy: PolicyMap, root: str, base: Path) -> Store:
    return Store(address=resource.address, type=resource.type, file=_shown(resource.file_path, base),
                 line=resource.line, root=root, data_class=_class_value(resource, infra, policy),
                 tenant=_value(tenant_of(resource, infra, policy)), account=_value(infra.account_of(resource)),
                 region=_value(infra.region_of(resource)))


def _class_value(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Value:
    classification = classify(resource, infra, policy)
    effective = classification.effective
    if effective is not None:
        deciding = classification.deciding
        return Value(effective, deciding.source if deciding else "classification.default of the policy map")
    outcome = store_classified.evaluate(resource, infra, policy)  # CKV_DH_100 says why no class resolves
    reason = outcome.found if outcome is not None and outcome.found else f"{resource.address} has no data class"
    return Value(unknown=reason)


def _copies(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[CopyRow]:
    mechanisms = BY_TYPE.get(resource.type)
    if not mechanisms:
        return []
    rows = []
    for mechanism in mechanisms:
        for copy in mechanism.copies(resource, infra, policy):
            source, destination = copy.source.region, copy.destination.region
            cross = (None if isinstance(source, Unknown) or isinstance(destination, Unknown)
                     else source.value != destination.value)
            rows.append(CopyRow(resource.address, mechanism.name, copy.how, Side(copy.source.what, _value(source)),
                                Side(copy.destination.what, _value(destination)), cross))
    return rows


def _flows(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Flow]:
    """Central (or undecidable) destinations of the resource's telemetry sink and raw log flow, as CKV_DH_301-303
    select them."""
    rows = []
    sink = sink_of(resource, infra, policy)
    if sink is not None:
        fields = tuple(dict.fromkeys(f.name for f in sink.fields)) if sink.fields is not None else None
        rows += [_flow(resource, f"telemetry: {sink.ships}", destination, fields)
                 for destination in sink.central + sink.unresolved]
    flow = raw_flow_of(resource, infra, policy)
    if flow is not None:
        rows += [_flow(resource, f"raw logs: {flow.what}", destination, None)
                 for destination in flow.central + flow.unresolved]
    return rows


def _flow(resource: Resource, kind: str, destination: Destination, fields: tuple[str, ...] | None) -> Flow:
    return Flow(resource.address, kind, destination.describe(), True if destination.central else None, fields)


def _base_of(path: str) -> Path:
    target = Path(path).resolve()
    return target if target.is_dir() else target.parent


def _shown(file_path: str, base: Path) -> str:
    """A path relative to `base` when inside it ("." for base itself), else as the model holds it."""
    if not file_path:
        return ""
    try:
        relative = Path(file_path).resolve().relative_to(base)
    except ValueError:
        return file_path
    return relative.as_posix() or "."


# --- rendering -----------------------------------------------------------------------------------------------

def render(data_map: DataMap, output: str) -> str:
    if output == "json":
        return json.dumps(data_map.as_dict(), indent=2) + "\n"
    if output == "csv":
        return to_csv(data_map)
    if output == "markdown":
        return to_markdown(data_map)
    if output == "table":
        return to_table(data_map)
    raise ValueError(f"unknown output format {output!r} (one of {', '.join(FORMATS)})")


CSV_HEADER = ("address", "type", "file", "line", "root",
              *(f"{name}{suffix}" for name in STORE_VALUES for suffix in ("", "_source", "_unknown")))


def to_csv(data_map: DataMap) -> str:
    """One row per store; an empty cell is a null. A control character in a value is written as its escape
    (`\\n`), as in the table: a line break in a tag value must not start a line of its own when the CSV is
    printed in a CI log (`::error::` would be a workflow command)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for store in data_map.stores:
        cells: list[Any] = [store.address, store.type, store.file, store.line, store.root]
        for value in store.values().values():
            cells += [value.value or "", value.source or "", value.unknown or ""]
        writer.writerow([escape_controls(cell) for cell in cells])
    return buffer.getvalue()


def _location(store: Store) -> str:
    return f"{store.file}:{store.line}" if store.line else store.file


def _short(value: Value) -> str:
    if value.value is not None:
        return value.value
    return "unknown" if value.unknown else "-"


def _cross(cross: bool | None) -> str:
    return {True: "yes", False: "no", None: "unknown"}[cross]


def _aligned(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    rows = [[_plain(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in [list(headers), *rows]) for i in range(len(headers))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [list(headers), *rows]]


def _plain(text: object) -> str:
    """A value on one line of the table: whitespace runs as one space, control characters as escapes, bounded."""
    return one_line(" ".join(str(text).split()), limit=CELL_LIMIT)


def to_table(data_map: DataMap) -> str:
    lines = [f"Data map of {_plain(data_map.path)} (policy map {_plain(data_map.policy_map)})", ""]
    lines.append(f"Data stores: {len(data_map.stores)}")
    if data_map.stores:
        lines += _aligned(("ADDRESS", "TYPE", "LOCATION", "CLASS", "TENANT", "ACCOUNT", "REGION"),
                          ([s.address, s.type, _location(s), *(_short(v) for v in s.values().values())]
                           for s in data_map.stores))
        lines += ["", "Where the store values come from"]
        lines += _aligned(("ADDRESS", "VALUE", "IS", "FROM / WHY UNKNOWN"),
                          ([s.address, name, _short(v), _origin(v)]
                           for s in data_map.stores for name, v in s.values().items()))
    crossing = sum(1 for c in data_map.copies if c.cross_region)
    undecided = sum(1 for c in data_map.copies if c.cross_region is None)
    lines += ["", f"Copies: {len(data_map.copies)} ({crossing} cross-region, {undecided} unknown)"]
    if data_map.copies:
        lines += _aligned(("RESOURCE", "HOW", "SOURCE", "SOURCE REGION", "DESTINATION", "DESTINATION REGION",
                           "CROSS-REGION"),
                          ([c.resource, c.how, c.source.what, _short(c.source.region), c.destination.what,
                            _short(c.destination.region), _cross(c.cross_region)] for c in data_map.copies))
        lines += ["", "Where the copy regions come from"]
        lines += _aligned(("RESOURCE", "HOW", "SIDE", "REGION", "FROM / WHY UNKNOWN"),
                          ([c.resource, c.how, side, _short(s.region), _origin(s.region)]
                           for c in data_map.copies for side, s in (("source", c.source),
                                                                     ("destination", c.destination))))
    lines += ["", f"Central telemetry flows: {len(data_map.telemetry_flows)}"]
    if data_map.telemetry_flows:
        lines += _aligned(("RESOURCE", "KIND", "CENTRAL", "FIELDS", "DESTINATION"),
                          ([f.resource, f.kind, "yes" if f.central else "unknown", _fields(f), f.destination]
                           for f in data_map.telemetry_flows))
    return "\n".join(lines) + "\n"


def _origin(value: Value) -> str:
    if value.value is not None:
        return value.source or ""
    return value.unknown or "not set"


def _fields(flow: Flow) -> str:
    return ", ".join(flow.fields) if flow.fields is not None else "not listed"


# --- Markdown ------------------------------------------------------------------------------------------------

def _md_value(value: Value) -> str:
    if value.value is not None:
        text = f"**{markdown_cell(value.value)}**"
        return f"{text} ({markdown_cell(value.source)})" if value.source else text
    if value.unknown:
        return f"unknown: {markdown_cell(value.unknown)}"
    return "-"


def stores_markdown(data_map: DataMap) -> str:
    """The stores as one Markdown table (also embedded, collapsed, in the scan's job summary)."""
    if not data_map.stores:
        return "No data stores (`classification.store_types`) in the scanned configuration."
    lines = ["| Store | Type | Location | Class | Tenant | Account | Region |", "|---|---|---|---|---|---|---|"]
    for store in data_map.stores:
        lines.append("| " + " | ".join([code(store.address), code(store.type), code(_location(store)),
                                         *(_md_value(v) for v in store.values().values())]) + " |")
    return "\n".join(lines)


def to_markdown(data_map: DataMap) -> str:
    lines = ["## Data map", "", f"{code(data_map.path)}; policy map {code(data_map.policy_map)}.", "",
             f"### Data stores ({len(data_map.stores)})", "", stores_markdown(data_map), ""]
    lines += [f"### Copies ({len(data_map.copies)})", ""]
    if data_map.copies:
        lines += ["| Resource | Mechanism | Source | Source region | Destination | Destination region | Cross-region |",
                  "|---|---|---|---|---|---|---|"]
        for c in data_map.copies:
            lines.append("| " + " | ".join([
                code(c.resource), markdown_cell(c.how), markdown_cell(c.source.what), _md_value(c.source.region),
                markdown_cell(c.destination.what), _md_value(c.destination.region), _cross(c.cross_region),
            ]) + " |")
    else:
        lines.append("No copy mechanism in the scanned configuration.")
    lines += ["", f"### Central telemetry flows ({len(data_map.telemetry_flows)})", ""]
    if data_map.telemetry_flows:
        lines += ["| Resource | Kind | Central | Destination | Fields |", "|---|---|---|---|---|"]
        for f in data_map.telemetry_flows:
            lines.append("| " + " | ".join([
                code(f.resource), markdown_cell(f.kind), "yes" if f.central else "unknown",
                markdown_cell(f.destination), markdown_cell(_fields(f)),
            ]) + " |")
    else:
        lines.append("No telemetry reaches a central (or undecidable) destination.")
    return "\n".join(lines) + "\n"


def write(text: str, destination: str | os.PathLike[str] | None) -> None:
    """To the file (its directory created; a symlink is refused, never followed), else stdout."""
    destinations.write_text(destination, text)
