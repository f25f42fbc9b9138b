"""Data-access logging of a store: which mechanism each AWS service has, and whether the configuration turns it on.

Service semantics live here, the policy sentence in rules/access_audited.py:
- S3 buckets: server access logging (aws_s3_bucket_logging, the inline `logging` block) or CloudTrail data events
  (AWS::S3::Object) whose selectors cover the bucket;
- DynamoDB, SQS, SNS, Kinesis, Glue tables, Keyspaces, Timestream, QLDB, S3 directory and table buckets:
  CloudTrail data events of the store's resource type covering it;
- databases: the engine's audit log (log exports plus the parameter or option group that turns the audit on),
  or an RDS database activity stream;
- stores read through control-plane calls (Secrets Manager, SSM parameters, log groups, vaults, ...): CloudTrail
  management events, which any enabled trail covering the region records unless its selectors exclude reads;
- stores AWS records no data access for (EFS, EBS, caches, ...): stated as such, never passed.

A trail covers a store when it is enabled, covers the store's region (multi-region or the same region) and, when
both accounts are known, is in the store's account (or is an organisation trail). Selectors are matched on
references (edges) where they name a resource, on ARNs where they are literal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.arn import parse_arn
from data_handling.model.blocks import string_list
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.nested_blocks import blocks, resource_blocks
from data_handling.model.records import Resource
from data_handling.model.values import Known, ReferenceText, Unevaluated, Unknown, as_text, is_unrendered, unwrap


@dataclass(frozen=True)
class DataEvents:
    """CloudTrail data events of one resource type, and how a store of it is named in selectors."""

    event_type: str  # resources.type: AWS::DynamoDB::Table
    service: str  # the ARN's service field
    resource: tuple[str, ...]  # the ARN's resource field, as format pieces: attribute names in braces
    family: str | None  # the audit.organization_trail.data_events family that declares it, if any
    basic_selector: bool = False  # also in event_selector.data_resource (S3 objects, DynamoDB tables)


@dataclass(frozen=True)
class Spec:
    kind: str  # "s3", "data", "management", "database", "none", "not applicable"
    service: str  # the service, as findings name it
    events: DataEvents | None = None
    why: str = ""  # for "none" and "not applicable": the reason


S3_OBJECTS = DataEvents("AWS::S3::Object", "s3", ("{bucket}",), "s3", basic_selector=True)
SPECS: dict[str, Spec] = {
    "aws_s3_bucket": Spec("s3", "S3", S3_OBJECTS),
    "aws_s3_directory_bucket": Spec("data", "S3 Express One Zone", DataEvents(
        "AWS::S3Express::Object", "s3express", ("bucket/{bucket}",), "s3")),
    "aws_s3tables_table_bucket": Spec("data", "S3 Tables", DataEvents(
        "AWS::S3Tables::TableBucket", "s3tables", ("bucket/{name}",), None)),
    "aws_dynamodb_table": Spec("data", "DynamoDB", DataEvents(
        "AWS::DynamoDB::Table", "dynamodb", ("table/{name}",), "dynamodb", basic_selector=True)),
    "aws_sqs_queue": Spec("data", "SQS", DataEvents("AWS::SQS::Queue", "sqs", ("{name}",), "sqs")),
    "aws_sns_topic": Spec("data", "SNS", DataEvents("AWS::SNS::Topic", "sns", ("{name}",), "sns")),
    "aws_kinesis_stream": Spec("data", "Kinesis Data Streams", DataEvents(
        "AWS::Kinesis::Stream", "kinesis", ("stream/{name}",), "kinesis")),
    "aws_glue_catalog_table": Spec("data", "Glue Data Catalog", DataEvents(
        "AWS::Glue::Table", "glue", ("table/{database_name}/{name}",), "glue")),
    "aws_keyspaces_table": Spec("data", "Keyspaces", DataEvents(
        "AWS::Cassandra::Table", "cassandra", ("/keyspace/{keyspace_name}/table/{table_name}",), None)),
    "aws_timestreamwrite_table": Spec("data", "Timestream", DataEvents(
        "AWS::Timestream::Table", "timestream", ("database/{database_name}/table/{table_name}",), None)),
    "aws_qldb_ledger": Spec("data", "QLDB", DataEvents("AWS::QLDB::Ledger", "qldb", ("ledger/{name}",), None)),
    # Reads are control-plane API calls that CloudTrail records as management events.
    "aws_secretsmanager_secret": Spec("management", "Secrets Manager (GetSecretValue)"),
    "aws_ssm_parameter": Spec("management", "SSM Parameter Store (GetParameter)"),
    "aws_cloudwatch_log_group": Spec("management", "CloudWatch Logs (GetLogEvents, FilterLogEvents, StartQuery)"),
    "aws_glue_catalog_database": Spec("management", "Glue Data Catalog (GetDatabase, GetTables)"),
    "aws_backup_vault": Spec("management", "AWS Backup (StartRestoreJob)"),
    "aws_glacier_vault": Spec("management", "S3 Glacier (InitiateJob, GetJobOutput)"),
    "aws_dsql_cluster": Spec("management", "Aurora DSQL (DbConnect, DbConnectAdmin)"),
    "aws_kms_key": Spec("management", "KMS (Decrypt, GenerateDataKey)"),
    # Databases: the engine's own audit log.
    "aws_db_instance": Spec("database", "RDS"),
    "aws_rds_cluster": Spec("database", "Aurora / RDS Multi-AZ cluster"),
    "aws_docdb_cluster": Spec("database", "DocumentDB"),
    "aws_neptune_cluster": Spec("database", "Neptune"),
    "aws_redshift_cluster": Spec("database", "Redshift"),
    "aws_redshiftserverless_namespace": Spec("database", "Redshift Serverless"),
    "aws_opensearch_domain": Spec("database", "OpenSearch"),
    "aws_elasticsearch_domain": Spec("database", "OpenSearch (Elasticsearch)"),
    "aws_fsx_windows_file_system": Spec("database", "FSx for Windows File Server"),
    # AWS records no access to the data these hold.
    "aws_efs_file_system": Spec("none", "EFS", why="NFS reads and writes are not recorded by CloudTrail or EFS"),
    "aws_ebs_volume": Spec("none", "EBS", why="block reads and writes of an attached volume are not recorded; "
                           "only the instance's operating system can audit file access"),
    "aws_fsx_lustre_file_system": Spec("none", "FSx for Lustre", why="file access is not recorded by AWS"),
    "aws_fsx_openzfs_file_system": Spec("none", "FSx for OpenZFS", why="file access is not recorded by AWS"),
    "aws_fsx_ontap_file_system": Spec("none", "FSx for NetApp ONTAP", why="file access auditing is configured in "
                                      "ONTAP (vserver audit), which the AWS provider does not show"),
    "aws_elasticache_cluster": Spec("none", "ElastiCache", why="commands are not recorded by CloudTrail or an "
                                    "engine audit log"),
    "aws_elasticache_replication_group": Spec("none", "ElastiCache", why="commands are not recorded by CloudTrail "
                                              "or an engine audit log"),
    "aws_elasticache_serverless_cache": Spec("none", "ElastiCache Serverless", why="commands are not recorded by "
                                             "CloudTrail or an engine audit log"),
    "aws_memorydb_cluster": Spec("none", "MemoryDB", why="commands are not recorded by CloudTrail or an engine "
                                 "audit log"),
    "aws_dax_cluster": Spec("none", "DAX", why="reads through DAX are not recorded by CloudTrail"),
    "aws_msk_cluster": Spec("none", "MSK", why="Kafka produce and fetch requests are not recorded by CloudTrail, "
                            "and broker logs do not record them by default"),
    # A delivery stream buffers records in transit: the store it delivers to is judged.
    "aws_kinesis_firehose_delivery_stream": Spec("not applicable", "Firehose", why="a delivery stream holds "
                                                 "records only in transit; its destination store is judged"),
}


@dataclass
class AuditLogging:
    """What a store's data-access logging looks like: mechanisms found, looked for, near misses, unknowns."""

    store: Resource
    service: str
    looked_for: list[str] = field(default_factory=list)
    found: list[str] = field(default_factory=list)  # mechanisms that log access to the store
    notes: list[str] = field(default_factory=list)  # caveats of a mechanism found (a group outside the configuration)
    near: list[str] = field(default_factory=list)  # mechanisms present that do not log access to this store, and why
    unresolved: list[str] = field(default_factory=list)  # values that could not be evaluated
    family: str | None = None  # the organisation-trail family that would declare it
    management: bool = False  # logged by management events: any declared organisation trail covers it
    no_mechanism: str = ""  # AWS records no access: why
    unknown_type: bool = False


def access_logging(store: Resource, infra: Infrastructure) -> AuditLogging | None:
    """The data-access logging of a store; None when the type holds no data at rest to audit (Firehose) or the
    store is audited elsewhere (an Aurora cluster member instance: its cluster is judged)."""
    spec = SPECS.get(store.type)
    if spec is None:
        return AuditLogging(store, store.type, unknown_type=True)
    if spec.kind == "not applicable":
        return None
    logging = AuditLogging(store, spec.service)
    if spec.kind == "none":
        logging.no_mechanism = spec.why
        return logging
    if spec.kind == "management":
        logging.management = True
        logging.looked_for.append("an enabled aws_cloudtrail covering its region that records read management "
                                  "events")
        _trails(logging, infra, None)
        return logging
    if spec.kind == "database":
        if store.type == "aws_db_instance" and _aurora_member(store):
            return None
        _database(logging, infra)
        return logging
    if spec.kind == "s3":
        _server_access_logging(logging, infra)
    assert spec.events is not None
    logging.family = spec.events.family
    logging.looked_for.append(f"an enabled aws_cloudtrail covering its region with {spec.events.event_type} data "
                              "events selecting it")
    _trails(logging, infra, spec.events)
    return logging


# --- S3 server access logging ---------------------------------------------------------------------------------


def _server_access_logging(logging: AuditLogging, infra: Infrastructure) -> None:
    bucket = logging.store
    logging.looked_for.append("server access logging (aws_s3_bucket_logging or the bucket's logging block)")
    inline = resource_blocks(bucket, "logging")
    logging.unresolved += [f"the logging block of {bucket.describe()}: {why}" for why in inline.unresolved]
    for block in inline.found:
        logging.found.append(f"the logging block of {bucket.describe()} (target_bucket "
                             f"{_shown(block.get('target_bucket'))})")
    configured = [source for label, source in infra.referrers(bucket)
                  if source.type == "aws_s3_bucket_logging" and label == "bucket"]
    name = _literal(bucket.get("bucket"))
    if name:
        configured += [source for source in infra.named(bucket, ("aws_s3_bucket_logging",), "bucket", name)
                       if source not in configured and _literal(source.get("bucket")) == name
                       and not Infrastructure.referenced(source, "bucket")]
    for source in configured:
        logging.found.append(f"{source.describe()} (target_bucket {_shown(source.get('target_bucket'))})")


# --- CloudTrail ---------------------------------------------------------------------------------------------------


def _trails(logging: AuditLogging, infra: Infrastructure, events: DataEvents | None) -> None:
    store = logging.store
    trails = infra.in_same_root(store, "aws_cloudtrail")
    if not trails:
        logging.near.append("no aws_cloudtrail in this configuration")
    for trail in trails:
        reach = _reaches(trail, store, infra)
        if reach is not None:
            (logging.unresolved if reach.startswith("?") else logging.near).append(reach.lstrip("?"))
            continue
        covered, near, unresolved = (_data_events(trail, store, events, infra) if events is not None
                                     else _management_events(trail))
        if covered:
            logging.found.append(f"{trail.describe()}: {covered}")
        logging.near += [f"{trail.describe()} {why}" for why in near] if not covered else []
        logging.unresolved += [f"{trail.describe()}: {why}" for why in unresolved] if not covered else []


def _reaches(trail: Resource, store: Resource, infra: Infrastructure) -> str | None:
    """Why a trail does not record the store's region or account ("?..." when that cannot be evaluated)."""
    enabled = unwrap(trail.config.get("enable_logging"))
    if enabled is False or (isinstance(enabled, str) and enabled.strip().lower() == "false"):
        return f"{trail.describe()} has enable_logging = false"
    if isinstance(enabled, str) and is_unrendered(enabled):
        return f"?enable_logging of {trail.describe()} is {enabled!r}, which could not be evaluated"
    multi_region = unwrap(trail.config.get("is_multi_region_trail"))
    if isinstance(multi_region, str) and is_unrendered(multi_region):
        return f"?is_multi_region_trail of {trail.describe()} is {multi_region!r}, which could not be evaluated"
    if not (multi_region is True or str(multi_region).lower() == "true"):
        trail_region, store_region = infra.region_of(trail), infra.region_of(store)
        if isinstance(trail_region, Unknown):
            return f"?{trail.describe()} is a single-region trail whose region cannot be determined: " \
                   f"{trail_region.reason}"
        if isinstance(store_region, Unknown):
            return f"?{trail.describe()} is a single-region trail, and the store's region cannot be determined: " \
                   f"{store_region.reason}"
        if trail_region.value != store_region.value:
            return (f"{trail.describe()} is a single-region trail in {trail_region.value}, and the store is in "
                    f"{store_region.value} (set is_multi_region_trail = true)")
    organization = unwrap(trail.config.get("is_organization_trail"))
    if organization is True or str(organization).lower() == "true":
        return None
    trail_account, store_account = infra.account_of(trail), infra.account_of(store)
    if isinstance(trail_account, Known) and isinstance(store_account, Known) and \
            not trail_account.value & store_account.value:
        return (f"{trail.describe()} is in account {', '.join(sorted(trail_account.value))} and the store in "
                f"{', '.join(sorted(store_account.value))}, and it is not an organisation trail")
    return None


def _management_events(trail: Resource) -> tuple[str, list[str], list[str]]:
    """(how the trail records read management events, or ""; why not; what could not be evaluated)."""
    advanced = resource_blocks(trail, "advanced_event_selector")
    basic = resource_blocks(trail, "event_selector")
    unresolved = advanced.unresolved + basic.unresolved
    if not advanced.found and not basic.found:
        if unresolved:
            return "", [], unresolved
        return "no event selectors, so it records all management events, reads included", [], []
    near: list[str] = []
    if advanced.found:
        for index, selector in enumerate(advanced.found):
            fields = _field_selectors(selector)
            category = fields.get("eventCategory", {})
            if "Management" not in category.get("equals", []):
                continue
            if _read_only_excluded(fields):
                near.append(f"advanced_event_selector {index} records management events but not reads "
                            "(readOnly = false)")
                continue
            return f"advanced_event_selector {_name(selector, index)} records management events", [], []
        return "", near or ["has advanced event selectors, none of which records management events"], unresolved
    for index, selector in enumerate(basic.found):
        include = unwrap(selector.get("include_management_events"))
        if include is False or str(include).lower() == "false":
            continue
        if isinstance(include, str) and is_unrendered(include):
            unresolved.append(f"include_management_events of event_selector {index} is {include!r}")
            continue
        read_write = as_text(selector.get("read_write_type")) or "All"
        if read_write == "WriteOnly":
            near.append(f"event_selector {index} records management events with read_write_type = WriteOnly, "
                        "so reads are not recorded")
            continue
        return f"event_selector {index} records management events (read_write_type = {read_write})", [], []
    return "", near or ["has event selectors, none of which records management events "
                        "(include_management_events = false)"], unresolved


def _data_events(trail: Resource, store: Resource, events: DataEvents,
                 infra: Infrastructure) -> tuple[str, list[str], list[str]]:
    """(the selector that records data events of the store, or ""; near misses; what could not be evaluated)."""
    identity = _identity(store, events, infra)
    advanced = resource_blocks(trail, "advanced_event_selector")
    if advanced.found or advanced.unresolved:
        return _advanced(trail, store, events, identity, advanced.found, list(advanced.unresolved))
    basic = resource_blocks(trail, "event_selector")
    near: list[str] = []
    unresolved = list(basic.unresolved)
    for i, selector in enumerate(basic.found):
        data_resources = blocks(selector, "data_resource")
        unresolved += data_resources.unresolved
        for j, data_resource in enumerate(data_resources.found):
            kind = as_text(data_resource.get("type")) or ""
            if kind != events.event_type or not events.basic_selector:
                continue
            where = f"event_selector {i} data_resource {j}"
            values = string_list(data_resource.get("values"))
            path = (("event_selector", i, len(basic.found)), ("data_resource", j, len(data_resources.found)))
            verdict, why, doubt = _match(trail, store, identity, values, path, "values", "starts_with")
            if doubt:
                unresolved.append(f"{where}: {doubt}")
            if not verdict:
                if why:
                    near.append(f"{where} ({events.event_type}) {why}")
                continue
            read_write = as_text(selector.get("read_write_type")) or "All"
            if read_write == "WriteOnly":
                near.append(f"{where} selects it with read_write_type = WriteOnly, so reads are not recorded")
                continue
            return f"{where} records its {events.event_type} data events ({why})", [], []
    if not near:
        near.append(f"records no {events.event_type} data events of it")
    return "", near, unresolved


def _advanced(trail: Resource, store: Resource, events: DataEvents, identity: _Identity,
              selectors: list[dict[str, Any]], unresolved: list[str]) -> tuple[str, list[str], list[str]]:
    near: list[str] = []
    for i, selector in enumerate(selectors):
        where = f"advanced_event_selector {_name(selector, i)}"
        fields = _field_selectors(selector)
        if "Data" not in fields.get("eventCategory", {}).get("equals", []):
            continue
        if events.event_type not in fields.get("resources.type", {}).get("equals", []):
            continue
        if _read_only_excluded(fields):
            near.append(f"{where} records {events.event_type} data events but not reads (readOnly = false)")
            continue
        narrowed = [f"{name} {operator} {values}" for name, operators in fields.items()
                    if name not in ("eventCategory", "resources.type", "resources.ARN", "readOnly")
                    for operator, values in operators.items() if not operator.startswith("not_")]
        if narrowed:
            near.append(f"{where} records only some events ({'; '.join(narrowed)})")
            continue
        arn = fields.get("resources.ARN")
        if not arn:
            return f"{where} records all {events.event_type} data events", [], []
        position = _field_position(selector, "resources.ARN")
        path = (("advanced_event_selector", i, len(selectors)),
                ("field_selector", position, len(blocks(selector, "field_selector").found)))
        excluded = False
        for operator in ("not_equals", "not_starts_with", "not_ends_with"):
            if operator in arn:
                hit, why, doubt = _match(trail, store, identity, arn[operator], path, operator,
                                         operator.removeprefix("not_"))
                if doubt:
                    unresolved.append(f"{where}: {doubt}")
                if hit:
                    near.append(f"{where} excludes it: resources.ARN {operator} ({why})")
                    excluded = True
        if excluded:
            continue
        includes = {op: values for op, values in arn.items() if not op.startswith("not_")}
        if not includes:
            return f"{where} records all {events.event_type} data events but those it excludes", [], []
        reasons = []
        for operator, values in includes.items():
            hit, why, doubt = _match(trail, store, identity, values, path, operator, operator)
            if doubt:
                unresolved.append(f"{where}: {doubt}")
            if hit:
                return f"{where} records its {events.event_type} data events (resources.ARN {operator}: {why})", \
                    [], []
            if why:
                reasons.append(f"resources.ARN {operator} {why}")
        near.append(f"{where} ({events.event_type}) " + ("; ".join(reasons) or "does not select it"))
    if not near:
        near.append(f"records no {events.event_type} data events of it")
    return "", near, unresolved


def _field_selectors(selector: dict[str, Any]) -> dict[str, dict[str, list[str]]]:
    """field -> operator -> values of an advanced event selector."""
    fields: dict[str, dict[str, list[str]]] = {}
    for block in blocks(selector, "field_selector").found:
        name = as_text(block.get("field")) or ""
        for operator in ("equals", "not_equals", "starts_with", "not_starts_with", "ends_with", "not_ends_with"):
            values = string_list(block.get(operator))
            if values:  # a plan lists every operator, the unused ones empty
                fields.setdefault(name, {}).setdefault(operator, []).extend(values)
    return fields


def _field_position(selector: dict[str, Any], name: str) -> int:
    for position, block in enumerate(blocks(selector, "field_selector").found):
        if as_text(block.get("field")) == name:
            return position
    return 0


def _read_only_excluded(fields: dict[str, dict[str, list[str]]]) -> bool:
    read_only = fields.get("readOnly", {})
    return [str(v).lower() for v in read_only.get("equals", [])] == ["false"] or \
        "true" in [str(v).lower() for v in read_only.get("not_equals", [])]


def _name(selector: dict[str, Any], index: int) -> str:
    name = as_text(selector.get("name"))
    return f'"{name}"' if name else str(index)


# --- matching a selector's values to a store --------------------------------------------------------------------


@dataclass(frozen=True)
class _Identity:
    """How selectors name a store: its ARN (S3: the prefix of its objects), when its parts are known."""

    arn: str | None  # arn:aws:s3:::orders/ ; arn:aws:dynamodb:eu-west-1:123456789012:table/orders
    service: str
    resource: str | None  # the resource field, for literal ARNs whose account or region is not known here
    region: str | None
    account: str | None


def _identity(store: Resource, events: DataEvents, infra: Infrastructure) -> _Identity:
    parts = []
    for piece in events.resource:
        text = piece
        for attribute in re.findall(r"\{(\w+)\}", piece):
            value = _literal(store.get(attribute))
            if value is None:
                return _Identity(None, events.service, None, None, None)
            text = text.replace(f"{{{attribute}}}", value)
        parts.append(text)
    resource = "".join(parts)
    if events.service == "s3":
        return _Identity(f"arn:aws:s3:::{resource}/", "s3", resource, None, None)
    region = infra.region_of(store)
    account = infra.account_of(store)
    region_text = region.value if isinstance(region, Known) else None
    account_text = sorted(account.value)[0] if isinstance(account, Known) and len(account.value) == 1 else None
    arn = f"arn:aws:{events.service}:{region_text}:{account_text}:{resource}" if region_text and account_text \
        else None
    return _Identity(arn, events.service, resource, region_text, account_text)


_ALL_OF = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+)(:(:?)?)?$")


def _match(trail: Resource, store: Resource, identity: _Identity, values: list[Any],
           path: tuple[tuple[str, int, int], ...], attribute: str, operator: str) -> tuple[bool, str, str]:
    """(whether the values select the whole store, what they name, what could not be evaluated)."""
    targets = _block_targets(trail, path, attribute)
    shown: list[str] = []
    doubts: list[str] = []
    # A plan shows a list holding a reference as that one reference: the expression's references are the list.
    whole_list = trail.provider_key is not None and len(values) == 1 and _reference_like(as_text(values[0]) or "")
    for value in values:
        text = as_text(value)
        if text is None:
            continue
        named = targets if whole_list else [target for target in targets if _names(value, target, trail)]
        if store in named:
            suffix = _after_reference(text)
            if operator in ("starts_with", "equals", "ends_with") and suffix in ("", "/") and \
                    not (identity.service == "s3" and operator == "equals"):
                return True, f'"{text}" names {store.address}', ""
            shown.append(f'"{text}" selects only part of it')
            continue
        if named:
            shown.append(f'"{text}" names {", ".join(t.address for t in named)}')
            continue
        if isinstance(value, ReferenceText) or _reference_like(text):
            if not targets:
                doubts.append(f'"{text}" could not be evaluated; reference the store or write its ARN')
            else:
                shown.append(f'"{text}"')
            continue
        covered, why = _literal_covers(text, identity, operator)
        if covered:
            return True, why, ""
        shown.append(why)
    return False, ", ".join(shown), "; ".join(doubts)


def _literal_covers(text: str, identity: _Identity, operator: str) -> tuple[bool, str]:
    every = _ALL_OF.match(text.strip())
    if every and operator == "starts_with":
        if every.group("service") == identity.service:
            return True, f'"{text}" selects every {identity.service} resource'
        return False, f'"{text}" selects {every.group("service")} resources'
    if identity.resource is None:
        return False, f'"{text}" (the store\'s name is not known, so a literal ARN cannot be matched)'
    if identity.service == "s3":
        object_prefix = identity.arn or ""
        if operator == "starts_with" and object_prefix.startswith(text.strip()):
            return True, f'"{text}" selects every object of it'
        if text.strip().startswith(object_prefix):
            return False, f'"{text}" selects only some of its objects'
        return False, f'"{text}" selects another bucket'
    arn = parse_arn(text)
    if arn is None:
        if operator == "starts_with" and identity.arn and identity.arn.startswith(text.strip()):
            return True, f'"{text}" is a prefix of its ARN'
        return False, f'"{text}"'
    same = arn.service == identity.service and (not identity.region or arn.region == identity.region) and \
        (not identity.account or not arn.account.isdigit() or arn.account == identity.account)
    if same and (arn.resource == identity.resource or
                 (operator == "starts_with" and identity.resource.startswith(arn.resource))):
        return True, f'"{text}" is its ARN'
    return False, f'"{text}" names another resource'


def _block_targets(trail: Resource, path: tuple[tuple[str, int, int], ...], attribute: str) -> list[Resource]:
    """The resources the references of one nested block's attribute point at. HCL labels number a block only
    among several (event_selector.1.data_resource.values); a plan's labels never do, so there the values decide."""
    from_plan = trail.provider_key is not None
    found = []
    for label, target in trail.references:
        parts = label.split(".")
        position = 0
        ok = True
        for name, index, _count in path:
            if position >= len(parts) or parts[position] != name:
                ok = False
                break
            position += 1
            if position < len(parts) and parts[position].isdigit():
                ok = int(parts[position]) == index
                position += 1
            else:
                ok = index == 0 or from_plan
            if not ok:
                break
        if ok and parts[position:] == [attribute]:
            found.append(target)
    return found


_REFERENCE_HEAD = re.compile(r"(?:\$\{)?(module\.[A-Za-z0-9_-]+|(?:data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+)")


def _names(value: Any, target: Resource, trail: Resource) -> bool:
    """Whether a selector value is a reference to `target` (HCL: the instance it remembers; a plan: the text)."""
    if isinstance(value, ReferenceText) and value.target:
        return value.target == target.address
    text = as_text(value) or ""
    if target.address in text:
        return True
    match = _REFERENCE_HEAD.search(text)
    if not match:
        return False
    head = match.group(1)
    inside = target.module.removeprefix(f"{trail.module}.") if trail.module else target.module
    if head.startswith("module."):
        return inside == head or inside.startswith(f"{head}.") or inside.startswith(f"{head}[")
    return not inside and head == f"{target.type}.{target.name}"


def _reference_like(text: str) -> bool:
    """A value that is an expression left as text: an interpolation, or a reference such as aws_x.y.arn."""
    return is_unrendered(text) or bool(re.match(r"^(data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+", text.strip()))


def _after_reference(text: str) -> str:
    """What a template adds after its last interpolation: "/" in "${aws_s3_bucket.b.arn}/"."""
    if "${" in text:
        return text[text.rfind("}") + 1:]
    return ""


# --- databases ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """A parameter or option group the audit needs: where the store names it, and what must be set in it."""

    attribute: str  # the store's argument naming the group
    group_type: str
    need: str  # how findings say what must be set
    default_missing: str  # what the default group lacks


def _aurora_member(instance: Resource) -> bool:
    engine = (instance.text("engine") or "").lower()
    return bool(instance.text("cluster_identifier") or Infrastructure.referenced(instance, "cluster_identifier")
                or engine.startswith("aurora"))


_DOCDB = _Group("db_cluster_parameter_group_name", "aws_docdb_cluster_parameter_group",
                "audit_logs = all or dml_read (enabled logs DDL and authentication only)",
                "the default cluster parameter group sets audit_logs = disabled")
_NEPTUNE = _Group("neptune_cluster_parameter_group_name", "aws_neptune_cluster_parameter_group",
                  "neptune_enable_audit_log = 1",
                  "the default cluster parameter group sets neptune_enable_audit_log = 0")
_AURORA_MYSQL = _Group("db_cluster_parameter_group_name", "aws_rds_cluster_parameter_group",
                       "server_audit_logging = 1", "the default cluster parameter group sets server_audit_logging = 0")
_MYSQL_OPTION = _Group("option_group_name", "aws_db_option_group", "the MARIADB_AUDIT_PLUGIN option",
                       "the default option group has no audit plugin, so the audit log stays empty")
_PGAUDIT = "shared_preload_libraries with pgaudit and pgaudit.log set (for example read,write)"
_PG_INSTANCE = _Group("parameter_group_name", "aws_db_parameter_group", _PGAUDIT,
                      "the default parameter group does not load pgaudit")
_PG_CLUSTER = _Group("db_cluster_parameter_group_name", "aws_rds_cluster_parameter_group", _PGAUDIT,
                     "the default cluster parameter group does not load pgaudit")
_SQLSERVER = _Group("option_group_name", "aws_db_option_group", "the SQLSERVER_AUDIT option",
                    "the default option group has no SQL Server Audit")
_DB2 = _Group("option_group_name", "aws_db_option_group", "the DB2_AUDIT option",
              "the default option group has no Db2 audit")
_REDSHIFT = _Group("cluster_parameter_group_name", "aws_redshift_parameter_group",
                   "enable_user_activity_logging = true (the queries run)",
                   "the default parameter group sets enable_user_activity_logging = false, so the queries run are "
                   "not logged")
_EXPORTS = "enabled_cloudwatch_logs_exports"


def _database(logging: AuditLogging, infra: Infrastructure) -> None:
    store = logging.store
    kind = store.type
    if kind in ("aws_db_instance", "aws_rds_cluster"):
        _rds(logging, infra)
        _activity_stream(logging, infra)
    elif kind == "aws_docdb_cluster":
        if _exports(logging, _EXPORTS, "audit", _DOCDB):
            _group(logging, infra, _DOCDB,
                   lambda p: _has_value(p, "audit_logs", lambda v: bool({"all", "dml_read"} & _words(v))))
    elif kind == "aws_neptune_cluster":
        if _exports(logging, _EXPORTS, "audit", _NEPTUNE):
            _group(logging, infra, _NEPTUNE,
                   lambda p: _has_value(p, "neptune_enable_audit_log", lambda v: v.strip() in ("1", "true")))
    elif kind == "aws_redshift_cluster":
        _redshift(logging, infra)
    elif kind == "aws_redshiftserverless_namespace":
        if _exports(logging, "log_exports", "useractivitylog"):
            logging.found.append(f'log_exports of {store.describe()} has "useractivitylog"')
    elif kind in ("aws_opensearch_domain", "aws_elasticsearch_domain"):
        _opensearch(logging)
    elif kind == "aws_fsx_windows_file_system":
        logging.looked_for.append("audit_log_configuration with file_access_audit_log_level other than DISABLED")
        configured = resource_blocks(store, "audit_log_configuration")
        logging.unresolved += configured.unresolved
        for block in configured.found:
            level = as_text(block.get("file_access_audit_log_level")) or "DISABLED"
            if is_unrendered(level):
                logging.unresolved.append(f"file_access_audit_log_level is {level!r}, which could not be evaluated")
            elif level.upper() != "DISABLED":
                logging.found.append(f"audit_log_configuration of {store.describe()} (file_access_audit_log_level = "
                                     f"{level})")
            else:
                logging.near.append("audit_log_configuration sets file_access_audit_log_level = DISABLED")
        if not configured.found and not configured.unresolved:
            logging.near.append("no audit_log_configuration (file access auditing is off by default)")


def _engine(store: Resource) -> tuple[str | None, bool]:
    """A database's engine as text, and whether it is known only after apply (left unevaluated: the text of an
    expression need not look like one)."""
    engine = store.text("engine")
    return engine, engine is not None and (isinstance(unwrap(store.config.get("engine")), Unevaluated)
                                           or is_unrendered(engine))


def _rds(logging: AuditLogging, infra: Infrastructure) -> None:
    store = logging.store
    engine, unknown_engine = _engine(store)
    cluster = store.type == "aws_rds_cluster"
    if (engine is None or unknown_engine) and store.get("replicate_source_db") is not None:
        # A read replica has its source's engine, whatever it writes (RDS gives it the source's): modules set none
        # (terraform-aws-modules/rds replica examples), or one Terraform knows only after apply
        # (`local.is_replica ? null : var.engine`, with is_replica read from the source's ARN).
        sources = [source for source in infra.referenced(store, "replicate_source_db")
                   if source.type == "aws_db_instance" and source is not store]
        engines = {_engine(source) for source in sources}
        if len(engines) == 1:
            engine, unknown_engine = engines.pop()
    if engine is None or unknown_engine:
        logging.looked_for.append("the engine's audit log")
        logging.unresolved.append(f"the engine of {store.describe()} is {engine!r}, so which audit log it has "
                                  "cannot be told; set engine to a known value")
        return
    engine = engine.strip().lower()
    if engine in ("aurora", "aurora-mysql"):
        if _exports(logging, _EXPORTS, "audit", _AURORA_MYSQL):
            _group(logging, infra, _AURORA_MYSQL,
                   lambda p: _has_value(p, "server_audit_logging", lambda v: v.strip().lower() in ("1", "on")))
    elif engine in ("mysql", "mariadb") and not cluster:
        if _exports(logging, _EXPORTS, "audit", _MYSQL_OPTION):
            _group(logging, infra, _MYSQL_OPTION, lambda g: _has_option(g, "MARIADB_AUDIT_PLUGIN"))
    elif engine in ("postgres", "aurora-postgresql"):
        group = _PG_CLUSTER if cluster else _PG_INSTANCE
        if _exports(logging, _EXPORTS, "postgresql", group):
            _group(logging, infra, group, _pgaudit)
    elif engine.startswith("oracle"):
        if _exports(logging, _EXPORTS, "audit"):
            logging.found.append(f'{_EXPORTS} of {store.describe()} has "audit" (the Oracle audit files)')
    elif engine.startswith("sqlserver") and not cluster:
        _group(logging, infra, _SQLSERVER, lambda g: _has_option(g, "SQLSERVER_AUDIT"), looked_for=True)
    elif engine.startswith("db2") and not cluster:
        _group(logging, infra, _DB2, lambda g: _has_option(g, "DB2_AUDIT"), looked_for=True)
    else:
        logging.looked_for.append("the engine's audit log")
        logging.near.append(f'engine "{engine}" has no audit log this check knows')


def _activity_stream(logging: AuditLogging, infra: Infrastructure) -> None:
    logging.looked_for.append("a database activity stream (aws_rds_cluster_activity_stream)")
    for label, source in infra.referrers(logging.store):
        if source.type == "aws_rds_cluster_activity_stream" and label == "resource_arn":
            logging.found.append(f"{source.describe()} streams its database activity")


def _exports(logging: AuditLogging, attribute: str, log: str, group: _Group | None = None) -> bool:
    """Whether the store exports the `log` log; records what was looked for (with the group the audit needs)."""
    store = logging.store
    needs = f" and {group.attribute} naming an {group.group_type} with {group.need}" if group else ""
    logging.looked_for.append(f'{attribute} containing "{log}"{needs}')
    raw = store.config.get(attribute)
    if raw is None:
        logging.near.append(f"{attribute} is not set")
        return False
    values = string_list(raw)
    texts = [as_text(v) for v in values]
    if log in texts:
        return True
    unknown = [t for t in texts if t is None or is_unrendered(t)]
    if unknown or (isinstance(unwrap(raw), str) and is_unrendered(unwrap(raw))):
        logging.unresolved.append(f"{attribute} of {store.describe()} is {unwrap(raw)!r}, which could not be "
                                  "evaluated")
        return False
    logging.near.append(f"{attribute} = {[t for t in texts]} has no \"{log}\"")
    return False


def _group(logging: AuditLogging, infra: Infrastructure, group: _Group, satisfied: Any,
           looked_for: bool = False) -> None:
    """The audit needs a setting in a parameter or option group: find the group and judge it."""
    store = logging.store
    if looked_for:
        logging.looked_for.append(f"{group.attribute} naming an {group.group_type} with {group.need}")
    what = "the audit log is exported" if not looked_for else "the engine has an audit option"
    groups = [target for target in Infrastructure.referenced(store, group.attribute) if target.type == group.group_type]
    name = store.text(group.attribute)
    if not groups and name is not None and not is_unrendered(name):
        groups = [g for g in infra.named(store, (group.group_type,), "name", name)
                  if _literal(g.get("name")) == name.strip()]
        if not groups:
            logging.found.append(f"{what}, and {group.attribute} = \"{name}\"")
            logging.notes.append(f'{group.attribute} "{name}" is not in this configuration, so whether it sets '
                                 f"{group.need} cannot be verified")
            return
    if not groups:
        if name is not None:
            logging.unresolved.append(f"{group.attribute} of {store.describe()} is {name!r}, which could not be "
                                      "evaluated")
        else:
            logging.near.append(f"{what}, but {group.attribute} is not set: {group.default_missing} "
                                f"(needs {group.need})")
        return
    for target in groups:
        verdict = satisfied(target)
        if verdict is True:
            logging.found.append(f"{what}, and {target.describe()} sets {group.need}")
            return
        if isinstance(verdict, str):
            logging.unresolved.append(f"{target.describe()}: {verdict}")
            return
    logging.near.append(f"{what}, but {', '.join(g.describe() for g in groups)} does not set {group.need}")


def _parameters(group: Resource) -> dict[str, Any]:
    found = {}
    for block in resource_blocks(group, "parameter").found:
        name = as_text(block.get("name"))
        if name:
            found[name] = unwrap(block.get("value"))
    return found


def _has_value(group: Resource, name: str, accept: Any) -> bool | str:
    value = _parameters(group).get(name)
    text = as_text(value)
    if text is None:
        return False
    if is_unrendered(text):
        return f"parameter {name} is {text!r}, which could not be evaluated"
    return bool(accept(text.lower()))


def _pgaudit(group: Resource) -> bool | str:
    parameters = _parameters(group)
    libraries = as_text(parameters.get("shared_preload_libraries"))
    log = as_text(parameters.get("pgaudit.log"))
    for text in (libraries, log):
        if text is not None and is_unrendered(text):
            return f"{text!r} could not be evaluated"
    return bool(libraries and "pgaudit" in _words(libraries.lower()) and log and
                _words(log.lower()) - {"none", "-all"})


def _has_option(group: Resource, option: str) -> bool:
    return any((as_text(block.get("option_name")) or "").upper() == option
               for block in resource_blocks(group, "option").found)


def _words(text: str) -> set[str]:
    return {word.strip() for word in text.split(",") if word.strip()}


def _redshift(logging: AuditLogging, infra: Infrastructure) -> None:
    store = logging.store
    logging.looked_for.append("audit logging (aws_redshift_logging or the cluster's logging block with enable = true)")
    enabled = []
    for block in resource_blocks(store, "logging").found:
        flag = unwrap(block.get("enable"))
        if flag is True or str(flag).lower() == "true":
            enabled.append(f"the logging block of {store.describe()}")
    enabled += [source.describe() for label, source in infra.referrers(store)
                if source.type == "aws_redshift_logging" and label == "cluster_identifier"]
    identifier = _literal(store.get("cluster_identifier"))
    if identifier:
        enabled += [source.describe() for source in infra.in_same_root(store, "aws_redshift_logging")
                    if _literal(source.get("cluster_identifier")) == identifier
                    and source.describe() not in enabled]
    if not enabled:
        logging.near.append("audit logging is off (no aws_redshift_logging, no logging block with enable = true)")
        return
    logging.looked_for[-1] += f" and {_REDSHIFT.attribute} naming an {_REDSHIFT.group_type} with {_REDSHIFT.need}"
    before = len(logging.found)
    _group(logging, infra, _REDSHIFT,
           lambda p: _has_value(p, "enable_user_activity_logging", lambda v: v.strip() == "true"))
    if len(logging.found) > before:
        logging.found[-1] = f"{enabled[0]} turns audit logging on; {logging.found[-1]}"


def _opensearch(logging: AuditLogging) -> None:
    store = logging.store
    logging.looked_for.append("log_publishing_options with log_type = AUDIT_LOGS and fine-grained access control "
                              "(advanced_security_options.enabled = true), which audit logs require")
    options = resource_blocks(store, "log_publishing_options")
    logging.unresolved += options.unresolved
    audit = [block for block in options.found if as_text(block.get("log_type")) == "AUDIT_LOGS"]
    if not audit:
        logging.near.append("no log_publishing_options block publishes AUDIT_LOGS")
        return
    if all(unwrap(block.get("enabled")) is False for block in audit):
        logging.near.append("the AUDIT_LOGS log_publishing_options block sets enabled = false")
        return
    security = resource_blocks(store, "advanced_security_options").found
    if not any(unwrap(block.get("enabled")) is True for block in security):
        logging.near.append("AUDIT_LOGS are published, but advanced_security_options is not enabled, and audit "
                            "logs need fine-grained access control")
        return
    logging.found.append(f"log_publishing_options of {store.describe()} publishes AUDIT_LOGS")


# --- values ------------------------------------------------------------------------------------------------------


def _literal(value: Any) -> str | None:
    text = as_text(value)
    if text is None or is_unrendered(text) or isinstance(unwrap(value), ReferenceText):
        return None
    return text.strip()


def _shown(value: Any) -> str:
    text = as_text(value)
    return f'"{text}"' if text is not None else "not set"
