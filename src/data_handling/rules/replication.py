"""CKV_DH_102 — What stays in the tenant's region: "There is no cross-region read replica of customer PII."

No replica, copy or replication of Confidential (or Restricted) data lands in another region than its
source's. The resource that creates the copy is judged (a replication configuration, a table with replicas,
a replica instance, a backup plan, a copy resource); rules/copy_mechanisms.py lists the copies it makes. The
class that matters is the source's: the most sensitive of the copied resources, the copying resource's own
declaration, and any class a tag selection names (a replica destination is usually untagged). A copy of
Confidential data fails when its destination region differs from its source region, or when either region
cannot be determined (the copy cannot be verified). Same-region copies, and copies of internal or public
data, pass.
"""

from __future__ import annotations

from data_handling.model.classification import SENSITIVITY, classify
from data_handling.model.dynamic_blocks import instantiated
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import Known, Unknown
from data_handling.policy.schema import PolicyMap
from data_handling.rules.copy_mechanisms import Copy, copies_made_by
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    copies = copies_made_by(resource, infra, policy)
    if not copies or not instantiated(resource):
        return None  # no copy configured, or `count = 0`: checkov lists the resource, Terraform creates none
    findings: list[str] = []
    unverified = True
    for copy in copies:
        data_class = class_of_copy(copy, resource, infra, policy)
        if data_class is None:
            continue  # internal or public data may be copied anywhere
        problem = _region_problem(copy)
        if problem:
            finding = f"{copy.how} copies {copy.source.what} to {copy.destination.what}: {problem}. The data is " \
                      f"{data_class}."
            if finding not in findings:
                findings.append(finding)
            unverified = unverified and problem.startswith(_UNVERIFIED)
    if not findings:
        return PASS
    summary = "to a region that cannot be verified" if unverified else "out of its region"
    return fail(f"{resource.address} copies Confidential data {summary}. " + " ".join(findings))


def class_of_copy(copy: Copy, resource: Resource, infra: Infrastructure, policy: PolicyMap) -> str | None:
    """'confidential (where it was declared)' when the copied data is at least Confidential, else None."""
    candidates: list[tuple[str, str]] = list(copy.declared)
    for source in dict.fromkeys([*copy.data, resource]):
        classification = classify(source, infra, policy)
        if classification.deciding:
            candidates.append((classification.deciding.data_class, classification.deciding.source))
        elif classification.effective and source.type in policy.classification.store_types:
            candidates.append((classification.effective, f"classification.default for {source.address}"))
    if not candidates:
        return None
    data_class, where = max(candidates, key=lambda candidate: SENSITIVITY[candidate[0]])
    if SENSITIVITY[data_class] < SENSITIVITY["confidential"]:
        return None
    return f"{data_class} ({where})"


_UNVERIFIED = "the copy cannot be verified"


def _region_problem(copy: Copy) -> str | None:
    source, destination = copy.source.region, copy.destination.region
    if isinstance(source, Unknown) or isinstance(destination, Unknown):
        sides = (("source", source), ("destination", destination))
        reasons = [f"the {side} region cannot be determined ({region.reason})"
                   for side, region in sides if isinstance(region, Unknown)]
        return f"{_UNVERIFIED}: " + "; ".join(reasons)
    if source.value == destination.value:
        return None
    return f"the source is in {_where(source)} and the copy lands in {_where(destination)}"


def _where(region: Known[str]) -> str:
    return f"{region.value} (from {region.source})"
