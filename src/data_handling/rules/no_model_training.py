"""CKV_DH_106 — What we never do: "Train models on identifiable customer data."

A resource that trains or fine-tunes a model (model/training_inputs.py lists them and the arguments that name
their data) reads no Confidential or Restricted store. "(Aggregate, anonymised telemetry is fair game for internal
product analytics.)": a store classified Internal or Public passes, and so does a central telemetry sink
(telemetry.central) that declares no class. A declared class always wins: a central sink classified Confidential
is Confidential.

Nothing unknown passes: a value that could not be evaluated, a store with no class, or a bucket no resource or
data source of the scan declares fails, saying what to declare, unless its name matches
telemetry.central.bucket_name_patterns (central by name) or the policy map sets classification.default (the
class of what the map does not classify, as for CKV_DH_102's copies of stores outside the configuration).
"""

from __future__ import annotations

from data_handling.model.classification import Classification, classify
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.model.telemetry import central_bucket_pattern, own_reasons
from data_handling.model.telemetry_sinks import sink_of
from data_handling.model.training_inputs import Source, trainer_of, training_sources
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail

IDENTIFIABLE = ("confidential", "restricted")


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    trainer = trainer_of(resource)
    sources = training_sources(resource, infra)
    if trainer is None or sources is None:
        return None
    findings: list[str] = []
    doubts: list[str] = []
    for source in sources:
        finding, doubt = _judge(source, infra, policy)
        findings += [finding] if finding else []
        doubts += [doubt] if doubt else []
    subject = f"{resource.describe()}, {trainer.what},"
    if findings:
        besides = f" Besides, {'; '.join(doubts)}." if doubts else ""
        return fail(f"{subject} trains on identifiable customer data: {'; '.join(findings)}.{besides}")
    if doubts:
        return fail(f"{subject} reads training data whose class cannot be verified: {'; '.join(doubts)}.")
    return PASS


def _judge(source: Source, infra: Infrastructure, policy: PolicyMap) -> tuple[str, str]:
    """(finding, doubt) for one value a training resource reads: at most one of them is set."""
    if source.unresolved:
        return "", f"{source.shown}: {source.unresolved}"
    if source.bucket is not None:
        return _undeclared_bucket(source, source.bucket, policy)
    findings, doubts, allowed = [], [], False
    for store in source.stores:
        classification = class_of_store(store, infra, policy)
        effective = classification.effective
        if classification.problems:
            doubts.append(f"the class of {store.describe()} is unknown: {'; '.join(classification.problems)}")
        elif effective in IDENTIFIABLE:
            findings.append(f"{store.describe()}, which is {classification.describe()}")
        elif effective is not None or central_because(store, infra, policy):
            allowed = True
    if findings:
        return f"{', and '.join(findings)}, read through {source.shown}", ""
    if doubts:
        return "", f"{source.shown}: {'; '.join(doubts)}"
    if allowed:
        return "", ""
    stores = ", ".join(store.describe() for store in source.stores)
    return "", (f"{source.shown} reads {stores}, which has no class: tag it under classification.tag_keys or add "
                "a classification.rules entry (central telemetry: telemetry.central)")


def _undeclared_bucket(source: Source, bucket: str, policy: PolicyMap) -> tuple[str, str]:
    if central_bucket_pattern(bucket, policy):
        return "", ""  # a central telemetry bucket: aggregate telemetry by the policy's own definition
    default = policy.classification.default
    if default in IDENTIFIABLE:
        return (f'bucket "{bucket}", which no resource of this scan declares and classification.default makes '
                f"{default}, read through {source.shown}"), ""
    if default is not None:
        return "", ""
    return "", (f'{source.shown} reads bucket "{bucket}", which no resource or data source of this scan declares, '
                "so its class is unknown: create the bucket in this configuration, or declare it with a data "
                '"aws_s3_bucket" block and classify that address through classification.rules')


def class_of_store(store: Resource, infra: Infrastructure, policy: PolicyMap) -> Classification:
    """The store's class by the shared helper; for a data source, without the provider's default_tags, which tag
    what a provider creates, not the existing store it reads."""
    classification = classify(store, infra, policy)
    if store.mode != "data":
        return classification
    kept = tuple(d for d in classification.declarations if " in default_tags of " not in d.source)
    return Classification(kept, classification.problems, classification.default)


def central_because(store: Resource, infra: Infrastructure, policy: PolicyMap) -> str:
    """Why a store is a central telemetry sink (telemetry.central), or ""."""
    if store.type == "aws_glue_catalog_table":
        sink = sink_of(store, infra, policy)
        return sink.central[0].describe() if sink is not None and sink.central else ""
    reasons, _ = own_reasons(store, infra, policy)
    return "; ".join(reasons)
