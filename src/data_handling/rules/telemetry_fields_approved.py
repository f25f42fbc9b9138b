"""CKV_DH_302 — What stays in the tenant's region: "What does not flow centrally: customer emails, names,
addresses, order line items, payment tokens, IP addresses."

Every field a central sink lists (model.telemetry_sinks) is on telemetry.approved_fields. A field matching a
telemetry.forbidden_fields pattern fails with that pattern's reason; an access log field fails for what its
`$context` variables carry, whatever its key is called; other unlisted fields fail as not approved. A sink
that lists no fields is CKV_DH_301's finding and is not reported here.
"""

from __future__ import annotations

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.telemetry import judge_field
from data_handling.model.telemetry_sinks import SinkField, sink_of
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    sink = sink_of(resource, infra, policy)
    if sink is None or not (sink.central or sink.unresolved) or sink.fields is None:
        return None
    refused = []
    for field in sink.fields:
        judgement = judge_field(field.name, policy, carries=tuple(c.field for c in field.carried),
                                forbidden=tuple(c.forbidden for c in field.carried if c.forbidden),
                                selects=field.selects)
        if not judgement.allowed:
            refused.append(f"{describe(field)}: {judgement.reason}")
    if not refused:
        return PASS
    return fail(f"{sink.where_to()}; fields not allowed centrally: " + "; ".join(dict.fromkeys(refused)) + ".")


def describe(field: SinkField) -> str:
    if field.carried:
        carried = ", ".join(f"{c.variable} ({c.meaning})" for c in field.carried)
        return f'"{field.name}" ({field.where}, carries {carried})'
    if field.template:
        return f'"{field.name}" ({field.where}, from {field.template})'
    return f'"{field.name}" ({field.where})'
