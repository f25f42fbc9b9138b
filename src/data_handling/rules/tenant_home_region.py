"""CKV_DH_101 — What stays in the tenant's region: "A tenant's Confidential data does not leave its home
region."

A Confidential (or Restricted) store sits in the home region of its tenant (residency.tenants); a store
with no tenant tag sits in one of residency.home_regions when that list is set. An unknown tenant, or a
region that cannot be resolved, fails.
"""

from __future__ import annotations

from data_handling.model.classification import classify, tenant_of
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.values import Unknown
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    if resource.type not in policy.classification.store_types:
        return None
    classification = classify(resource, infra, policy)
    if not classification.at_least("confidential"):
        return None
    holds = f"{resource.address} holds {classification.describe()} data"
    residency = policy.residency

    tenant = tenant_of(resource, infra, policy)
    if isinstance(tenant, Unknown):
        return fail(f"{holds}, but its tenant cannot be resolved: {tenant.reason}.")
    if tenant is not None:
        listed = policy.tenant(tenant.value)
        if listed is None:
            known = ", ".join(residency.tenants) or "none"
            return fail(f'{holds} of tenant "{tenant.value}" ({tenant.source}), which residency.tenants does not '
                        f"list (known tenants: {known}), so its home region is unknown.")
        tenant_name, entry = listed
        allowed = [entry.home_region]
        must = f'of tenant "{tenant_name}" ({tenant.source}), whose home region is {entry.home_region}'
    elif residency.home_regions:
        allowed = list(residency.home_regions)
        must = f"with no tenant tag, so it must sit in one of residency.home_regions ({', '.join(allowed)})"
    else:
        return PASS  # no tenant and no home_regions: the contract sets no region for it

    region = infra.region_of(resource)
    if isinstance(region, Unknown):
        return fail(f"{holds} {must}, but its region cannot be determined: {region.reason}.")
    if region.value not in allowed:
        return fail(f"{holds} {must}, but it is created in {region.value} ({region.source}).")
    return PASS
