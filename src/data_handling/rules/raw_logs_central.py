"""CKV_DH_303 — What stays in the tenant's region: "What does not flow centrally: customer emails, names,
addresses, order line items, payment tokens, IP addresses."

Raw logs that carry identifiers (model.raw_logs: VPC flow logs, load balancer and CloudFront access logs, S3
server access logs, CloudTrail, WAF, Route 53 resolver query logs, log-group subscription filters, OAM links
sharing log groups or traces, API Gateway access logs with identity variables) do not reach a central
destination. A log group de-identified at source by a data protection policy that masks the identifiers it
holds may flow; an audit-only policy does not count. A destination that cannot be told central or not fails.
"""

from __future__ import annotations

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.raw_logs import protection, raw_flow_of
from data_handling.model.records import Resource
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    flow = raw_flow_of(resource, infra, policy)
    if flow is None:
        return None
    reached = flow.central or flow.unresolved
    if not reached or (flow.identifiers is None and not flow.also):
        return PASS
    guard = protection(flow, infra)
    if guard.protected and not flow.also:
        return PASS
    found = f"{resource.address} sends {flow.what}, which carry {flow.identifiers}, to " + \
        " and ".join(d.describe() for d in reached)
    found += "".join(f"; it also shares {also}" for also in flow.also)
    found += "".join(f"; {text}" for text in (guard.found, *flow.notes) if text)
    return fail(found + ".")
