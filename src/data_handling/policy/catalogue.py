"""The packaged catalogue: every data-handling check, its severity and the policy clause it enforces.

The policy map's `checks:` section may override a severity or disable a check; it cannot change what a
check enforces. IDs are stable (users pin them in pipelines, skip comments and waivers).
"""

from __future__ import annotations

from dataclasses import dataclass

POLICY_DOCUMENT = "policy/data-handling.md"
DOCS_BASE_URL = "https://github.com/data-handling-checks/data-handling-checks/blob/main"

SEVERITIES = ("LOW", "MEDIUM", "HIGH", "CRITICAL")


@dataclass(frozen=True)
class Clause:
    """A sentence of the policy document and the section it stands in."""

    section: str
    quote: str
    anchor: str  # heading anchor in the policy document

    @property
    def url(self) -> str:
        return f"{DOCS_BASE_URL}/{POLICY_DOCUMENT}#{self.anchor}"

    def cite(self) -> str:
        return f'Data handling policy, "{self.section}": "{self.quote}"'


@dataclass(frozen=True)
class CheckSpec:
    id: str
    name: str
    severity: str
    clause: Clause
    fix: str

    @property
    def guideline(self) -> str:
        return f"{DOCS_BASE_URL}/docs/checks/{self.id}.md"


CLASSIFICATION = Clause(
    section="Classification",
    quote="Every piece of data we handle falls into one of four buckets",
    anchor="classification",
)
HOME_REGION = Clause(
    section="What stays in the tenant's region",
    quote="A tenant's `Confidential` data does not leave its home region.",
    anchor="what-stays-in-the-tenants-region",
)

NO_CROSS_REGION_REPLICA = Clause(
    section="What stays in the tenant's region",
    quote="There is no cross-region read replica of customer PII.",
    anchor="what-stays-in-the-tenants-region",
)
RESTRICTED_STORAGE = Clause(
    section="Classification (Restricted: storage)",
    quote="Vault, KMS-encrypted",
    anchor="classification",
)
NO_CARD_NUMBERS = Clause(
    section="What we never do",
    quote="Store full card numbers (PAN). Stripe holds the cards; we hold a tokenised handle.",
    anchor="what-we-never-do",
)
ROLE_GATED = Clause(
    section="Classification (Confidential: access)",
    quote="Role-gated, audited",
    anchor="classification",
)
TWO_PERSON_RULE = Clause(
    section="Classification (Restricted: access)",
    quote="Two-person rule, logged",
    anchor="classification",
)
ACCESS_AUDITED = Clause(
    section="Classification (Confidential: access)",
    quote="Role-gated, audited",
    anchor="classification",
)
NO_THIRD_PARTIES = Clause(
    section="What we never do",
    quote="Sell, lease, share, or otherwise transmit customer data to third parties for marketing.",
    anchor="what-we-never-do",
)
TELEMETRY_LISTED = Clause(
    section="What stays in the tenant's region",
    quote="Telemetry that flows centrally is de-identified at source and listed explicitly",
    anchor="what-stays-in-the-tenants-region",
)
NO_MODEL_TRAINING = Clause(
    section="What we never do",
    quote="Train models on identifiable customer data. (Aggregate, anonymised telemetry is fair game for internal "
    "product analytics.)",
    anchor="what-we-never-do",
)
NOT_CENTRAL = Clause(
    section="What stays in the tenant's region",
    quote="What does not flow centrally: customer emails, names, addresses, order line items, payment tokens, "
    "IP addresses.",
    anchor="what-stays-in-the-tenants-region",
)

CATALOGUE: dict[str, CheckSpec] = {
    spec.id: spec
    for spec in (
        CheckSpec(
            id="CKV_DH_100",
            name="Every data store resolves to exactly one valid data class",
            severity="MEDIUM",
            clause=CLASSIFICATION,
            fix="Tag the store with one of public, internal, confidential, restricted (under a key in "
            "classification.tag_keys), set it in the provider's default_tags, or add a classification.rules "
            "entry for its address in the policy map.",
        ),
        CheckSpec(
            id="CKV_DH_101",
            name="A Confidential data store sits in its tenant's home region",
            severity="HIGH",
            clause=HOME_REGION,
            fix="Create the store through the provider of the tenant's home region (or set its region "
            "argument to it); if the tenant tag is wrong, correct it to a tenant listed in residency.tenants.",
        ),
        CheckSpec(
            id="CKV_DH_102",
            name="No replica, copy or replication of Confidential data into another region",
            severity="HIGH",
            clause=NO_CROSS_REGION_REPLICA,
            fix="Replicate or copy Confidential data only within the source's region (same-region replication, "
            "a destination created through the home-region provider); keep disaster-recovery copies in-region.",
        ),
        CheckSpec(
            id="CKV_DH_103",
            name="No Confidential data store is readable by everyone",
            severity="HIGH",
            clause=ROLE_GATED,
            fix="Grant access to named roles or accounts only: no public canned ACL or AllUsers/AuthenticatedUsers "
            "grant, no Allow to Principal \"*\" without a condition on aws:SourceVpce, aws:PrincipalOrgID, "
            "aws:SourceAccount (or another caller key) with concrete values, an S3 public access block with all "
            "four settings on, publicly_accessible = false, no snapshot or image shared with \"all\".",
        ),
        CheckSpec(
            id="CKV_DH_104",
            name="Data access to a Confidential or Restricted store is logged",
            severity="MEDIUM",
            clause=ACCESS_AUDITED,
            fix="Log data access by the store's mechanism: S3 server access logging (aws_s3_bucket_logging) or "
            "CloudTrail data events selecting the bucket or table, the database's audit log export and audit "
            "parameter, a trail recording management events; or declare audit.organization_trail in the policy "
            "map when an organisation trail outside this repository logs them.",
        ),
        CheckSpec(
            id="CKV_DH_105",
            name="Confidential data is not granted, shared or copied to an account outside the organisation",
            severity="CRITICAL",
            clause=NO_THIRD_PARTIES,
            fix="Grant, share, replicate or copy Confidential data only to accounts of the organisation "
            "(organization.account_ids, or a policy condition aws:PrincipalOrgID = organization.id); if the account "
            "is the organisation's, add it to organization.account_ids in the policy map; where the recipient "
            "cannot be read, write its account ID or ARN so it can be verified.",
        ),
        CheckSpec(
            id="CKV_DH_106",
            name="No model is trained or fine-tuned from a Confidential or Restricted store",
            severity="HIGH",
            clause=NO_MODEL_TRAINING,
            fix="Train only on Internal or Public data (an aggregated, de-identified dataset) or central telemetry: "
            "point the training input at such a store, and declare and classify every store a training job reads "
            '(a bucket outside this configuration: a data "aws_s3_bucket" block and a classification.rules entry).',
        ),
        CheckSpec(
            id="CKV_DH_201",
            name="Restricted data is held only in vault resource types",
            severity="CRITICAL",
            clause=RESTRICTED_STORAGE,
            fix="Move the Restricted data into a vault type listed in vaults.resource_types (by default a Secrets "
            "Manager secret or an SSM SecureString parameter), or correct the classification if it is not "
            "Restricted.",
        ),
        CheckSpec(
            id="CKV_DH_202",
            name="A Restricted vault is encrypted with a rotated, single-region customer-managed KMS key",
            severity="HIGH",
            clause=RESTRICTED_STORAGE,
            fix="Set kms_key_id / key_id to an aws_kms_key with enable_key_rotation = true and multi_region = "
            "false (not an alias/aws/* or AWS-managed key).",
        ),
        CheckSpec(
            id="CKV_DH_203",
            name="No store declares a field for full card numbers or CVV",
            severity="CRITICAL",
            clause=NO_CARD_NUMBERS,
            fix="Do not store PAN or CVV: keep the card processor's token (card_token, payment_method_id) and at "
            "most the last four digits.",
        ),
        CheckSpec(
            id="CKV_DH_204",
            name="A KMS key protecting Restricted data has a two-person key policy",
            severity="HIGH",
            clause=TWO_PERSON_RULE,
            fix="Give the key an explicit key policy with no wildcard principal, and grant key administration and "
            "key use (kms:Decrypt) to different principals in separate statements.",
        ),
        CheckSpec(
            id="CKV_DH_301",
            name="A central telemetry sink lists its fields explicitly",
            severity="MEDIUM",
            clause=TELEMETRY_LISTED,
            fix="Send only an explicit list of fields centrally: a Glue table schema, metric filter dimensions, an "
            "input transformer, a JSON access-log format, or the documented field tag.",
        ),
        CheckSpec(
            id="CKV_DH_302",
            name="Every field of a central telemetry sink is on telemetry.approved_fields",
            severity="HIGH",
            clause=NOT_CENTRAL,
            fix="Remove the field from the central sink, or aggregate/de-identify it at source; only "
            "telemetry.approved_fields may flow centrally.",
        ),
        CheckSpec(
            id="CKV_DH_303",
            name="Raw logs that carry identifiers do not flow to a central destination",
            severity="HIGH",
            clause=NOT_CENTRAL,
            fix="Keep raw logs (flow logs, access logs, CloudTrail, WAF, resolver logs) in the tenant's account "
            "and region, or de-identify them at source with a CloudWatch Logs data protection policy before they "
            "flow centrally.",
        ),
    )
}
