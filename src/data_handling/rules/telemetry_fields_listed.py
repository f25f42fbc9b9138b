"""CKV_DH_301 — What stays in the tenant's region: "Telemetry that flows centrally is de-identified at source and
listed explicitly".

A sink that ships telemetry to a central destination (model.telemetry_sinks: Glue tables of central databases,
Firehose streams, metric filters, EventBridge targets, API Gateway access logs, OAM links) lists the fields it
ships: a schema, dimensions, an input transformer, an access log format, or the field-declaration tag. A sink
that ships whole records fails; so does one whose field list cannot be read. A sink whose destination cannot be
told central or not must list its fields too.
"""

from __future__ import annotations

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.telemetry_sinks import sink_of
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    sink = sink_of(resource, infra, policy)
    if sink is None or not (sink.central or sink.unresolved):
        return None
    if sink.fields is not None:
        return PASS
    if sink.unreadable:
        return fail(f"{sink.where_to()}, but its field list cannot be read: {sink.unreadable}.")
    return fail(f"{sink.where_to()}, and it {sink.whole}.")
