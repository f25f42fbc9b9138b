"""The field names a store declares: table schemas, key attributes, and the field-declaration tag.

Each name keeps where it was declared (`storage_descriptor.columns`, `global_secondary_index.hash_key`,
`tag data_fields`), so a finding can point at the line to change. Names that could not be evaluated (a dynamic
block over a variable without a value) are reported as problems, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_handling.model.blocks import blocks, string_list
from data_handling.model.fields import declared_fields
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import as_text, is_unrendered, unwrap

# Per resource type: paths of blocks ending in the attribute that names a field.
SCHEMA_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "aws_glue_catalog_table": (("storage_descriptor", "columns", "name"), ("partition_keys", "name")),
    "aws_dynamodb_table": (
        ("attribute", "name"), ("hash_key",), ("range_key",),
        ("global_secondary_index", "hash_key"), ("global_secondary_index", "range_key"),
        ("global_secondary_index", "key_schema", "attribute_name"),
        ("global_secondary_index", "non_key_attributes"),
        ("local_secondary_index", "range_key"), ("local_secondary_index", "non_key_attributes"),
        # Not ttl.attribute_name: an expiry timestamp, and checkov renders a module's `dynamic "ttl"` over a null
        # variable into a block named after the variable, which would fail every such table closed.
    ),
    "aws_timestreamwrite_table": (("schema", "composite_partition_key", "name"),),
    "aws_keyspaces_table": (
        ("schema_definition", "column", "name"), ("schema_definition", "partition_key", "name"),
        ("schema_definition", "clustering_key", "name"), ("schema_definition", "static_column", "name"),
    ),
}
GLUE_TABLE = "aws_glue_catalog_table"
FIREHOSE = "aws_kinesis_firehose_delivery_stream"


@dataclass(frozen=True)
class DeclaredField:
    name: str
    where: str  # "storage_descriptor.columns of aws_glue_catalog_table.t (main.tf:4)"


@dataclass
class Declarations:
    fields: list[DeclaredField]
    problems: list[str]
    declares: bool  # whether the resource declares a schema or the tag at all


def declared_by(resource: Resource, infra: Infrastructure, tag_key: str) -> Declarations:
    """The fields a resource declares: its schema, the Glue tables a Firehose converts records to, its tag."""
    found = Declarations([], [], False)
    paths = SCHEMA_PATHS.get(resource.type, ())
    if paths:
        found.declares = True
        _schema(resource, paths, found)
    if resource.type == FIREHOSE:
        for table, via in _conversion_tables(resource, infra, found):
            found.declares = True
            _schema(table, SCHEMA_PATHS[GLUE_TABLE], found,
                    via=f" of {table.describe()}, the schema its record format conversion uses ({via})")
    _tag(resource, infra, tag_key, found)
    return found


def _schema(resource: Resource, paths: tuple[tuple[str, ...], ...], found: Declarations, via: str = "") -> None:
    for path in paths:
        where = ".".join(path[:-1] if path[-1] == "name" else path) + via
        for value in _values([resource.config], path, found, f"{resource.describe()}: " if via else ""):
            text = as_text(value)
            if text is None:  # a map or list where a name belongs: checkov mixed up a dynamic block's values
                found.problems.append(f"a field name in {where} could not be evaluated ({value!r})")
                continue
            if not text.strip():  # an unset optional name, such as a disabled ttl's attribute_name = ""
                continue
            if is_unrendered(text):
                found.problems.append(f'the field name "{text}" in {where} could not be evaluated')
            else:
                found.fields.append(DeclaredField(text, where))


def _values(configs: list[dict], path: tuple[str, ...], found: Declarations, prefix: str) -> list:
    *block_names, attribute = path
    for name in block_names:
        nested = []
        for config in configs:
            entries, problems = blocks(config, name)
            nested += entries
            found.problems += [f"{prefix}{problem}" for problem in problems]
        configs = nested
    return [item for config in configs for item in string_list(unwrap(config.get(attribute)))
            if item is not None]


def _conversion_tables(stream: Resource, infra: Infrastructure,
                       found: Declarations) -> list[tuple[Resource, str]]:
    """The Glue tables whose schema a Firehose record format conversion uses: by reference, else by name."""
    referenced = {id(target): target for label, target in stream.references
                  if "schema_configuration" in label and target.type == GLUE_TABLE and target.mode == "resource"}
    if referenced:
        return [(table, "schema_configuration references it") for table in referenced.values()]
    tables = []
    for configuration in _schema_configurations(stream.config):
        database, name = as_text(configuration.get("database_name")), as_text(configuration.get("table_name"))
        if not database or not name or is_unrendered(database) or is_unrendered(name):
            found.problems.append(f"the Glue table of the record format conversion of {stream.describe()} "
                                  f"({database!r}.{name!r}) could not be evaluated")
            continue
        for table in infra.in_same_root(stream, GLUE_TABLE):
            if as_text(table.get("database_name")) == database and as_text(table.get("name")) == name:
                tables.append((table, f'schema_configuration names "{database}.{name}"'))
        # A table defined outside this configuration is checked where it is defined.
    return tables


def _schema_configurations(node: object) -> list[dict]:
    """Every schema_configuration block, wherever the destination nests it."""
    found: list[dict] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema_configuration":
                found += [entry for entry in string_list(value) if isinstance(entry, dict)]
            else:
                found += _schema_configurations(value)
    elif isinstance(node, list):
        for item in node:
            found += _schema_configurations(item)
    return found


def _tag(resource: Resource, infra: Infrastructure, tag_key: str, found: Declarations) -> None:
    """The field-declaration tag on the resource itself (a provider's default_tags declare no store's fields)."""
    for where, tags in infra.tag_sources(resource):
        if where.startswith("default_tags") or not isinstance(tags, dict) or tag_key not in tags:
            continue
        found.declares = True
        value = as_text(tags[tag_key])
        if value is None or is_unrendered(value):
            found.problems.append(f"tag {tag_key} in {where} is {tags[tag_key]!r}, which could not be evaluated")
            continue
        found.fields += [DeclaredField(name, f"tag {tag_key}") for name in declared_fields(value)]
