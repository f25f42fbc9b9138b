"""Telemetry sinks (CKV_DH_301/302): the resources that ship telemetry, where to, and the fields they list.

- aws_glue_catalog_table: central through its database, catalog or location; fields: columns, partition keys.
- aws_kinesis_firehose_delivery_stream: central through its delivery destination or itself; fields: the Glue
  table of its data_format_conversion_configuration, or Redshift data_table_columns.
- aws_cloudwatch_log_metric_filter: central through its log group's account, or OAM links and metric streams
  that share its namespace; fields: metric_transformation dimensions.
- aws_cloudwatch_event_target: central through `arn`; fields: input_transformer input_paths.
- aws_api_gateway_stage, aws_apigatewayv2_stage: central through access_log_settings destination_arn; fields:
  the access log format (model.apigw_format).
- aws_oam_link: central through sink_identifier; no field list (it shares whole resources).

On every sink the field-declaration tag (policy.fields.tag_key, default data_fields) lists fields where
Terraform holds no schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from data_handling.model.apigw_format import Carried, parse_format
from data_handling.model.fields import declared_fields
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.nested_blocks import blocks, resource_blocks, resource_blocks_at, resource_values_at
from data_handling.model.records import Resource
from data_handling.model.telemetry import (
    Destination,
    assess,
    central_of,
    destinations,
    forwarded_to,
    own_reasons,
    resources_named,
    same_account,
    unresolved_of,
)
from data_handling.model.values import as_text, is_unrendered, unwrap
from data_handling.patterns import wildcard_match
from data_handling.policy.schema import PolicyMap


@dataclass(frozen=True)
class SinkField:
    name: str
    where: str  # "column", "dimension", "input path", "access log format key", "tag data_fields"
    template: str = ""  # what the field is built from: "$context.identity.sourceIp", "$.detail.customer.email"
    carried: tuple[Carried, ...] = ()  # access log variables: what the field really carries
    selects: tuple[str, ...] = ()  # the names a JSON path selects: ("email",) for $.detail.customer.email


@dataclass
class Sink:
    resource: Resource
    ships: str  # what it sends, as a verb phrase: "sends its access logs to"
    destinations: list[Destination]
    fields: list[SinkField] | None = field(default_factory=list)  # None: it lists no fields
    whole: str = ""  # what it ships when it lists no fields
    unreadable: str = ""  # why its field list could not be read

    @property
    def central(self) -> list[Destination]:
        return central_of(self.destinations)

    @property
    def unresolved(self) -> list[Destination]:
        return unresolved_of(self.destinations)

    def where_to(self) -> str:
        shown = self.central or self.unresolved
        text = f"{self.resource.address} {self.ships} {shown[0].describe()}"
        if len(shown) > 1:
            text += f" (also: {', '.join(d.shown for d in shown[1:])})"
        return text


def sink_of(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink | None:
    """The sink a resource is, with its destinations and fields; None for resources that ship no telemetry."""
    reader = _SINKS.get(resource.type)
    sink = reader(resource, infra, policy) if reader else None
    if sink is None:
        return None
    declared = declared_by_tag(resource, infra, policy)
    if declared:
        sink.fields = (sink.fields or []) + declared
        sink.unreadable = ""
    return sink


def declared_by_tag(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[SinkField]:
    key = policy.fields.tag_key
    found: list[SinkField] = []
    for where, tags in infra.tag_sources(resource):
        if where.startswith("tags") and isinstance(tags, dict) and key in tags:
            found += [SinkField(name, f"tag {key}") for name in declared_fields(as_text(tags[key]) or "")]
            break  # tags win over tags_all, which repeats them
    return found


# --- Glue tables -------------------------------------------------------------------------------------------


def _glue_table(table: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink:
    found: list[Destination] = []
    reasons, _ = own_reasons(table, infra, policy)
    if reasons:
        found.append(Destination("its Glue Data Catalog", central="; ".join(reasons)))
    databases = infra.referenced(table, "database_name")
    name = table.text("database_name")
    if not databases and name and not is_unrendered(name):
        databases = resources_named("aws_glue_catalog_database", name, table, infra)
    found += [assess(database, infra, policy) for database in databases]
    location = destinations(table, "storage_descriptor.location", infra, policy, kind="bucket")
    found += [d for d in location if d.central]
    if not any(d.central for d in found):
        found += [d for d in location if d.unresolved]
    columns, problem = glue_columns(table)
    if problem:
        return Sink(table, "holds telemetry in", found, fields=None, unreadable=problem)
    if not columns:
        return Sink(table, "holds telemetry in", found, fields=None,
                    whole="declares no columns, so it holds whatever records land in its location")
    return Sink(table, "holds telemetry in", found, fields=columns)


def glue_columns(table: Resource, note: str = "") -> tuple[list[SinkField], str]:
    """The columns and partition keys of a Glue table (struct members as a.b), or why they cannot be read."""
    columns = resource_blocks_at(table, "storage_descriptor.columns")
    keys = resource_blocks_at(table, "partition_keys")
    if columns.unresolved or keys.unresolved:
        return [], f"the columns of {table.address} could not be evaluated: " + \
            "; ".join(columns.unresolved + keys.unresolved)
    if not columns.found and resource_blocks_at(table, "storage_descriptor.schema_reference").found:
        return [], (f"{table.address} takes its columns from the Glue Schema Registry (schema_reference), which "
                    "the scan cannot read")
    fields = []
    for where, found in (("column", columns.found), ("partition key", keys.found)):
        for column in found:
            name = as_text(column.get("name")) or repr(unwrap(column.get("name")))
            if is_unrendered(name):
                return [], f"the {where} name {name!r} of {table.address} could not be evaluated"
            fields.append(SinkField(name, f"{where} of {table.address}{note}"))
            fields += [SinkField(f"{name}.{member}", f"struct member of {where} {name} of {table.address}{note}")
                       for member in struct_members(as_text(column.get("type")) or "")]
    return fields, ""


def struct_members(type_text: str, prefix: str = "") -> list[str]:
    """Member paths inside a Hive type: struct<a:string,b:array<struct<c:int>>> -> a, b, b.c."""
    text = type_text.strip()
    lowered = text.lower()
    if not text.endswith(">"):
        return []
    if lowered.startswith("array<"):
        return struct_members(text[len("array<"):-1], prefix)
    if lowered.startswith("map<"):
        parts = _split_top(text[len("map<"):-1])
        return struct_members(parts[-1], prefix) if len(parts) == 2 else []
    if not lowered.startswith("struct<"):
        return []
    found = []
    for member in _split_top(text[len("struct<"):-1]):
        name, _, member_type = member.partition(":")
        path = prefix + name.strip().strip("`")
        found += [path, *struct_members(member_type, f"{path}.")]
    return found


def _split_top(text: str) -> list[str]:
    parts, current, depth = [], "", 0
    for char in text:
        if char in "<(":
            depth += 1
        elif char in ">)":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current.strip() else parts


# --- Firehose ----------------------------------------------------------------------------------------------


def _firehose(stream: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink:
    found: list[Destination] = []
    reasons, _ = own_reasons(stream, infra, policy)
    if reasons:
        found.append(Destination("the stream itself", central="; ".join(reasons)))
    found += forwarded_to(stream, infra, policy, hops=1)
    ships = "delivers records to"
    fields: list[SinkField] = []
    conversions = 0
    for settings in resource_blocks(stream, "extended_s3_configuration").found:
        for conversion in blocks(settings, "data_format_conversion_configuration").found:
            if str(unwrap(conversion.get("enabled"))).lower() == "false":
                continue
            for schema in blocks(conversion, "schema_configuration").found:
                conversions += 1
                table, problem = _conversion_table(stream, schema, infra)
                if table is None:
                    return Sink(stream, ships, found, fields=None, unreadable=problem)
                columns, problem = glue_columns(table, note=", the stream's conversion schema")
                if problem:
                    return Sink(stream, ships, found, fields=None, unreadable=problem)
                fields += columns
    for text in resource_values_at(stream, "redshift_configuration.data_table_columns")[0]:
        conversions += 1
        fields += [SinkField(name.strip(), "Redshift data_table_columns") for name in str(text).split(",")
                   if name.strip()]
    if not conversions:
        return Sink(stream, ships, found, fields=None,
                    whole="delivers whole records: no data_format_conversion_configuration schema (or Redshift "
                          "data_table_columns) lists their fields")
    return Sink(stream, ships, found, fields=fields)


def _conversion_table(stream: Resource, schema: dict, infra: Infrastructure) -> tuple[Resource | None, str]:
    referenced = [target for label, target in stream.references
                  if label.endswith("schema_configuration.table_name") and target.type == "aws_glue_catalog_table"]
    if len(referenced) == 1:
        return referenced[0], ""
    table_name, database_name = as_text(schema.get("table_name")), as_text(schema.get("database_name"))
    if not table_name or is_unrendered(table_name) or (database_name and is_unrendered(database_name)):
        return None, (f"the conversion schema of {stream.address} names table {table_name!r} in database "
                      f"{database_name!r}, which could not be evaluated")
    candidates = [table for table in infra.named(stream, ("aws_glue_catalog_table",), "name", table_name)
                  if table.text("name") == table_name
                  and (not database_name or table.text("database_name") == database_name)]
    if len(candidates) == 1:
        return candidates[0], ""
    return None, (f"the conversion schema of {stream.address} names Glue table {database_name}.{table_name}, which is "
                  "not in this configuration, so its columns cannot be read; scan it together with the table or "
                  "declare the fields with the field tag")


# --- metric filters ----------------------------------------------------------------------------------------


def _metric_filter(metric_filter: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink:
    transformations = resource_blocks(metric_filter, "metric_transformation")
    namespace = next((as_text(t.get("namespace")) for t in transformations.found), None) or "?"
    metric = next((as_text(t.get("name")) for t in transformations.found), None) or "?"
    # Metrics land in the account of the log group they are extracted from.
    found = [Destination(f"the account of its log group {d.shown}", d.central, d.unresolved)
             for d in destinations(metric_filter, "log_group_name", infra, policy, kind="log_group")]
    reasons, _ = own_reasons(metric_filter, infra, policy)
    if reasons:
        found.append(Destination("its own account", central="; ".join(reasons)))
    found += _metric_sharing(metric_filter, namespace, infra, policy)
    ships = f'publishes metric "{metric}" (namespace "{namespace}") to'
    fields: list[SinkField] = []
    for transformation in transformations.found:
        dimensions = unwrap(transformation.get("dimensions"))
        if dimensions is None:
            continue
        if not isinstance(dimensions, dict):
            return Sink(metric_filter, ships, found, fields=None,
                        unreadable=f"the dimensions of {metric_filter.address} could not be evaluated ({dimensions!r})")
        fields += [SinkField(str(key), "dimension", str(unwrap(value)), selects=_selected(unwrap(value)))
                   for key, value in dimensions.items()]
    if transformations.unresolved:
        return Sink(metric_filter, ships, found, fields=None, unreadable="; ".join(transformations.unresolved))
    return Sink(metric_filter, ships, found, fields=fields)


def _metric_sharing(source: Resource, namespace: str, infra: Infrastructure, policy: PolicyMap) -> list[Destination]:
    """Central destinations the account's metrics of a namespace reach: OAM links sharing metrics, metric streams."""
    found = []
    for link in infra.in_same_root(source, "aws_oam_link"):
        types = [str(t) for t in _as_list(unwrap(link.config.get("resource_types")))]
        if "AWS::CloudWatch::Metric" not in types or not same_account(link, source, infra):
            continue
        metric_filter = resource_values_at(link, "link_configuration.metric_configuration.filter")[0]
        if metric_filter and not namespace_selected(str(metric_filter[0]), namespace):
            continue
        for sink in destinations(link, "sink_identifier", infra, policy):
            if sink.central:
                found.append(Destination(sink.shown, central=f"{link.address} shares the account's metrics "
                                                             f"(AWS::CloudWatch::Metric) with it; {sink.central}"))
    for stream in infra.in_same_root(source, "aws_cloudwatch_metric_stream"):
        included = [as_text(v) for v in resource_values_at(stream, "include_filter.namespace")[0]]
        excluded = [as_text(v) for v in resource_values_at(stream, "exclude_filter.namespace")[0]]
        if (included and namespace not in included) or namespace in excluded or not same_account(stream, source,
                                                                                                  infra):
            continue
        for target in destinations(stream, "firehose_arn", infra, policy):
            if target.central:
                found.append(Destination(target.shown, central=f"metric stream {stream.address} streams namespace "
                                                               f'"{namespace}" to it; {target.central}'))
    return found


def namespace_selected(filter_text: str, namespace: str) -> bool:
    """Whether an OAM metric filter (`Namespace IN ('a', 'b')`, `Namespace NOT LIKE 'AWS/%'`) can select a
    namespace; anything more complex is assumed to select it."""
    literals = r"'[^']*'|\(\s*'[^']*'(?:\s*,\s*'[^']*')*\s*\)"
    match = re.fullmatch(rf"\s*Namespace\s+(NOT\s+)?(IN|LIKE|=|!=)\s*({literals})\s*", filter_text, re.IGNORECASE)
    if not match:
        return True
    negated = bool(match[1]) or match[2] == "!="
    values = re.findall(r"'([^']*)'", match[3])
    if match[2].upper() == "LIKE":
        # The filter comes from the scanned code: matched by RE2, a LIKE of many %s cannot backtrack for ever.
        hit = any(wildcard_match(v, namespace, many="%", one="_") for v in values)
    else:
        hit = namespace in values
    return hit != negated


def _selected(path: object) -> tuple[str, ...]:
    """The name a JSON path or space-delimited selector picks: $.detail.customer.email -> email; $ip -> ip."""
    text = str(path or "").strip()
    if not text.startswith("$"):
        return ()
    last = re.split(r"[.\[\]'\"]+", text.lstrip("$").strip(".[]'\""))
    names = [part for part in last if part and not part.isdigit() and part != "*"]
    return (names[-1],) if names else ()


# --- EventBridge targets -----------------------------------------------------------------------------------


def _event_target(target: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink:
    found = destinations(target, "arn", infra, policy)
    ships = "sends events to"
    transformers = resource_blocks(target, "input_transformer")
    if transformers.unresolved:
        return Sink(target, ships, found, fields=None, unreadable="; ".join(transformers.unresolved))
    if transformers.found:
        fields: list[SinkField] = []
        for transformer in transformers.found:
            template = as_text(transformer.get("input_template")) or ""
            if re.search(r"<aws\.events\.event(\.json)?>", template):
                return Sink(target, ships, found, fields=None,
                            whole="puts the whole event into its input_template (<aws.events.event>)")
            paths = unwrap(transformer.get("input_paths"))
            if paths is None:
                continue
            if not isinstance(paths, dict):
                return Sink(target, ships, found, fields=None,
                            unreadable=f"the input_paths of {target.address} could not be evaluated ({paths!r})")
            fields += [SinkField(str(key), "input path", str(unwrap(value)), selects=_selected(unwrap(value)))
                       for key, value in paths.items()]
        return Sink(target, ships, found, fields=fields)
    if target.get("input") is not None:
        return Sink(target, ships, found, fields=[])  # a constant: no event data flows
    path = as_text(target.get("input_path"))
    if path:
        return Sink(target, ships, found, fields=None,
                    whole=f"sends the part of each event at input_path {path}, not a list of fields")
    return Sink(target, ships, found, fields=None, whole="sends whole events: no input_transformer lists their fields")


# --- API Gateway stages ------------------------------------------------------------------------------------


def _stage(stage: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink | None:
    settings = resource_blocks(stage, "access_log_settings")
    if not settings.found and not settings.unresolved:
        return None
    found = destinations(stage, "access_log_settings.destination_arn", infra, policy)  # reports unresolved blocks too
    ships = "sends its access logs to"
    if settings.unresolved:
        return Sink(stage, ships, found, fields=None, unreadable="; ".join(settings.unresolved))
    fields: list[SinkField] = []
    for block in settings.found:
        parsed = parse_format(block.get("format"))
        if parsed is None:
            return Sink(stage, ships, found, fields=None, unreadable="its access log format could not be evaluated "
                                                                       f"({unwrap(block.get('format'))!r})")
        fields += [SinkField(f.name, "access log format key" if f.keyed else "access log format variable", f.template,
                             f.carried) for f in parsed]
    return Sink(stage, ships, found, fields=fields)


# --- OAM links ---------------------------------------------------------------------------------------------


def _oam_link(link: Resource, infra: Infrastructure, policy: PolicyMap) -> Sink:
    types = ", ".join(str(t) for t in _as_list(unwrap(link.config.get("resource_types")))) or "resources"
    found = destinations(link, "sink_identifier", infra, policy)
    return Sink(link, f"shares {types} with", found, fields=None,
                whole=f"shares whole {types} with the sink, with no list of the fields they carry")


def _as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple | set) else [value]


_SINKS: dict[str, Callable[[Resource, Infrastructure, PolicyMap], Sink | None]] = {
    "aws_glue_catalog_table": _glue_table,
    "aws_kinesis_firehose_delivery_stream": _firehose,
    "aws_cloudwatch_log_metric_filter": _metric_filter,
    "aws_cloudwatch_event_target": _event_target,
    "aws_api_gateway_stage": _stage,
    "aws_apigatewayv2_stage": _stage,
    "aws_oam_link": _oam_link,
}
