"""Model training in the AWS provider (CKV_DH_106): which resource types train or fine-tune a model from data,
which of their arguments name that data, and the stores those arguments resolve to.

Chosen from the AWS provider's own schema (5.100, `terraform providers schema -json`) and its documentation
(v6): a resource is listed when creating it starts a job that fits model weights to data it reads.

- aws_bedrock_custom_model (Bedrock fine-tuning / continued pre-training): training_data_config.s3_uri,
  validation_data_config.validator.s3_uri (and, read live only, a distillation job's invocation logs:
  training_data_config.invocation_logs_config.invocation_log_source.s3_uri);
- aws_comprehend_document_classifier: input_data_config s3_uri, test_s3_uri, augmented_manifests (s3_uri,
  annotation_data_s3_uri, source_documents_s3_uri) (and, live only, documents s3_uri and test_s3_uri);
- aws_comprehend_entity_recognizer: input_data_config documents and annotations (s3_uri, test_s3_uri),
  entity_list.s3_uri, augmented_manifests;
- aws_transcribe_language_model (a custom language model): input_data_config s3_uri, tuning_data_s3_uri;
- aws_glue_ml_transform (a FindMatches model): input_record_tables (database_name, table_name: the Glue table,
  and the bucket of its storage_descriptor.location);
- aws_sagemaker_training_job (v6): input_data_config.data_source s3_data_source.s3_uri and
  file_system_data_source.file_system_id.

Not listed, on purpose (docs/checks/CKV_DH_106.md says why for each): output locations (output_data_config,
checkpoints), inference (aws_sagemaker_model, endpoints: their model_data_url is trained artefacts, not training
data), indexing and retrieval (aws_kendra_*, aws_bedrockagent_knowledge_base / data_source: documents are
indexed or embedded and served back, no model is fitted), monitoring baselines, word lists (Transcribe
vocabularies), a Rekognition project (its training runs in project versions the provider has no resource for),
and services the provider has no resource for (Personalize, Fraud Detector, Forecast, Lookout for Metrics).

Nothing here decides pass or fail: rules/no_model_training.py judges the classes of the stores found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.nested_blocks import resource_blocks, resource_values_at
from data_handling.model.plan_source import COMPUTED
from data_handling.model.records import Resource
from data_handling.model.telemetry import bucket_name_of
from data_handling.model.values import as_text, is_unrendered, unwrap

S3_URI, GLUE_TABLES, FILE_SYSTEM = "s3 uri", "glue tables", "file system"


@dataclass(frozen=True)
class Input:
    path: str  # the argument, under its blocks: "training_data_config.s3_uri"
    kind: str  # S3_URI, GLUE_TABLES (path names the input_record_tables block) or FILE_SYSTEM


@dataclass(frozen=True)
class Trainer:
    what: str  # what creating the resource trains, as a noun phrase
    inputs: tuple[Input, ...]


def _s3(*paths: str) -> tuple[Input, ...]:
    return tuple(Input(path, S3_URI) for path in paths)


_MANIFESTS = ("input_data_config.augmented_manifests.s3_uri",
              "input_data_config.augmented_manifests.annotation_data_s3_uri",
              "input_data_config.augmented_manifests.source_documents_s3_uri")

# Training inputs the AWS APIs have and the provider's resources do not (5.100): the live audit reads them under
# these names (the API's, in Terraform's case); HCL and plans never set them, so they change nothing there.
# A distillation job's training data may be the model invocation logs under an S3 prefix; a classifier trained on
# native documents (PDF, Word) reads them from InputDataConfig.Documents beside its annotations.
_API_ONLY_BEDROCK = ("training_data_config.invocation_logs_config.invocation_log_source.s3_uri",)
_API_ONLY_CLASSIFIER = ("input_data_config.documents.s3_uri", "input_data_config.documents.test_s3_uri")

TRAINERS: dict[str, Trainer] = {
    "aws_bedrock_custom_model": Trainer(
        "a Bedrock model customization job (fine-tuning or continued pre-training)",
        _s3("training_data_config.s3_uri", "validation_data_config.validator.s3_uri", *_API_ONLY_BEDROCK)),
    "aws_comprehend_document_classifier": Trainer(
        "a custom Comprehend document classifier",
        _s3("input_data_config.s3_uri", "input_data_config.test_s3_uri", *_MANIFESTS, *_API_ONLY_CLASSIFIER)),
    "aws_comprehend_entity_recognizer": Trainer(
        "a custom Comprehend entity recognizer",
        _s3("input_data_config.documents.s3_uri", "input_data_config.documents.test_s3_uri",
            "input_data_config.annotations.s3_uri", "input_data_config.annotations.test_s3_uri",
            "input_data_config.entity_list.s3_uri", *_MANIFESTS)),
    "aws_transcribe_language_model": Trainer(
        "a Transcribe custom language model",
        _s3("input_data_config.s3_uri", "input_data_config.tuning_data_s3_uri")),
    "aws_glue_ml_transform": Trainer(
        "a Glue machine-learning transform (FindMatches)", (Input("input_record_tables", GLUE_TABLES),)),
    "aws_sagemaker_training_job": Trainer(
        "a SageMaker training job",
        (*_s3("input_data_config.data_source.s3_data_source.s3_uri"),
         Input("input_data_config.data_source.file_system_data_source.file_system_id", FILE_SYSTEM))),
}

BUCKET_TYPES = ("aws_s3_bucket",)
# Resources that stand for objects of a bucket: what they hold is in the bucket their `bucket` argument names.
_IN_BUCKET = ("aws_s3_object", "aws_s3_object_copy", "aws_s3_bucket_object", "aws_s3_access_point")
GLUE_TABLE_TYPES = ("aws_glue_catalog_table",)
FILE_SYSTEM_TYPES = ("aws_efs_file_system", "aws_fsx_lustre_file_system", "aws_fsx_ontap_file_system",
                     "aws_fsx_openzfs_file_system")

_FIX_VALUE = ("reference the store resource (s3://${aws_s3_bucket.x.bucket}/prefix), give the variable a value "
              "(a default, terraform.tfvars, --var), or scan the plan")


@dataclass(frozen=True)
class Source:
    """One argument value a training resource reads data from, and where it leads."""

    shown: str  # the argument and its value as evaluated: 'training_data_config.s3_uri = "s3://orders/train/"'
    stores: tuple[Resource, ...] = ()  # the stores it reads (a Glue table comes with its location's bucket)
    bucket: str | None = None  # a bucket the URI names that no resource or data source of the scan declares
    unresolved: str | None = None  # why it cannot be told what the value reads, and how to fix it


def trainer_of(resource: Resource) -> Trainer | None:
    return TRAINERS.get(resource.type)


def training_sources(resource: Resource, infra: Infrastructure) -> list[Source] | None:
    """What a training resource reads its data from (None for a type that trains nothing): one Source per value
    of each training-data argument set in its configuration."""
    trainer = trainer_of(resource)
    if trainer is None:
        return None
    sources: list[Source] = []
    for spec in trainer.inputs:
        if spec.kind == GLUE_TABLES:
            sources += _glue_sources(resource, infra, spec.path)
            continue
        values, unresolved = resource_values_at(resource, spec.path)
        sources += [Source(f"{spec.path} of {resource.address}", unresolved=f"{reason}; {_FIX_VALUE}")
                    for reason in unresolved]
        for value in values:
            if value is None or value == COMPUTED:
                continue  # not set: a plan shows an optional argument as null, or as the provider's default
            if spec.kind == S3_URI:
                sources.append(_s3_source(resource, infra, spec.path, value))
            else:
                sources.append(_file_system_source(resource, infra, spec.path, value))
    return sources


# --- S3 ----------------------------------------------------------------------------------------------------


def _s3_source(resource: Resource, infra: Infrastructure, path: str, value: Any) -> Source:
    text = as_text(value)
    shown = f'{path} = "{text}"' if text is not None else f"{path} = {unwrap(value)!r}"
    buckets = _buckets_referenced(resource, infra, path)
    if buckets:  # a reference decides, whatever text it rendered to
        return Source(shown, stores=tuple(_named_in(text, buckets) if len(buckets) > 1 else buckets))
    # Only the bucket must be known: a key prefix known after apply (a random suffix, a date) reads the same store.
    bucket_part = text.strip().removeprefix("s3://").split("/", 1)[0] if text and text.strip().startswith("s3://") \
        else ""
    if text is None or (is_unrendered(text) and (not bucket_part or is_unrendered(bucket_part))):
        reason = getattr(unwrap(value), "reason", "")
        because = f" ({reason})" if reason else ""
        return Source(shown, unresolved=f"the value could not be evaluated{because}; {_FIX_VALUE}")
    if not text.strip().startswith("s3://"):
        return Source(shown, unresolved="the value is not an s3:// URI, so the bucket it reads cannot be told")
    name = bucket_name_of(text)
    if not name:
        return Source(shown, unresolved="the URI names no bucket")
    found = buckets_named(name, resource, infra)
    return Source(shown, stores=tuple(found)) if found else Source(shown, bucket=name)


def _named_in(text: str | None, buckets: list[Resource]) -> list[Resource]:
    """The buckets a value names, when the edges of several blocks share one label (two training channels): by
    the bucket name it rendered to, or the reference left in its text; all of them when it names none."""
    if not text:
        return buckets
    name = bucket_name_of(text) if text.strip().startswith("s3://") else ""
    named = [b for b in buckets if (name and b.text("bucket") == name)
             or re.search(rf"(^|[^\w.]){re.escape(b.type)}\.{re.escape(b.name.split('[', 1)[0])}\b", text)]
    return named or buckets


def _buckets_referenced(resource: Resource, infra: Infrastructure, path: str) -> list[Resource]:
    found: list[Resource] = []
    for target in referenced_under(resource, path):
        if target.type in BUCKET_TYPES:
            found.append(target)
        elif target.type in _IN_BUCKET:  # an object's or access point's bucket
            held = [t for t in Infrastructure.referenced(target, "bucket") if t.type in BUCKET_TYPES]
            name = target.text("bucket")
            found += held or (buckets_named(name, target, infra) if name and not is_unrendered(name) else [])
    return list({id(t): t for t in found}.values())


def referenced_under(resource: Resource, path: str) -> list[Resource]:
    """The resources (and data sources) an argument refers to, written plainly or in dynamic blocks (edge labels
    such as `dynamic.input_data_config.content.s3_uri` are compared with the dynamic markers removed)."""
    plain = re.compile(rf"^{re.escape(path)}(\.|$)")
    return list({id(t): t for label, t in resource.references if plain.match(_without_dynamic(label))}.values())


def _without_dynamic(label: str) -> str:
    return re.sub(r"(^|\.)(dynamic|content|\d+)(?=\.|$)", "", label).strip(".").replace("..", ".")


def _name_index(infra: Infrastructure) -> dict[tuple[str, str], list[Resource]]:
    """(type, name) -> the resources and data sources of the whole scan that declare it, built once per model."""
    def build() -> dict[tuple[str, str], list[Resource]]:
        index: dict[tuple[str, str], list[Resource]] = {}
        for candidate in infra.resources + infra.data_sources:
            key = _declared_name(candidate)
            if key:
                index.setdefault(key, []).append(candidate)
        return index

    return infra.of_model("training input names", None, build)


def _declared_name(candidate: Resource) -> tuple[str, str] | None:
    if candidate.type in BUCKET_TYPES:
        name = candidate.text("bucket")
    elif candidate.type in GLUE_TABLE_TYPES:
        database, table = candidate.text("database_name"), candidate.text("name")
        name = f"{database}.{table}" if database and table else None
    else:
        return None
    if not name or is_unrendered(name):
        return None
    return candidate.type, name.strip()


def buckets_named(name: str, near: Resource, infra: Infrastructure) -> list[Resource]:
    """The buckets (resources or `data "aws_s3_bucket"`) with this name that `near`'s root declares."""
    return _nearest(_name_index(infra).get(("aws_s3_bucket", name.strip()), []), near)


def _nearest(found: list[Resource], near: Resource) -> list[Resource]:
    # Only the root's own: as for Terraform, another root's bucket is outside this configuration, and a scan of
    # one stack, of the whole repository or of one batch of a parallel scan must judge it alike.
    return [r for r in found if r.root_dir == near.root_dir]


# --- Glue tables -------------------------------------------------------------------------------------------


def _glue_sources(resource: Resource, infra: Infrastructure, path: str) -> list[Source]:
    blocks = resource_blocks(resource, path)
    sources = [Source(f"{path} of {resource.address}", unresolved=f"{reason}; {_FIX_VALUE}")
               for reason in blocks.unresolved]
    referenced = [t for t in referenced_under(resource, path) if t.type in GLUE_TABLE_TYPES]
    for block in blocks.found:
        database, table = as_text(block.get("database_name")), as_text(block.get("table_name"))
        shown = f'{path} {{ database_name = "{database}", table_name = "{table}" }}'
        known = database and table and not is_unrendered(database) and not is_unrendered(table)
        tables = [t for t in referenced if _declared_name(t) == ("aws_glue_catalog_table", f"{database}.{table}")] \
            if known else []
        if not tables and known:
            tables = _nearest(_name_index(infra).get(("aws_glue_catalog_table", f"{database}.{table}"), []),
                              resource)
        if not tables and not known and referenced:
            tables = referenced  # names known only after apply, but the references say which tables
        if not tables:
            why = (f'no aws_glue_catalog_table (or data source) "{database}.{table}" is declared in this scan, so '
                   'what it holds cannot be classified; declare the table (and its S3 location) or a data '
                   '"aws_glue_catalog_table" block classified through classification.rules') if known else \
                f"the table could not be evaluated; {_FIX_VALUE}"
            sources.append(Source(shown, unresolved=why))
            continue
        shown += f" ({', '.join(found.describe() for found in tables)})"
        stores: list[Resource] = []
        for found in tables:
            stores.append(found)
            stores += table_location_buckets(found, infra)
        sources.append(Source(shown, stores=tuple({id(s): s for s in stores}.values())))
    return sources


def table_location_buckets(table: Resource, infra: Infrastructure) -> list[Resource]:
    """The buckets a Glue table's storage_descriptor.location points at (by reference, else by name)."""
    found = [t for t in referenced_under(table, "storage_descriptor.location") if t.type in BUCKET_TYPES]
    if found:
        return found
    values, _ = resource_values_at(table, "storage_descriptor.location")
    for value in values:
        text = as_text(value)
        if text and not is_unrendered(text) and text.strip().startswith("s3://"):
            found += buckets_named(bucket_name_of(text), table, infra)
    return found


# --- file systems ------------------------------------------------------------------------------------------


def _file_system_source(resource: Resource, infra: Infrastructure, path: str, value: Any) -> Source:
    text = as_text(value)
    shown = f'{path} = "{text}"' if text is not None else f"{path} = {unwrap(value)!r}"
    systems = [t for t in referenced_under(resource, path) if t.type in FILE_SYSTEM_TYPES]
    if systems:
        return Source(shown, stores=tuple(_named_in(text, systems) if len(systems) > 1 else systems))
    return Source(shown, unresolved="the file system is not a resource of this scan (a file system ID is known "
                                    "only after apply), so what it holds cannot be classified; reference the "
                                    "aws_efs_file_system or aws_fsx_*_file_system resource")
