"""One reader per AWS service: list what a region holds, then describe each item, as model records.

A reader lists in one task per (account, region) and returns the items to describe; each item is described in
a task of its own (the calls of one bucket, one key), so the pool overlaps the slow per-item calls. Links
between records (a secret and its key, a replica and its source) are named by ARN and resolved once every
region has been read (estate.py). A call that fails leaves the value unknown with the reason (never absent, which
would read as "not configured"), and the gap is recorded by api.Caller.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.blocks import UNKNOWN_BLOCKS
from data_handling.model.live.api import Caller, CallFailed
from data_handling.model.live.records import LiveResource, resource, unknown

Links = list[tuple[str, str]]  # (attribute, what it names: an ARN, key ID, alias or identifier)
Lister = Callable[["Caller"], "Read"]


@dataclass
class Read:
    """What one task read: records, their links, and the items left to describe."""

    records: list[tuple[LiveResource, Links]] = field(default_factory=list)
    # (describe function, item): run later, each in a task of its own
    pending: list[tuple[Callable[[Caller, Any], Read], Any]] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)  # KMS alias name -> target key ID, per region

    def add(self, other: Read) -> None:
        self.records += other.records
        self.pending += other.pending
        self.aliases.update(other.aliases)


def each(*listings: Lister) -> Lister:
    """One reader of a service's listings: one failing (its gap recorded) leaves the others read."""
    def read_all(caller: Caller) -> Read:
        read = Read()
        for listing in listings:
            with contextlib.suppress(CallFailed):
                read.add(listing(caller))
        return read
    read_all.__name__ = "+".join(listing.__name__ for listing in listings)
    return read_all


def _tags(pairs: list[dict[str, Any]] | None, key: str = "Key", value: str = "Value") -> dict[str, str]:
    return {str(pair[key]): str(pair.get(value, "")) for pair in pairs or [] if key in pair}


def _followed(caller: Caller, operation: str, method: str, key: str, resource_types: tuple[str, ...],
              **params: Any) -> list[dict[str, Any]]:
    """A listing botocore has no paginator for, followed through NextToken; a failed page fails the listing."""
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = caller.call(operation, method, resource_types=resource_types,
                           **params, **({"NextToken": token} if token else {})) or {}
        items += page.get(key) or []
        token = page.get("NextToken")
        if not token:
            return items


def _unknown_tags(failed: CallFailed) -> Any:
    return unknown("tags", f"the audit could not read the tags: {failed.gap.describe()}")


# --- S3 (bucket names are global: listed once per account, each bucket described at its region) -------------

def s3_buckets(caller: Caller, regions: frozenset[str]) -> Read:
    read = Read()
    buckets = caller.pages("ListBuckets", "list_buckets", "Buckets", resource_types=("aws_s3_bucket",))
    for bucket in buckets:
        read.pending.append((lambda c, item: _s3_bucket(c, item, regions), bucket["Name"]))
    return read


def _s3_bucket(caller: Caller, name: str, regions: frozenset[str]) -> Read:
    arn = f"arn:aws:s3:::{name}"
    located = caller.call("GetBucketLocation", "get_bucket_location", resource=arn,
                          resource_types=("aws_s3_bucket",), Bucket=name) or {}
    # AWS answers null for us-east-1 and "EU" for buckets created long ago in eu-west-1
    region = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(located.get("LocationConstraint"),
                                                                       located.get("LocationConstraint"))
    if region not in regions:
        return Read()  # audited where its region is audited
    values: dict[str, Any] = {"bucket": name, "arn": arn}
    try:
        tagging = caller.call("GetBucketTagging", "get_bucket_tagging", resource=arn, absent=("NoSuchTagSet",),
                              Bucket=name)
        values["tags"] = _tags((tagging or {}).get("TagSet"))
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    try:
        replication = caller.call("GetBucketReplication", "get_bucket_replication", resource=arn,
                                  absent=("ReplicationConfigurationNotFoundError",), Bucket=name)
        if replication is not None:
            values["replication_configuration"] = [
                _s3_replication(replication.get("ReplicationConfiguration") or {})]
    except CallFailed as failed:
        values[UNKNOWN_BLOCKS] = {"replication_configuration": f"the audit could not read the replication "
                                                                   f"configuration: {failed.gap.describe()}"}
    logging = _s3_bucket_logging(caller, name, arn, region, values)  # CKV_DH_104
    record = resource(arn=arn, resource_type="aws_s3_bucket", name=name, account=caller.account, region=region,
                      evidence="s3:ListBuckets, region from s3:GetBucketLocation", values=values)
    read = Read(records=[(record, []), *logging])
    read.add(_bucket_access(caller, name, arn, region))  # CKV_DH_103/105: policy, ACL, public access block
    return read


def _s3_replication(configuration: dict[str, Any]) -> dict[str, Any]:
    """GetBucketReplication in the shape of the legacy inline replication_configuration block."""
    rules = []
    for rule in configuration.get("Rules") or []:
        destination = rule.get("Destination") or {}
        rules.append({"id": rule.get("ID"), "status": rule.get("Status"), "priority": rule.get("Priority"),
                      "destination": [{"bucket": destination.get("Bucket"),
                                       "account_id": destination.get("Account"),
                                       "storage_class": destination.get("StorageClass")}]})
    return {"role": configuration.get("Role"), "rules": rules}


# --- DynamoDB ----------------------------------------------------------------------------------------------

def dynamodb_tables(caller: Caller) -> Read:
    names = caller.pages("ListTables", "list_tables", "TableNames", resource_types=("aws_dynamodb_table",))
    return Read(pending=[(_dynamodb_table, name) for name in names])


def _dynamodb_table(caller: Caller, name: str) -> Read:
    guess = f"arn:aws:dynamodb:{caller.region}:{caller.account}:table/{name}"
    table = caller.call("DescribeTable", "describe_table", resource=guess, resource_types=("aws_dynamodb_table",),
                        TableName=name)["Table"]  # type: ignore[index]
    arn = table.get("TableArn") or guess
    values: dict[str, Any] = {"name": name, "arn": arn}
    try:
        values["tags"] = _tags(caller.pages("ListTagsOfResource", "list_tags_of_resource", "Tags", resource=arn,
                                            ResourceArn=arn))
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    # global tables (version 2019.11.21): each replica region holds a copy
    replicas = [{"region_name": replica["RegionName"]} for replica in table.get("Replicas") or []
                if replica.get("RegionName") and replica["RegionName"] != caller.region]
    if replicas:
        values["replica"] = replicas
    record = resource(arn=arn, resource_type="aws_dynamodb_table", name=name, account=caller.account,
                      region=caller.region, evidence="dynamodb:ListTables", values=values)
    read = Read(records=[(record, [])])
    read.add(_table_policy(caller, arn))  # CKV_DH_103/105: its resource policy
    return read


# --- EFS (file systems; their replication configurations: efs_replications) ---------------------------------

def efs_file_systems(caller: Caller) -> Read:
    read = Read()
    for system in caller.pages("DescribeFileSystems", "describe_file_systems", "FileSystems",
                               resource_types=("aws_efs_file_system",)):
        system_id = system["FileSystemId"]
        arn = system.get("FileSystemArn") or \
            f"arn:aws:elasticfilesystem:{caller.region}:{caller.account}:file-system/{system_id}"
        values = {"file_system_id": system_id, "arn": arn, "tags": _tags(system.get("Tags")),
                  "encrypted": system.get("Encrypted"), "kms_key_id": system.get("KmsKeyId"),
                  "availability_zone_name": system.get("AvailabilityZoneName")}
        read.records.append((resource(arn=arn, resource_type="aws_efs_file_system", name=system_id,
                                      account=caller.account, region=caller.region,
                                      evidence="elasticfilesystem:DescribeFileSystems", values=values), []))
    return read




# --- Secrets Manager (metadata only: never GetSecretValue) -------------------------------------------------

def secrets(caller: Caller) -> Read:
    listed = caller.pages("ListSecrets", "list_secrets", "SecretList",
                          resource_types=("aws_secretsmanager_secret",))
    return Read(pending=[(_secret, entry) for entry in listed])


def _secret(caller: Caller, entry: dict[str, Any]) -> Read:
    arn = entry["ARN"]
    values: dict[str, Any] = {"name": entry.get("Name"), "arn": arn, "tags": _tags(entry.get("Tags"))}
    links: Links = []
    described = caller.call("DescribeSecret", "describe_secret", resource=arn, SecretId=arn) or {}
    # No KmsKeyId: Secrets Manager encrypts with the AWS-managed key aws/secretsmanager, as when Terraform sets none.
    key = described.get("KmsKeyId") or entry.get("KmsKeyId")
    if key:
        values["kms_key_id"] = key
        links.append(("kms_key_id", key))
    replicas = []
    for number, replica in enumerate(described.get("ReplicationStatus") or []):
        block: dict[str, Any] = {"region": replica.get("Region")}
        if replica.get("KmsKeyId"):
            block["kms_key_id"] = replica["KmsKeyId"]
            links.append((f"replica.{number}.kms_key_id", f"{replica['Region']}|{replica['KmsKeyId']}"))
        replicas.append(block)
    if replicas:
        values["replica"] = replicas
    # CKV_DH_103/105: its resource policy (a replica's is its primary's: Secrets Manager refuses to read it there)
    primary = described.get("PrimaryRegion")
    if primary and primary != caller.region:
        primary_arn = arn.replace(f":{caller.region}:", f":{primary}:", 1)
        values["policy"] = unknown("policy of the primary secret", f"the resource policy of a replica is its "
                                   f"primary's, {primary_arn}, which the audit did not read")
        links.append(("__policy_of__", primary_arn))  # estate._link copies it from the primary's record
    else:
        values.update(_secret_policy(caller, arn))
    record = resource(arn=arn, resource_type="aws_secretsmanager_secret", name=str(entry.get("Name")),
                      account=caller.account, region=caller.region, evidence="secretsmanager:ListSecrets",
                      values=values)
    return Read(records=[(record, links)])


# --- SSM parameters (metadata only: never GetParameter) ------------------------------------------------------

def ssm_parameters(caller: Caller) -> Read:
    listed = caller.pages("DescribeParameters", "describe_parameters", "Parameters",
                          resource_types=("aws_ssm_parameter",))
    return Read(pending=[(_ssm_parameter, entry) for entry in listed])


def _ssm_parameter(caller: Caller, entry: dict[str, Any]) -> Read:
    name = str(entry["Name"])
    arn = entry.get("ARN") or f"arn:aws:ssm:{caller.region}:{caller.account}:parameter/{name.lstrip('/')}"
    values: dict[str, Any] = {"name": name, "arn": arn, "type": entry.get("Type"), "tier": entry.get("Tier")}
    links: Links = []
    if entry.get("KeyId"):  # SecureString only; alias/aws/ssm when no customer key was named
        values["key_id"] = entry["KeyId"]
        links.append(("key_id", entry["KeyId"]))
    try:
        # not paginated: a parameter has at most 50 tags
        tags = caller.call("ListTagsForResource", "list_tags_for_resource", resource=arn,
                           ResourceType="Parameter", ResourceId=name) or {}
        values["tags"] = _tags(tags.get("TagList"))
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    record = resource(arn=arn, resource_type="aws_ssm_parameter", name=name, account=caller.account,
                      region=caller.region, evidence="ssm:DescribeParameters", values=values)
    return Read(records=[(record, links)])


# --- KMS (customer-managed keys; AWS-managed keys are reported as such by the vaults that use them) ---------

# The key policy AWS attaches when a key is created without one: reading it as "no policy argument" keeps
# CKV_DH_204 the same rule live as in Terraform (the default policy delegates everything to IAM).
def _is_default_policy(text: str, account: str) -> bool:
    try:
        document = json.loads(text)
    except ValueError:
        return False
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list) or len(statements) != 1 or not isinstance(statements[0], dict):
        return False
    statement = statements[0]
    principal = statement.get("Principal")
    principal = principal.get("AWS") if isinstance(principal, dict) else principal
    return (statement.get("Effect") == "Allow" and statement.get("Action") in ("kms:*", ["kms:*"])
            and statement.get("Resource") in ("*", ["*"])
            and principal in (f"arn:aws:iam::{account}:root", [f"arn:aws:iam::{account}:root"], account)
            and "Condition" not in statement)


def kms_keys(caller: Caller) -> Read:
    keys = caller.pages("ListKeys", "list_keys", "Keys", resource_types=("aws_kms_key", "aws_kms_replica_key"))
    read = Read(pending=[(_kms_key, entry) for entry in keys])
    aliases = caller.pages("ListAliases", "list_aliases", "Aliases", resource_types=("aws_kms_alias",))
    for alias in aliases:
        name, target = alias.get("AliasName"), alias.get("TargetKeyId")
        if not name or not target:
            continue
        read.aliases[name] = target
        if name.startswith("alias/aws/"):
            continue  # AWS-managed aliases are not the account's configuration
        arn = alias.get("AliasArn") or f"arn:aws:kms:{caller.region}:{caller.account}:{name}"
        record = resource(arn=arn, resource_type="aws_kms_alias", name=name, account=caller.account,
                          region=caller.region, evidence="kms:ListAliases",
                          values={"name": name, "arn": arn, "target_key_id": target})
        read.records.append((record, [("target_key_id", target)]))
    return read


def _kms_key(caller: Caller, entry: dict[str, Any]) -> Read:
    key_id = entry["KeyId"]
    arn = entry.get("KeyArn") or f"arn:aws:kms:{caller.region}:{caller.account}:key/{key_id}"
    metadata = caller.call("DescribeKey", "describe_key", resource=arn,
                           resource_types=("aws_kms_key",), KeyId=key_id)["KeyMetadata"]  # type: ignore[index]
    if metadata.get("KeyManager") != "CUSTOMER":
        return Read()
    multi = metadata.get("MultiRegionConfiguration") or {}
    replica = metadata.get("MultiRegion") and multi.get("MultiRegionKeyType") == "REPLICA"
    external = metadata.get("Origin") == "EXTERNAL"
    resource_type = ("aws_kms_replica_external_key" if external else "aws_kms_replica_key") if replica else \
        ("aws_kms_external_key" if external else "aws_kms_key")
    values: dict[str, Any] = {"key_id": key_id, "arn": arn, "description": metadata.get("Description"),
                              "key_usage": metadata.get("KeyUsage"), "is_enabled": metadata.get("Enabled")}
    links: Links = []
    if replica:
        primary = (multi.get("PrimaryKey") or {}).get("Arn")
        values["primary_key_arn"] = primary
        if primary:
            links.append(("primary_key_arn", primary))
    else:
        values["multi_region"] = bool(metadata.get("MultiRegion"))
    if resource_type == "aws_kms_key":
        if metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
            values["enable_key_rotation"] = False  # KMS rotates only symmetric keys
        else:
            try:
                status = caller.call("GetKeyRotationStatus", "get_key_rotation_status", resource=arn,
                                     KeyId=key_id) or {}
                values["enable_key_rotation"] = bool(status.get("KeyRotationEnabled"))
            except CallFailed as failed:
                values["enable_key_rotation"] = unknown("enable_key_rotation", f"the audit could not read it: "
                                                        f"{failed.gap.describe()}")
    try:
        policy = (caller.call("GetKeyPolicy", "get_key_policy", resource=arn, KeyId=key_id,
                              PolicyName="default") or {}).get("Policy")
        if policy and not _is_default_policy(policy, caller.account):
            values["policy"] = policy
    except CallFailed as failed:
        values["policy"] = unknown("policy", f"the audit could not read the key policy: {failed.gap.describe()}")
    try:
        values["tags"] = _tags(caller.pages("ListResourceTags", "list_resource_tags", "Tags", resource=arn,
                                            KeyId=key_id), key="TagKey", value="TagValue")
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    record = resource(arn=arn, resource_type=resource_type, name=key_id, account=caller.account,
                      region=caller.region, evidence="kms:ListKeys", values=values)
    read = Read(records=[(record, links)])
    read.add(_key_grants(caller, arn, key_id))  # CKV_DH_105: who else the key's grants let use it
    return read


# --- RDS -----------------------------------------------------------------------------------------------------

def rds(caller: Caller) -> Read:
    read = Read()
    groups = _Groups(caller)  # CKV_DH_104: the parameter and option groups the databases name
    for instance in caller.pages("DescribeDBInstances", "describe_db_instances", "DBInstances",
                                 resource_types=("aws_db_instance",)):
        arn = instance["DBInstanceArn"]
        source = instance.get("ReadReplicaSourceDBInstanceIdentifier")
        values = {"identifier": instance.get("DBInstanceIdentifier"), "arn": arn, "engine": instance.get("Engine"),
                  "tags": _tags(instance.get("TagList")), "replicate_source_db": source,
                  "storage_encrypted": instance.get("StorageEncrypted"), "kms_key_id": instance.get("KmsKeyId"),
                  "cluster_identifier": instance.get("DBClusterIdentifier"),
                  "publicly_accessible": instance.get("PubliclyAccessible")}  # CKV_DH_103
        audit_links, audit_records = _database_audit(instance, arn, "aws_db_instance", caller, groups, values)
        record = resource(arn=arn, resource_type="aws_db_instance", name=str(values["identifier"]),
                          account=caller.account, region=caller.region, evidence="rds:DescribeDBInstances",
                          values=values)
        read.records.append((record, ([("replicate_source_db", source)] if source else []) + audit_links))
        read.records += audit_records
        # Automated backups replicated to another region: the copy lives where its ARN says.
        for replication in instance.get("DBInstanceAutomatedBackupsReplications") or []:
            backups = replication.get("DBInstanceAutomatedBackupsArn")
            parts = backups.split(":") if backups else []
            if len(parts) < 6 or not parts[3]:
                continue
            copy = resource(arn=backups, resource_type="aws_db_instance_automated_backups_replication",
                            name=parts[-1], account=caller.account, region=parts[3],
                            evidence="rds:DescribeDBInstances (DBInstanceAutomatedBackupsReplications)",
                            values={"source_db_instance_arn": arn, "arn": backups})
            read.records.append((copy, [("source_db_instance_arn", arn)]))
    for cluster in caller.pages("DescribeDBClusters", "describe_db_clusters", "DBClusters",
                                resource_types=("aws_rds_cluster",)):
        arn = cluster["DBClusterArn"]
        source = cluster.get("ReplicationSourceIdentifier")
        values = {"cluster_identifier": cluster.get("DBClusterIdentifier"), "arn": arn,
                  "engine": cluster.get("Engine"), "tags": _tags(cluster.get("TagList")),
                  "replication_source_identifier": source, "storage_encrypted": cluster.get("StorageEncrypted"),
                  "kms_key_id": cluster.get("KmsKeyId")}
        resource_type = {"docdb": "aws_docdb_cluster", "neptune": "aws_neptune_cluster"}.get(
            str(cluster.get("Engine")), "aws_rds_cluster")
        audit_links, audit_records = _database_audit(cluster, arn, resource_type, caller, groups, values)
        record = resource(arn=arn, resource_type=resource_type, name=str(values["cluster_identifier"]),
                          account=caller.account, region=caller.region, evidence="rds:DescribeDBClusters",
                          values=values)
        read.records.append((record, ([("replication_source_identifier", source)] if source else []) + audit_links))
        read.records += audit_records
    for group in caller.pages("DescribeGlobalClusters", "describe_global_clusters", "GlobalClusters",
                              resource_types=("aws_rds_global_cluster",)):
        arn = group.get("GlobalClusterArn")
        if not arn:
            continue
        members = group.get("GlobalClusterMembers") or []
        writer = next((m.get("DBClusterArn") for m in members if m.get("IsWriter")), None)
        resource_type = {"docdb": "aws_docdb_global_cluster", "neptune": "aws_neptune_global_cluster"}.get(
            str(group.get("Engine")), "aws_rds_global_cluster")
        values = {"global_cluster_identifier": group.get("GlobalClusterIdentifier"), "arn": arn,
                  "engine": group.get("Engine"), "source_db_cluster_identifier": writer}
        links: Links = [("source_db_cluster_identifier", writer)] if writer else []
        links += [("__member__", m["DBClusterArn"]) for m in members if m.get("DBClusterArn")]
        # The writer's region stands for the group's (a global cluster ARN carries none).
        region = (writer or "").split(":")[3] if writer and writer.count(":") >= 5 else caller.region
        record = resource(arn=arn, resource_type=resource_type, name=str(values["global_cluster_identifier"]),
                          account=caller.account, region=region or caller.region,
                          evidence="rds:DescribeGlobalClusters", values=values)
        read.records.append((record, links))
    read.records += groups.records
    return read


# --- AWS Backup (CKV_DH_102: copy actions, and the resources the plan's selections pick) ----------------------

_BACKUP_CONDITIONS = {"StringEquals": "string_equals", "StringNotEquals": "string_not_equals",
                      "StringLike": "string_like", "StringNotLike": "string_not_like"}


def backup_plans(caller: Caller) -> Read:
    plans = caller.pages("ListBackupPlans", "list_backup_plans", "BackupPlansList",
                         resource_types=("aws_backup_plan", "aws_backup_selection"))
    return Read(pending=[(_backup_plan, entry) for entry in plans])


def _backup_plan(caller: Caller, entry: dict[str, Any]) -> Read:
    plan_id = entry["BackupPlanId"]
    arn = entry.get("BackupPlanArn") or f"arn:aws:backup:{caller.region}:{caller.account}:backup-plan:{plan_id}"
    # not paginated; a failure leaves the plan out and the gap names it (its copies cannot be verified)
    described = caller.call("GetBackupPlan", "get_backup_plan", resource=arn, resource_types=("aws_backup_plan",),
                            BackupPlanId=plan_id) or {}
    plan = described.get("BackupPlan") or {}
    rules = [{"rule_name": rule.get("RuleName"), "target_vault_name": rule.get("TargetBackupVaultName"),
              "copy_action": [{"destination_vault_arn": action.get("DestinationBackupVaultArn")}
                              for action in rule.get("CopyActions") or []] or None}
             for rule in plan.get("Rules") or []]
    values: dict[str, Any] = {"name": plan.get("BackupPlanName") or entry.get("BackupPlanName"), "arn": arn,
                              "id": plan_id, "rule": rules or None}
    read = Read()
    try:
        selections = caller.pages("ListBackupSelections", "list_backup_selections", "BackupSelectionsList",
                                  resource=arn, resource_types=("aws_backup_plan",),  # its copies are unverified
                                  BackupPlanId=plan_id)
        read.pending += [(_backup_selection, (arn, selection)) for selection in selections]
    except CallFailed:
        pass  # no selection in the model: the rule counts the plan's sources as unseen, so its copies fail closed
    read.records.append((resource(arn=arn, resource_type="aws_backup_plan", name=str(values["name"]),
                                  account=caller.account, region=caller.region, evidence="backup:ListBackupPlans",
                                  values=values), []))
    return read


def _backup_selection(caller: Caller, item: tuple[str, dict[str, Any]]) -> Read:
    plan_arn, entry = item
    selection_id = entry["SelectionId"]
    arn = f"{plan_arn}/selection:{selection_id}"  # selections have no ARN of their own
    try:
        described = caller.call("GetBackupSelection", "get_backup_selection", resource=arn,
                                resource_types=("aws_backup_plan",), BackupPlanId=entry["BackupPlanId"],
                                SelectionId=selection_id) or {}
    except CallFailed as failed:
        # kept, with what it picks unknown: leaving it out would let the plan's other selections decide alone
        reason = f"the audit could not read the selection: {failed.gap.describe()}"
        values = {"name": entry.get("SelectionName"), "plan_id": plan_arn, "resources": unknown("resources", reason)}
        kept = resource(arn=arn, resource_type="aws_backup_selection", name=str(values["name"]),
                        account=caller.account, region=caller.region, evidence="backup:ListBackupSelections",
                        values=values)
        return Read(records=[(kept, [("plan_id", plan_arn)])])
    selection = described.get("BackupSelection") or {}
    given = selection.get("Conditions") or {}
    conditions = {name: [{"key": c.get("ConditionKey"), "value": c.get("ConditionValue")} for c in given[key]]
                  for key, name in _BACKUP_CONDITIONS.items() if given.get(key)}
    values: dict[str, Any] = {
        "name": selection.get("SelectionName") or entry.get("SelectionName"), "plan_id": plan_arn,
        "iam_role_arn": selection.get("IamRoleArn"), "resources": selection.get("Resources") or None,
        "not_resources": selection.get("NotResources") or None,
        "selection_tag": [{"type": tag.get("ConditionType"), "key": tag.get("ConditionKey"),
                           "value": tag.get("ConditionValue")} for tag in selection.get("ListOfTags") or []] or None,
        "condition": [conditions] if conditions else None}
    links: Links = [("plan_id", plan_arn)] + [("resources", text) for text in selection.get("Resources") or []] \
        + [("not_resources", text) for text in selection.get("NotResources") or []]
    record = resource(arn=arn, resource_type="aws_backup_selection", name=str(values["name"]),
                      account=caller.account, region=caller.region, evidence="backup:ListBackupSelections",
                      values=values)
    return Read(records=[(record, links)])


# --- Redshift (clusters; cross-Region snapshot copy as the inline snapshot_copy block) ----------------------

def redshift_clusters(caller: Caller) -> Read:
    read = Read()
    groups = _Groups(caller)  # CKV_DH_104: the parameter groups the clusters name
    for cluster in caller.pages("DescribeClusters", "describe_clusters", "Clusters",
                                resource_types=("aws_redshift_cluster",)):
        name = cluster["ClusterIdentifier"]
        arn = f"arn:aws:redshift:{caller.region}:{caller.account}:cluster:{name}"  # DescribeClusters gives none
        copy = cluster.get("ClusterSnapshotCopyStatus") or {}
        values = {"cluster_identifier": name, "arn": arn, "tags": _tags(cluster.get("Tags")),
                  "encrypted": cluster.get("Encrypted"), "kms_key_id": cluster.get("KmsKeyId"),
                  "snapshot_copy": [{"destination_region": copy["DestinationRegion"]}]
                  if copy.get("DestinationRegion") else None,
                  "publicly_accessible": _redshift_public(cluster)}  # CKV_DH_103
        audit_links = _redshift_audit(caller, cluster, arn, groups, values)
        read.records.append((resource(arn=arn, resource_type="aws_redshift_cluster", name=name,
                                      account=caller.account, region=caller.region,
                                      evidence="redshift:DescribeClusters", values=values), audit_links))
    read.records += groups.records
    return read


# --- EFS replication (DescribeReplicationConfigurations: every replication of the region's file systems) -----

def efs_replications(caller: Caller) -> Read:
    read = Read()
    for replication in caller.pages("DescribeReplicationConfigurations", "describe_replication_configurations",
                                    "Replications", resource_types=("aws_efs_replication_configuration",)):
        source = replication.get("SourceFileSystemArn")
        region = replication.get("SourceFileSystemRegion") or caller.region
        if not source:
            continue
        # A replication has no ARN; it is listed in the source's and the destination's regions: one record.
        arn = f"{source}/replication-configuration"
        values = {"source_file_system_id": source, "destination": [
            {"region": d.get("Region"), "file_system_id": d.get("FileSystemId"), "status": d.get("Status")}
            for d in replication.get("Destinations") or []] or None}
        record = resource(arn=arn, resource_type="aws_efs_replication_configuration",
                          name=str(replication.get("SourceFileSystemId")), account=caller.account, region=region,
                          evidence="elasticfilesystem:DescribeReplicationConfigurations", values=values)
        read.records.append((record, [("source_file_system_id", source)]))
    return read


# --- S3 Multi-Region Access Points (account-wide, through the us-west-2 control plane) ------------------------

MRAP_REGION = "us-west-2"  # S3 routes every Multi-Region Access Point control-plane request to us-west-2


def s3_multi_region_access_points(caller: Caller) -> Read:
    read = Read()
    points = _followed(caller, "ListMultiRegionAccessPoints", "list_multi_region_access_points", "AccessPoints",
                       ("aws_s3control_multi_region_access_point",), AccountId=caller.account)
    for point in points:
        name = str(point.get("Name"))
        arn = f"arn:aws:s3::{caller.account}:accesspoint/{point.get('Alias') or name}"
        values = {"arn": arn, "alias": point.get("Alias"), "account_id": caller.account, "details": [{
            "name": name, "region": [{"bucket": r.get("Bucket"), "bucket_account_id": r.get("BucketAccountId")}
                                     for r in point.get("Regions") or []] or None}]}
        read.records.append((resource(arn=arn, resource_type="aws_s3control_multi_region_access_point", name=name,
                                      account=caller.account, region=caller.region,
                                      evidence="s3:ListMultiRegionAccessPoints", values=values), []))
    return read


# --- DLM lifecycle policies (EBS snapshot and AMI policies with cross-Region copy) ---------------------------

def dlm_policies(caller: Caller) -> Read:
    # not paginated: GetLifecyclePolicies returns every policy of the region
    listed = caller.call("GetLifecyclePolicies", "get_lifecycle_policies",
                         resource_types=("aws_dlm_lifecycle_policy",)) or {}
    return Read(pending=[(_dlm_policy, entry["PolicyId"]) for entry in listed.get("Policies") or []
                         if entry.get("PolicyId")])


def _dlm_policy(caller: Caller, policy_id: str) -> Read:
    arn = f"arn:aws:dlm:{caller.region}:{caller.account}:policy/{policy_id}"
    policy = (caller.call("GetLifecyclePolicy", "get_lifecycle_policy", resource=arn,
                          resource_types=("aws_dlm_lifecycle_policy",), PolicyId=policy_id) or {}).get("Policy") or {}
    arn = policy.get("PolicyArn") or arn
    details = policy.get("PolicyDetails") or {}
    values = {"arn": arn, "description": policy.get("Description"), "state": policy.get("State"),
              "tags": policy.get("Tags") or {}, "policy_details": [{
                  "resource_types": details.get("ResourceTypes"), "policy_type": details.get("PolicyType"),
                  "target_tags": _tags(details.get("TargetTags")) or None,
                  "schedule": [{"name": schedule.get("Name"), "cross_region_copy_rule": [
                      {"target": rule.get("Target"), "target_region": rule.get("TargetRegion"),
                       "encrypted": rule.get("Encrypted"), "cmk_arn": rule.get("CmkArn")}
                      for rule in schedule.get("CrossRegionCopyRules") or []] or None,
                      "share_rule": [{"target_accounts": rule.get("TargetAccounts")}  # CKV_DH_105
                                     for rule in schedule.get("ShareRules") or []] or None}
                      for schedule in details.get("Schedules") or []] or None,
                  "action": [{"name": action.get("Name"), "cross_region_copy": [
                      {"target": copy.get("Target")} for copy in action.get("CrossRegionCopy") or []] or None}
                      for action in details.get("Actions") or []] or None}]}
    record = resource(arn=arn, resource_type="aws_dlm_lifecycle_policy", name=policy_id, account=caller.account,
                      region=caller.region, evidence="dlm:GetLifecyclePolicies", values=values)
    return Read(records=[(record, [])])


# --- ElastiCache (replication groups and the global datastores they belong to) ------------------------------

def elasticache_groups(caller: Caller) -> Read:
    groups = caller.pages("DescribeReplicationGroups", "describe_replication_groups", "ReplicationGroups",
                          resource_types=("aws_elasticache_replication_group",))
    return Read(pending=[(_elasticache_group, group) for group in groups])


def elasticache_datastores(caller: Caller) -> Read:
    read = Read()
    for datastore in caller.pages("DescribeGlobalReplicationGroups", "describe_global_replication_groups",
                                  "GlobalReplicationGroups",
                                  resource_types=("aws_elasticache_global_replication_group",), ShowMemberInfo=True):
        identifier = datastore.get("GlobalReplicationGroupId")
        members = datastore.get("Members") or []
        primary = next((m for m in members if m.get("Role") == "PRIMARY"), None)
        region = (primary or {}).get("ReplicationGroupRegion") or caller.region
        arn = datastore.get("ARN") or f"arn:aws:elasticache::{caller.account}:globalreplicationgroup:{identifier}"
        primary_arn = primary and \
            f"arn:aws:elasticache:{region}:{caller.account}:replicationgroup:{primary.get('ReplicationGroupId')}"
        values = {"global_replication_group_id": identifier, "arn": arn,
                  "primary_replication_group_id": (primary or {}).get("ReplicationGroupId")}
        # listed in every member's region: one record (estate.py keeps the first), in the primary's region
        record = resource(arn=arn, resource_type="aws_elasticache_global_replication_group", name=str(identifier),
                          account=caller.account, region=region,
                          evidence="elasticache:DescribeGlobalReplicationGroups", values=values)
        links: Links = [("primary_replication_group_id", primary_arn)] if primary_arn else []
        links += [("__seen_member__", f"arn:aws:elasticache:{m['ReplicationGroupRegion']}:{caller.account}:"
                   f"replicationgroup:{m['ReplicationGroupId']}") for m in members
                  if m.get("ReplicationGroupRegion") and m.get("ReplicationGroupId")]
        read.records.append((record, links))
    return read


def _elasticache_group(caller: Caller, group: dict[str, Any]) -> Read:
    name = group["ReplicationGroupId"]
    arn = group.get("ARN") or f"arn:aws:elasticache:{caller.region}:{caller.account}:replicationgroup:{name}"
    values: dict[str, Any] = {
        "replication_group_id": name, "arn": arn, "kms_key_id": group.get("KmsKeyId"),
        "at_rest_encryption_enabled": group.get("AtRestEncryptionEnabled"),
        "global_replication_group_id": (group.get("GlobalReplicationGroupInfo") or {}).get("GlobalReplicationGroupId")}
    try:
        tags = caller.call("ListTagsForResource", "list_tags_for_resource", resource=arn, ResourceName=arn) or {}
        values["tags"] = _tags(tags.get("TagList"))
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    record = resource(arn=arn, resource_type="aws_elasticache_replication_group", name=name, account=caller.account,
                      region=caller.region, evidence="elasticache:DescribeReplicationGroups", values=values)
    return Read(records=[(record, [])])


# --- MemoryDB (clusters and the multi-Region clusters they belong to) ---------------------------------------

def memorydb_clusters(caller: Caller) -> Read:
    clusters = caller.pages("DescribeClusters", "describe_clusters", "Clusters",
                            resource_types=("aws_memorydb_cluster",))
    return Read(pending=[(_memorydb_cluster, cluster) for cluster in clusters])


def memorydb_multi_region(caller: Caller) -> Read:
    read = Read()
    for group in caller.pages("DescribeMultiRegionClusters", "describe_multi_region_clusters", "MultiRegionClusters",
                              resource_types=("aws_memorydb_multi_region_cluster",), ShowClusterDetails=True):
        name = group.get("MultiRegionClusterName")
        arn = group.get("ARN") or f"arn:aws:memorydb::{caller.account}:multiregioncluster/{name}"
        # A multi-Region cluster is global (its ARN names no region); its members' records carry their regions.
        record = resource(arn=arn, resource_type="aws_memorydb_multi_region_cluster", name=str(name),
                          account=caller.account, region=caller.region,
                          evidence="memorydb:DescribeMultiRegionClusters",
                          values={"multi_region_cluster_name": name, "arn": arn})
        read.records.append((record, [("__seen_member__", c["ARN"]) for c in group.get("Clusters") or []
                                      if c.get("ARN")]))
    return read


def _memorydb_cluster(caller: Caller, cluster: dict[str, Any]) -> Read:
    name = cluster["Name"]
    arn = cluster.get("ARN") or f"arn:aws:memorydb:{caller.region}:{caller.account}:cluster/{name}"
    values: dict[str, Any] = {"name": name, "arn": arn, "kms_key_arn": cluster.get("KmsKeyId"),
                              "multi_region_cluster_name": cluster.get("MultiRegionClusterName")}
    try:
        values["tags"] = _tags((caller.call("ListTags", "list_tags", resource=arn, ResourceArn=arn) or {})
                               .get("TagList"))
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    record = resource(arn=arn, resource_type="aws_memorydb_cluster", name=name, account=caller.account,
                      region=caller.region, evidence="memorydb:DescribeClusters", values=values)
    return Read(records=[(record, [])])


efs = each(efs_file_systems, efs_replications)
elasticache = each(elasticache_groups, elasticache_datastores)
memorydb = each(memorydb_clusters, memorydb_multi_region)


# --- Telemetry (CKV_DH_301-303): log groups, subscription filters, data protection policies -----------------

def log_groups(caller: Caller) -> Read:
    groups = caller.pages("DescribeLogGroups", "describe_log_groups", "logGroups",
                          resource_types=("aws_cloudwatch_log_group", "aws_cloudwatch_log_subscription_filter"))
    return Read(pending=[(_log_group, group) for group in groups if group.get("logGroupName")])


def _log_group(caller: Caller, group: dict[str, Any]) -> Read:
    name = str(group["logGroupName"])
    arn = group.get("logGroupArn") or str(group.get("arn") or "").removesuffix(":*") or \
        f"arn:aws:logs:{caller.region}:{caller.account}:log-group:{name}"
    values: dict[str, Any] = {"name": name, "arn": arn, "kms_key_id": group.get("kmsKeyId"),
                              "retention_in_days": group.get("retentionInDays")}
    try:
        values["tags"] = dict((caller.call("ListTagsForResource", "list_tags_for_resource", resource=arn,
                                           resourceArn=arn) or {}).get("tags") or {})
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    read = Read(records=[(resource(arn=arn, resource_type="aws_cloudwatch_log_group", name=name,
                                   account=caller.account, region=caller.region, evidence="logs:DescribeLogGroups",
                                   values=values), [])])
    filters = caller.pages("DescribeSubscriptionFilters", "describe_subscription_filters", "subscriptionFilters",
                           resource=arn, resource_types=("aws_cloudwatch_log_subscription_filter",), logGroupName=name)
    for entry in filters:
        filter_arn = f"{arn}:subscription-filter:{entry.get('filterName')}"  # filters have no ARN of their own
        read.records.append((resource(
            arn=filter_arn, resource_type="aws_cloudwatch_log_subscription_filter", name=str(entry.get("filterName")),
            account=caller.account, region=caller.region, evidence="logs:DescribeSubscriptionFilters",
            values={"name": entry.get("filterName"), "log_group_name": name,
                    "filter_pattern": entry.get("filterPattern"), "destination_arn": entry.get("destinationArn"),
                    "role_arn": entry.get("roleArn"), "distribution": entry.get("distribution")}),
            [("log_group_name", arn)]))
    if filters:  # a data protection policy matters where the group's events flow somewhere
        try:
            policy = caller.call("GetDataProtectionPolicy", "get_data_protection_policy", resource=arn,
                                 resource_types=("aws_cloudwatch_log_subscription_filter",),
                                 absent=("ResourceNotFoundException",), logGroupIdentifier=name) or {}
        except CallFailed:
            policy = {}  # the gap is recorded; no policy in the model: the flow is judged not de-identified
        if policy.get("policyDocument"):
            read.records.append((resource(
                arn=f"{arn}:data-protection-policy", resource_type="aws_cloudwatch_log_data_protection_policy",
                name=name, account=caller.account, region=caller.region, evidence="logs:GetDataProtectionPolicy",
                values={"log_group_name": name, "policy_document": policy["policyDocument"]}),
                [("log_group_name", arn)]))
    return read


# --- VPC flow logs -------------------------------------------------------------------------------------------

def flow_logs(caller: Caller) -> Read:
    read = Read()
    for entry in caller.pages("DescribeFlowLogs", "describe_flow_logs", "FlowLogs", resource_types=("aws_flow_log",)):
        flow_id = str(entry.get("FlowLogId"))
        arn = f"arn:aws:ec2:{caller.region}:{caller.account}:vpc-flow-log/{flow_id}"
        target = str(entry.get("ResourceId") or "")
        attachment = {"vpc-": "vpc_id", "subnet-": "subnet_id", "eni-": "eni_id",
                      "tgw-attach-": "transit_gateway_attachment_id", "tgw-": "transit_gateway_id"}
        key = next((attribute for prefix, attribute in attachment.items() if target.startswith(prefix)), "vpc_id")
        values = {"arn": arn, key: target or None, "log_destination_type": entry.get("LogDestinationType"),
                  "log_destination": entry.get("LogDestination"), "log_group_name": entry.get("LogGroupName"),
                  "log_format": entry.get("LogFormat"), "traffic_type": entry.get("TrafficType"),
                  "tags": _tags(entry.get("Tags"))}
        read.records.append((resource(arn=arn, resource_type="aws_flow_log", name=flow_id, account=caller.account,
                                      region=caller.region, evidence="ec2:DescribeFlowLogs", values=values), []))
    return read


# --- Firehose ------------------------------------------------------------------------------------------------

def firehose_streams(caller: Caller) -> Read:
    names: list[str] = []
    start: str | None = None
    while True:  # no botocore paginator: follow ExclusiveStartDeliveryStreamName; a failed page fails the listing
        page = caller.call("ListDeliveryStreams", "list_delivery_streams",
                           resource_types=("aws_kinesis_firehose_delivery_stream",), Limit=10000,  # AWS's maximum
                           **({"ExclusiveStartDeliveryStreamName": start} if start else {})) or {}
        listed = list(page.get("DeliveryStreamNames") or [])
        names += listed
        if not page.get("HasMoreDeliveryStreams") or not listed:
            break
        start = listed[-1]
    return Read(pending=[(_firehose_stream, name) for name in names])


def _firehose_stream(caller: Caller, name: str) -> Read:
    guess = f"arn:aws:firehose:{caller.region}:{caller.account}:deliverystream/{name}"
    described = (caller.call("DescribeDeliveryStream", "describe_delivery_stream", resource=guess,
                             resource_types=("aws_kinesis_firehose_delivery_stream",), DeliveryStreamName=name)
                 or {}).get("DeliveryStreamDescription") or {}
    arn = described.get("DeliveryStreamARN") or guess
    values: dict[str, Any] = {"name": name, "arn": arn}
    for destination in described.get("Destinations") or []:
        extended = destination.get("ExtendedS3DestinationDescription")
        if extended:
            conversion = extended.get("DataFormatConversionConfiguration") or {}
            schema = conversion.get("SchemaConfiguration") or {}
            values["destination"] = "extended_s3"
            values.setdefault("extended_s3_configuration", []).append({
                "bucket_arn": extended.get("BucketARN"), "prefix": extended.get("Prefix"),
                "data_format_conversion_configuration": [{
                    "enabled": conversion.get("Enabled", True), "schema_configuration": [{
                        "database_name": schema.get("DatabaseName"), "table_name": schema.get("TableName"),
                        "catalog_id": schema.get("CatalogId")}]}] if schema else None})
        elif destination.get("S3DestinationDescription"):
            values["destination"] = "s3"
            values.setdefault("s3_configuration", []).append(
                {"bucket_arn": destination["S3DestinationDescription"].get("BucketARN")})
        for key, block, arn_key, attribute in (
                ("RedshiftDestinationDescription", "redshift_configuration", "ClusterJDBCURL", "cluster_jdbcurl"),
                ("AmazonopensearchserviceDestinationDescription", "opensearch_configuration", "DomainARN",
                 "domain_arn"),
                ("ElasticsearchDestinationDescription", "elasticsearch_configuration", "DomainARN", "domain_arn"),
                ("HttpEndpointDestinationDescription", "http_endpoint_configuration", "", "url")):
            found = destination.get(key)
            if not found:
                continue
            settings: dict[str, Any] = {attribute: found.get(arn_key) if arn_key else
                                        (found.get("EndpointConfiguration") or {}).get("Url")}
            if block == "redshift_configuration":
                settings["data_table_columns"] = (found.get("CopyCommand") or {}).get("DataTableColumns")
            values["destination"] = block.removesuffix("_configuration")
            values.setdefault(block, []).append(settings)
    try:
        tags = caller.call("ListTagsForDeliveryStream", "list_tags_for_delivery_stream", resource=arn,
                           DeliveryStreamName=name) or {}  # a stream has at most 50 tags: one page
        values["tags"] = _tags(tags.get("Tags"))
    except CallFailed as failed:
        values["tags"] = _unknown_tags(failed)
    record = resource(arn=arn, resource_type="aws_kinesis_firehose_delivery_stream", name=name,
                      account=caller.account, region=caller.region, evidence="firehose:ListDeliveryStreams",
                      values=values)
    return Read(records=[(record, [])])


# --- Glue Data Catalog ---------------------------------------------------------------------------------------

def glue_catalog(caller: Caller) -> Read:
    databases = caller.pages("GetDatabases", "get_databases", "DatabaseList",
                             resource_types=("aws_glue_catalog_database", "aws_glue_catalog_table"))
    return Read(pending=[(_glue_database, database) for database in databases if database.get("Name")])


def _glue_tags(caller: Caller, arn: str) -> Any:
    try:
        return dict((caller.call("GetTags", "get_tags", resource=arn, ResourceArn=arn) or {}).get("Tags") or {})
    except CallFailed as failed:
        return _unknown_tags(failed)


def _glue_database(caller: Caller, database: dict[str, Any]) -> Read:
    name = str(database["Name"])
    catalog = str(database.get("CatalogId") or caller.account)
    arn = f"arn:aws:glue:{caller.region}:{catalog}:database/{name}"
    values = {"name": name, "arn": arn, "catalog_id": catalog, "location_uri": database.get("LocationUri") or None,
              "tags": _glue_tags(caller, arn)}
    read = Read(records=[(resource(arn=arn, resource_type="aws_glue_catalog_database", name=name,
                                   account=caller.account, region=caller.region, evidence="glue:GetDatabases",
                                   values=values), [])])
    read.pending += [(_glue_table, (arn, table)) for table in caller.pages(
        "GetTables", "get_tables", "TableList", resource=arn, resource_types=("aws_glue_catalog_table",),
        DatabaseName=name, **({"CatalogId": catalog} if database.get("CatalogId") else {}))]
    return read


def _glue_table(caller: Caller, item: tuple[str, dict[str, Any]]) -> Read:
    database_arn, table = item
    name, database = str(table.get("Name")), str(table.get("DatabaseName"))
    catalog = str(table.get("CatalogId") or caller.account)
    arn = f"arn:aws:glue:{caller.region}:{catalog}:table/{database}/{name}"
    storage = table.get("StorageDescriptor") or {}

    def columns(listed: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
        return [{"name": c.get("Name"), "type": c.get("Type")} for c in listed or []] or None

    values = {"name": name, "arn": arn, "database_name": database, "catalog_id": catalog,
              "table_type": table.get("TableType"), "tags": _glue_tags(caller, arn),
              "storage_descriptor": [{"location": storage.get("Location"), "columns": columns(storage.get("Columns"))}],
              "partition_keys": columns(table.get("PartitionKeys"))}
    record = resource(arn=arn, resource_type="aws_glue_catalog_table", name=name, account=caller.account,
                      region=caller.region, evidence="glue:GetTables", values=values)
    return Read(records=[(record, [("database_name", database_arn)])])


# --- Who can read or receive the data (CKV_DH_103/105) -------------------------------------------------------
# Resource policies, ACLs, Block Public Access, KMS grants and shared snapshots, in the Terraform shapes
# rules/public_access.py and rules/sharing_mechanisms.py read. A call that fails leaves the value unknown, named
# with the call in its text (a finding quotes it), so the check fails closed on that store.

def _unread(what: str, failed: CallFailed) -> Any:
    gap = failed.gap
    how = "was denied" if gap.denied else "failed"
    return unknown(f"{what} not read: {gap.service}:{gap.operation} {how}",
                   f"the audit could not read {what}: {gap.describe()}")


def _bucket_access(caller: Caller, name: str, arn: str, region: str) -> Read:
    """The bucket's policy, ACL and public access block as aws_s3_bucket_policy, aws_s3_bucket_acl and
    aws_s3_bucket_public_access_block, each referring to the bucket (named `<bucket ARN>?policy`, `?acl`,
    `?publicAccessBlock`, after the S3 subresources: they have no ARN of their own)."""
    read = Read()

    def add(suffix: str, resource_type: str, evidence: str, values: dict[str, Any]) -> None:
        record = resource(arn=f"{arn}?{suffix}", resource_type=resource_type, name=name, account=caller.account,
                          region=region, evidence=evidence, values={"bucket": name, **values})
        read.records.append((record, [("bucket", arn)]))

    try:
        policy = caller.call("GetBucketPolicy", "get_bucket_policy", resource=arn,
                             resource_types=("aws_s3_bucket_policy",), absent=("NoSuchBucketPolicy",), Bucket=name)
        if policy is not None:
            add("policy", "aws_s3_bucket_policy", "s3:GetBucketPolicy", {"policy": policy.get("Policy")})
    except CallFailed as failed:  # there may be a policy: the bucket's exposure cannot be verified
        add("policy", "aws_s3_bucket_policy", "s3:GetBucketPolicy", {"policy": _unread("policy", failed)})
    try:
        acl = caller.call("GetBucketAcl", "get_bucket_acl", resource=arn, resource_types=("aws_s3_bucket_acl",),
                          Bucket=name) or {}
        owner = (acl.get("Owner") or {}).get("ID")
        grants = acl.get("Grants") or []
        # An ACL that grants its owner alone is the private default, as a bucket with no aws_s3_bucket_acl.
        if any((g.get("Grantee") or {}).get("Type") != "CanonicalUser" or (g.get("Grantee") or {}).get("ID") != owner
               for g in grants):
            add("acl", "aws_s3_bucket_acl", "s3:GetBucketAcl", {"access_control_policy": [{
                "grant": [{"permission": g.get("Permission"), "grantee": [{
                    "type": (g.get("Grantee") or {}).get("Type"), "uri": (g.get("Grantee") or {}).get("URI"),
                    "id": (g.get("Grantee") or {}).get("ID"),
                    "email_address": (g.get("Grantee") or {}).get("EmailAddress")}]} for g in grants],
                "owner": [{"id": owner}]}]})
    except CallFailed as failed:
        add("acl", "aws_s3_bucket_acl", "s3:GetBucketAcl", {"acl": _unread("acl", failed)})
    try:
        block = caller.call("GetPublicAccessBlock", "get_public_access_block", resource=arn,
                            resource_types=("aws_s3_bucket_public_access_block",),
                            absent=("NoSuchPublicAccessBlockConfiguration",), Bucket=name)
        if block is not None:  # none: the bucket is judged as one with no aws_s3_bucket_public_access_block
            add("publicAccessBlock", "aws_s3_bucket_public_access_block", "s3:GetPublicAccessBlock",
                _block_settings(block.get("PublicAccessBlockConfiguration") or {}))
    except CallFailed as failed:  # a block whose settings are unknown: never taken as on
        add("publicAccessBlock", "aws_s3_bucket_public_access_block", "s3:GetPublicAccessBlock",
            dict.fromkeys(_BLOCK_SETTINGS.values(), _unread("the public access block", failed)))
    return read


_BLOCK_SETTINGS = {"BlockPublicAcls": "block_public_acls", "BlockPublicPolicy": "block_public_policy",
                   "IgnorePublicAcls": "ignore_public_acls", "RestrictPublicBuckets": "restrict_public_buckets"}


def _block_settings(configuration: dict[str, Any]) -> dict[str, Any]:
    return {setting: bool(configuration.get(key)) for key, setting in _BLOCK_SETTINGS.items()}


def s3_account_public_access_block(caller: Caller) -> Read:
    """The account's Block Public Access (S3 Control, once per account) as aws_s3_account_public_access_block.
    None configured: no record. A failure leaves none either: the block could only clear findings, so buckets
    without a block of their own fail as they would without it, and the gap is listed."""
    block = caller.call("GetPublicAccessBlock", "get_public_access_block",
                        resource_types=("aws_s3_bucket", "aws_s3_bucket_public_access_block"),
                        absent=("NoSuchPublicAccessBlockConfiguration",), AccountId=caller.account)
    if block is None:
        return Read()
    arn = f"arn:aws:s3::{caller.account}:account-public-access-block"  # it has no ARN of its own
    record = resource(arn=arn, resource_type="aws_s3_account_public_access_block", name=caller.account,
                      account=caller.account, region=caller.region, evidence="s3:GetAccountPublicAccessBlock",
                      values={"account_id": caller.account,
                              **_block_settings(block.get("PublicAccessBlockConfiguration") or {})})
    return Read(records=[(record, [])])


def _table_policy(caller: Caller, arn: str) -> Read:
    """A table's resource policy as aws_dynamodb_resource_policy (`resource_arn`, `policy`)."""
    try:
        answer = caller.call("GetResourcePolicy", "get_resource_policy", resource=arn,
                             resource_types=("aws_dynamodb_resource_policy",), absent=("PolicyNotFoundException",),
                             ResourceArn=arn)
        if answer is None or not answer.get("Policy"):
            return Read()
        policy: Any = answer["Policy"]
    except CallFailed as failed:
        policy = _unread("policy", failed)
    record = resource(arn=f"{arn}/resource-policy", resource_type="aws_dynamodb_resource_policy",
                      name=arn.rsplit("/", 1)[-1], account=caller.account, region=caller.region,
                      evidence="dynamodb:GetResourcePolicy", values={"resource_arn": arn, "policy": policy})
    return Read(records=[(record, [("resource_arn", arn)])])


def _secret_policy(caller: Caller, arn: str) -> dict[str, Any]:
    """A secret's resource policy as its `policy` argument (none: not set)."""
    try:
        answer = caller.call("GetResourcePolicy", "get_resource_policy", resource=arn,
                             resource_types=("aws_secretsmanager_secret",), SecretId=arn) or {}
    except CallFailed as failed:
        return {"policy": _unread("policy", failed)}
    return {"policy": answer.get("ResourcePolicy") or None}


def _key_grants(caller: Caller, arn: str, key_id: str) -> Read:
    """A customer key's grants as aws_kms_grant (`key_id`, `grantee_principal`, `operations`), named
    `<key ARN>/grant/<grant ID>`. Grants that cannot be listed are one grant whose grantee is unknown."""
    try:
        grants = caller.pages("ListGrants", "list_grants", "Grants", resource=arn, resource_types=("aws_kms_grant",),
                              KeyId=key_id)
    except CallFailed as failed:
        grants = [{"GrantId": "*", "GranteePrincipal": _unread("the grants", failed)}]
    read = Read()
    for grant in grants:
        grant_id = str(grant.get("GrantId"))
        values = {"grant_id": grant_id, "name": grant.get("Name") or None, "key_id": arn,
                  "grantee_principal": grant.get("GranteePrincipal"),
                  "retiring_principal": grant.get("RetiringPrincipal"), "operations": grant.get("Operations")}
        record = resource(arn=f"{arn}/grant/{grant_id}", resource_type="aws_kms_grant", name=grant_id,
                          account=caller.account, region=caller.region, evidence="kms:ListGrants", values=values)
        read.records.append((record, [("key_id", arn)]))
    return read


def _redshift_public(cluster: dict[str, Any]) -> Any:
    if "PubliclyAccessible" in cluster:
        return bool(cluster["PubliclyAccessible"])
    # not the Terraform default (true before provider 6.0): the API did not say
    return unknown("publicly_accessible", "redshift:DescribeClusters did not return PubliclyAccessible")


def db_snapshots(caller: Caller) -> Read:
    """Manual DB snapshots (the only kind that can be shared) as aws_db_snapshot with `shared_accounts`."""
    listed = caller.pages("DescribeDBSnapshots", "describe_db_snapshots", "DBSnapshots",
                          resource_types=("aws_db_snapshot",), SnapshotType="manual")
    return Read(pending=[(_db_snapshot, snapshot) for snapshot in listed if snapshot.get("DBSnapshotArn")])


def _db_snapshot(caller: Caller, snapshot: dict[str, Any]) -> Read:
    arn, identifier = snapshot["DBSnapshotArn"], snapshot.get("DBSnapshotIdentifier")
    instance = snapshot.get("DBInstanceIdentifier")
    shared = _restore_access(caller, "DescribeDBSnapshotAttributes", "describe_db_snapshot_attributes", arn,
                             "aws_db_snapshot", "DBSnapshotAttributesResult", "DBSnapshotAttributes",
                             DBSnapshotIdentifier=identifier)
    values = {"db_snapshot_identifier": identifier, "db_snapshot_arn": arn, "arn": arn,
              "db_instance_identifier": instance, "shared_accounts": shared, "tags": _tags(snapshot.get("TagList")),
              "encrypted": snapshot.get("Encrypted"), "kms_key_id": snapshot.get("KmsKeyId")}
    record = resource(arn=arn, resource_type="aws_db_snapshot", name=str(identifier), account=caller.account,
                      region=caller.region, evidence="rds:DescribeDBSnapshots", values=values)
    source = f"arn:aws:rds:{caller.region}:{caller.account}:db:{instance}"
    return Read(records=[(record, [("db_instance_identifier", source)] if instance else [])])


def db_cluster_snapshots(caller: Caller) -> Read:
    """Manual cluster snapshots (Aurora, DocumentDB, Neptune) as aws_db_cluster_snapshot with `shared_accounts`."""
    listed = caller.pages("DescribeDBClusterSnapshots", "describe_db_cluster_snapshots", "DBClusterSnapshots",
                          resource_types=("aws_db_cluster_snapshot",), SnapshotType="manual")
    return Read(pending=[(_db_cluster_snapshot, snapshot) for snapshot in listed
                         if snapshot.get("DBClusterSnapshotArn")])


def _db_cluster_snapshot(caller: Caller, snapshot: dict[str, Any]) -> Read:
    arn, identifier = snapshot["DBClusterSnapshotArn"], snapshot.get("DBClusterSnapshotIdentifier")
    cluster = snapshot.get("DBClusterIdentifier")
    shared = _restore_access(caller, "DescribeDBClusterSnapshotAttributes", "describe_db_cluster_snapshot_attributes",
                             arn, "aws_db_cluster_snapshot", "DBClusterSnapshotAttributesResult",
                             "DBClusterSnapshotAttributes", DBClusterSnapshotIdentifier=identifier)
    values = {"db_cluster_snapshot_identifier": identifier, "db_cluster_snapshot_arn": arn, "arn": arn,
              "db_cluster_identifier": cluster, "shared_accounts": shared, "tags": _tags(snapshot.get("TagList")),
              "storage_encrypted": snapshot.get("StorageEncrypted"), "kms_key_id": snapshot.get("KmsKeyId")}
    record = resource(arn=arn, resource_type="aws_db_cluster_snapshot", name=str(identifier),
                      account=caller.account, region=caller.region, evidence="rds:DescribeDBClusterSnapshots",
                      values=values)
    source = f"arn:aws:rds:{caller.region}:{caller.account}:cluster:{cluster}"
    return Read(records=[(record, [("db_cluster_identifier", source)] if cluster else [])])


def _restore_access(caller: Caller, operation: str, method: str, arn: str, resource_type: str, result: str,
                    attributes: str, **params: Any) -> Any:
    """The accounts a snapshot's `restore` attribute lists (`all`: public), or unknown."""
    try:
        answer = caller.call(operation, method, resource=arn, resource_types=(resource_type,), **params) or {}
    except CallFailed as failed:
        return _unread("shared_accounts", failed)
    return [str(value) for attribute in (answer.get(result) or {}).get(attributes) or []
            if attribute.get("AttributeName") == "restore" for value in attribute.get("AttributeValues") or []] or None


def glue_resource_policy(caller: Caller) -> Read:
    """The Data Catalog's resource policy of the region as aws_glue_resource_policy: it governs every database
    and table of the catalog (model/resource_policies.catalog_stores: the same account and region)."""
    try:
        answer = caller.call("GetResourcePolicy", "get_resource_policy",
                             resource_types=("aws_glue_resource_policy",), absent=("EntityNotFoundException",))
        if answer is None or not answer.get("PolicyInJson"):
            return Read()
        policy: Any = answer["PolicyInJson"]
    except CallFailed as failed:
        policy = _unread("policy", failed)
    arn = f"arn:aws:glue:{caller.region}:{caller.account}:catalog/resource-policy"
    record = resource(arn=arn, resource_type="aws_glue_resource_policy", name="catalog", account=caller.account,
                      region=caller.region, evidence="glue:GetResourcePolicy", values={"policy": policy})
    return Read(records=[(record, [])])


rds_with_snapshots = each(rds, db_snapshots, db_cluster_snapshots)


# === CKV_DH_104: data-access logging ===========================================================================
# CloudTrail trails (their status and event selectors), S3 server access logging, the audit-log settings of RDS
# and Redshift (log exports, the parameter and option groups they name, activity streams, audit logging), as the
# Terraform records model/audit_logging.py reads. A value a call could not read is unknown, never "off".

def cloudtrail_trails(caller: Caller) -> Read:
    # With shadow trails: a multi-Region trail is listed in every region and an organisation trail in its member
    # accounts (as a shadow only). Each is described once: in its home region, or, when that region is not
    # audited, in the first audited region (by name), which lists it as a shadow (described by its ARN).
    listed = caller.pages("DescribeTrails", "describe_trails", "trailList", resource_types=("aws_cloudtrail",),
                          includeShadowTrails=True)
    return Read(pending=[(_trail, trail) for trail in listed if trail.get("TrailARN") and _describes(caller, trail)])


def _describes(caller: Caller, trail: dict[str, Any]) -> bool:
    home = trail.get("HomeRegion") or caller.region
    return home == caller.region or (home not in caller.regions and caller.region == min(caller.regions))


def _trail(caller: Caller, trail: dict[str, Any]) -> Read:
    arn = str(trail["TrailARN"])
    parts = arn.split(":")
    account = parts[4] if len(parts) > 5 and parts[4] else caller.account  # an organisation trail: its owner's
    bucket, group = trail.get("S3BucketName"), str(trail.get("CloudWatchLogsLogGroupArn") or "").removesuffix(":*")
    values: dict[str, Any] = {
        "name": trail.get("Name"), "arn": arn, "s3_bucket_name": bucket, "s3_key_prefix": trail.get("S3KeyPrefix"),
        "is_multi_region_trail": bool(trail.get("IsMultiRegionTrail")),
        "is_organization_trail": bool(trail.get("IsOrganizationTrail")),
        "include_global_service_events": trail.get("IncludeGlobalServiceEvents"),
        "enable_log_file_validation": trail.get("LogFileValidationEnabled"),
        "cloud_watch_logs_group_arn": group or None, "kms_key_id": trail.get("KmsKeyId")}
    try:
        status = caller.call("GetTrailStatus", "get_trail_status", resource=arn, resource_types=("aws_cloudtrail",),
                             Name=arn) or {}
        values["enable_logging"] = bool(status.get("IsLogging"))
    except CallFailed as failed:  # the rule shows the value: it names the call
        values["enable_logging"] = unknown(f"IsLogging not read: {failed.gap.describe()}",
                                           f"the audit could not read whether the trail logs: {failed.gap.describe()}")
    try:
        selectors = caller.call("GetEventSelectors", "get_event_selectors", resource=arn,
                                resource_types=("aws_cloudtrail",), TrailName=arn) or {}
        values["event_selector"] = _event_selectors(selectors.get("EventSelectors")) or None
        values["advanced_event_selector"] = _advanced_event_selectors(selectors.get("AdvancedEventSelectors")) or None
    except CallFailed as failed:
        # A trail has selectors of one kind or the other, and which is not known: the advanced ones, which the
        # rules read first, stand for both (one entry, so a finding says it once).
        values[UNKNOWN_BLOCKS] = {"advanced_event_selector": "the audit could not read the trail's event selectors: "
                                                             f"{failed.gap.describe()}"}
    links: Links = [("s3_bucket_name", f"arn:aws:s3:::{bucket}")] if bucket else []
    links += [("cloud_watch_logs_group_arn", group)] if group else []
    record = resource(arn=arn, resource_type="aws_cloudtrail", name=str(trail.get("Name") or arn), account=account,
                      region=str(trail.get("HomeRegion") or caller.region), evidence="cloudtrail:DescribeTrails",
                      values=values)
    return Read(records=[(record, links)])


def _event_selectors(selectors: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """GetEventSelectors' EventSelectors as Terraform's event_selector blocks."""
    return [{"read_write_type": selector.get("ReadWriteType"),
             "include_management_events": selector.get("IncludeManagementEvents"),
             "exclude_management_event_sources": selector.get("ExcludeManagementEventSources") or None,
             "data_resource": [{"type": data.get("Type"), "values": data.get("Values") or None}
                               for data in selector.get("DataResources") or []] or None}
            for selector in selectors or []]


_FIELD_OPERATORS = (("Equals", "equals"), ("StartsWith", "starts_with"), ("EndsWith", "ends_with"),
                    ("NotEquals", "not_equals"), ("NotStartsWith", "not_starts_with"), ("NotEndsWith", "not_ends_with"))


def _advanced_event_selectors(selectors: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """GetEventSelectors' AdvancedEventSelectors as Terraform's advanced_event_selector blocks."""
    return [{"name": selector.get("Name"), "field_selector": [
        {"field": field_selector.get("Field"),
         **{attribute: field_selector.get(key) or None for key, attribute in _FIELD_OPERATORS}}
        for field_selector in selector.get("FieldSelectors") or []] or None}
        for selector in selectors or []]


def _s3_bucket_logging(caller: Caller, name: str, arn: str, region: str,
                       values: dict[str, Any]) -> list[tuple[LiveResource, Links]]:
    """A bucket's server access logging as an aws_s3_bucket_logging of it; unreadable: the bucket's logging block
    is unknown (so CKV_DH_104 does not take it as off, and CKV_DH_303 does not take it as absent)."""
    try:
        answer = caller.call("GetBucketLogging", "get_bucket_logging", resource=arn,
                             resource_types=("aws_s3_bucket_logging",), Bucket=name) or {}
    except CallFailed as failed:
        values.setdefault(UNKNOWN_BLOCKS, {})["logging"] = \
            f"the audit could not read the bucket's server access logging: {failed.gap.describe()}"
        return []
    enabled = answer.get("LoggingEnabled")
    if not enabled:
        return []
    target = enabled.get("TargetBucket")
    record = resource(arn=f"{arn}:logging", resource_type="aws_s3_bucket_logging", name=name, account=caller.account,
                      region=region, evidence="s3:GetBucketLogging",
                      values={"bucket": name, "target_bucket": target, "target_prefix": enabled.get("TargetPrefix")})
    return [(record, [("bucket", arn)] + ([("target_bucket", f"arn:aws:s3:::{target}")] if target else []))]


# Parameter and option groups AWS creates (default.postgres16, default:mysql-8-0) cannot be modified: they never
# turn an audit on, as a Terraform database naming none uses them. Read as not set, without a call.
_DEFAULT_GROUPS = ("default.", "default:")


@dataclass(frozen=True)
class _GroupKind:
    operation: str
    method: str
    parameter: str  # the request parameter naming the group
    key: str  # the listing's result key
    arn: str  # the ARN's resource part before the name
    extra: tuple[tuple[str, str], ...] = (("Source", "user"),)  # only what the owner set, as Terraform's blocks


_GROUP_KINDS = {
    "aws_db_parameter_group": _GroupKind("DescribeDBParameters", "describe_db_parameters", "DBParameterGroupName",
                                         "Parameters", "pg"),
    "aws_rds_cluster_parameter_group": _GroupKind("DescribeDBClusterParameters", "describe_db_cluster_parameters",
                                                  "DBClusterParameterGroupName", "Parameters", "cluster-pg"),
    "aws_docdb_cluster_parameter_group": _GroupKind("DescribeDBClusterParameters", "describe_db_cluster_parameters",
                                                    "DBClusterParameterGroupName", "Parameters", "cluster-pg"),
    "aws_neptune_cluster_parameter_group": _GroupKind("DescribeDBClusterParameters", "describe_db_cluster_parameters",
                                                      "DBClusterParameterGroupName", "Parameters", "cluster-pg"),
    "aws_db_option_group": _GroupKind("DescribeOptionGroups", "describe_option_groups", "OptionGroupName",
                                      "OptionGroupsList", "og", ()),
    "aws_redshift_parameter_group": _GroupKind("DescribeClusterParameters", "describe_cluster_parameters",
                                               "ParameterGroupName", "Parameters", "parametergroup"),
}


class _Groups:
    """The parameter and option groups one region's databases name, each read once (in the listing's task: a
    region has few), as records; a group that cannot be read leaves the attribute naming it unknown."""

    def __init__(self, caller: Caller):
        self.caller = caller
        self.records: list[tuple[LiveResource, Links]] = []
        self._read: dict[tuple[str, str], str | CallFailed] = {}  # (type, name) -> its record's ARN, or the failure

    def name(self, values: dict[str, Any], links: Links, attribute: str, group_type: str, name: str | None) -> None:
        """Set `attribute` of a store's values to the group it names, linked to the group's record."""
        if not name or name.startswith(_DEFAULT_GROUPS):
            return
        read = self._read.get((group_type, name))
        if read is None:
            read = self._read[(group_type, name)] = self._group(group_type, name)
        if isinstance(read, CallFailed):
            values[attribute] = unknown(f"{name}: {read.gap.describe()}",
                                        f"the audit could not read the group: {read.gap.describe()}")
            return
        values[attribute] = name
        links.append((attribute, read))

    def _group(self, group_type: str, name: str) -> str | CallFailed:
        kind = _GROUP_KINDS[group_type]
        service = "redshift" if group_type == "aws_redshift_parameter_group" else "rds"
        arn = f"arn:aws:{service}:{self.caller.region}:{self.caller.account}:{kind.arn}:{name}"
        try:
            listed = self.caller.pages(kind.operation, kind.method, kind.key, resource=arn,
                                       resource_types=(group_type,), **{kind.parameter: name}, **dict(kind.extra))
        except CallFailed as failed:
            return failed
        if group_type == "aws_db_option_group":
            values: dict[str, Any] = {"name": name, "arn": arn, "option": [
                {"option_name": option.get("OptionName"), "option_settings": [
                    {"name": s.get("Name"), "value": s.get("Value")} for s in option.get("OptionSettings") or []]
                 or None} for group in listed for option in group.get("Options") or []] or None}
        else:
            values = {"name": name, "arn": arn, "parameter": [
                {"name": p.get("ParameterName"), "value": p.get("ParameterValue"), "apply_method": p.get("ApplyMethod")}
                for p in listed if p.get("ParameterName")] or None}
        self.records.append((resource(arn=arn, resource_type=group_type, name=name, account=self.caller.account,
                                      region=self.caller.region, evidence=f"{service}:{kind.operation}",
                                      values=values), []))
        return arn


_CLUSTER_GROUPS = {
    "aws_rds_cluster": ("db_cluster_parameter_group_name", "aws_rds_cluster_parameter_group"),
    "aws_docdb_cluster": ("db_cluster_parameter_group_name", "aws_docdb_cluster_parameter_group"),
    "aws_neptune_cluster": ("neptune_cluster_parameter_group_name", "aws_neptune_cluster_parameter_group")}


def _database_audit(item: dict[str, Any], arn: str, resource_type: str, caller: Caller, groups: _Groups,
                    values: dict[str, Any]) -> tuple[Links, list[tuple[LiveResource, Links]]]:
    """An RDS instance's or cluster's audit-log settings in its values: the log exports, the parameter (and
    option) group it names, and a running database activity stream as an aws_rds_cluster_activity_stream.
    Returns the store's links and the records it adds."""
    links: Links = []
    values["enabled_cloudwatch_logs_exports"] = item.get("EnabledCloudwatchLogsExports") or None
    if resource_type == "aws_db_instance":
        parameter_groups = item.get("DBParameterGroups") or [{}]
        option_groups = item.get("OptionGroupMemberships") or [{}]
        groups.name(values, links, "parameter_group_name", "aws_db_parameter_group",
                    parameter_groups[0].get("DBParameterGroupName"))
        groups.name(values, links, "option_group_name", "aws_db_option_group", option_groups[0].get("OptionGroupName"))
    elif resource_type in _CLUSTER_GROUPS:
        attribute, group_type = _CLUSTER_GROUPS[resource_type]
        groups.name(values, links, attribute, group_type, item.get("DBClusterParameterGroup"))
    records: list[tuple[LiveResource, Links]] = []
    if item.get("ActivityStreamStatus") == "started":
        stream = f"{arn}/activity-stream"  # a stream has no ARN of its own
        records.append((resource(arn=stream, resource_type="aws_rds_cluster_activity_stream", name=arn.split(":")[-1],
                                 account=caller.account, region=caller.region,
                                 evidence="rds:DescribeDBInstances/DescribeDBClusters (ActivityStreamStatus)",
                                 values={"resource_arn": arn, "mode": item.get("ActivityStreamMode"),
                                         "kms_key_id": item.get("ActivityStreamKmsKeyId")}), [("resource_arn", arn)]))
    return links, records


def _redshift_audit(caller: Caller, cluster: dict[str, Any], arn: str, groups: _Groups,
                    values: dict[str, Any]) -> Links:
    """A Redshift cluster's audit logging (DescribeLoggingStatus) as its logging block, and the parameter group
    it names (enable_user_activity_logging)."""
    name = cluster["ClusterIdentifier"]
    try:
        status = caller.call("DescribeLoggingStatus", "describe_logging_status", resource=arn,
                             resource_types=("aws_redshift_logging",), ClusterIdentifier=name) or {}
        values["logging"] = [{"enable": bool(status.get("LoggingEnabled")), "bucket_name": status.get("BucketName"),
                              "s3_key_prefix": status.get("S3KeyPrefix"),
                              "log_destination_type": status.get("LogDestinationType"),
                              "log_exports": status.get("LogExports") or None}]
    except CallFailed as failed:
        values.setdefault(UNKNOWN_BLOCKS, {})["logging"] = \
            f"the audit could not read the cluster's audit logging: {failed.gap.describe()}"
    links: Links = []
    parameter_groups = cluster.get("ClusterParameterGroups") or [{}]
    groups.name(values, links, "cluster_parameter_group_name", "aws_redshift_parameter_group",
                parameter_groups[0].get("ParameterGroupName"))
    return links


# === CKV_DH_106: model training and the data it reads ==========================================================
# What trains or fine-tunes a model from data, as the Terraform types model/training_inputs.py lists, with the
# training data's S3 URIs in their Terraform shape and linked to the bucket they name (a reference, as
# "s3://${aws_s3_bucket.x.bucket}/..." is in HCL). A description that fails leaves the data the resource trains on
# unknown, so the check fails closed on it.

def _s3_links(path: str, uris: list[Any]) -> Links:
    links: Links = []
    for uri in uris:
        if isinstance(uri, str) and uri.startswith("s3://"):
            bucket = uri.removeprefix("s3://").split("/", 1)[0]
            if bucket:
                links.append((path, f"arn:aws:s3:::{bucket}"))
    return links


def _unknown_training(path: str, failed: CallFailed) -> dict[str, Any]:
    return {UNKNOWN_BLOCKS: {path: f"the audit could not read what it trains on: {failed.gap.describe()}"}}


def bedrock_customization(caller: Caller) -> Read:
    """Model customization jobs (fine-tuning, continued pre-training, distillation), each described; and the
    account's own custom models that no listed job made (a model copied from another region): what they were
    trained on, from GetCustomModel. Both as aws_bedrock_custom_model, the job (or model) by its ARN."""
    types = ("aws_bedrock_custom_model",)
    jobs = caller.pages("ListModelCustomizationJobs", "list_model_customization_jobs", "modelCustomizationJobSummaries",
                        resource_types=types)
    read = Read(pending=[(_bedrock_job, job) for job in jobs if job.get("jobArn")])
    # a model a listed job made, by its ARN or its name (both unique in the account and region)
    made = {job.get("customModelArn") for job in jobs} | {("name", job.get("customModelName")) for job in jobs}
    with contextlib.suppress(CallFailed):  # the gap names it; the jobs listed are still judged
        models = caller.pages("ListCustomModels", "list_custom_models", "modelSummaries", resource_types=types,
                              isOwned=True)
        read.pending += [(_bedrock_model, model) for model in models if model.get("modelArn")
                         and not {model["modelArn"], ("name", model.get("modelName"))} & made]
    return read


def _bedrock_values(described: dict[str, Any]) -> tuple[dict[str, Any], Links]:
    training = described.get("trainingDataConfig") or {}
    source = (training.get("invocationLogsConfig") or {}).get("invocationLogSource") or {}
    validators = [v.get("s3Uri") for v in (described.get("validationDataConfig") or {}).get("validators") or []]
    values: dict[str, Any] = {
        "base_model_identifier": described.get("baseModelArn"), "role_arn": described.get("roleArn"),
        "customization_type": described.get("customizationType"),
        "training_data_config": [{"s3_uri": training.get("s3Uri"), "invocation_logs_config": [
            {"invocation_log_source": [{"s3_uri": source.get("s3Uri")}]}] if source.get("s3Uri") else None}],
        "validation_data_config": [{"validator": [{"s3_uri": uri} for uri in validators]}] if validators else None,
        "output_data_config": [{"s3_uri": (described.get("outputDataConfig") or {}).get("s3Uri")}]}
    links = _s3_links("training_data_config.s3_uri", [training.get("s3Uri")])
    links += _s3_links("training_data_config.invocation_logs_config.invocation_log_source.s3_uri",
                       [source.get("s3Uri")])
    links += _s3_links("validation_data_config.validator.s3_uri", validators)
    return values, links


def _bedrock_job(caller: Caller, summary: dict[str, Any]) -> Read:
    arn = str(summary["jobArn"])
    values: dict[str, Any] = {"job_arn": arn, "job_name": summary.get("jobName"),
                              "custom_model_name": summary.get("customModelName"),
                              "custom_model_arn": summary.get("customModelArn"), "status": summary.get("status")}
    links: Links = []
    try:
        # by name, which is unique in the account and region (an ARN in the path is what moto cannot decode)
        described = caller.call("GetModelCustomizationJob", "get_model_customization_job", resource=arn,
                                resource_types=("aws_bedrock_custom_model",),
                                jobIdentifier=summary.get("jobName") or arn) or {}
        more, links = _bedrock_values(described)
        values.update(more)
    except CallFailed as failed:
        values.update(_unknown_training("training_data_config", failed))
    record = resource(arn=arn, resource_type="aws_bedrock_custom_model", name=str(summary.get("jobName") or arn),
                      account=caller.account, region=caller.region, evidence="bedrock:ListModelCustomizationJobs",
                      values=values)
    return Read(records=[(record, links)])


def _bedrock_model(caller: Caller, summary: dict[str, Any]) -> Read:
    arn = str(summary["modelArn"])
    values: dict[str, Any] = {"custom_model_arn": arn, "custom_model_name": summary.get("modelName")}
    links: Links = []
    try:
        described = caller.call("GetCustomModel", "get_custom_model", resource=arn,
                                resource_types=("aws_bedrock_custom_model",), modelIdentifier=arn) or {}
        more, links = _bedrock_values(described)
        values.update(more, job_arn=described.get("jobArn"), job_name=described.get("jobName"))
    except CallFailed as failed:
        values.update(_unknown_training("training_data_config", failed))
    record = resource(arn=arn, resource_type="aws_bedrock_custom_model", name=str(summary.get("modelName") or arn),
                      account=caller.account, region=caller.region, evidence="bedrock:ListCustomModels", values=values)
    return Read(records=[(record, links)])


def _manifests(listed: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]] | None, Links]:
    manifests = [{"s3_uri": m.get("S3Uri"), "annotation_data_s3_uri": m.get("AnnotationDataS3Uri"),
                  "source_documents_s3_uri": m.get("SourceDocumentsS3Uri"), "attribute_names": m.get("AttributeNames"),
                  "split": m.get("Split"), "document_type": m.get("DocumentType")} for m in listed or []]
    links: Links = []
    for attribute in ("s3_uri", "annotation_data_s3_uri", "source_documents_s3_uri"):
        links += _s3_links(f"input_data_config.augmented_manifests.{attribute}", [m[attribute] for m in manifests])
    return manifests or None, links


def _comprehend_name(arn: str) -> str:
    # arn:aws:comprehend:eu-west-1:123456789012:document-classifier/tickets/version/v2
    return arn.split(":", 5)[-1].split("/", 1)[-1].split("/version/", 1)[0]


def comprehend_models(caller: Caller) -> Read:
    """Custom document classifiers and entity recognizers (each version), with their training input: the
    listings carry InputDataConfig, so nothing is described one by one."""
    read = Read()
    for classifier in caller.pages("ListDocumentClassifiers", "list_document_classifiers",
                                   "DocumentClassifierPropertiesList",
                                   resource_types=("aws_comprehend_document_classifier",)):
        arn = str(classifier.get("DocumentClassifierArn"))
        given = classifier.get("InputDataConfig") or {}
        documents = given.get("Documents") or {}
        manifests, links = _manifests(given.get("AugmentedManifests"))
        config = {"data_format": given.get("DataFormat"), "s3_uri": given.get("S3Uri"),
                  "test_s3_uri": given.get("TestS3Uri"), "label_delimiter": given.get("LabelDelimiter"),
                  "augmented_manifests": manifests, "documents": [
                      {"s3_uri": documents.get("S3Uri"), "test_s3_uri": documents.get("TestS3Uri")}] if documents
                  else None}
        for attribute, key in (("s3_uri", "S3Uri"), ("test_s3_uri", "TestS3Uri")):
            links += _s3_links(f"input_data_config.{attribute}", [given.get(key)])
            links += _s3_links(f"input_data_config.documents.{attribute}", [documents.get(key)])
        values = {"arn": arn, "name": _comprehend_name(arn), "version_name": classifier.get("VersionName"),
                  "language_code": classifier.get("LanguageCode"), "mode": classifier.get("Mode"),
                  "data_access_role_arn": classifier.get("DataAccessRoleArn"), "input_data_config": [config]}
        read.records.append((resource(arn=arn, resource_type="aws_comprehend_document_classifier",
                                      name=_comprehend_name(arn), account=caller.account, region=caller.region,
                                      evidence="comprehend:ListDocumentClassifiers", values=values), links))
    for recognizer in caller.pages("ListEntityRecognizers", "list_entity_recognizers", "EntityRecognizerPropertiesList",
                                   resource_types=("aws_comprehend_entity_recognizer",)):
        arn = str(recognizer.get("EntityRecognizerArn"))
        given = recognizer.get("InputDataConfig") or {}
        manifests, links = _manifests(given.get("AugmentedManifests"))
        config = {"data_format": given.get("DataFormat"), "augmented_manifests": manifests,
                  "entity_types": [{"type": t.get("Type")} for t in given.get("EntityTypes") or []] or None}
        for block, key in (("documents", "Documents"), ("annotations", "Annotations"), ("entity_list", "EntityList")):
            part = given.get(key) or {}
            if not part:
                continue
            config[block] = [{"s3_uri": part.get("S3Uri"), "test_s3_uri": part.get("TestS3Uri"),
                              "input_format": part.get("InputFormat")}]
            links += _s3_links(f"input_data_config.{block}.s3_uri", [part.get("S3Uri")])
            links += _s3_links(f"input_data_config.{block}.test_s3_uri", [part.get("TestS3Uri")])
        values = {"arn": arn, "name": _comprehend_name(arn), "version_name": recognizer.get("VersionName"),
                  "language_code": recognizer.get("LanguageCode"),
                  "data_access_role_arn": recognizer.get("DataAccessRoleArn"), "input_data_config": [config]}
        read.records.append((resource(arn=arn, resource_type="aws_comprehend_entity_recognizer",
                                      name=_comprehend_name(arn), account=caller.account, region=caller.region,
                                      evidence="comprehend:ListEntityRecognizers", values=values), links))
    return read


def transcribe_language_models(caller: Caller) -> Read:
    """Custom language models; ListLanguageModels carries their InputDataConfig (no paginator: NextToken)."""
    read = Read()
    for model in _followed(caller, "ListLanguageModels", "list_language_models", "Models",
                           ("aws_transcribe_language_model",), MaxResults=100):
        name = str(model.get("ModelName"))
        arn = f"arn:aws:transcribe:{caller.region}:{caller.account}:language-model/{name}"
        given = model.get("InputDataConfig") or {}
        values = {"arn": arn, "model_name": name, "base_model_name": model.get("BaseModelName"),
                  "language_code": model.get("LanguageCode"), "input_data_config": [
                      {"s3_uri": given.get("S3Uri"), "tuning_data_s3_uri": given.get("TuningDataS3Uri"),
                       "data_access_role_arn": given.get("DataAccessRoleArn")}]}
        links = _s3_links("input_data_config.s3_uri", [given.get("S3Uri")])
        links += _s3_links("input_data_config.tuning_data_s3_uri", [given.get("TuningDataS3Uri")])
        read.records.append((resource(arn=arn, resource_type="aws_transcribe_language_model", name=name,
                                      account=caller.account, region=caller.region,
                                      evidence="transcribe:ListLanguageModels", values=values), links))
    return read


def sagemaker_training_jobs(caller: Caller) -> Read:
    """Every training job (those of tuning jobs and pipelines too), each described for its input channels."""
    jobs = caller.pages("ListTrainingJobs", "list_training_jobs", "TrainingJobSummaries",
                        resource_types=("aws_sagemaker_training_job",))
    return Read(pending=[(_sagemaker_training_job, job) for job in jobs if job.get("TrainingJobName")])


def _sagemaker_training_job(caller: Caller, summary: dict[str, Any]) -> Read:
    name = str(summary["TrainingJobName"])
    arn = str(summary.get("TrainingJobArn") or f"arn:aws:sagemaker:{caller.region}:{caller.account}:training-job/"
              f"{name.lower()}")
    values: dict[str, Any] = {"arn": arn, "training_job_name": name, "status": summary.get("TrainingJobStatus")}
    links: Links = []
    try:
        described = caller.call("DescribeTrainingJob", "describe_training_job", resource=arn,
                                resource_types=("aws_sagemaker_training_job",), TrainingJobName=name) or {}
    except CallFailed as failed:
        described = None
        values.update(_unknown_training("input_data_config", failed))
    channels = []
    for channel in (described or {}).get("InputDataConfig") or []:
        source = channel.get("DataSource") or {}
        s3, system = source.get("S3DataSource") or {}, source.get("FileSystemDataSource") or {}
        channels.append({"channel_name": channel.get("ChannelName"), "data_source": [{
            "s3_data_source": [{"s3_uri": s3.get("S3Uri"), "s3_data_type": s3.get("S3DataType")}] if s3 else None,
            "file_system_data_source": [{"file_system_id": system.get("FileSystemId"),
                                         "file_system_type": system.get("FileSystemType"),
                                         "directory_path": system.get("DirectoryPath")}] if system else None}]})
        links += _s3_links("input_data_config.data_source.s3_data_source.s3_uri", [s3.get("S3Uri")])
        if system.get("FileSystemId") and system.get("FileSystemType") == "EFS":
            links.append(("input_data_config.data_source.file_system_data_source.file_system_id",
                          f"arn:aws:elasticfilesystem:{caller.region}:{caller.account}:file-system/"
                          f"{system['FileSystemId']}"))
    if described is not None:
        values.update(role_arn=described.get("RoleArn"), input_data_config=channels or None)
    record = resource(arn=arn, resource_type="aws_sagemaker_training_job", name=name, account=caller.account,
                      region=caller.region, evidence="sagemaker:ListTrainingJobs", values=values)
    return Read(records=[(record, links)])


def glue_ml_transforms(caller: Caller) -> Read:
    """FindMatches transforms and the Glue tables they learn from (GetMLTransforms has no paginator)."""
    read = Read()
    for transform in _followed(caller, "GetMLTransforms", "get_ml_transforms", "Transforms",
                               ("aws_glue_ml_transform",), MaxResults=100):
        transform_id = str(transform.get("TransformId"))
        arn = f"arn:aws:glue:{caller.region}:{caller.account}:mlTransform/{transform_id}"
        tables = [{"database_name": t.get("DatabaseName"), "table_name": t.get("TableName"),
                   "catalog_id": t.get("CatalogId"), "connection_name": t.get("ConnectionName")}
                  for t in transform.get("InputRecordTables") or []]
        links: Links = [("input_record_tables", f"arn:aws:glue:{caller.region}:{t['catalog_id'] or caller.account}:"
                         f"table/{t['database_name']}/{t['table_name']}") for t in tables]
        values = {"arn": arn, "name": transform.get("Name"), "role_arn": transform.get("Role"),
                  "input_record_tables": tables or None}
        read.records.append((resource(arn=arn, resource_type="aws_glue_ml_transform",
                                      name=str(transform.get("Name") or transform_id), account=caller.account,
                                      region=caller.region, evidence="glue:GetMLTransforms", values=values), links))
    return read


glue = each(glue_catalog, glue_resource_policy, glue_ml_transforms)
