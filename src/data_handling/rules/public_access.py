"""CKV_DH_103 — Classification table, Confidential access: "Role-gated, audited".

No Confidential or Restricted store is readable by everyone. The resource that creates the exposure is judged:

- S3: a public canned ACL or a grant to the AllUsers / AuthenticatedUsers groups (the bucket's `acl` / `grant`,
  aws_s3_bucket_acl); a bucket policy (the bucket's `policy`, aws_s3_bucket_policy) with an Allow to a wildcard
  principal and no restricting condition; an aws_s3_bucket_public_access_block that turns any of its four
  settings off, or a bucket with none at all — unless an aws_s3_account_public_access_block with all four on
  covers the bucket's account (AWS applies the stricter of the two);
- databases: publicly_accessible = true on an RDS instance, an Aurora / DocumentDB / Neptune cluster instance, a
  Redshift cluster (unset counts where the configuration admits AWS provider versions before 6.0, which default
  it to true: no lock file pins 6.x and no required_providers constraint excludes 5.x) or a Redshift Serverless
  workgroup;
- OpenSearch / Elasticsearch: a domain outside a VPC whose access policy (`access_policies`, or an
  aws_opensearch_domain_policy / aws_elasticsearch_domain_policy) has an open statement;
- snapshots and images shared with `all`: aws_db_snapshot / aws_db_cluster_snapshot `shared_accounts`,
  aws_snapshot_create_volume_permission, aws_ami_launch_permission `group = "all"`;
- resource policies of SQS, SNS, Secrets Manager, KMS, DynamoDB, ECR and Glue (model/resource_policies.py).

A statement is open when it allows (a Deny never exposes) to a wildcard principal ("*", {"AWS": "*"}, or a
NotPrincipal) and none of its conditions pins the caller to concrete values (model/iam_policy.py,
`restricting_conditions`): `aws:SecureTransport` alone narrows nobody.

Classification-aware: the class is that of the exposed store (the snapshot's source, the cluster of an instance,
the stores a KMS key encrypts), the most sensitive declared, else classification.default. A Public or Internal
store may be public (pass). An exposure fails when the data is Confidential or above, or when its class cannot be
determined; content that cannot be read (a policy built from a variable without a value, a setting known only
after apply) fails too, saying what could not be verified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from data_handling.model.blocks import blocks, string_list
from data_handling.model.classification import SENSITIVITY, classify
from data_handling.model.iam_policy import PolicyDocument, Statement, restricting_conditions
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.kms_keys import KEY_TYPES, keys_of
from data_handling.model.records import Resource
from data_handling.model.resource_policies import ATTACHMENTS, POLICY_HOLDER_TYPES, attached_policy, targets_of
from data_handling.model.values import Known, Resolution, Unknown, as_text, is_unrendered, unwrap
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail

PUBLIC_ACLS = ("public-read", "public-read-write", "authenticated-read")
PUBLIC_GROUPS = ("http://acs.amazonaws.com/groups/global/AllUsers",
                 "http://acs.amazonaws.com/groups/global/AuthenticatedUsers")
BLOCK_SETTINGS = ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
ACCOUNT_BLOCK = "aws_s3_account_public_access_block"
BUCKET_BLOCK = "aws_s3_bucket_public_access_block"


@dataclass
class Exposure:
    """What a resource makes readable by everyone, and whose data that is."""

    subjects: list[Resource]  # whose class decides: the exposed stores (and what they were made from)
    findings: list[str] = field(default_factory=list)  # what makes the data readable by everyone
    unknown: list[str] = field(default_factory=list)  # what could not be verified (could be an exposure)
    exposed: str = ""  # the stores, as a finding names them ("" = the resource itself)


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    judge = BY_TYPE.get(resource.type)
    if judge is None:
        return None
    exposure = judge(resource, infra, policy)
    if exposure is None:
        return None  # an attaching resource with nothing attached (its policy argument is not set)
    if not exposure.findings and not exposure.unknown:
        return PASS
    sensitive, unknown_class = judge_class(exposure.subjects, infra, policy)
    if not sensitive and not unknown_class:
        return PASS  # Public or Internal data may be readable by everyone
    exposed = exposure.exposed or resource.address
    holds = f"{exposed}, which holds {sensitive} data," if sensitive else exposed
    itself = exposed == resource.address or exposed.startswith(f"{resource.address} (")
    unclassified = "" if sensitive else \
        f" The class of the data cannot be determined, so it cannot pass: {'; '.join(unknown_class)}."
    if exposure.findings:
        what = f"{holds} is" if itself else f"{resource.address} makes {holds}"
        besides = f" Besides, {'; '.join(exposure.unknown)}." if exposure.unknown else ""
        return fail(f"{what} readable by everyone: {'; '.join(exposure.findings)}.{besides}{unclassified}")
    what = f"{holds} may be" if itself else f"{resource.address} may make {holds}"
    advice = resource.how_to_know("write the value so Terraform knows it before apply (a literal, a variable with "
                                  "a value, jsonencode or an aws_iam_policy_document), or scan the plan")
    return fail(f"{what} readable by everyone, which cannot be verified: {'; '.join(exposure.unknown)}."
                f"{unclassified} {advice[0].upper()}{advice[1:]}.")


# --- the class of the exposed data ---------------------------------------------------------------------------


def judge_class(subjects: list[Resource], infra: Infrastructure, policy: PolicyMap) -> tuple[str, list[str]]:
    """('confidential (where declared)', []) when the data is known to be at least Confidential; ('', reasons)
    when it cannot be determined; ('', []) when it is known to be Internal or Public. Subjects that declare
    nothing take classification.default only when no subject declares a class."""
    candidates: list[tuple[str, str]] = []
    unknown: list[str] = []
    for subject in dict.fromkeys(subjects):
        classification = classify(subject, infra, policy)
        if classification.deciding:
            source = classification.deciding.source
            candidates.append((classification.deciding.data_class,
                               source if subject.address in source else f"{source}, for {subject.address}"))
        if classification.problems:
            unknown.append(f"{subject.address}: {'; '.join(classification.problems)}")
    if candidates:
        data_class, where = max(candidates, key=lambda candidate: SENSITIVITY[candidate[0]])
        if SENSITIVITY[data_class] >= SENSITIVITY["confidential"]:
            return f"{data_class} ({where})", []
        return "", unknown
    default = policy.classification.default
    if unknown:
        return "", unknown
    if default:
        if SENSITIVITY[default] >= SENSITIVITY["confidential"]:
            return f"{default} (classification.default of the policy map)", []
        return "", []
    names = ", ".join(subject.address for subject in dict.fromkeys(subjects))
    return "", [f"nothing declares a class for {names} (a classification tag, the provider's default_tags or a "
                "classification rule) and the policy map sets no classification.default"]


def _exposed(stores: list[Resource], unresolved: str, holder: Resource) -> tuple[list[Resource], str]:
    """The subjects whose class decides and how a finding names them: the stores found, else the holder itself
    (its default_tags, a classification rule matching its address, the default)."""
    if stores:
        return stores, ", ".join(store.address for store in stores)
    return [holder], f"the store it applies to ({unresolved})"


# --- resource policies ---------------------------------------------------------------------------------------


def open_statements(document: PolicyDocument) -> tuple[list[str], list[str]]:
    """Findings for the statements that let everyone in, and what keeps the others from being verified."""
    findings: list[str] = []
    unknown = list(document.problems)
    for statement in document.statements:
        if is_unrendered(statement.effect):
            unknown.append(f'{statement.where} has effect "{statement.effect}", which could not be evaluated')
            continue
        if not statement.allows or not statement.wildcard_principal:
            continue
        restricting, problems = restricting_conditions(statement)
        if restricting:
            continue
        if problems:
            unknown += problems
            continue
        findings.append(_open_statement(statement))
    return findings, unknown


def _open_statement(statement: Statement) -> str:
    who = f"everyone but {[str(p) for p in statement.principals]} (NotPrincipal)" if statement.not_principals \
        else "the wildcard principal *"
    actions = ", ".join(statement.actions) or "no action"
    actions = f"everything but {actions} (NotAction)" if statement.not_actions else actions
    conditions = (f" (its conditions {', '.join(str(c) for c in statement.conditions)} restrict no caller)"
                  if statement.conditions else " with no condition")
    return f"{statement.where} allows {actions} to {who}{conditions}"


def _policy_holder(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure | None:
    """A store's inline resource policy, or a resource that attaches one (aws_sqs_queue_policy, ...)."""
    attached = attached_policy(resource, infra)
    if attached is None:
        return None if resource.type in ATTACHMENTS else Exposure([resource])
    findings, unknown = open_statements(attached.document)
    stores, exposed = _exposed(list(attached.stores), attached.unresolved, resource)
    subjects = [subject for store in stores for subject in _with_sources(store, infra, policy)]
    if resource.type in KEY_TYPES and len(subjects) > 1:
        exposed = f"{resource.address} (the key of {', '.join(s.address for s in subjects[1:])})"
    return Exposure(subjects, findings, unknown, exposed)


def _with_sources(store: Resource, infra: Infrastructure, policy: PolicyMap) -> list[Resource]:
    """A KMS key's class is also that of the stores it encrypts."""
    if store.type in KEY_TYPES:
        return [store, *(user for user, _ in _key_users(infra, policy).get(id(store), []))]
    return [store]


def _key_users(infra: Infrastructure, policy: PolicyMap) -> dict[int, list[tuple[Resource, str]]]:
    """id(key) -> the stores encrypted with it, computed once per model and policy map."""
    return infra.of_model("stores of each key", policy, lambda: keys_of(
        [r for r in infra.resources if r.type in policy.classification.store_types], infra))


# --- S3 ------------------------------------------------------------------------------------------------------


def _bucket(bucket: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
    exposure = _policy_holder(bucket, infra, policy) or Exposure([bucket])
    exposure.exposed = bucket.address
    _acl(bucket, bucket.get("acl"), exposure)
    grants, problems = blocks(bucket.config, "grant")
    exposure.unknown += [f"{bucket.address}: {problem}" for problem in problems]
    for number, grant in enumerate(grants, start=1):
        _grantee(f"grant {number} of {bucket.describe()}", grant.get("type"), grant.get("uri"),
                 grant.get("permissions"), exposure)
    blocks_of_bucket = [source for label, source in infra.referrers(bucket)
                        if source.type == BUCKET_BLOCK and label.split(".")[0] == "bucket"]
    name = as_text(bucket.get("bucket"))
    blocks_of_bucket += [block for block in infra.named(bucket, (BUCKET_BLOCK,), "bucket", name)
                         if as_text(block.get("bucket")) == name and block not in blocks_of_bucket]
    if not blocks_of_bucket:  # a block of its own is judged on that resource
        covered, why = account_block_covers(bucket, infra)
        if not covered:
            missing = f"{bucket.describe()} has no aws_s3_bucket_public_access_block"
            if why:
                exposure.unknown.append(f"{missing}, and {why}")
            else:
                # AWS turns Block Public Access on for buckets created since April 2023, but the configuration
                # does not say so: an older or imported bucket, or a console change, can have it off.
                exposure.findings.append(f"{missing} and no aws_s3_account_public_access_block with all four "
                                         "settings on covers its account, so nothing in the configuration keeps "
                                         "public ACLs and policies from taking effect (AWS's default for new "
                                         "buckets is not a control the configuration states)")
    return exposure


def _bucket_acl(acl: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
    buckets, unresolved = targets_of(acl, infra, "bucket", ("aws_s3_bucket",), "bucket")
    subjects, exposed = _exposed(buckets, unresolved, acl)
    exposure = Exposure(subjects, exposed=exposed)
    _acl(acl, acl.get("acl"), exposure)
    for control in blocks(acl.config, "access_control_policy")[0]:
        grants, problems = blocks(control, "grant")
        exposure.unknown += [f"{acl.address}: {problem}" for problem in problems]
        for number, grant in enumerate(grants, start=1):
            for grantee in blocks(grant, "grantee")[0]:
                _grantee(f"access_control_policy grant {number} of {acl.describe()}", grantee.get("type"),
                         grantee.get("uri"), grant.get("permission"), exposure)
    exposure.unknown += [f"{acl.address}: {p}" for p in blocks(acl.config, "access_control_policy")[1]]
    return exposure


def _acl(resource: Resource, value: Any, exposure: Exposure) -> None:
    text = as_text(value)
    if text is None:
        return
    if is_unrendered(text):
        exposure.unknown.append(f'acl of {resource.describe()} is "{text}", which could not be evaluated')
    elif text.strip().lower() in PUBLIC_ACLS:
        exposure.findings.append(f'{resource.describe()} sets the canned ACL "{text.strip()}"')


def _grantee(where: str, kind: Any, uri: Any, permissions: Any, exposure: Exposure) -> None:
    uri_text = as_text(uri) or ""
    if as_text(kind) != "Group" and not uri_text:
        return
    if is_unrendered(uri_text):
        exposure.unknown.append(f'{where} grants to the group "{uri_text}", which could not be evaluated')
    elif uri_text.strip() in PUBLIC_GROUPS:
        granted = ", ".join(str(p) for p in string_list(permissions)) or "access"
        exposure.findings.append(f"{where} grants {granted} to {uri_text.strip().rsplit('/', 1)[-1]}")


def _public_access_block(block: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
    buckets, unresolved = targets_of(block, infra, "bucket", ("aws_s3_bucket",), "bucket")
    subjects, exposed = _exposed(buckets, unresolved, block)
    exposure = Exposure(subjects, exposed=exposed)
    off, unknown = [], []
    for setting in BLOCK_SETTINGS:
        value = unwrap(block.config.get(setting))
        if value is True or (isinstance(value, str) and value.strip().lower() == "true"):
            continue
        if isinstance(value, str) and is_unrendered(value):
            unknown.append(f'{setting} = "{value}"')
        else:
            off.append(setting if value is not None else f"{setting} (not set, which means false)")
    if not off and not unknown:
        return exposure
    covered, why = account_block_covers(buckets[0] if buckets else block, infra)
    if covered:
        return exposure  # the account-wide block applies on top: AWS enforces the stricter setting
    account = f"; {why}" if why else ""
    if off:
        exposure.findings.append(f"{block.describe()} turns off {', '.join(off)}{account}")
    if unknown:
        exposure.unknown.append(f"{block.describe()} has {', '.join(unknown)}, which could not be evaluated"
                                f"{account}")
    return exposure


def account_block_covers(subject: Resource, infra: Infrastructure) -> tuple[bool, str]:
    """Whether an aws_s3_account_public_access_block with all four settings on applies to the account of
    `subject`: the same provider configuration, or the same known account (its `account_id`, else its provider's
    account) — in any scanned root, since account baselines often live in a stack of their own. Else why that
    cannot be told ("" when no such block could apply)."""
    reasons = []
    theirs = infra.account_of(subject)
    for account_block in infra.of_type(ACCOUNT_BLOCK):
        if not all(unwrap(account_block.config.get(s)) is True for s in BLOCK_SETTINGS):
            continue
        same_root = account_block.root_dir == subject.root_dir
        written = as_text(account_block.get("account_id"))
        if written and not is_unrendered(written):
            mine: Resolution[frozenset[str]] = Known(frozenset({written.strip().zfill(12)}), "account_id")
        else:
            ours, their_provider = infra.provider_of(account_block), infra.provider_of(subject)
            if not written and same_root and isinstance(ours, Known) and isinstance(their_provider, Known) \
                    and ours.value is their_provider.value:
                return True, ""  # one provider configuration: one account
            mine = infra.account_of(account_block) if not written else Unknown(f'account_id is "{written}"')
        if isinstance(mine, Known) and isinstance(theirs, Known):
            if mine.value & theirs.value:
                return True, ""
            continue  # another account's block
        reasons.append(f"{account_block.describe()} cannot be shown to cover the account of {subject.address} "
                       "(a different provider configuration, and the two accounts are not both known)")
    return False, "; ".join(reasons)


# --- databases -----------------------------------------------------------------------------------------------

# Instance type -> (the argument naming its cluster, the cluster types); "" for a store of its own.
PUBLIC_ENDPOINTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws_db_instance": ("", ()),
    "aws_redshift_cluster": ("", ()),
    "aws_rds_cluster_instance": ("cluster_identifier", ("aws_rds_cluster",)),
    "aws_docdb_cluster_instance": ("cluster_identifier", ("aws_docdb_cluster",)),
    "aws_neptune_cluster_instance": ("cluster_identifier", ("aws_neptune_cluster",)),
    "aws_redshiftserverless_workgroup": ("namespace_name", ("aws_redshiftserverless_namespace",)),
}
# The provider's default for publicly_accessible when it is not set (before AWS provider 6.0 for Redshift).
PUBLIC_BY_DEFAULT = ("aws_redshift_cluster",)


def _publicly_accessible(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
    reference, cluster_types = PUBLIC_ENDPOINTS[resource.type]
    if reference:
        clusters, unresolved = targets_of(resource, infra, reference, cluster_types)
        subjects, exposed = _exposed(clusters, unresolved, resource)
        subjects = [resource, *subjects] if clusters else subjects
    else:
        subjects, exposed = [resource], resource.address
    exposure = Exposure(subjects, exposed=exposed)
    value = unwrap(resource.config.get("publicly_accessible"))
    versions = infra.aws_provider_versions(resource)
    if value is None and resource.type in PUBLIC_BY_DEFAULT and not versions.always_at_least(6):
        exposure.findings.append(f"{resource.describe()} does not set publicly_accessible, which AWS provider "
                                 f"versions before 6.0 default to true, and {versions.describe()}")
    elif value is True or (isinstance(value, str) and value.strip().lower() == "true"):
        exposure.findings.append(f"{resource.describe()} sets publicly_accessible = true")
    elif isinstance(value, str) and is_unrendered(value):
        exposure.unknown.append(f'publicly_accessible of {resource.describe()} is "{value}", which could not be '
                                "evaluated")
    return exposure


# --- OpenSearch / Elasticsearch ------------------------------------------------------------------------------

DOMAIN_TYPES = ("aws_opensearch_domain", "aws_elasticsearch_domain")


def _domain(domain: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
    exposure = _policy_holder(domain, infra, policy) or Exposure([domain])
    exposure.exposed = domain.address
    return _outside_vpc_only(domain, exposure)


def _domain_policy(holder: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure | None:
    exposure = _policy_holder(holder, infra, policy)
    if exposure is None or not (exposure.findings or exposure.unknown):
        return exposure
    domains = [subject for subject in exposure.subjects if subject.type in DOMAIN_TYPES]
    if not domains:  # an open policy on a domain outside the configuration: it may sit in a VPC
        exposure.unknown = [*exposure.findings, *exposure.unknown,
                            f"whether the domain of {holder.describe()} sits in a VPC cannot be told"]
        exposure.findings = []
        return exposure
    for domain in domains:
        _outside_vpc_only(domain, exposure)
    return exposure


def _outside_vpc_only(domain: Resource, exposure: Exposure) -> Exposure:
    """An open access policy exposes a domain only when its endpoint is public (no vpc_options subnets)."""
    if not (exposure.findings or exposure.unknown):
        return exposure
    found, problems = blocks(domain.config, "vpc_options")
    subnets = [subnet for block in found for subnet in string_list(block.get("subnet_ids")) if subnet]
    if subnets and not problems:
        exposure.findings, exposure.unknown = [], []  # in a VPC: reachable only from the network
    elif problems:
        exposure.unknown += [f"{domain.address}: {problem}" for problem in problems]
    else:
        exposure.findings = [f"{finding}, and {domain.address} has a public endpoint (no vpc_options)"
                             for finding in exposure.findings]
    return exposure


# --- snapshots and images shared with all --------------------------------------------------------------------

# Where a snapshot or image says what it was made from (edge labels): its class is at least theirs.
_SOURCE_LABELS = ("db_instance_identifier", "db_cluster_identifier", "volume_id", "snapshot_id", "image_id",
                  "source_ami_id", "source_instance_id", "ebs_block_device.snapshot_id",
                  "source_db_snapshot_identifier", "source_snapshot_id")
_MAX_DEPTH = 4


def _made_from(resource: Resource, depth: int = 0) -> list[Resource]:
    found = [resource]
    if depth >= _MAX_DEPTH:
        return found
    for label, target in resource.references:
        if target.mode == "resource" and (label in _SOURCE_LABELS or label.split(".")[0] in _SOURCE_LABELS) \
                and target is not resource:
            found += _made_from(target, depth + 1)
    return found


def _snapshot_of(resource: Resource) -> str:
    sources = [source.address for source in _made_from(resource)[1:]]
    return f"{resource.address} (made from {', '.join(sources)})" if sources else resource.address


def _db_snapshot(snapshot: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
    exposure = Exposure(_made_from(snapshot), exposed=_snapshot_of(snapshot))
    shared = [as_text(account) or "" for account in string_list(snapshot.get("shared_accounts"))]
    if any(account.strip().lower() == "all" for account in shared):
        exposure.findings.append(f'{snapshot.describe()} is shared with "all" (shared_accounts)')
    exposure.unknown += [f'shared_accounts of {snapshot.describe()} holds "{account}", which could not be evaluated'
                         for account in shared if is_unrendered(account)]
    return exposure


def _shared_with_all(attribute: str, target_attribute: str) -> Callable[[Resource, Infrastructure, PolicyMap],
                                                                        Exposure]:
    """A permission resource (aws_ami_launch_permission group, aws_snapshot_create_volume_permission account_id)
    that shares the image or snapshot it names with everyone."""

    def judge(permission: Resource, infra: Infrastructure, policy: PolicyMap) -> Exposure:
        shared = [target for label, target in permission.references
                  if label == target_attribute and target.mode == "resource"]
        subjects = [subject for target in shared for subject in _made_from(target)] or [permission]
        exposed = ", ".join(_snapshot_of(target) for target in shared) or \
            f"{permission.address} (the {target_attribute} it shares is not in the configuration)"
        exposure = Exposure(subjects, exposed=exposed)
        value = as_text(permission.get(attribute))
        if value and is_unrendered(value):
            exposure.unknown.append(f'{attribute} of {permission.describe()} is "{value}", which could not be '
                                    "evaluated")
        elif value and value.strip().lower() == "all":
            exposure.findings.append(f'{permission.describe()} shares it with {attribute} = "all"')
        return exposure

    return judge


BY_TYPE: dict[str, Callable[[Resource, Infrastructure, PolicyMap], Exposure | None]] = {
    **{holder: _policy_holder for holder in POLICY_HOLDER_TYPES},  # SQS, SNS, Secrets Manager, KMS, DynamoDB, ...
    "aws_s3_bucket": _bucket,
    "aws_s3_bucket_acl": _bucket_acl,
    BUCKET_BLOCK: _public_access_block,
    **{domain_type: _domain for domain_type in DOMAIN_TYPES},
    "aws_opensearch_domain_policy": _domain_policy,
    "aws_elasticsearch_domain_policy": _domain_policy,
    **{endpoint: _publicly_accessible for endpoint in PUBLIC_ENDPOINTS},
    "aws_db_snapshot": _db_snapshot,
    "aws_db_cluster_snapshot": _db_snapshot,
    "aws_db_snapshot_copy": _db_snapshot,
    "aws_ami_launch_permission": _shared_with_all("group", "image_id"),
    "aws_snapshot_create_volume_permission": _shared_with_all("account_id", "snapshot_id"),
}
