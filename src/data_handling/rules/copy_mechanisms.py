"""Where a copy of data lands: one table entry per AWS copy mechanism (aws-facts.md, CKV_DH_102).

Each mechanism names the resource types that create a copy and a function that lists the copies one such
resource makes: what is copied (the source, whose class decides), where it goes, and the region of each side
with where that region came from. Regions come from the infrastructure model (resource `region`, providers,
module provider maps, variables, tfvars) or from ARNs; a side whose region cannot be read is an Unknown that
says why and what would resolve it. Nothing here decides pass or fail: rules/replication.py does.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.addresses import strip_instance_key
from data_handling.model.arn import parse_arn
from data_handling.model.classification import normalise_class
from data_handling.model.dynamic_blocks import Block, blocks, input_references, sub_blocks, value_of
from data_handling.model.infrastructure import Infrastructure, region_value
from data_handling.model.records import Resource
from data_handling.model.values import Known, Resolution, Unknown, as_text, is_unrendered, unwrap
from data_handling.policy.schema import PolicyMap


@dataclass(frozen=True)
class Site:
    """One side of a copy: what it is, and the region it is in."""

    what: str
    region: Resolution[str]


@dataclass(frozen=True)
class Copy:
    how: str  # the mechanism and the block that configures it: 'S3 replication rule "dr"'
    source: Site
    destination: Site
    data: tuple[Resource, ...] = ()  # the resources whose data is copied: their class decides
    declared: tuple[tuple[str, str], ...] = ()  # (class, where) stated by the mechanism itself (a tag selection)
    # Data stores outside this configuration the copy also takes (a backup selection's wildcard, an ARN or a tag
    # that matches resources this configuration cannot see), whose class nothing here declares: the policy map's
    # classification.default is theirs, and without one the copy cannot be verified.
    unseen: tuple[str, ...] = ()
    # The data resources hold one dataset (the members of a global database, the tables of a global table): one
    # declaration classifies them all, an untagged replica among them hides nothing.
    one_dataset: bool = False
    # `data` and `unseen` name every source (a backup plan's selections): no data then means nothing is copied,
    # not a source outside this configuration.
    sources_listed: bool = False
    # Whose account the copy lands in (CKV_DH_105): the destination resources of this configuration, the destination
    # as written (an ARN), and an account the mechanism names for it (S3 replication `destination.account`).
    to: tuple[Resource, ...] = ()
    to_value: Any = None
    to_account: Any = None


Copies = Callable[[Resource, Infrastructure, PolicyMap], list[Copy]]


@dataclass(frozen=True)
class Mechanism:
    name: str
    resource_types: tuple[str, ...]
    copies: Copies


# --- reading values --------------------------------------------------------------------------------------

_NOT_IN_CONFIGURATION = ("create it in this configuration (through the provider of its region) so its region is "
                         "known, or scan the plan")


def _site(resource: Resource, infra: Infrastructure) -> Site:
    return Site(resource.describe(), infra.region_of(resource))


def _text(block: Block | Resource, key: str) -> str | None:
    return as_text(value_of(block, key) if isinstance(block, Resource) else unwrap(block.get(key)))


def _value_region(value: Any, where: str) -> Site:
    text = as_text(value)
    if text is None:
        return Site(where, Unknown(f"{where} is not set, so the destination region is unknown"))
    return Site(f'{where} = "{text}"', region_value(text, where))


def _arn_region(text: str, what: str) -> Resolution[str]:
    arn = parse_arn(text)
    if arn and arn.region and not is_unrendered(arn.region):
        return region_value(arn.region, f"the ARN {text}")
    return Unknown(f"{what} {text!r} is not in this configuration and carries no region; {_NOT_IN_CONFIGURATION}")


def _under(label: str, path: str) -> bool:
    """True when an edge label is the attribute `path`, inside it, or an enclosing block of it, written plainly
    or in a dynamic block (`rule.destination.bucket`, `dynamic.rule.content.destination.bucket`, `rule`)."""
    plain = re.sub(r"(^|\.)(dynamic|content|for_each|\d+)(?=\.|$)", "", label).strip(".")
    plain = re.sub(r"\.{2,}", ".", plain)
    return bool(plain) and (plain == path or plain.startswith(f"{path}.") or path.startswith(f"{plain}."))


def targets_at(resource: Resource, infra: Infrastructure, path: str, types: Iterable[str]) -> list[Resource]:
    """Resources of the given types an attribute refers to; else, for a value built from the module call's
    arguments (a map of replication rules), the resources those arguments refer to."""
    types = tuple(types)
    found = [target for label, target in resource.references if target.type in types and _under(label, path)]
    if not found:
        found = [target for _, target in input_references(infra, resource) if target.type in types]
    # Checkov links a module output to every resource it names, also those `count = 0` leaves out.
    return list({id(t): t for t in found}.values())


def _named(text: str, candidates: list[Resource]) -> list[Resource]:
    """The candidates a reference left as text (`aws_s3_bucket.replica.arn`) names."""
    return [c for c in candidates
            if re.search(rf"(^|[^\w]){re.escape(c.type)}\.{re.escape(strip_instance_key(c.name))}(\W|$)", text)]


Found = tuple[Site, tuple[Resource, ...]]  # where a value points, and the resources it may be


def _reference(resource: Resource, infra: Infrastructure, path: str, value: Any, types: tuple[str, ...],
               what: str) -> Found:
    """The resource (and so the region) an ARN-or-reference attribute points at, else the ARN's region."""
    text = as_text(value)
    targets = targets_at(resource, infra, path, types)
    chosen = tuple((_named(text, targets) if text else []) or targets)
    if len(chosen) == 1:
        return _site(chosen[0], infra), chosen
    if chosen:  # the data may be any of them: all count for its class
        return Site(f"{what} {text!r}", Unknown(f"{what} {text!r} of {resource.address} could refer to "
                                                 f"{', '.join(t.address for t in chosen)}; make it name one "
                                                 "resource")), chosen
    if text is None:
        return Site(what, Unknown(f"{what} of {resource.address} is not set or could not be evaluated")), ()
    if text.startswith("arn:"):
        return Site(f"{what} {text}", _arn_region(text, what)), ()
    return Site(f"{what} {text!r}", Unknown(f"{what} {text!r} of {resource.address} could not be resolved to a "
                                             f"resource of this configuration or an ARN; "
                                             f"{_NOT_IN_CONFIGURATION}")), ()


def _blocks(resource: Resource, path: str, required: bool = False) -> tuple[list[Block], list[Unknown]]:
    """Blocks at a nested path (`replication_configuration.rules`), dynamic ones expanded."""
    first, *rest = path.split(".")
    found, unknown = blocks(resource, first, required)
    for name in rest:
        found = [nested for block in found for nested in sub_blocks(block, name)]
    return found, unknown


def _unknown_copies(how: str, source: Site, unknown: list[Unknown], data: tuple[Resource, ...]) -> list[Copy]:
    return [Copy(how, source, Site("the destinations its blocks configure", u), data) for u in unknown]


def _label(block: Block, key: str, index: int) -> str:
    name = _text(block, key)
    return f'"{name}"' if name and not is_unrendered(name) else f"#{index + 1}"


# --- S3 -------------------------------------------------------------------------------------------------

def _bucket_by_name(resource: Resource, infra: Infrastructure, name: str) -> list[Resource]:
    return [bucket for bucket in infra.named(resource, ("aws_s3_bucket",), "bucket", name)
            if _text(bucket, "bucket") == name]


def _bucket(resource: Resource, infra: Infrastructure, path: str, value: Any) -> Found:
    """A bucket given as an ARN, a name or a reference. S3 ARNs carry no region: the bucket must be found."""
    text = as_text(value)
    arn = parse_arn(text) if text else None
    name = arn.resource.split("/", 1)[0] if arn and arn.service == "s3" else None
    if name is None and text and not targets_at(resource, infra, path, ("aws_s3_bucket",)) \
            and not is_unrendered(text) and re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", text):
        name = text  # a plain bucket name (multi-Region access points and replication sources name buckets)
    if name is None:
        return _reference(resource, infra, path, value, ("aws_s3_bucket",), "bucket")
    found = tuple(_bucket_by_name(resource, infra, name))
    if len(found) == 1:
        return _site(found[0], infra), found
    if found:
        addresses = ", ".join(b.address for b in found)
        return Site(f'bucket "{name}"', Unknown(f'bucket "{name}" is created more than once ({addresses}), '
                                                 "so its region is ambiguous")), found
    return Site(f'bucket "{name}"', Unknown(f'bucket "{name}" is not created in this configuration and S3 ARNs '
                                             f"carry no region; {_NOT_IN_CONFIGURATION}")), ()


def _s3_rules(resource: Resource, infra: Infrastructure, source: Site, data: tuple[Resource, ...],
              rules_path: str, required: bool) -> list[Copy]:
    rules, unknown = _blocks(resource, rules_path, required)
    copies = _unknown_copies("S3 replication", source, unknown, data)
    for index, rule in enumerate(rules):
        if (_text(rule, "status") or "Enabled").lower() == "disabled":
            continue
        destinations = sub_blocks(rule, "destination")
        if not destinations:
            copies.append(Copy(f"S3 replication rule {_label(rule, 'id', index)}", source,
                               Site("destination", Unknown("the rule's destination block could not be read")), data))
        for destination in destinations:
            site, found = _bucket(resource, infra, f"{rules_path}.destination.bucket", destination.get("bucket"))
            copies.append(Copy(f"S3 replication rule {_label(rule, 'id', index)}", source, site, data, to=found,
                               to_value=unwrap(destination.get("bucket")),
                               to_account=_destination_account(destination)))
    return copies


def _destination_account(destination: Block) -> Any:
    """The destination account a rule states: `account` of aws_s3_bucket_replication_configuration, `account_id`
    of the legacy inline replication_configuration block (the same setting, the S3 API's Destination.Account)."""
    account = unwrap(destination.get("account"))
    return account if account is not None else unwrap(destination.get("account_id"))


def _s3_replication(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    source_site, source_buckets = _bucket(resource, infra, "bucket", value_of(resource, "bucket"))
    if not source_buckets:  # a bucket outside the configuration: the configuration sits in its region
        source_site = Site(f"{source_site.what} (outside this configuration)", infra.region_of(resource))
    return _s3_rules(resource, infra, source_site, source_buckets, "rule", required=True)


def _s3_inline_replication(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    return _s3_rules(resource, infra, _site(resource, infra), (resource,), "replication_configuration.rules",
                     required=False)


def _s3_multi_region_access_point(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    regions, unknown = _blocks(resource, "details.region", required=True)
    buckets = [_bucket(resource, infra, "details.region.bucket", region.get("bucket")) for region in regions]
    copies = _unknown_copies("S3 Multi-Region Access Point", _site(resource, infra), unknown, ())
    every = tuple({id(b): b for _, found in buckets for b in found}.values())  # one dataset behind one name
    for site, _ in buckets:
        for other, _ in buckets:
            if other is not site:
                copies.append(Copy("S3 Multi-Region Access Point (serves each bucket's data from every "
                                   "bucket's region)", site, other, every, one_dataset=True))
    return copies


# --- replicas declared as blocks with a region (DynamoDB, Secrets Manager) ---------------------------------

def _region_blocks(block_name: str, region_key: str, how: str) -> Copies:
    def copies(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
        source = _site(resource, infra)
        found, unknown = blocks(resource, block_name)
        result = _unknown_copies(how, source, unknown, (resource,))
        for index, block in enumerate(found):
            where = f"{region_key} of {block_name} block #{index + 1} of {resource.describe()}"
            result.append(Copy(how, source, _value_region(unwrap(block.get(region_key)), where), (resource,)))
        return result
    return copies


def _legacy_global_table(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    """The replicas span every region listed; the data is that of the tables of the same name."""
    name = _text(resource, "name")
    tables = tuple(t for t in infra.named(resource, ("aws_dynamodb_table",), "name", name) if _text(t, "name") == name)
    copies = _region_blocks("replica", "region_name", "DynamoDB global table (legacy) replica")(resource, infra, policy)
    return [Copy(c.how, c.source, c.destination, tables + c.data, one_dataset=True) for c in copies]


# --- a copy made in the resource's own region from a source elsewhere ------------------------------------

def _copy_of(attribute: str, source_types: tuple[str, ...], how: str, identifier_is_local: bool = False) -> Copies:
    """The resource is the copy (a read replica, a replica key); `attribute` names its source."""
    def copies(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
        value = value_of(resource, attribute)
        if value is None:
            return []
        text = as_text(value)
        if identifier_is_local and text and re.fullmatch(r"[A-Za-z][A-Za-z0-9-]*", text) \
                and not targets_at(resource, infra, attribute, source_types):
            # RDS resolves a plain identifier in the replica's own region; a cross-region source needs its ARN.
            source = Site(f'{attribute} = "{text}" (an identifier, resolved in the replica\'s own region)',
                          infra.region_of(resource))
            return [Copy(how, source, _site(resource, infra), (resource,))]
        source, sources = _reference(resource, infra, attribute, value, source_types, attribute)
        return [Copy(how, source, _site(resource, infra), sources)]
    return copies


def _copy_from_region(source_attribute: str, region_attribute: str, source_types: tuple[str, ...],
                      how: str) -> Copies:
    """An EBS snapshot or AMI copy: the source's region is an argument, the copy lands in the resource's region."""
    def copies(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
        targets = targets_at(resource, infra, source_attribute, source_types)
        data = tuple(targets) + tuple(t for s in targets
                                      for t in targets_at(s, infra, "volume_id", ("aws_ebs_volume",)))
        where = f"{region_attribute} of {resource.describe()}"
        source = _value_region(value_of(resource, region_attribute), where)
        if targets:
            source = Site(f"{targets[0].describe()} ({source.what})", source.region)
        return [Copy(how, source, _site(resource, infra), data)]
    return copies


# --- a copy sent from the resource's region to a region it names ------------------------------------------

def _redshift_snapshot_copy(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    clusters = targets_at(resource, infra, "cluster_identifier", ("aws_redshift_cluster",))
    source = _site(clusters[0], infra) if clusters else _site(resource, infra)
    where = f"destination_region of {resource.describe()}"
    return [Copy("Redshift cross-Region snapshot copy", source,
                 _value_region(value_of(resource, "destination_region"), where), tuple(clusters))]


def _redshift_inline_snapshot_copy(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    found, unknown = blocks(resource, "snapshot_copy")
    source = _site(resource, infra)
    copies = _unknown_copies("Redshift snapshot_copy", source, unknown, (resource,))
    for block in found:
        where = f"snapshot_copy.destination_region of {resource.describe()}"
        copies.append(Copy("Redshift snapshot_copy", source, _value_region(unwrap(block.get("destination_region")),
                                                                          where), (resource,)))
    return copies


def _efs_replication(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    file_systems = targets_at(resource, infra, "source_file_system_id", ("aws_efs_file_system",))
    source = _site(file_systems[0], infra) if file_systems else _site(resource, infra)
    found, unknown = blocks(resource, "destination", required=True)
    copies = _unknown_copies("EFS replication", source, unknown, tuple(file_systems))
    for block in found:
        where = f"destination of {resource.describe()}"
        zone = _text(block, "availability_zone_name")
        existing = targets_at(resource, infra, "destination.file_system_id", ("aws_efs_file_system",))
        if block.get("region") is not None:
            site = _value_region(unwrap(block.get("region")), f"destination.region of {resource.describe()}")
        elif zone and re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d[a-z]", zone):
            site = Site(f'destination.availability_zone_name = "{zone}"', Known(zone[:-1], f"{where} (zone {zone})"))
        elif existing:
            site = _site(existing[0], infra)
        else:
            site = Site(where, Unknown(f"{where} sets no region, availability_zone_name or file_system_id that "
                                       "could be evaluated; set destination.region"))
        copies.append(Copy("EFS replication", source, site, tuple(file_systems)))
    return copies


def _dsql_peering(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    """Aurora DSQL multi-Region peering: the cluster `identifier` names is peered with each cluster of `clusters`
    (their ARNs), and its writes are committed through the witness Region, which keeps a window of the
    (encrypted) transaction log: the data is in each peer's Region and in the witness Region."""
    own = targets_at(resource, infra, "identifier", ("aws_dsql_cluster",))
    source = _site(own[0], infra) if own else _site(resource, infra)
    data = tuple(own)
    how = f"Aurora DSQL peering of {resource.describe()}"
    copies = [Copy(how, source, _site(peer, infra), data)
              for peer in targets_at(resource, infra, "clusters", ("aws_dsql_cluster",)) if peer not in own]
    listed = resource.get("clusters")
    for value in listed if isinstance(listed, list) else [listed] if listed is not None else []:
        text = as_text(value)
        if text and text.startswith("arn:") and not is_unrendered(text):
            copies.append(Copy(how, source, Site(f"the peer cluster {text}", _arn_region(text, "the peer cluster")),
                               data))
    if not copies:
        copies.append(Copy(how, source, Site(f"clusters of {resource.describe()}", Unknown(
            f"the peer clusters of {resource.address} ({listed!r}) could not be resolved to clusters of this "
            f"configuration or ARNs; {_NOT_IN_CONFIGURATION}")), data))
    witness = resource.get("witness_region")
    if witness is not None:
        copies.append(Copy(f"Aurora DSQL witness Region (transaction log) of {resource.describe()}", source,
                           _value_region(witness, f"witness_region of {resource.describe()}"), data))
    return copies


def _ecr_replication(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    rules, unknown = _blocks(resource, "replication_configuration.rule", required=True)
    registry = Site(f"the ECR registry of {resource.describe()}", infra.region_of(resource))
    copies = _unknown_copies("ECR replication", registry, unknown, ())
    home = registry.region
    repositories = [r for r in infra.in_same_root(resource, "aws_ecr_repository")  # the registry's own region
                    if not isinstance(home, Known)
                    or getattr(infra.region_of(r), "value", None) in (None, home.value)]
    for index, rule in enumerate(rules):
        prefixes = [_text(f, "filter") or "" for f in sub_blocks(rule, "repository_filter")]
        data = tuple(r for r in repositories if not prefixes or any((_text(r, "name") or "").startswith(p)
                                                                       for p in prefixes))
        for destination in sub_blocks(rule, "destination"):
            where = f"replication rule #{index + 1} destination.region of {resource.describe()}"
            copies.append(Copy("ECR replication", registry, _value_region(unwrap(destination.get("region")), where),
                               data))
    return copies


# --- groups whose members sit in several regions (global databases and datastores) -------------------------

def _group(member_types: tuple[str, ...], member_attribute: str, identifier: str, primary: str | None,
           how: str) -> Copies:
    """A global cluster / datastore: data flows from the primary to every other member. The primary is the one
    the group names, else a member in the group's own region, else the first member."""
    def copies(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
        primaries = targets_at(resource, infra, primary, member_types) if primary else []
        found = [*primaries, *_members(resource, infra, member_types, member_attribute, identifier)]
        members = list({id(m): m for m in found}.values())
        if not members:
            return []
        home = infra.region_of(resource)
        source = primaries[0] if primaries else next(
            (m for m in members if _same_region(infra.region_of(m), home)), members[0])
        others = [m for m in members if m is not source] or [source]  # one member: nothing leaves its region
        return [Copy(how, _site(source, infra), _site(member, infra), tuple(members), one_dataset=True)
                for member in others]
    return copies


def _same_region(one: Resolution[str], other: Resolution[str]) -> bool:
    return isinstance(one, Known) and isinstance(other, Known) and one.value == other.value


def _members(group: Resource, infra: Infrastructure, member_types: tuple[str, ...], member_attribute: str,
             identifier: str) -> list[Resource]:
    by_reference = [member for label, member in infra.referrers(group)
                    if member.type in member_types and _under(label, member_attribute)]
    name = _text(group, identifier)
    by_name = [] if name and is_unrendered(name) else [
        member for member in infra.named(group, member_types, member_attribute, name)
        if _text(member, member_attribute) == name]
    return list({id(m): m for m in by_reference + by_name}.values())


def _member_of_unknown_group(member_attribute: str, group_types: tuple[str, ...], identifier: str,
                             how: str) -> Copies:
    """A member joining a global group this configuration does not create: its other regions cannot be seen."""
    def copies(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
        value = _text(resource, member_attribute)
        if not value:
            return []
        if any(member is resource for group in infra.in_same_root(resource, *group_types)
               for member in _members(group, infra, (resource.type,), member_attribute, identifier)):
            return []  # the group reports its members
        return [Copy(how, _site(resource, infra), Site(f'{member_attribute} = "{value}"', Unknown(
            f'{resource.address} joins {member_attribute} "{value}", which is not created in this configuration, so '
            f"the regions of its other members cannot be seen; manage the global "
            "resource in this configuration or scan the plan")), (resource,))]
    return copies


# --- KMS --------------------------------------------------------------------------------------------------

_KMS_TYPES = ("aws_kms_key", "aws_kms_external_key")


def protected_by(key: Resource, infra: Infrastructure) -> tuple[Resource, ...]:
    """The resources a key encrypts (their class is the key's class), and the bucket of an encryption
    configuration that names the key."""
    users = [r for label, r in infra.referrers(key) if r.type not in ("aws_kms_alias", "aws_kms_grant")
             and re.search(r"kms|key_id|key_arn|encryption", label)]
    return tuple(users) + tuple(bucket for user in users for bucket in infra.referenced(user, "bucket"))


def _kms_multi_region(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    if str(value_of(resource, "multi_region")).lower() != "true":
        return []
    replicas = [r for label, r in infra.referrers(resource)
                if r.type in ("aws_kms_replica_key", "aws_kms_replica_external_key")]
    if replicas:
        return []  # each replica key reports the copy it makes
    return [Copy("KMS multi-Region key", _site(resource, infra), Site("replica keys of this multi-Region key", Unknown(
        f"{resource.address} is a multi-Region key (multi_region = true) and no replica key in this configuration "
        "refers to it, and replicas created elsewhere cannot be seen; set "
        "multi_region = false, or manage its replica keys in this configuration")),
        (resource, *protected_by(resource, infra)))]


def _kms_replica(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    copies = _copy_of("primary_key_arn", _KMS_TYPES, "KMS replica key")(resource, infra, policy)
    primaries = targets_at(resource, infra, "primary_key_arn", _KMS_TYPES)
    extra = tuple(r for key in primaries for r in protected_by(key, infra)) + protected_by(resource, infra)
    return [Copy(c.how, c.source, c.destination, c.data + extra) for c in copies]


# --- selections by tag (AWS Backup, DLM) ------------------------------------------------------------------

_BACKUP_TYPES = ("aws_dynamodb_table", "aws_db_instance", "aws_rds_cluster", "aws_docdb_cluster",
                 "aws_neptune_cluster", "aws_efs_file_system", "aws_ebs_volume", "aws_instance", "aws_s3_bucket",
                 "aws_fsx_lustre_file_system", "aws_fsx_ontap_file_system", "aws_fsx_openzfs_file_system",
                 "aws_fsx_windows_file_system", "aws_redshift_cluster", "aws_timestreamwrite_table")
_CLASSES = ("public", "internal", "confidential", "restricted")


def _tags_of(resource: Resource, infra: Infrastructure) -> dict[str, str]:
    merged: dict[str, str] = {}
    for _, tags in reversed(infra.tag_sources(resource)):  # resource tags win over default_tags
        if isinstance(tags, dict):
            merged.update({str(k): str(unwrap(v)) for k, v in tags.items()})
    return merged


def _readable_tags(resource: Resource, infra: Infrastructure) -> dict[str, str] | None:
    """The tags AWS would see on the resource (its own over its provider's default_tags); None when one of those
    sources could not be evaluated, so whether a tag condition holds cannot be told."""
    merged: dict[str, str] = {}
    for _, tags in reversed(infra.tag_sources(resource)):
        if isinstance(tags, dict):
            merged.update({str(k): str(unwrap(v)) for k, v in tags.items()})
        elif tags not in (None, [], {}, ""):
            return None
    return merged


def tag_matches(candidates: list[Resource], infra: Infrastructure, key: str, pattern: str) -> list[Resource]:
    return [c for c in candidates if fnmatch.fnmatchcase(_tags_of(c, infra).get(key, "\0"), pattern)]


def declared_by_tag(key: str, pattern: str, where: str, policy: PolicyMap, exact: bool = False
                     ) -> list[tuple[str, str]]:
    """Classes a tag condition on a classification tag key selects (a `conf*` pattern selects confidential;
    `exact` for an equality, which takes no wildcard)."""
    if key not in policy.classification.tag_keys:
        return []
    classes = [c for c in _CLASSES if normalise_class(pattern) == c
               or (not exact and fnmatch.fnmatch(c, pattern.strip().lower()))]
    return [(c, f'{where} selects {key} = "{pattern}"') for c in classes]


def _glob(value: str, pattern: str) -> bool:
    """AWS wildcard matching: `*` is any run of characters (`/` and `:` included), `?` one; case-sensitive."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


# How a backup selection's ARN or ARN pattern names data stores, per service: the resource-type part of the ARN,
# its separator, the Terraform types it covers, and the attribute the ARN carries as the name ("" when the ARN
# names a computed id, which only a wildcard can match).
_BACKUP_ARNS: dict[str, tuple[tuple[str, str, tuple[str, ...], str], ...]] = {
    "dynamodb": (("table", "/", ("aws_dynamodb_table",), "name"),),
    "rds": (("db", ":", ("aws_db_instance",), "identifier"),
            ("cluster", ":", ("aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster"), "cluster_identifier")),
    "ec2": (("volume", "/", ("aws_ebs_volume",), ""), ("instance", "/", ("aws_instance",), "")),
    "elasticfilesystem": (("file-system", "/", ("aws_efs_file_system",), ""),),
    "s3": (("", "", ("aws_s3_bucket",), "bucket"),),
    "redshift": (("cluster", ":", ("aws_redshift_cluster",), "cluster_identifier"),),
    "timestream": (("database", "/", ("aws_timestreamwrite_table",), ""),),
    "fsx": (("file-system", "/", tuple(t for t in _BACKUP_TYPES if t.startswith("aws_fsx")), ""),),
}
_OTHER_TYPES = "resource types AWS Backup supports beyond these"  # what a `*` service also covers
_ALL_TYPES = frozenset((*_BACKUP_TYPES, _OTHER_TYPES))


@dataclass(frozen=True)
class _Pattern:
    """A selection's ARN or ARN pattern: `*`, `arn:aws:dynamodb:*:*:table/*`, `arn:aws:s3:::acme-*`."""

    text: str
    service: str
    region: str
    resource: str

    def kinds(self) -> list[tuple[tuple[str, ...], str, str]]:
        """(Terraform types, name attribute, name pattern) of each kind of store the ARN covers."""
        found = []
        for service, entries in _BACKUP_ARNS.items():
            if not _glob(service, self.service):
                continue
            for prefix, separator, types, attribute in entries:
                if not separator:  # an S3 ARN is the bucket name (and an object key)
                    found.append((types, attribute, self.resource.split("/", 1)[0]))
                elif separator in self.resource:
                    head, _, name = self.resource.partition(separator)
                    if _glob(prefix, head):
                        found.append((types, attribute, name))
                elif self.resource.endswith("*") and _glob(prefix, self.resource):
                    found.append((types, attribute, "*"))
        return found

    def types(self, whole: bool = False) -> frozenset[str]:
        """The store types the ARN covers (`whole`: only those it covers entirely, every name)."""
        types = {t for kind_types, _, name in self.kinds() if not whole or name == "*" for t in kind_types}
        if (self.service not in _BACKUP_ARNS or "*" in self.service) and (not whole or self.resource == "*"):
            types.add(_OTHER_TYPES)
        return frozenset(types)

    def selects(self, resource: Resource, surely: bool = False) -> bool:
        """Whether the ARN covers the resource. A name that cannot be read may match any wildcard; `surely` (for
        an exclusion) only counts a pattern that covers every name."""
        for types, attribute, name in self.kinds():
            if resource.type not in types:
                continue
            text = _text(resource, attribute) if attribute else None
            if text is None or is_unrendered(text):
                if name == "*" or ("*" in name and not surely):
                    return True
            elif _glob(text, name):
                return True
        return False

    def in_region(self, home: Resolution[str]) -> bool:
        """A backup plan only reaches resources of its own region: an ARN naming another region selects nothing."""
        return self.region in ("", "*") or not isinstance(home, Known) or _glob(home.value, self.region)


def _pattern(text: str) -> _Pattern | None:
    text = text.strip()
    if text == "*":
        return _Pattern(text, "*", "*", "*")
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or is_unrendered(text):
        return None
    return _Pattern(text, parts[2], parts[3], parts[5])


@dataclass
class _Listed:
    """What a selection's `resources` or `not_resources` names."""

    written: bool = False  # the argument is set to something
    resources: list[Resource] = field(default_factory=list)  # resources of this configuration it refers to
    patterns: list[_Pattern] = field(default_factory=list)  # ARNs and wildcards, as written
    unresolved: list[str] = field(default_factory=list)  # entries that name nothing this configuration has


def _listed(selection: Resource, infra: Infrastructure, attribute: str) -> _Listed:
    value = value_of(selection, attribute)
    targets = targets_at(selection, infra, attribute, _BACKUP_TYPES)
    listed = _Listed()
    items = value if isinstance(value, list) else [] if value is None else [value]
    for item in items:
        text = as_text(item)
        pattern = _pattern(text) if text else None
        named = _named(text, targets) if text and not pattern else []
        if pattern:
            listed.patterns.append(pattern)
        elif named:
            listed.resources += [t for t in named if all(t is not r for r in listed.resources)]
        else:
            listed.unresolved.append(text if text is not None else repr(unwrap(item)))
    rest = [t for t in targets if all(t is not r for r in listed.resources)]
    if rest:  # referred to through a local or a module argument: what the unresolved entries stand for
        listed.resources += rest
        listed.unresolved = []
    listed.written = bool(items) or bool(targets)
    return listed


_CONDITIONS = ("string_equals", "string_like", "string_not_equals", "string_not_like")


def _holds(operator: str, key: str, value: str, tags: dict[str, str] | None) -> bool:
    """Whether a resource's tags meet a selection condition; tags that cannot be read may meet any."""
    if tags is None:
        return True
    if operator == "string_equals":
        return tags.get(key) == value
    if operator == "string_like":
        return key in tags and _glob(tags[key], value)
    if operator == "string_not_equals":
        return tags.get(key) != value
    return key not in tags or not _glob(tags[key], value)  # string_not_like


def _selection(selection: Resource, candidates: list[Resource], home: Resolution[str], infra: Infrastructure,
               policy: PolicyMap) -> tuple[list[Resource], list[tuple[str, str]], str | None]:
    """What one aws_backup_selection picks, as AWS does: the resources it lists, the ARN patterns' matches (the
    service and resource-type part decide the store types, `*` covers every type) and any selection_tag's
    matches (neither given: every supported resource); every condition must hold; not_resources are left out.
    Returns the resources of this configuration it picks, the classes its tag conditions on a classification
    tag key name, and a description of the stores outside this configuration it may also pick (None if none:
    what it lists all resolve here, or a tag condition names their class)."""
    where = selection.describe()
    chosen: list[Resource] = []
    hidden: list[tuple[str, frozenset[str], str | None]] = []  # (how, store types, the ARN when it names one)
    declared: list[tuple[str, str]] = []
    tags_by_id = {id(c): _readable_tags(c, infra) for c in candidates}

    included = _listed(selection, infra, "resources")
    chosen += included.resources
    for pattern in included.patterns:
        if not pattern.in_region(home):
            continue
        matches = [c for c in candidates if pattern.selects(c)]
        chosen += matches
        if "*" in pattern.text or not matches:
            hidden.append((f'resources "{pattern.text}"', pattern.types(), None if "*" in pattern.text
                           else pattern.text))
    hidden += [(f'resources entry "{text}", which names no resource of this configuration', _ALL_TYPES, None)
               for text in included.unresolved]
    tags, tags_unknown = blocks(selection, "selection_tag")
    for tag in tags:  # any selection_tag selects (OR)
        key, value = (_text(tag, "key") or "").removeprefix("aws:ResourceTag/"), _text(tag, "value") or ""
        chosen += [c for c in candidates if _holds("string_equals", key, value, tags_by_id[id(c)])]
        named = declared_by_tag(key, value, where, policy, exact=True)
        declared += named
        if not named:
            hidden.append((f'selection_tag {key} = "{value}"', _ALL_TYPES, None))
    hidden += [(f"selection_tag blocks that could not be evaluated ({u.reason})", _ALL_TYPES, None)
               for u in tags_unknown]
    if not included.written and not tags and not tags_unknown:  # AWS then selects every supported resource
        chosen += candidates
        hidden.append(("every supported resource, as it lists no resources and no selection_tag", _ALL_TYPES, None))

    conditions, _ = blocks(selection, "condition")  # one that cannot be evaluated narrows nothing
    for condition in conditions:  # every condition must hold (AND)
        for operator in _CONDITIONS:
            for tag in sub_blocks(condition, operator):
                key = (_text(tag, "key") or "").removeprefix("aws:ResourceTag/")
                value = _text(tag, "value") or ""
                chosen = [c for c in chosen if _holds(operator, key, value, tags_by_id.get(id(c)))]
                if operator in ("string_equals", "string_like"):
                    named = declared_by_tag(key, value, where, policy, exact=operator == "string_equals")
                    declared += named
                    if named:
                        hidden = []  # whatever else it picks carries that class's tag

    excluded = _listed(selection, infra, "not_resources")
    patterns = [p for p in excluded.patterns if p.in_region(home)]
    chosen = [c for c in chosen if all(c is not r for r in excluded.resources)
              and not any(p.selects(c, surely=True) for p in patterns)]
    wholly = frozenset(t for p in patterns for t in p.types(whole=True))
    hidden = [(how, types - wholly, arn) for how, types, arn in hidden
              if types - wholly and not (arn and any(p.text == arn for p in patterns))]

    unique = list({id(c): c for c in chosen}.values())
    if not hidden:
        return unique, declared, None
    hows = "; ".join(dict.fromkeys(how for how, _, _ in hidden))
    return unique, declared, f"the stores outside this configuration that {where} selects ({hows})"


def _backup_selected(plan: Resource, infra: Infrastructure, policy: PolicyMap
                     ) -> tuple[tuple[Resource, ...], tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The resources the plan's aws_backup_selection resources pick, the classes their tag conditions on a
    classification tag key name, and the stores outside this configuration they may pick."""
    home = infra.region_of(plan)

    def in_home_region(resource: Resource) -> bool:  # a plan only backs up resources of its own region
        region = infra.region_of(resource)
        return not isinstance(home, Known) or not isinstance(region, Known) or region.value == home.value

    candidates = [r for r in infra.in_same_root(plan, *_BACKUP_TYPES) if in_home_region(r)]
    selections = [s for label, s in infra.referrers(plan)
                  if s.type == "aws_backup_selection" and _under(label, "plan_id")]
    data: list[Resource] = []
    declared: list[tuple[str, str]] = []
    unseen: list[str] = []
    for selection in {id(s): s for s in selections}.values():
        chosen, named, hidden = _selection(selection, candidates, home, infra, policy)
        data += chosen
        declared += named
        unseen += [hidden] if hidden else []
    if not selections:
        unseen.append(f"the stores that selections outside this configuration assign to {plan.address} (no "
                      "aws_backup_selection in this configuration refers to it)")
    return tuple({id(r): r for r in data}.values()), tuple(declared), tuple(unseen)


def _backup_copy_actions(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    rules, unknown = blocks(resource, "rule", required=True)
    data, declared, unseen = _backup_selected(resource, infra, policy)
    source = Site(f"the backups of {resource.describe()}", infra.region_of(resource))
    copies = [Copy(c.how, c.source, c.destination, data, declared, unseen, sources_listed=True)
              for c in _unknown_copies("AWS Backup copy_action", source, unknown, ())]
    for index, rule in enumerate(rules):
        for action in sub_blocks(rule, "copy_action"):
            site, vaults = _reference(resource, infra, "rule.copy_action.destination_vault_arn",
                                      action.get("destination_vault_arn"), ("aws_backup_vault",),
                                      "destination_vault_arn")
            copies.append(Copy(f"AWS Backup rule {_label(rule, 'rule_name', index)} copy_action", source, site,
                               data, declared, unseen, sources_listed=True, to=vaults,
                               to_value=unwrap(action.get("destination_vault_arn"))))
    return copies


def _dlm_copy_rules(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy]:
    source = Site(f"the snapshots of {resource.describe()}", infra.region_of(resource))
    data: list[Resource] = []
    declared: list[tuple[str, str]] = []
    targets: list[tuple[str, Any]] = []
    pool = infra.in_same_root(resource, "aws_ebs_volume", "aws_instance")
    found, unknown = blocks(resource, "policy_details", required=True)
    for details in found:
        tags = unwrap(details.get("target_tags"))
        for key, value in (tags.items() if isinstance(tags, dict) else []):
            declared += declared_by_tag(str(key), str(unwrap(value)), f"target_tags of {resource.describe()}", policy)
            data += tag_matches(pool, infra, str(key), str(unwrap(value)))
        for schedule in sub_blocks(details, "schedule"):
            for rule in sub_blocks(schedule, "cross_region_copy_rule"):
                target = rule.get("target") or rule.get("target_region")
                targets.append(("schedule cross_region_copy_rule", unwrap(target)))
        for action in sub_blocks(details, "action"):
            for rule in sub_blocks(action, "cross_region_copy"):
                targets.append(("event action cross_region_copy", unwrap(rule.get("target"))))
    copies = _unknown_copies("DLM cross_region_copy_rule", source, unknown, ())
    for how, target in targets:
        text = as_text(target)
        where = f"{how} target of {resource.describe()}"
        site = Site(f"{where} = {text}", _arn_region(text, "the target Outpost")) if text and text.startswith("arn:") \
            else _value_region(target, where)
        copies.append(Copy(f"DLM {how}", source, site, tuple(data), tuple(declared)))
    return copies


# --- the table ----------------------------------------------------------------------------------------------

MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("S3 replication", ("aws_s3_bucket_replication_configuration",), _s3_replication),
    Mechanism("S3 replication (legacy inline block)", ("aws_s3_bucket",), _s3_inline_replication),
    Mechanism("S3 Multi-Region Access Point", ("aws_s3control_multi_region_access_point",),
              _s3_multi_region_access_point),
    Mechanism("DynamoDB replica", ("aws_dynamodb_table",),
              _region_blocks("replica", "region_name", "DynamoDB replica")),
    Mechanism("DynamoDB table replica", ("aws_dynamodb_table_replica",),
              _copy_of("global_table_arn", ("aws_dynamodb_table",), "DynamoDB table replica")),
    Mechanism("DynamoDB global table (legacy)", ("aws_dynamodb_global_table",), _legacy_global_table),
    Mechanism("RDS read replica", ("aws_db_instance",),
              _copy_of("replicate_source_db", ("aws_db_instance",), "RDS read replica", identifier_is_local=True)),
    Mechanism("RDS automated backups replication", ("aws_db_instance_automated_backups_replication",),
              _copy_of("source_db_instance_arn", ("aws_db_instance",), "RDS automated backups replication")),
    Mechanism("Aurora / Neptune replica cluster", ("aws_rds_cluster", "aws_neptune_cluster"),
              _copy_of("replication_source_identifier", ("aws_rds_cluster", "aws_neptune_cluster", "aws_db_instance"),
                       "cross-Region replica cluster (replication_source_identifier)")),
    Mechanism("Aurora global database", ("aws_rds_global_cluster",),
              _group(("aws_rds_cluster",), "global_cluster_identifier", "global_cluster_identifier",
                     "source_db_cluster_identifier", "Aurora global database member")),
    Mechanism("DocumentDB global cluster", ("aws_docdb_global_cluster",),
              _group(("aws_docdb_cluster",), "global_cluster_identifier", "global_cluster_identifier",
                     "source_db_cluster_identifier", "DocumentDB global cluster member")),
    Mechanism("Neptune global database", ("aws_neptune_global_cluster",),
              _group(("aws_neptune_cluster",), "global_cluster_identifier", "global_cluster_identifier",
                     "source_db_cluster_identifier", "Neptune global database member")),
    Mechanism("member of a global database outside this configuration",
              ("aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster"),
              _member_of_unknown_group("global_cluster_identifier", ("aws_rds_global_cluster",
                                       "aws_docdb_global_cluster", "aws_neptune_global_cluster"),
                                       "global_cluster_identifier", "global database membership")),
    Mechanism("ElastiCache global datastore", ("aws_elasticache_global_replication_group",),
              _group(("aws_elasticache_replication_group",), "global_replication_group_id",
                     "global_replication_group_id", "primary_replication_group_id",
                     "ElastiCache global datastore member")),
    Mechanism("member of a global datastore outside this configuration", ("aws_elasticache_replication_group",),
              _member_of_unknown_group("global_replication_group_id", ("aws_elasticache_global_replication_group",),
                                       "global_replication_group_id", "global datastore membership")),
    Mechanism("MemoryDB multi-Region cluster", ("aws_memorydb_multi_region_cluster",),
              _group(("aws_memorydb_cluster",), "multi_region_cluster_name", "multi_region_cluster_name", None,
                     "MemoryDB multi-Region cluster member")),
    Mechanism("member of a multi-Region cluster outside this configuration", ("aws_memorydb_cluster",),
              _member_of_unknown_group("multi_region_cluster_name", ("aws_memorydb_multi_region_cluster",),
                                       "multi_region_cluster_name", "multi-Region cluster membership")),
    Mechanism("Secrets Manager replica", ("aws_secretsmanager_secret",),
              _region_blocks("replica", "region", "Secrets Manager replica")),
    Mechanism("KMS multi-Region key", ("aws_kms_key",), _kms_multi_region),
    Mechanism("KMS replica key", ("aws_kms_replica_key", "aws_kms_replica_external_key"), _kms_replica),
    Mechanism("AWS Backup copy action", ("aws_backup_plan",), _backup_copy_actions),
    Mechanism("EBS snapshot copy", ("aws_ebs_snapshot_copy",),
              _copy_from_region("source_snapshot_id", "source_region", ("aws_ebs_snapshot",), "EBS snapshot copy")),
    Mechanism("AMI copy", ("aws_ami_copy",),
              _copy_from_region("source_ami_id", "source_ami_region", ("aws_ami", "aws_ami_from_instance",
                                                                       "aws_ami_copy"), "AMI copy")),
    Mechanism("Redshift snapshot copy", ("aws_redshift_snapshot_copy",), _redshift_snapshot_copy),
    Mechanism("Redshift snapshot_copy block", ("aws_redshift_cluster",), _redshift_inline_snapshot_copy),
    Mechanism("EFS replication", ("aws_efs_replication_configuration",), _efs_replication),
    Mechanism("Aurora DSQL multi-Region peering", ("aws_dsql_cluster_peering",), _dsql_peering),
    Mechanism("DLM cross-Region copy", ("aws_dlm_lifecycle_policy",), _dlm_copy_rules),
    Mechanism("ECR replication", ("aws_ecr_replication_configuration",), _ecr_replication),
)

BY_TYPE: dict[str, list[Mechanism]] = {}
for _mechanism in MECHANISMS:
    for _type in _mechanism.resource_types:
        BY_TYPE.setdefault(_type, []).append(_mechanism)


def copies_made_by(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Copy] | None:
    """Every copy the resource creates; None when no mechanism covers its type."""
    mechanisms = BY_TYPE.get(resource.type)
    if not mechanisms:
        return None
    return [copy for mechanism in mechanisms for copy in mechanism.copies(resource, infra, policy)]
