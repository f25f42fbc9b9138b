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
    )
}
