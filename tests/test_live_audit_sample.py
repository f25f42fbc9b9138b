"""Issue 11's "done when": `data-handling audit` on a moto server seeded with the sample SaaS's resources
reports the violations `data-handling scan sample_infra` reports on its Terraform, where AWS can express them,
and nothing on the compliant ones.

The seed is derived from the scan's own model of each stack, not written by hand: every store and key of the
types the live reader reads (S3 buckets, DynamoDB tables, Secrets Manager secrets, KMS keys) is created in the
region the model resolves for it, with the tags it would carry in AWS (its own tags merged over its provider's
default_tags; a class the policy map assigns by address is written as the data_class tag, since AWS resources
have no Terraform address), its KMS key, and for keys their rotation, multi-Region flag and policy. What AWS
cannot express this way, or the reader does not read yet, is left out.

AWS Backup plans are created in moto with their rules and copy actions (the sample's CKV_DH_102 violation: a
copy action to a vault in us-east-1 of what a selection picks by the data_class tag). moto does not implement
backup selections, so each aws_backup_selection of the model is answered for its plan through
tests/moto_lacks.py (a botocore before-call handler, as botocore's Stubber answers), as GetBackupSelection would
return it. VPC flow logs are created on a VPC of their own with the model's destination and format (the sample's
CKV_DH_303 flow log to the central bucket). Log groups are created with their tags, and subscription filters
with the model's destination (moto checks a CloudWatch Logs destination as a log group of the destination's
account, so one is created there; the audit does not read that account); moto has no GetDataProtectionPolicy, so
each aws_cloudwatch_log_data_protection_policy's document is answered for its log group through moto_lacks (the
sample's CKV_DH_303 filter whose policy only audits fails; the de-identified one passes). Glue databases and tables
are created with their location, columns, partition keys and tags (the sample's CKV_DH_302 webhook table and
CKV_DH_203 card table). Every stack is seeded into moto's one account, the central one included: what makes the
central side central here is the bucket name and the database location (the scan may also see its
account). Firehose streams are created with their extended S3 destination and format conversion table.

CloudTrail trails (CKV_DH_104) are created last, with their bucket, multi-Region flag, event selectors and logging
started, as Terraform creates them. A trail covers the stores of its own account, and in the scan each stack is an
account (and a root) of its own; in moto's one account an account-wide data selector ("every S3 object") would
cover every stack's stores, so it is given the ARNs of its own stack's seeded stores of that type (the same
coverage as the scan's; globex's partner-feeds bucket, which its trail's selector does not list, fails as in the
scan). Bedrock customization jobs and Comprehend classifiers (CKV_DH_106) are created with the S3 URIs the model
resolves: the order recommender's training data is in acme's Confidential tenant bucket, which the tenant-acme
stack creates (the scan classifies the data source by address; live, the bucket's own tags decide). Not seeded:
API Gateway stages, EventBridge targets and metric filters (not read live).

For CKV_DH_103/105, a key policy's principals are what AWS stores once applied (a referenced role is its ARN in
the account, data.aws_caller_identity the account ID); each aws_s3_bucket_policy is put on the bucket it refers
to, as the JSON policy its statements make (a reference in a condition, such as acme's VPC endpoint ID, is one
concrete value after apply: a made-up endpoint ID here), and each aws_s3_bucket_public_access_block with its four
settings (after the policies: AWS refuses a public policy once block_public_policy is on). The audit names them
`<bucket ARN>?policy` and `?publicAccessBlock`; the sample's violations are both bucket policies (acme's tenant
data readable by every AWS principal, and its invoices shared with the collections agency's account). Every stack
is one moto account, so the sample's organisation accounts and this one are all inside; the agency's is not.
"""

from __future__ import annotations

import contextlib
import json
import re

import boto3
import pytest

import moto_lacks
from conftest import REPO, build_model
from data_handling.model.blocks import blocks, string_list
from data_handling.model.classification import classify
from data_handling.model.iam_policy import policy_of
from data_handling.model.kms_keys import key_settings, resolve
from data_handling.model.values import Known, as_text, unwrap
from data_handling.policy.loader import load
from data_handling.rules.registry import RULES as AUDITED_RULES
from test_live_audit import audit, aws, endpoint  # noqa: F401  (fixtures: the moto server, the AWS configuration)
from test_sample_infra import STACKS, annotated

AUDIT_TYPES = ("aws_cloudtrail",)  # CKV_DH_104: created last, once the stores they select exist
TRAINING_TYPES = ("aws_bedrock_custom_model", "aws_comprehend_document_classifier")  # CKV_DH_106
SEEDED_TYPES = ("aws_kms_key", "aws_s3_bucket", "aws_dynamodb_table", "aws_secretsmanager_secret",
                "aws_backup_plan", "aws_flow_log", "aws_cloudwatch_log_group", "aws_cloudwatch_log_subscription_filter",
                "aws_cloudwatch_log_data_protection_policy", "aws_glue_catalog_database", "aws_glue_catalog_table",
                "aws_kinesis_firehose_delivery_stream", "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block",
                *AUDIT_TYPES, *TRAINING_TYPES)
# created once every stack's stores exist: they name buckets, log groups and databases
LATER = ("aws_glue_catalog_table", "aws_kinesis_firehose_delivery_stream", "aws_flow_log",
         "aws_cloudwatch_log_subscription_filter", "aws_cloudwatch_log_data_protection_policy",
         "aws_s3_bucket_policy", "aws_s3_bucket_public_access_block", *TRAINING_TYPES)
REGIONS = ("eu-west-1", "us-east-1", "us-west-2", "ap-southeast-2")


def _tags(resource, infra) -> dict[str, str] | None:
    merged: dict[str, str] = {}
    for _, tags in reversed(infra.tag_sources(resource)):  # the resource's own tags win, as in AWS
        if not isinstance(tags, dict):
            return None
        merged.update({key: str(value) for key, value in tags.items() if isinstance(value, str | int | float)})
    return merged


def _name(resource, attribute: str, fallback: str) -> str:
    text = as_text(resource.get(attribute))
    return text if text and re.fullmatch(r"[A-Za-z0-9._/-]+", text) else fallback


def seed_sample(policy) -> dict[str, str]:
    """Create the sample's resources; returns Terraform address -> ARN."""
    arns: dict[str, str] = {}
    selections.clear()
    protections.clear()
    later: list = []  # flow logs, once every stack's buckets exist (moto checks an S3 destination exists)
    trails: list = []  # last: their selectors name the stores of their stack
    for stack in STACKS:
        infra = build_model(stack)
        trails += [(resource, infra) for resource in infra.resources if resource.type in AUDIT_TYPES]
        keys: dict[int, str] = {}
        ordered = sorted((r for r in infra.resources if r.type in SEEDED_TYPES),
                         key=lambda r: r.type != "aws_kms_key")  # keys first: the vaults name them
        later += [(resource, infra) for resource in ordered if resource.type in LATER]
        for resource in ordered:
            if resource.type in LATER or resource.type in AUDIT_TYPES:
                continue
            region = infra.region_of(resource)
            tags = _tags(resource, infra)
            if not isinstance(region, Known) or region.value not in REGIONS or tags is None:
                continue
            classification = classify(resource, infra, policy)
            deciding = classification.deciding
            if deciding and deciding.source.startswith("classification rule") and "data_class" not in tags:
                tags["data_class"] = deciding.data_class
            pairs = [{"Key": key, "Value": value} for key, value in tags.items()]
            fallback = f"{stack.name}-{resource.name}".lower().replace("_", "-")
            arn = _create(resource, region.value, pairs, fallback, infra, keys)
            arns[resource.address] = arn
    # a bucket's policy before its public access block (AWS refuses a public policy once the block is on)
    later.sort(key=lambda item: item[0].type == "aws_s3_bucket_public_access_block")
    for resource, infra in later:
        region = infra.region_of(resource)
        if not isinstance(region, Known) or region.value not in REGIONS:
            continue
        if resource.type == "aws_flow_log":
            arns[resource.address] = _flow_log(resource, region.value, arns)
        elif resource.type == "aws_glue_catalog_table":
            arns[resource.address] = _glue_table(resource, region.value, _tags(resource, infra) or {})
        elif resource.type == "aws_kinesis_firehose_delivery_stream":
            arns[resource.address] = _firehose(resource, region.value, _tags(resource, infra) or {}, arns)
        elif resource.type == "aws_cloudwatch_log_subscription_filter":
            arns[resource.address] = _subscription_filter(resource, region.value)
        elif resource.type in ("aws_s3_bucket_policy", "aws_s3_bucket_public_access_block"):
            bucket = _bucket_access(resource, region.value, arns)
            if bucket:
                arns[resource.address] = bucket
        elif resource.type in TRAINING_TYPES:
            arns[resource.address] = _trainer(resource, region.value)
        else:  # moto has no GetDataProtectionPolicy: answered from here (_answer_selections)
            document = resource.get("policy_document")
            protections[as_text(resource.get("log_group_name")) or ""] = \
                document if isinstance(document, str) else json.dumps(unwrap(document))
    for resource, infra in trails:
        region = infra.region_of(resource)
        if isinstance(region, Known) and region.value in REGIONS:
            arns[resource.address] = _trail(resource, region.value, infra, arns)
    return arns


# --- CKV_DH_104: trails ----------------------------------------------------------------------------------------

# A data selector with no resources.ARN condition records every store of its type in the trail's account. In the
# scan, that is every store of its stack (a trail covers the stores of its own root, each stack in an account of
# its own); the seed holds every stack in moto's one account, so such a selector is given the ARNs of its stack's
# seeded stores of that type (as Terraform's "${aws_s3_bucket.x.arn}/" would name them): the same coverage. A
# type the audit reads no store of (SQS queues) is kept account-wide: it covers nothing live either.
_NARROWED = {"AWS::S3::Object": ("aws_s3_bucket", "/"), "AWS::DynamoDB::Table": ("aws_dynamodb_table", ""),
             "AWS::Glue::Table": ("aws_glue_catalog_table", "")}


def _own(kind: str, infra, arns: dict[str, str]) -> list[str]:
    """The ARN prefixes of the seeded stores of a data-event type in the trail's stack."""
    resource_type, suffix = _NARROWED[kind]
    return [arns[r.address] + suffix for r in infra.resources if r.type == resource_type and r.address in arns]


def _selector_values(trail, values: list[str], label: str, arns: dict[str, str]) -> list[str]:
    """Selector values with references rendered as the ARNs of the seeded resources they name."""
    found = []
    for text in values:
        named = [target for path, target in trail.references if path.startswith(label) and target.address in text]
        if named:
            found += [arns[target.address] + text[text.rfind("}") + 1:] for target in named if target.address in arns]
        else:
            found.append(text)
    return found


def _trail(resource, region: str, infra, arns: dict[str, str]) -> str:
    cloudtrail = boto3.client("cloudtrail", region_name=region)
    [bucket] = [arns[t.address].removeprefix("arn:aws:s3:::") for label, t in resource.references
                if label == "s3_bucket_name" and t.address in arns] or [as_text(resource.get("s3_bucket_name"))]
    name = _name(resource, "name", "trail")
    arn = cloudtrail.create_trail(
        Name=name, S3BucketName=bucket, IsMultiRegionTrail=str(resource.get("is_multi_region_trail")).lower() == "true",
        EnableLogFileValidation=str(resource.get("enable_log_file_validation")).lower() == "true")["TrailARN"]
    advanced = []
    for block in blocks(resource.config, "advanced_event_selector")[0]:
        fields = [{"Field": as_text(f.get("field")), **{key: string_list(f.get(attribute)) for key, attribute in (
            ("Equals", "equals"), ("StartsWith", "starts_with"), ("EndsWith", "ends_with"), ("NotEquals", "not_equals"),
            ("NotStartsWith", "not_starts_with"), ("NotEndsWith", "not_ends_with")) if string_list(f.get(attribute))}}
                  for f in blocks(block, "field_selector")[0]]
        kinds = [kind for f in fields if f["Field"] == "resources.type" for kind in f.get("Equals", [])]
        if len(kinds) == 1 and kinds[0] in _NARROWED and not any(f["Field"] == "resources.ARN" for f in fields):
            fields.append({"Field": "resources.ARN", "StartsWith": _own(kinds[0], infra, arns)})
        advanced.append({"Name": as_text(block.get("name")) or "selector", "FieldSelectors": fields})
    basic = []
    for i, block in enumerate(blocks(resource.config, "event_selector")[0]):
        data = []
        for j, data_resource in enumerate(blocks(block, "data_resource")[0]):
            kind = as_text(data_resource.get("type")) or ""
            values = _selector_values(resource, string_list(data_resource.get("values")),
                                      f"event_selector.{i}.data_resource.{j}" if i else "event_selector.data_resource",
                                      arns)
            if kind in _NARROWED and any(re.fullmatch(r"arn:aws:[a-z0-9]+(:::)?", v) for v in values):
                values = _own(kind, infra, arns)  # "arn:aws:dynamodb": every table of the account
            data.append({"Type": kind, "Values": values})
        basic.append({"ReadWriteType": as_text(block.get("read_write_type")) or "All",
                      "IncludeManagementEvents": str(block.get("include_management_events")).lower() != "false",
                      "DataResources": data})
    if advanced:
        cloudtrail.put_event_selectors(TrailName=name, AdvancedEventSelectors=advanced)
    elif basic:
        cloudtrail.put_event_selectors(TrailName=name, EventSelectors=basic)
    if str(resource.get("enable_logging")).lower() != "false":  # Terraform starts a trail it creates
        cloudtrail.start_logging(Name=name)
    return arn


# --- CKV_DH_106: what trains models ----------------------------------------------------------------------------

def _uri(config, path: str) -> str | None:
    first, *rest = path.split(".")
    for block in blocks(config, first)[0]:
        return as_text(block.get(rest[0])) if len(rest) == 1 else _uri(block, ".".join(rest))
    return None


def _trainer(resource, region: str) -> str:
    """A Bedrock customization job or Comprehend classifier reading the URIs the model resolves (rendered)."""
    role = "arn:aws:iam::123456789012:role/model-training"
    if resource.type == "aws_bedrock_custom_model":
        validation = _uri(resource.config, "validation_data_config.validator.s3_uri")
        return boto3.client("bedrock", region_name=region).create_model_customization_job(
            jobName=_name(resource, "job_name", "job"), customModelName=_name(resource, "custom_model_name", "model"),
            roleArn=role, baseModelIdentifier=as_text(resource.get("base_model_identifier")) or "base",
            trainingDataConfig={"s3Uri": _uri(resource.config, "training_data_config.s3_uri")},
            outputDataConfig={"s3Uri": _uri(resource.config, "output_data_config.s3_uri")},
            hyperParameters={k: str(v) for k, v in (unwrap(resource.get("hyperparameters")) or {}).items()},
            **({"validationDataConfig": {"validators": [{"s3Uri": validation}]}} if validation else {}))["jobArn"]
    return boto3.client("comprehend", region_name=region).create_document_classifier(
        DocumentClassifierName=_name(resource, "name", "classifier"), DataAccessRoleArn=role,
        LanguageCode=as_text(resource.get("language_code")) or "en",
        Mode=as_text(resource.get("mode")) or "MULTI_CLASS",
        InputDataConfig={"S3Uri": _uri(resource.config, "input_data_config.s3_uri")})["DocumentClassifierArn"]


protections: dict[str, str] = {}  # log group name -> its data protection policy document


# --- CKV_DH_103/105: bucket policies and public access blocks --------------------------------------------------

_ENDPOINT = "vpce-0a1b2c3d4e5f60718"  # a reference to an endpoint's ID is one concrete endpoint after apply


def _bucket_access(resource, region: str, arns: dict[str, str]) -> str | None:
    """Put the policy or public access block on the bucket it refers to; the record's ARN in the audit."""
    [bucket] = [target for label, target in resource.references if label == "bucket" and target.type == "aws_s3_bucket"]
    if bucket.address not in arns:
        return None
    name = arns[bucket.address].removeprefix("arn:aws:s3:::")
    s3 = boto3.client("s3", region_name=region)
    if resource.type == "aws_s3_bucket_public_access_block":
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
            key: unwrap(resource.config.get(setting)) is True for key, setting in (
                ("BlockPublicAcls", "block_public_acls"), ("BlockPublicPolicy", "block_public_policy"),
                ("IgnorePublicAcls", "ignore_public_acls"), ("RestrictPublicBuckets", "restrict_public_buckets"))})
        return f"arn:aws:s3:::{name}?publicAccessBlock"
    document = policy_of(resource)
    assert document is not None and not document.problems, document
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        _statement(statement, f"arn:aws:s3:::{name}") for statement in document.statements]}))
    return f"arn:aws:s3:::{name}?policy"


def _statement(statement, bucket_arn: str) -> dict:
    """A statement of the model as AWS stores it; references (known after apply) as the values they take."""
    def concrete(value: str, instead: str) -> str:
        return instead if re.search(r"\$\{|^(module\.|data\.)?aws_\w+\.", value) else value

    sid = re.match(r'statement "([^"]+)"', statement.where)
    found: dict = {**({"Sid": sid.group(1)} if sid else {}), "Effect": statement.effect,
                   "NotAction" if statement.not_actions else "Action": list(statement.actions),
                   "NotResource" if statement.not_resources else "Resource": [
                       concrete(r, bucket_arn + ("/*" if r.endswith("/*") else "")) for r in statement.resources]}
    principals: dict = {}
    for principal in statement.principals:
        principals.setdefault(principal.kind, []).append(principal.identifier)
    if principals:
        found["NotPrincipal" if statement.not_principals else "Principal"] = \
            "*" if list(principals) == ["*"] else principals
    for condition in statement.conditions:
        found.setdefault("Condition", {}).setdefault(condition.operator, {})[condition.key] = [
            concrete(value, _ENDPOINT) for value in condition.values]
    return found


def _columns(blocks_found) -> list[dict]:
    return [{"Name": as_text(c.get("name")), "Type": as_text(c.get("type")) or "string"} for c in blocks_found]


def _firehose(resource, region: str, tags: dict[str, str], arns: dict[str, str]) -> str:
    """An extended S3 stream to the bucket the model resolves, with its format conversion's Glue table."""
    [settings] = blocks(resource.config, "extended_s3_configuration")[0]
    buckets = [arns[target.address] for label, target in resource.references
               if label.startswith("extended_s3_configuration") and target.type == "aws_s3_bucket"
               and target.address in arns]
    role = "arn:aws:iam::123456789012:role/firehose"
    destination: dict = {"RoleARN": role, "BucketARN": buckets[0] if buckets else as_text(settings.get("bucket_arn")),
                         "Prefix": as_text(settings.get("prefix")) or ""}
    for conversion in blocks(settings, "data_format_conversion_configuration")[0]:
        for schema in blocks(conversion, "schema_configuration")[0]:
            destination["DataFormatConversionConfiguration"] = {
                "Enabled": True, "SchemaConfiguration": {"DatabaseName": as_text(schema.get("database_name")),
                                                         "TableName": as_text(schema.get("table_name")),
                                                         "RoleARN": role},
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}}}
    return boto3.client("firehose", region_name=region).create_delivery_stream(
        DeliveryStreamName=_name(resource, "name", "stream"), ExtendedS3DestinationConfiguration=destination,
        **({"Tags": [{"Key": k, "Value": v} for k, v in tags.items()]} if tags else {}))["DeliveryStreamARN"]


def _glue_table(resource, region: str, tags: dict[str, str]) -> str:
    database, name = as_text(resource.get("database_name")), _name(resource, "name", "table")
    storage = (blocks(resource.config, "storage_descriptor")[0] or [{}])[0]
    glue = boto3.client("glue", region_name=region)
    glue.create_table(DatabaseName=database, TableInput={
        "Name": name, "TableType": as_text(resource.get("table_type")) or "EXTERNAL_TABLE",
        "StorageDescriptor": {"Location": as_text(storage.get("location")) or "",
                              "Columns": _columns(blocks(storage, "columns")[0])},
        "PartitionKeys": _columns(blocks(resource.config, "partition_keys")[0])})
    arn = f"arn:aws:glue:{region}:123456789012:table/{database}/{name}"
    if tags:
        glue.tag_resource(ResourceArn=arn, TagsToAdd=tags)
    return arn


def _subscription_filter(resource, region: str) -> str:
    """The filter to the destination the model resolves. moto checks a CloudWatch Logs destination as a log group
    of the destination's account: one is created there (an account the audit does not read)."""
    destination = as_text(resource.get("destination_arn")) or ""
    group = as_text(resource.get("log_group_name")) or ""
    parts = destination.split(":")
    if parts[2:3] == ["logs"] and len(parts) >= 7:
        credentials = boto3.client("sts", region_name=region).assume_role(
            RoleArn=f"arn:aws:iam::{parts[4]}:role/seed", RoleSessionName="seed")["Credentials"]
        theirs = boto3.client("logs", region_name=parts[3], aws_access_key_id=credentials["AccessKeyId"],
                              aws_secret_access_key=credentials["SecretAccessKey"],
                              aws_session_token=credentials["SessionToken"])
        with contextlib.suppress(theirs.exceptions.ResourceAlreadyExistsException):
            theirs.create_log_group(logGroupName=parts[6])
    name = _name(resource, "name", "filter")
    boto3.client("logs", region_name=region).put_subscription_filter(
        logGroupName=group, filterName=name, filterPattern=as_text(resource.get("filter_pattern")) or "",
        destinationArn=destination)
    return f"arn:aws:logs:{region}:123456789012:log-group:{group}:subscription-filter:{name}"


def _flow_log(resource, region: str, arns: dict[str, str]) -> str:
    """A flow log of a VPC of its own, to the destination the model resolves. moto refuses a key prefix in an S3
    destination (it looks the whole path up as a bucket), so an S3 destination is given as its bucket's ARN."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    destination_type = as_text(resource.get("log_destination_type")) or "cloud-watch-logs"
    referenced = [arns[target.address] for label, target in resource.references
                  if label == "log_destination" and target.address in arns]
    destination = referenced[0] if referenced else as_text(resource.get("log_destination")) or ""
    if destination_type == "s3":
        destination = "arn:aws:s3:::" + destination.removeprefix("arn:aws:s3:::").split("/", 1)[0]
    log_format = as_text(resource.get("log_format"))
    [flow_id] = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType=as_text(resource.get("traffic_type")) or "ALL",
        LogDestinationType=destination_type, LogDestination=destination,
        **({"LogFormat": log_format} if log_format else {}))["FlowLogIds"]
    return f"arn:aws:ec2:{region}:123456789012:vpc-flow-log/{flow_id}"


def _create(resource, region: str, tags: list[dict], fallback: str, infra, keys: dict[int, str]) -> str:
    if resource.type == "aws_s3_bucket":
        name = _name(resource, "bucket", fallback)
        s3 = boto3.client("s3", region_name=region)
        s3.create_bucket(Bucket=name, **({} if region == "us-east-1" else
                                          {"CreateBucketConfiguration": {"LocationConstraint": region}}))
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
        return f"arn:aws:s3:::{name}"
    if resource.type == "aws_dynamodb_table":
        return boto3.client("dynamodb", region_name=region).create_table(
            TableName=_name(resource, "name", fallback), KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
            **({"Tags": tags} if tags else {}))["TableDescription"]["TableArn"]
    if resource.type == "aws_kms_key":
        kms = boto3.client("kms", region_name=region)
        policy = resource.get("policy")
        documents = [target for label, target in resource.references if label == "policy" and target.mode == "data"]
        if documents:
            policy = _rendered(documents[0])
        elif policy:
            policy = _applied_principals(json.loads(policy) if isinstance(policy, str) else unwrap(policy))
        extra = {"Policy": policy if isinstance(policy, str) else json.dumps(policy)} if policy else {}
        key = kms.create_key(MultiRegion=str(resource.get("multi_region")).lower() == "true",
                             **({"Tags": [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags]} if tags else {}),
                             **extra)["KeyMetadata"]
        if str(resource.get("enable_key_rotation")).lower() == "true":
            kms.enable_key_rotation(KeyId=key["KeyId"])
        keys[id(resource)] = key["Arn"]
        return key["Arn"]
    if resource.type == "aws_backup_plan":
        return _backup_plan(resource, region, fallback, infra)
    if resource.type == "aws_glue_catalog_database":
        name = _name(resource, "name", fallback)
        location = as_text(resource.get("location_uri"))
        boto3.client("glue", region_name=region).create_database(
            DatabaseInput={"Name": name, **({"LocationUri": location} if location else {})},
            **({"Tags": {t["Key"]: t["Value"] for t in tags}} if tags else {}))
        return f"arn:aws:glue:{region}:123456789012:database/{name}"
    if resource.type == "aws_cloudwatch_log_group":
        name = _name(resource, "name", fallback)
        boto3.client("logs", region_name=region).create_log_group(
            logGroupName=name, **({"tags": {t["Key"]: t["Value"] for t in tags}} if tags else {}))
        return f"arn:aws:logs:{region}:123456789012:log-group:{name}"
    # a Secrets Manager secret, with the key the model resolves for it
    extra = {}
    for setting in key_settings(resource)[0]:
        for target in resolve(resource, setting, infra):
            if target.key is not None and id(target.key) in keys:
                extra["KmsKeyId"] = keys[id(target.key)]
            elif target.kind == "aws_managed":
                extra["KmsKeyId"] = "alias/aws/secretsmanager"
    return boto3.client("secretsmanager", region_name=region).create_secret(
        Name=_name(resource, "name", fallback), SecretString="never read", Tags=tags, **extra)["ARN"]


selections: dict[str, list[dict]] = {}  # backup plan ID -> its selections, as GetBackupSelection returns them


def _backup_plan(resource, region: str, fallback: str, infra) -> str:
    rules = [{"RuleName": as_text(rule.get("rule_name")) or "rule",
              "TargetBackupVaultName": as_text(rule.get("target_vault_name")) or "vault",
              "CopyActions": [{"DestinationBackupVaultArn": as_text(action.get("destination_vault_arn"))}
                              for action in blocks(rule, "copy_action")[0]]}
             for rule in blocks(resource.config, "rule")[0]]
    created = boto3.client("backup", region_name=region).create_backup_plan(
        BackupPlan={"BackupPlanName": _name(resource, "name", fallback), "Rules": rules})
    chosen = selections.setdefault(created["BackupPlanId"], [])
    for label, selection in infra.referrers(resource):
        if selection.type == "aws_backup_selection" and label.startswith("plan_id"):
            tags = [{"ConditionType": as_text(tag.get("type")), "ConditionKey": as_text(tag.get("key")),
                     "ConditionValue": as_text(tag.get("value"))}
                    for tag in blocks(selection.config, "selection_tag")[0]]
            resources = [text for text in string_list(selection.get("resources")) if text.startswith("arn:")]
            chosen.append({"SelectionName": _name(selection, "name", "selection"), "ListOfTags": tags,
                           "Resources": resources, "IamRoleArn": "arn:aws:iam::123456789012:role/backup"})
    return created["BackupPlanArn"]


def _answer_selections() -> None:
    moto_lacks.answers[("backup", "ListBackupSelections")] = lambda params: {"BackupSelectionsList": [
        {"SelectionId": str(number), "SelectionName": chosen["SelectionName"], "BackupPlanId": params["BackupPlanId"]}
        for number, chosen in enumerate(selections.get(params["BackupPlanId"], []))]}
    moto_lacks.answers[("logs", "GetDataProtectionPolicy")] = lambda params: {
        "logGroupIdentifier": params["logGroupIdentifier"],
        **({"policyDocument": protections[params["logGroupIdentifier"]]}
           if params["logGroupIdentifier"] in protections else {})}
    moto_lacks.answers[("backup", "GetBackupSelection")] = lambda params: {
        "BackupPlanId": params["BackupPlanId"], "SelectionId": params["SelectionId"],
        "BackupSelection": selections[params["BackupPlanId"]][int(params["SelectionId"])]}


def _applied(text: str) -> str:
    """A principal as AWS stores it once applied: a role or user the configuration references is that identity's
    ARN in the account (moto's one account here), data.aws_caller_identity and data.aws_partition their values."""
    text = re.sub(r"\$\{data\.aws_caller_identity\.[\w-]+\.account_id\}", "123456789012", text)
    text = re.sub(r"\$\{data\.aws_partition\.[\w-]+\.partition\}", "aws", text)
    reference = re.fullmatch(r"(?:module\.[\w-]+\.)*aws_iam_(role|user)\.([\w-]+)\.arn", text)
    return f"arn:aws:iam::123456789012:{reference.group(1)}/{reference.group(2)}" if reference else text


def _applied_principals(document: dict) -> dict:
    """A policy written with jsonencode, its principals as AWS stores them (_applied)."""
    statements = document.get("Statement") or []
    for statement in statements if isinstance(statements, list) else [statements]:
        principal = statement.get("Principal")
        if isinstance(principal, dict):
            statement["Principal"] = {kind: [_applied(str(i)) for i in string_list(value)]
                                      for kind, value in principal.items()}
    return document


def _rendered(document) -> dict:
    """An aws_iam_policy_document as the JSON policy Terraform would send to AWS."""
    statements = []
    for block in blocks(document.config, "statement")[0]:
        statement: dict = {"Effect": as_text(block.get("effect")) or "Allow",
                           "Action": string_list(block.get("actions")),
                           "Resource": string_list(block.get("resources")) or ["*"]}
        if as_text(block.get("sid")):
            statement["Sid"] = as_text(block.get("sid"))
        for principal in blocks(block, "principals")[0]:
            statement.setdefault("Principal", {})[as_text(principal.get("type"))] = \
                [_applied(str(identifier)) for identifier in string_list(principal.get("identifiers"))]
        for condition in blocks(block, "condition")[0]:
            statement.setdefault("Condition", {}).setdefault(as_text(condition.get("test")), {})[
                as_text(condition.get("variable"))] = string_list(unwrap(condition.get("values")))
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_audit_reports_the_sample_violations_the_scan_reports(aws, tmp_path):  # noqa: F811
    policy = load(REPO / "policy_map.yaml").policy
    arns = seed_sample(policy)
    _answer_selections()
    assert len(arns) >= 20, arns  # the sample's stores really were seeded
    # the checks the audit runs (rules/registry.py): every catalogued check
    scan_failures = {(check, arns[address]) for stack in STACKS for check, address in annotated(stack)
                     if address in arns and check in AUDITED_RULES}
    code, report = audit(tmp_path, "--policy-map", str(REPO / "policy_map.yaml"), "--regions", ",".join(REGIONS))
    assert code == 1
    audit_failures = {(r["check_id"], r["resource"]) for r in report["results"]["failed_checks"]}
    passed = {(r["check_id"], r["resource"]) for r in report["results"]["passed_checks"]}
    assert audit_failures == scan_failures
    assert {check for check, _ in scan_failures} == {"CKV_DH_100", "CKV_DH_101", "CKV_DH_102", "CKV_DH_103",
                                                      "CKV_DH_104", "CKV_DH_105", "CKV_DH_106", "CKV_DH_201",
                                                      "CKV_DH_202", "CKV_DH_203", "CKV_DH_204", "CKV_DH_302",
                                                      "CKV_DH_303"}
    # the sample's bucket policies: everyone (103, 105), an outside account beside the organisation (105 only);
    # acme's read through its own VPC endpoint restricts the wildcard principal, so it exposes nothing
    assert {(c, a) for c, a in audit_failures if c in ("CKV_DH_103", "CKV_DH_105")} == {
        ("CKV_DH_103", arns["aws_s3_bucket_policy.acme_data_partner_read"]),
        ("CKV_DH_105", arns["aws_s3_bucket_policy.acme_data_partner_read"]),
        ("CKV_DH_105", arns["aws_s3_bucket_policy.acme_invoices"])}
    assert {("CKV_DH_103", arns["aws_s3_bucket_policy.acme_invoices"]),
            ("CKV_DH_103", arns["aws_s3_bucket_public_access_block.acme_invoices"]),
            ("CKV_DH_103", arns["aws_s3_bucket.acme_invoices"])} <= passed
    # de-identified at source by its log group's data protection policy (GetDataProtectionPolicy, stubbed)
    assert ("CKV_DH_303", arns["aws_cloudwatch_log_subscription_filter.storefront_to_central"]) in passed
    assert ("CKV_DH_303", arns["aws_cloudwatch_log_subscription_filter.audit_to_central"]) in audit_failures
    # a central Glue table of approved columns (its database's location is the central bucket)
    assert {("CKV_DH_301", arns["aws_glue_catalog_table.requests"]),
            ("CKV_DH_302", arns["aws_glue_catalog_table.requests"])} <= passed
    # a central stream whose format conversion names that table: its fields are listed and approved
    assert {("CKV_DH_301", arns["aws_kinesis_firehose_delivery_stream.requests"]),
            ("CKV_DH_302", arns["aws_kinesis_firehose_delivery_stream.requests"])} <= passed
    # CKV_DH_104: the stores each stack's trail selects pass (globex's partner feeds, which its selector does not
    # list, fail: above); CKV_DH_106: training on aggregated metrics or central telemetry passes
    assert {("CKV_DH_104", arns["module.acme_data.aws_s3_bucket.this"]),
            ("CKV_DH_104", arns["module.globex_data.aws_s3_bucket.this"]),
            ("CKV_DH_104", arns["aws_dynamodb_table.payment_intents"]),
            ("CKV_DH_104", arns["aws_glue_catalog_table.card_settlements"]),
            ("CKV_DH_104", arns["aws_secretsmanager_secret.legacy_gateway_key"]),
            ("CKV_DH_106", arns["aws_bedrock_custom_model.capacity_forecaster"]),
            ("CKV_DH_106", arns["aws_comprehend_document_classifier.error_themes"])} <= passed
    assert ("CKV_DH_104", arns["aws_s3_bucket.globex_partner_feeds"]) in audit_failures
    assert ("CKV_DH_106", arns["aws_bedrock_custom_model.order_recommender"]) in audit_failures
    # every annotated violation on a resource of a seeded type was seeded (none was skipped for its region or tags)
    of_seeded_types = {a for stack in STACKS for _, a in annotated(stack) if a.split(".")[-2] in SEEDED_TYPES}
    assert of_seeded_types <= arns.keys(), of_seeded_types - arns.keys()
