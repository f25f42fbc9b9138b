"""Resource policies: which policy documents govern access to a store, and which resource attaches each one.

A store's resource policy is written in one of two places: an argument of the store itself (`policy` of an
aws_s3_bucket, aws_sqs_queue, aws_sns_topic, aws_secretsmanager_secret or KMS key; `access_policies` of an
OpenSearch / Elasticsearch domain), or a resource of its own that names the store (aws_s3_bucket_policy.bucket,
aws_sqs_queue_policy.queue_url, ..., aws_dynamodb_resource_policy.resource_arn). The store is found by following
the reference (an edge of the graph, through modules, outputs and locals); a literal bucket, repository or domain
name is matched against the stores of the same root module by that name. aws_glue_resource_policy names no
resource: it governs the Data Catalog of its account and region, so it applies to the Glue databases and tables
deployed through the same provider configuration. Lambda permissions are not resource-policy documents here.

Both directions: `policies_of(store)` (every document that applies to a store) and `attached_policy(resource)`
(for a resource that holds a document, the document and the stores it applies to).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from data_handling.model.iam_policy import PolicyDocument, policy_of
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.kms_keys import KEY_TYPES
from data_handling.model.records import Resource
from data_handling.model.values import Known, ReferenceText, as_text, is_unrendered

GLUE_CATALOG_TYPES = ("aws_glue_catalog_database", "aws_glue_catalog_table")

# Store type -> the argument of the store that holds its resource policy.
INLINE_POLICY: dict[str, str] = {
    "aws_s3_bucket": "policy",
    "aws_sqs_queue": "policy",
    "aws_sns_topic": "policy",
    "aws_secretsmanager_secret": "policy",
    "aws_opensearch_domain": "access_policies",
    "aws_elasticsearch_domain": "access_policies",
    **{key_type: "policy" for key_type in KEY_TYPES},
}


@dataclass(frozen=True)
class Attachment:
    """A resource type that attaches a policy to a store it names."""

    reference: str  # the argument naming the store: bucket, queue_url, key_id, resource_arn, ...
    store_types: tuple[str, ...]
    policy: str = "policy"  # the argument holding the document
    name_attribute: str = ""  # the store's argument a literal reference is matched against ("" = none)


ATTACHMENTS: dict[str, Attachment] = {
    "aws_s3_bucket_policy": Attachment("bucket", ("aws_s3_bucket",), name_attribute="bucket"),
    "aws_sqs_queue_policy": Attachment("queue_url", ("aws_sqs_queue",)),
    "aws_sns_topic_policy": Attachment("arn", ("aws_sns_topic",)),
    "aws_secretsmanager_secret_policy": Attachment("secret_arn", ("aws_secretsmanager_secret",)),
    "aws_kms_key_policy": Attachment("key_id", KEY_TYPES),
    "aws_dynamodb_resource_policy": Attachment("resource_arn", ("aws_dynamodb_table",)),
    "aws_ecr_repository_policy": Attachment("repository", ("aws_ecr_repository",), name_attribute="name"),
    "aws_opensearch_domain_policy": Attachment("domain_name", ("aws_opensearch_domain",), "access_policies",
                                               "domain_name"),
    "aws_elasticsearch_domain_policy": Attachment("domain_name", ("aws_elasticsearch_domain",), "access_policies",
                                                  "domain_name"),
    # No reference: the account's Data Catalog (see catalog_stores).
    "aws_glue_resource_policy": Attachment("", GLUE_CATALOG_TYPES),
}

# Every store type some resource policy can govern, and every type that holds a policy document.
POLICY_STORE_TYPES = tuple(sorted(set(INLINE_POLICY) | {t for a in ATTACHMENTS.values() for t in a.store_types}))
POLICY_HOLDER_TYPES = tuple(sorted(set(INLINE_POLICY) | set(ATTACHMENTS)))


@dataclass(frozen=True)
class AttachedPolicy:
    """One resource-policy document and where it applies."""

    document: PolicyDocument  # statements (principals, actions, resources, conditions) and read problems
    attached_by: Resource  # the resource whose argument holds it: the store itself for an inline policy
    attribute: str  # that argument: policy, access_policies
    stores: tuple[Resource, ...]  # the stores it applies to (the store itself for an inline policy)
    unresolved: str = ""  # why no store was found (a reference outside the configuration, a value unknown)

    @property
    def inline(self) -> bool:
        return self.attached_by in self.stores and self.attached_by.type in INLINE_POLICY


def attached_policy(resource: Resource, infra: Infrastructure) -> AttachedPolicy | None:
    """The policy document a resource holds and the stores it applies to; None when it holds none (not a
    policy-holding type, or its policy argument is not set)."""
    if resource.type in ATTACHMENTS:
        attachment = ATTACHMENTS[resource.type]
        document = policy_of(resource, attachment.policy)
        if document is None:
            return None
        stores, unresolved = stores_of(resource, infra)
        return AttachedPolicy(document, resource, attachment.policy, tuple(stores), unresolved)
    attribute = INLINE_POLICY.get(resource.type)
    if attribute is None:
        return None
    document = policy_of(resource, attribute)
    return AttachedPolicy(document, resource, attribute, (resource,)) if document is not None else None


def stores_of(resource: Resource, infra: Infrastructure) -> tuple[list[Resource], str]:
    """The stores an attaching resource applies to, and why none was found when the list is empty."""
    attachment = ATTACHMENTS.get(resource.type)
    if attachment is None:
        return ([resource], "") if resource.type in INLINE_POLICY else ([], f"{resource.type} attaches no policy")
    if not attachment.reference:
        stores = catalog_stores(resource, infra)
        return stores, "" if stores else (f"no Glue catalog database or table is deployed through the provider "
                                           f"configuration of {resource.describe()}")
    return targets_of(resource, infra, attachment.reference, attachment.store_types, attachment.name_attribute)


def targets_of(resource: Resource, infra: Infrastructure, attribute: str, types: tuple[str, ...],
               name_attribute: str = "") -> tuple[list[Resource], str]:
    """The resources of `types` an argument of `resource` names: by reference (an edge labelled with the
    argument), else by a literal name equal to their `name_attribute` in the same root; and why none was found."""
    found = _unique(target for target in _stores_referenced(resource, attribute)
                    if target.type in types and target.mode == "resource")
    if found:
        return found, ""
    written = resource.get(attribute)
    literal = as_text(written)
    if literal and not is_unrendered(literal) and name_attribute:
        named = [candidate for kind in types for candidate in infra.named(resource, (kind,), name_attribute, literal)
                 if as_text(candidate.get(name_attribute)) == literal.strip()]
        if named:
            return named, ""
    wanted = " or ".join(types)
    if written is None:
        return [], f"{resource.describe()} sets no {attribute}"
    if isinstance(written, ReferenceText):
        return [], (f"{attribute} of {resource.describe()} refers to {written}, which is not a {wanted} of the "
                    "configuration")
    if literal is None or is_unrendered(literal):
        return [], (f"{attribute} of {resource.describe()} is {written!r}, which could not be followed to a "
                    f"{wanted} of the configuration")
    return [], f'{attribute} = "{literal}" of {resource.describe()} names no {wanted} of the configuration'


def _stores_referenced(resource: Resource, attribute: str) -> list[Resource]:
    return [target for label, target in resource.references if label == attribute or label.startswith(f"{attribute}.")]


def catalog_stores(policy: Resource, infra: Infrastructure) -> list[Resource]:
    """The Glue catalog databases and tables an aws_glue_resource_policy governs: those of the same root deployed
    through the same provider configuration (the same account and region). A store whose provider, or the
    policy's, cannot be resolved is counted in: it may be governed by it."""
    own = infra.provider_of(policy)
    found = []
    for store in infra.in_same_root(policy, *GLUE_CATALOG_TYPES):
        theirs = infra.provider_of(store)
        if not isinstance(own, Known) or not isinstance(theirs, Known) or own.value is theirs.value:
            found.append(store)
    return found


def policies_of(store: Resource, infra: Infrastructure) -> list[AttachedPolicy]:
    """Every resource-policy document that applies to a store: its inline policy argument, each resource that
    attaches one to it (found through the references that point at the store), and for a Glue catalog database
    or table the Glue resource policies of its account and region."""
    found: list[AttachedPolicy] = []
    if store.type in INLINE_POLICY:
        inline = attached_policy(store, infra)
        found += [inline] if inline is not None else []
    holders: list[Resource] = []
    for label, source in infra.referrers(store):
        attachment = ATTACHMENTS.get(source.type)
        if attachment is not None and attachment.reference and store.type in attachment.store_types \
                and (label == attachment.reference or label.startswith(f"{attachment.reference}.")):
            holders.append(source)
    for attachment_type, attachment in ATTACHMENTS.items():
        if store.type not in attachment.store_types:
            continue
        if attachment.name_attribute:  # a literal name written in place of a reference
            name = as_text(store.get(attachment.name_attribute))
            holders += [holder for holder in infra.named(store, (attachment_type,), attachment.reference, name)
                        if as_text(holder.get(attachment.reference)) == name]
        if not attachment.reference:
            holders += [holder for holder in infra.in_same_root(store, attachment_type)
                        if store in catalog_stores(holder, infra)]
    for holder in _unique(holders):
        attached = attached_policy(holder, infra)
        if attached is not None and store in attached.stores:
            found.append(attached)
    return found


def _unique(resources: Iterable[Resource]) -> list[Resource]:
    seen: dict[int, Resource] = {}
    for resource in resources:
        seen.setdefault(id(resource), resource)
    return list(seen.values())
