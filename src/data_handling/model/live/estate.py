"""Read the live estate of one or more accounts into the infrastructure model the rules evaluate.

Reading is concurrent and bounded: one task lists a service in a region of an account (each region is read once
per service), and one task describes each item listed; at most `workers` tasks run at a time. Clients are made
up front in the calling thread (a boto3 session is not thread-safe; its clients are). Every call goes through
api.Caller: pagination, botocore's adaptive retries, and a gap for each call denied or failed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.kms_keys import KEY_TYPES
from data_handling.model.live import readers
from data_handling.model.live.api import Caller, CallFailed, CallLog, Gap, client_config
from data_handling.model.live.readers import Read
from data_handling.model.live.records import LiveResource, endpoint
from data_handling.model.values import as_text
from data_handling.policy.regions import known_regions

REGIONAL_SERVICES: dict[str, Callable[[Caller], Read]] = {
    "dynamodb": readers.dynamodb_tables,
    "secretsmanager": readers.secrets,
    "kms": readers.kms_keys,
    "rds": readers.rds_with_snapshots,  # DB and cluster snapshots: CKV_DH_103/105
    "ssm": readers.ssm_parameters,
    "efs": readers.efs,
    "backup": readers.backup_plans,
    "redshift": readers.redshift_clusters,
    "dlm": readers.dlm_policies,
    "elasticache": readers.elasticache,
    "memorydb": readers.memorydb,
    "logs": readers.log_groups,
    "ec2": readers.flow_logs,
    "firehose": readers.firehose_streams,
    "glue": readers.glue,  # the Data Catalog, its resource policy (CKV_DH_103/105), ML transforms (CKV_DH_106)
    # CKV_DH_104: trails (S3 server access logging is read with each bucket, database audit logs with RDS/Redshift)
    "cloudtrail": readers.cloudtrail_trails,
    # CKV_DH_106: what trains models, and on what
    "bedrock": readers.bedrock_customization,
    "comprehend": readers.comprehend_models,
    "transcribe": readers.transcribe_language_models,
    "sagemaker": readers.sagemaker_training_jobs,
}
DEFAULT_WORKERS = 16


@dataclass
class Estate:
    infra: Infrastructure
    accounts: list[str]
    regions: list[str]
    log: CallLog
    targets_failed: list[str] = field(default_factory=list)  # targets whose account could not be identified

    @property
    def gaps(self) -> list[Gap]:
        return self.log.gaps


Progress = Callable[[int, int], None]  # (tasks done, tasks known)


def read_estate(sessions: Iterable[Any], regions: list[str] | None, workers: int = DEFAULT_WORKERS,
                progress: Progress | None = None) -> Estate:
    """The model of what the sessions' accounts hold in `regions` (None: every region enabled in each account)."""
    log = CallLog()
    plan: list[tuple[Callable[..., Read], Caller, tuple[Any, ...]]] = []
    accounts: list[str] = []
    audited: set[str] = set()
    failed: list[str] = []
    for session in sessions:
        session.events.register("before-call", log.hook)  # before any client is made: they copy the emitter
        home = session.region_name or (regions[0] if regions else "us-east-1")
        sts = Caller(session.client("sts", region_name=home, config=client_config()), "?", "", log)
        try:
            account = str(sts.call("GetCallerIdentity", "get_caller_identity")["Account"])  # type: ignore[index]
        except CallFailed:
            failed.append(_label(session))
            continue
        account_regions = regions
        if account_regions is None:
            ec2 = Caller(session.client("ec2", region_name=home, config=client_config()), account, home, log)
            try:
                listed = ec2.call("DescribeRegions", "describe_regions") or {}
                # regions an account has not opted into hold nothing and answer nothing
                account_regions = sorted(r["RegionName"] for r in listed.get("Regions") or []
                                         if r.get("OptInStatus") != "not-opted-in")
            except CallFailed:
                continue  # the gap says the regions could not be listed: nothing of this account is audited
        accounts.append(account)
        audited.update(account_regions)
        s3 = Caller(session.client("s3", region_name=account_regions[0] if account_regions else home,
                                   config=client_config()), account, "", log)
        plan.append((readers.s3_buckets, s3, (frozenset(account_regions),)))
        s3control = Caller(session.client("s3control", region_name=readers.MRAP_REGION, config=client_config()),
                           account, readers.MRAP_REGION, log)
        plan.append((readers.s3_multi_region_access_points, s3control, ()))
        plan.append((readers.s3_account_public_access_block, s3control, ()))  # CKV_DH_103
        for region in account_regions:
            for service, reader in REGIONAL_SERVICES.items():
                listed = offered(session, service, region)
                client = session.client(service, region_name=region,
                                        config=client_config() if listed else client_config(max_attempts=2))
                plan.append((reader, Caller(client, account, region, log, listed, frozenset(account_regions)), ()))
    read, aliases = _run(plan, workers, progress)
    infra = _link(read, accounts, sorted(audited), aliases, log)
    return Estate(infra, accounts, sorted(audited), log, failed)


def offered(session: Any, service: str, region: str) -> bool:
    """Whether botocore's endpoint data offers the service in the region, or does not know the region at all
    (then it is read as any other). Where a known region lacks the service (Bedrock, Comprehend and Transcribe are
    in a third to a half of the regions), an endpoint that cannot be reached is not a gap (api.Caller): one that
    answers is read, in case the installed botocore predates the service's launch there."""
    return region not in known_regions() or region in _regions_offering(session, service)


_OFFERING: dict[str, frozenset[str]] = {}


def _regions_offering(session: Any, service: str) -> frozenset[str]:
    if service not in _OFFERING:  # the installed botocore's data: the same for every session
        _OFFERING[service] = frozenset(region for partition in session.get_available_partitions()
                                       for region in session.get_available_regions(service, partition))
    return _OFFERING[service]


def _label(session: Any) -> str:
    return str(getattr(session, "profile_name", None) or "the default credentials")


Aliases = dict[tuple[str, str, str], str]  # (account, region, alias name) -> target key ID


def _run(plan: list[tuple[Callable[..., Read], Caller, tuple[Any, ...]]], workers: int,
         progress: Progress | None) -> tuple[Read, Aliases]:
    """The listings, then the descriptions of what they listed, on one bounded pool."""
    total = Read()
    aliases: Aliases = {}
    done, known = 0, len(plan)

    def tick() -> None:
        if progress:
            progress(done, known)

    def guarded(function: Callable[..., Read], caller: Caller, *args: Any) -> tuple[Caller, Read]:
        try:
            return caller, function(caller, *args)
        except CallFailed:
            return caller, Read()  # the gap is recorded; what the call would have read is not in the model

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="audit") as pool:
        listings = [pool.submit(guarded, function, caller, *args) for function, caller, args in plan]
        details = []
        for future in listings:
            caller, listed = future.result()
            done += 1
            known += len(listed.pending)
            tick()
            total.records += listed.records
            aliases.update({(caller.account, caller.region, name): key for name, key in listed.aliases.items()})
            details += [pool.submit(guarded, describe, caller, item) for describe, item in listed.pending]
        while details:  # a description may list more to describe (a backup plan's selections)
            caller, described = details.pop(0).result()
            done += 1
            known += len(described.pending)
            tick()
            total.records += described.records
            details += [pool.submit(guarded, describe, caller, item) for describe, item in described.pending]
    return total, aliases


# The listing that names the members of each kind of global group.
_GROUP_LISTINGS = {"aws_rds_global_cluster": ("rds", "DescribeGlobalClusters"),
                   "aws_docdb_global_cluster": ("rds", "DescribeGlobalClusters"),
                   "aws_neptune_global_cluster": ("rds", "DescribeGlobalClusters"),
                   "aws_elasticache_global_replication_group": ("elasticache", "DescribeGlobalReplicationGroups"),
                   "aws_memorydb_multi_region_cluster": ("memorydb", "DescribeMultiRegionClusters")}


def _unseen_member(group: LiveResource, member: str, regions: list[str]) -> Gap:
    """A member of a global group the model does not hold (its region is not audited, or its listing failed):
    the group's copies cannot be verified without it, so it is a gap, not a group of one region."""
    parts = member.split(":")
    region = parts[3] if len(parts) > 3 else ""
    why = "which this audit does not read: add it to --regions" if region not in regions else \
        "but its region's listing did not return it"
    service, operation = _GROUP_LISTINGS.get(group.type, ("", ""))
    return Gap(group.account, region, service, operation, f"its member {member} is in {region or '?'}, {why}",
               False, group.address, (group.type,))


def _unread_primary(replica: LiveResource, primary: str, regions: list[str]) -> Gap:
    """A replica secret whose primary was not read: its resource policy (the primary's) is unknown."""
    region = primary.split(":")[3] if primary.count(":") >= 5 else ""
    why = "which this audit does not read: add it to --regions" if region not in regions else \
        "but its region's listing did not return it"
    return Gap(replica.account, region, "secretsmanager", "GetResourcePolicy",
               f"its resource policy is its primary's, {primary} in {region or '?'}, {why}", False, replica.address,
               (replica.type,))


def _link(read: Read, accounts: list[str], regions: list[str], aliases: Aliases | None = None,
          log: CallLog | None = None) -> Infrastructure:
    """Resolve the links the readers named (by ARN, key ID, alias or identifier) into model references; a member
    of a global group that was not read is a gap in `log`."""
    records: list[LiveResource] = []
    by_arn: dict[str, LiveResource] = {}
    for record, _ in read.records:
        if record.address in by_arn:
            continue  # a global cluster is listed by every region that holds a member
        by_arn[record.address] = record
        records.append(record)
    keys = {(r.account, r.region, as_text(r.config.get("key_id"))): r for r in records if r.type in KEY_TYPES}
    instances = {(r.account, r.region, as_text(r.config.get("identifier"))): r for r in records
                 if r.type == "aws_db_instance"}
    aliases = aliases or {}

    def key_of(account: str, region: str, text: str) -> LiveResource | None:
        if text in by_arn:
            return by_arn[text]
        name = text.split(":", 5)[-1] if text.startswith("arn:") else text
        region = text.split(":")[3] if text.startswith("arn:") and text.count(":") >= 5 else region
        if name.startswith("alias/"):
            name = aliases.get((account, region, name), "")
        return keys.get((account, region, name.removeprefix("key/")))

    for record, links in read.records:
        if by_arn.get(record.address) is not record:
            continue
        for attribute, text in links:
            target: LiveResource | None = None
            if attribute in ("kms_key_id", "key_id"):
                target = key_of(record.account, record.region, text)
                if target is not None:
                    record.config[attribute] = [target.address]  # the key itself, as kms_keys reads an ARN
            elif attribute.startswith("replica.") and attribute.endswith(".kms_key_id"):
                region, _, key = text.partition("|")
                target = key_of(record.account, region, key)
                number = int(attribute.split(".")[1])
                if target is not None:
                    record.config["replica"][number]["kms_key_id"] = [target.address]
            elif attribute == "target_key_id":
                target = keys.get((record.account, record.region, text))
            elif attribute == "replicate_source_db":
                target = by_arn.get(text) or instances.get((record.account, record.region, text))
            elif attribute in ("__member__", "__seen_member__"):
                member = by_arn.get(text)
                if member is None and log is not None:
                    log.record_gap(_unseen_member(record, text, regions))
                elif member is not None and attribute == "__member__":
                    member.config["global_cluster_identifier"] = record.config["global_cluster_identifier"]
                    member.references.append(("global_cluster_identifier", record))
                continue
            elif attribute == "__policy_of__":  # a replica secret's resource policy is its primary's
                primary = by_arn.get(text)
                if primary is not None:
                    record.config.pop("policy", None)
                    record.config.update({"policy": primary.config["policy"]} if "policy" in primary.config else {})
                elif log is not None:
                    log.record_gap(_unread_primary(record, text, regions))
                continue
            else:  # primary_key_arn, replication_source_identifier, source_db_cluster_identifier: ARNs
                target = by_arn.get(text)
            if target is not None:
                record.references.append((attribute, target))
    providers = [endpoint(account, region) for account in accounts for region in {*regions, "us-east-1"}]
    providers += [endpoint(r.account, r.region) for r in records]  # a global cluster's writer region
    unique = {(p.root_dir, p.module, p.local_name): p for p in providers}
    return Infrastructure(list(records), list(unique.values()), [])


def print_progress(done: int, known: int) -> None:
    """A one-line progress indication on a terminal (stderr)."""
    if sys.stderr.isatty():
        print(f"\rdata-handling audit: {done}/{known} API tasks", end="" if done < known else "\n",
              file=sys.stderr, flush=True)
