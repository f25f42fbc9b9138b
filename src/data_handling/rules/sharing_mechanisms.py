"""Where data is granted, shared or copied to another account: one table entry per AWS mechanism (CKV_DH_105).

Each mechanism names the resource types that create a grant, share or copy, and a function that lists the shares
one such resource makes: what is shared (the stores whose class decides), how, and who receives it (a Party of
model/accounts.py: an account inside or outside the organisation, or one that cannot be determined and why). S3
replication and AWS Backup copies are read from rules/copy_mechanisms.py (the copies CKV_DH_102 judges by region),
here by account. Nothing here decides pass or fail: rules/no_third_party_sharing.py does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from data_handling.model.accounts import (
    ACCOUNT_ID,
    Party,
    Placement,
    placement,
    recipient_resource,
    recipient_text,
    statement_recipients,
)
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.kms_keys import KEY_TYPES
from data_handling.model.records import Resource
from data_handling.model.resource_policies import POLICY_HOLDER_TYPES, attached_policy
from data_handling.model.telemetry import resources_named
from data_handling.model.values import Unknown, as_text, is_unrendered, unwrap
from data_handling.policy.schema import PolicyMap
from data_handling.rules.copy_mechanisms import (
    blocks,
    copies_made_by,
    declared_by_tag,
    protected_by,
    sub_blocks,
    tag_matches,
    targets_at,
)


@dataclass(frozen=True)
class Shared:
    what: str  # what is shared, for the finding: 'aws_db_instance.customers (rds.tf:3)'


@dataclass(frozen=True)
class Share:
    how: str  # the mechanism and where it is written: 'shared_accounts of aws_db_snapshot.nightly (rds.tf:12)'
    source: Shared
    recipient: Party
    data: tuple[Resource, ...] = ()  # the stores whose data is shared: their class decides
    declared: tuple[tuple[str, str], ...] = ()  # (class, where) a mechanism states itself (a backup tag selection)
    unseen: tuple[str, ...] = ()  # stores outside this configuration it may share (see Copy.unseen)
    one_dataset: bool = False
    sources_listed: bool = False  # `data` and `unseen` name every source: no data means nothing is shared


Shares = Callable[[Resource, Infrastructure, PolicyMap, Placement], list[Share]]


@dataclass(frozen=True)
class Mechanism:
    name: str
    resource_types: tuple[str, ...]
    shares: Shares


# --- reading recipients --------------------------------------------------------------------------------------

# Resources a principal or destination may be a reference to: whatever it is, its provider gives its account.
_ANY = ("aws_iam_role", "aws_iam_user", "aws_iam_group", "aws_s3_bucket", "aws_backup_vault", "aws_kinesis_stream",
        "aws_kinesis_firehose_delivery_stream", "aws_lambda_function", "aws_cloudwatch_log_destination",
        "aws_cloudwatch_event_bus", "aws_sqs_queue", "aws_sns_topic", "aws_opensearch_domain",
        "aws_elasticsearch_domain", "aws_redshift_cluster", "aws_opensearchserverless_collection",
        "aws_glue_catalog_database", "aws_sfn_state_machine", "aws_ecs_cluster", "aws_api_gateway_rest_api",
        "aws_cloudwatch_log_group", "aws_organizations_organization", "aws_organizations_organizational_unit",
        "aws_organizations_account")


def _items(value: Any) -> list[Any]:
    value = unwrap(value)
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [item for entry in value for item in _items(entry)]
    return [value]


def _literal(text: str | None) -> bool:
    """A value that names its recipient itself: an account ID, an ARN or principal written out, `*`, `all`."""
    if text is None or is_unrendered(text):
        return False
    text = text.strip()
    return bool(ACCOUNT_ID.match(text)) or text.startswith("arn:") or text in ("*", "all") or text.endswith(
        ".amazonaws.com")


def recipients(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement, path: str,
               value: Any, what: str, kind: str = "arn", types: tuple[str, ...] = _ANY) -> list[Party]:
    """The recipients an attribute names: each literal as written, and references through their resources (an
    edge, or the text of one); a value that cannot be evaluated is unresolved, never dropped."""
    items = _items(value)
    targets = targets_at(resource, infra, path, types)
    found: list[Party] = []
    for item in items:
        text = as_text(item)
        if _literal(text):
            found.append(_all_or_text(item, resource, home, infra, policy, what, kind))
        elif not targets:
            found.append(recipient_text(item, resource, home, infra, policy, what, kind))
    found += [recipient_resource(target, home, infra, policy) for target in targets]
    if not items and not targets and value is not None:
        found.append(recipient_text(value, resource, home, infra, policy, what, kind))
    return found


def _all_or_text(item: Any, near: Resource, home: Placement, infra: Infrastructure, policy: PolicyMap, what: str,
                 kind: str) -> Party:
    if (as_text(item) or "").strip().lower() == "all":  # snapshot / AMI sharing with every account: public
        return Party(f'{what} "all"', anyone=True)
    return recipient_text(item, near, home, infra, policy, what, kind)


def _shown(data: tuple[Resource, ...], policy: PolicyMap, otherwise: str) -> Shared:
    """What a finding names as shared: the stores (and keys) among the resources, not the configurations between."""
    named = [d for d in data if d.type in policy.classification.store_types or d.type in KEY_TYPES] or list(data)
    return Shared(", ".join(dict.fromkeys(d.describe() for d in named)) or otherwise)


def _data(resource: Resource, infra: Infrastructure, path: str, types: tuple[str, ...], name_attribute: str = "",
          ) -> tuple[Resource, ...]:
    """The stores an attribute refers to (an edge), else those its text names (an identifier of this configuration)."""
    found = targets_at(resource, infra, path, types)
    text = as_text(resource.get(path))
    if not found and text and name_attribute and not is_unrendered(text):
        found = [r for r in infra.named(resource, types, name_attribute, text)
                 if as_text(r.get(name_attribute)) == text.strip()]
    return tuple(found)


def _and_sources(found: tuple[Resource, ...], infra: Infrastructure, hops: tuple[tuple[str, tuple[str, ...]], ...],
                 ) -> tuple[Resource, ...]:
    """The resources and what they were made from (a snapshot's volume, an image's instance or snapshots)."""
    result = list(found)
    for resource in found:
        for path, types in hops:
            result += [t for t in targets_at(resource, infra, path, types) if t not in result]
    return tuple(result)


# --- snapshots and images shared with accounts ---------------------------------------------------------------

_DB_CLUSTERS = ("aws_rds_cluster", "aws_docdb_cluster", "aws_neptune_cluster")


def _shared_accounts(source_attribute: str, source_types: tuple[str, ...], name_attribute: str, how: str,
                     accounts_attributes: tuple[str, ...] = ("shared_accounts",)) -> Shares:
    """A snapshot whose restore permission is given to the accounts an attribute lists (`all`: every account)."""
    def shares(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
        data = _data(resource, infra, source_attribute, source_types, name_attribute)
        source = Shared(", ".join(d.describe() for d in data) or f"the snapshot {resource.describe()}")
        found = []
        for attribute in accounts_attributes:
            for party in recipients(resource, infra, policy, home, attribute, resource.get(attribute), attribute):
                found.append(Share(f"{attribute} of {resource.describe()} ({how})", source, party, data))
        return found
    return shares


def _volume_permission(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    snapshots = _data(resource, infra, "snapshot_id", ("aws_ebs_snapshot", "aws_ebs_snapshot_copy",
                                                       "aws_ebs_snapshot_import"))
    data = _and_sources(snapshots, infra, (("volume_id", ("aws_ebs_volume",)),
                                           ("source_snapshot_id", ("aws_ebs_snapshot",))))
    data = _and_sources(data, infra, (("volume_id", ("aws_ebs_volume",)),))
    source = Shared(", ".join(d.describe() for d in data) or f"snapshot_id of {resource.describe()}")
    return [Share(f"the EBS create-volume permission {resource.describe()}", source, party, data)
            for party in recipients(resource, infra, policy, home, "account_id", resource.get("account_id"),
                                    "account_id")]


_IMAGE_TYPES = ("aws_ami", "aws_ami_from_instance", "aws_ami_copy")


def _launch_permission(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    images = _data(resource, infra, "image_id", _IMAGE_TYPES)
    data = _and_sources(images, infra, (("source_instance_id", ("aws_instance",)),
                                        ("source_ami_id", _IMAGE_TYPES),
                                        ("ebs_block_device.snapshot_id", ("aws_ebs_snapshot",))))
    data = _and_sources(data, infra, (("volume_id", ("aws_ebs_volume",)),))
    source = Shared(", ".join(d.describe() for d in data) or f"image_id of {resource.describe()}")
    found = []
    for attribute in ("account_id", "group", "organization_arn", "organizational_unit_arn"):
        if resource.get(attribute) is not None:
            found += [Share(f"the AMI launch permission {resource.describe()} ({attribute})", source, party, data)
                      for party in recipients(resource, infra, policy, home, attribute, resource.get(attribute),
                                              attribute)]
    return found


def _redshift_data_share(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    source = Shared(f"the datashare {as_text(resource.get('data_share_arn')) or '(data_share_arn)'}")
    return [Share(f"the Redshift datashare authorization {resource.describe()}", source, party)
            for party in recipients(resource, infra, policy, home, "consumer_identifier",
                                    resource.get("consumer_identifier"), "consumer_identifier")]


def _dlm_share_rules(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    """DLM share_rule: the snapshots a lifecycle policy creates are shared with target_accounts."""
    details, _ = blocks(resource, "policy_details")
    found = []
    for detail in details:
        for schedule in sub_blocks(detail, "schedule"):
            for rule in sub_blocks(schedule, "share_rule"):
                for party in recipients(resource, infra, policy, home, "policy_details.schedule.share_rule",
                                        rule.get("target_accounts"), "share_rule.target_accounts"):
                    data, declared = _dlm_targets(resource, infra, policy)
                    found.append(Share(f"the share_rule of {resource.describe()}",
                                       Shared(f"the snapshots {resource.describe()} creates"), party, data, declared))
    return found


def _dlm_targets(resource: Resource, infra: Infrastructure, policy: PolicyMap,
                 ) -> tuple[tuple[Resource, ...], tuple[tuple[str, str], ...]]:
    """The volumes and instances a lifecycle policy's target_tags select, and the classes those tags name (read as
    CKV_DH_102 reads them for DLM copies)."""
    data: list[Resource] = []
    declared: list[tuple[str, str]] = []
    pool = infra.in_same_root(resource, "aws_ebs_volume", "aws_instance")
    for detail in blocks(resource, "policy_details")[0]:
        tags = unwrap(detail.get("target_tags"))
        for key, value in (tags.items() if isinstance(tags, dict) else []):
            declared += declared_by_tag(str(key), str(unwrap(value)), f"target_tags of {resource.describe()}", policy)
            data += tag_matches(pool, infra, str(key), str(unwrap(value)))
    return tuple(dict.fromkeys(data)), tuple(declared)


# --- RAM -------------------------------------------------------------------------------------------------------

def _shared_resources(share: Resource, infra: Infrastructure) -> tuple[tuple[Resource, ...], tuple[str, ...]]:
    """The resources the associations of a RAM share add to it; a resource_arn that names nothing of this
    configuration is a store it cannot see."""
    data: list[Resource] = []
    unseen: list[str] = []
    for label, association in infra.referrers(share):
        if association.type != "aws_ram_resource_association" or not label.startswith("resource_share_arn"):
            continue
        targets = [t for lab, t in association.references if lab.startswith("resource_arn")]
        data += targets
        if not targets:
            unseen.append(f"resource_arn {as_text(association.get('resource_arn'))!r} of {association.address}")
    return tuple(dict.fromkeys(data)), tuple(unseen)


def _ram_principal(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    shares = targets_at(resource, infra, "resource_share_arn", ("aws_ram_resource_share",))
    data: tuple[Resource, ...] = ()
    unseen: tuple[str, ...] = ()
    for share in shares:
        found, hidden = _shared_resources(share, infra)
        data, unseen = data + found, unseen + hidden
    if not shares:
        unseen = (f"the resources of the share {as_text(resource.get('resource_share_arn'))!r}, which is not in this "
                  "configuration",)
    source = Shared(", ".join(d.describe() for d in data) or f"the resources of {resource.describe()}'s share")
    return [Share(f"the RAM principal association {resource.describe()}", source, party, data, (), unseen,
                  sources_listed=bool(shares))
            for party in recipients(resource, infra, policy, home, "principal", resource.get("principal"),
                                    "principal")]


def _ram_share(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    if str(resource.get("allow_external_principals")).lower() != "true":
        return []
    data, unseen = _shared_resources(resource, infra)
    source = Shared(", ".join(d.describe() for d in data) or f"the resources of {resource.describe()}")
    party = Party("allow_external_principals = true", outside_aws=(
        "principals outside the organisation may be associated with the share"))
    return [Share(f"the RAM resource share {resource.describe()}", source, party, data, (), unseen,
                  sources_listed=True)]


# --- copies into another account (S3 replication, AWS Backup) ---------------------------------------------------

def _copies(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    found = []
    for copy in copies_made_by(resource, infra, policy) or []:
        if not copy.how.startswith(("S3 replication", "AWS Backup")):
            continue
        kind = "bucket" if copy.how.startswith("S3") else "arn"
        what = "destination.bucket" if kind == "bucket" else "destination_vault_arn"
        if copy.to_account is not None:
            parties = [recipient_text(copy.to_account, resource, home, infra, policy, "destination.account")]
        elif copy.to:
            parties = [recipient_resource(target, home, infra, policy) for target in copy.to]
        elif copy.to_value is not None:
            parties = [recipient_text(copy.to_value, resource, home, infra, policy, what, kind)]
        else:  # a rule or copy_action that could not be read: its destination is unknown
            reason = copy.destination.region.reason if isinstance(copy.destination.region, Unknown) else \
                "the destination could not be read"
            parties = [Party(copy.destination.what, unresolved=reason)]
        source = Shared(copy.source.what)
        found += [Share(f"{copy.how} of {resource.describe()}", source, party, copy.data, copy.declared, copy.unseen,
                        copy.one_dataset, copy.sources_listed) for party in parties]
    return found


# --- streams of data delivered to another account ----------------------------------------------------------------

_FIREHOSE_ARNS = ("bucket_arn", "domain_arn", "catalog_arn", "cluster_jdbcurl", "collection_endpoint",
                  "cluster_endpoint")
_FIREHOSE_OUTSIDE = {"http_endpoint_configuration": "url", "splunk_configuration": "hec_endpoint",
                     "snowflake_configuration": "account_url"}


def _leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for name, value in node.items():
            if not str(name).startswith("__"):
                yield from _leaves(value, f"{path}.{name}".strip("."))
    elif isinstance(node, list) and any(isinstance(item, dict) for item in node):
        for item in node:
            yield from _leaves(item, path)
    else:
        yield path, node


def _firehose(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    data = (resource, *targets_at(resource, infra, "kinesis_source_configuration.kinesis_stream_arn",
                                ("aws_kinesis_stream",)),
            *targets_at(resource, infra, "msk_source_configuration.msk_cluster_arn", ("aws_msk_cluster",)))
    source = Shared(" and ".join(dict.fromkeys(d.describe() for d in data)))
    how = f"the Firehose delivery stream {resource.describe()}"
    found = []
    for path, value in _leaves(resource.config):
        key = path.rsplit(".", 1)[-1]
        block = path.split(".", 1)[0]
        if key in _FIREHOSE_ARNS and value not in (None, [], ""):
            kind = "bucket" if key == "bucket_arn" else "arn"
            for party in recipients(resource, infra, policy, home, path, value, path, kind):
                found.append(Share(how, source, party, data))
        elif _FIREHOSE_OUTSIDE.get(block) == key and value not in (None, [], ""):
            text = as_text(value) or repr(unwrap(value))
            found.append(Share(how, source, Party(f'{path} "{text}"', outside_aws=(
                "an endpoint outside the organisation's AWS accounts: whoever runs it receives the data")), data))
    return found


def _subscription_filter(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement,
                         ) -> list[Share]:
    groups = targets_at(resource, infra, "log_group_name", ("aws_cloudwatch_log_group",))
    name = as_text(resource.get("log_group_name"))
    if not groups and name and not is_unrendered(name):
        groups = resources_named("aws_cloudwatch_log_group", name, resource, infra)
    source = Shared(", ".join(g.describe() for g in groups) or f'log group "{name}"')
    return [Share(f"the subscription filter {resource.describe()}", source, party, tuple(groups))
            for party in recipients(resource, infra, policy, home, "destination_arn", resource.get("destination_arn"),
                                    "destination_arn")]


def _event_target(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    rules = targets_at(resource, infra, "rule", ("aws_cloudwatch_event_rule",))
    buses = targets_at(resource, infra, "event_bus_name", ("aws_cloudwatch_event_bus",))
    data = tuple(dict.fromkeys([*rules, *buses]))
    source = Shared(", ".join(d.describe() for d in data) or f"the events of {resource.describe()}")
    return [Share(f"the EventBridge target {resource.describe()}", source, party, data, sources_listed=True)
            for party in recipients(resource, infra, policy, home, "arn", resource.get("arn"), "arn")]


# --- grants ---------------------------------------------------------------------------------------------------

def _kms_grant(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    keys = targets_at(resource, infra, "key_id", KEY_TYPES)
    data = tuple(dict.fromkeys([*keys, *(r for key in keys for r in protected_by(key, infra))]))
    operations = ", ".join(str(o) for o in _items(resource.get("operations"))) or "no operation"
    source = _shown(data, policy, f"key_id of {resource.describe()}")
    return [Share(f"the KMS grant {resource.describe()} ({operations})", source, party, data)
            for party in recipients(resource, infra, policy, home, "grantee_principal",
                                    resource.get("grantee_principal"), "grantee_principal")]


_LAKE_FORMATION_BLOCKS = {"database": ("aws_glue_catalog_database",), "table": ("aws_glue_catalog_table",),
                          "table_with_columns": ("aws_glue_catalog_table",),
                          "data_location": ("aws_s3_bucket", "aws_lakeformation_resource")}


def _lake_formation(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    data: list[Resource] = []
    for block, types in _LAKE_FORMATION_BLOCKS.items():
        data += targets_at(resource, infra, block, types)
        for entry in blocks(resource, block)[0]:
            name = as_text(unwrap(entry.get("name")))
            if name and not is_unrendered(name) and block in ("database", "table", "table_with_columns"):
                kind = "aws_glue_catalog_database" if block == "database" else "aws_glue_catalog_table"
                data += [r for r in infra.named(resource, (kind,), "name", name) if as_text(r.get("name")) == name]
    data = list(dict.fromkeys(data))
    principal = as_text(resource.get("principal")) or ""
    if principal.strip() == "IAM_ALLOWED_PRINCIPALS":
        return []  # hands the decision back to IAM in the catalog's own account
    permissions = ", ".join(str(p) for p in _items(resource.get("permissions")))
    source = Shared(", ".join(d.describe() for d in data) or f"the catalog resources of {resource.describe()}")
    return [Share(f"the Lake Formation permissions {resource.describe()} ({permissions})", source, party, tuple(data))
            for party in recipients(resource, infra, policy, home, "principal", resource.get("principal"),
                                    "principal")]


# --- resource policies (bucket, key, topic, queue, secret, table, Glue catalog policies) ------------------------

def _resource_policy(resource: Resource, infra: Infrastructure, policy: PolicyMap, home: Placement) -> list[Share]:
    attached = attached_policy(resource, infra)
    if attached is None or _computed_in_plan(resource, attached.attribute):
        return []
    stores = attached.stores
    # A key's data is what it encrypts: the stores that use it.
    data = tuple(dict.fromkeys([*stores, *(r for s in stores if s.type in KEY_TYPES for r in protected_by(s, infra))]))
    source = _shown(data, policy, f"the store {attached.attribute} of {resource.describe()} applies to "
                                  f"({attached.unresolved})")
    document = attached.document
    found = [Share(f"resource policy {document.source}", source, Party(document.source, unresolved=(
        f"{problem}; " + resource.how_to_know("write the policy with jsonencode, a JSON heredoc or an "
                                              "aws_iam_policy_document whose values are known, or scan the plan"))),
        data, sources_listed=bool(stores)) for problem in document.problems]
    for statement in document.statements:
        actions = ", ".join(statement.actions) or "no action"
        granted = f"NotAction [{actions}]" if statement.not_actions else actions
        for party in statement_recipients(statement, resource, home, infra, policy):
            found.append(Share(f"{statement.where} (Allow {granted})", source, party, data,
                               sources_listed=bool(stores)))
    return found


def _computed_in_plan(resource: Resource, attribute: str) -> bool:
    """A plan shows a store's `policy` the configuration does not set as unknown until apply (the provider computes
    it from the attached policy resources, which are judged themselves): not a policy of its own."""
    value = resource.get(attribute) if resource.provider_key is not None else None
    return isinstance(value, str) and value.strip() == "${unknown until apply}" and not any(
        label == attribute or label.startswith(f"{attribute}.") for label, _ in resource.references)


# --- the table -----------------------------------------------------------------------------------------------

MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism("RDS snapshot sharing", ("aws_db_snapshot",),
              _shared_accounts("db_instance_identifier", ("aws_db_instance",), "identifier", "RDS snapshot shared")),
    Mechanism("RDS cluster snapshot sharing", ("aws_db_cluster_snapshot",),
              _shared_accounts("db_cluster_identifier", _DB_CLUSTERS, "cluster_identifier",
                               "DB cluster snapshot shared")),
    Mechanism("Redshift Serverless snapshot restore access", ("aws_redshiftserverless_snapshot",),
              _shared_accounts("namespace_name", ("aws_redshiftserverless_namespace",), "namespace_name",
                               "Redshift Serverless snapshot restore access",
                               ("accounts_with_restore_access", "accounts_with_provisioned_restore_access"))),
    Mechanism("EBS snapshot create-volume permission", ("aws_snapshot_create_volume_permission",),
              _volume_permission),
    Mechanism("AMI launch permission", ("aws_ami_launch_permission",), _launch_permission),
    Mechanism("Redshift datashare authorization", ("aws_redshift_data_share_authorization",), _redshift_data_share),
    Mechanism("DLM snapshot sharing", ("aws_dlm_lifecycle_policy",), _dlm_share_rules),
    Mechanism("RAM principal association", ("aws_ram_principal_association",), _ram_principal),
    Mechanism("RAM share open to external principals", ("aws_ram_resource_share",), _ram_share),
    Mechanism("S3 replication and AWS Backup copies", ("aws_s3_bucket_replication_configuration", "aws_s3_bucket",
                                                       "aws_backup_plan"), _copies),
    Mechanism("Firehose delivery", ("aws_kinesis_firehose_delivery_stream",), _firehose),
    Mechanism("CloudWatch Logs subscription", ("aws_cloudwatch_log_subscription_filter",), _subscription_filter),
    Mechanism("EventBridge target", ("aws_cloudwatch_event_target",), _event_target),
    Mechanism("KMS grant", ("aws_kms_grant",), _kms_grant),
    Mechanism("Lake Formation permissions", ("aws_lakeformation_permissions",), _lake_formation),
    Mechanism("resource policy", POLICY_HOLDER_TYPES, _resource_policy),
)

BY_TYPE: dict[str, list[Mechanism]] = {}
for _mechanism in MECHANISMS:
    for _type in _mechanism.resource_types:
        BY_TYPE.setdefault(_type, []).append(_mechanism)


def shares_made_by(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Share] | None:
    """Every grant, share or copy to a recipient the resource creates; None when no mechanism covers its type."""
    mechanisms = BY_TYPE.get(resource.type)
    if not mechanisms:
        return None
    home = placement(resource, infra)
    return [share for mechanism in mechanisms for share in mechanism.shares(resource, infra, policy, home)]

