"""Running a rule on model resources, with the policy map's waivers and the finding's details: the part of a
check that does not depend on the engine that hands it the resource.

The checkov adapter (checkov_adapter/base.py) and the live audit (audit.py) both judge through this module, so a
finding reads the same, is waived the same way and fails closed the same way whichever source the model was
built from. Nothing here knows that source.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.schema import PolicyMap
from data_handling.rules.applicability import applicable_types, applies_to
from data_handling.rules.outcome import Outcome
from data_handling.rules.waivers import match_waiver, today_utc

Rule = Callable[[Resource, Infrastructure, PolicyMap], "Outcome | None"]

PASSED, FAILED, SKIPPED = "PASSED", "FAILED", "SKIPPED"


@dataclass(frozen=True)
class Evaluation:
    """What one check says about one resource."""

    check_id: str
    resource: Resource
    result: str  # PASSED, FAILED or SKIPPED (a waiver)
    details: tuple[str, ...]  # a failure: "Found: ...", "Policy: ...", "Fix: ..."; a pass may carry a "Note: ..."
    severity: str  # the policy map's severity for the check
    skip_reason: str | None = None  # the waiver, for a skip


def judge(check_id: str, resource: Resource, outcome: Outcome | None, policy: PolicyMap,
          today: dt.date | None = None) -> Evaluation | None:
    """The rule's outcome as a result: None when the rule does not apply (not reported); a failure gets its
    details and, where an unexpired waiver matches the resource, becomes a skip."""
    if outcome is None:
        return None
    severity = policy.severity_of(check_id)
    if outcome.passed:
        # a pass with a caveat (say, rotation of an external key cannot be verified)
        notes = (f"Note: {outcome.found}",) if outcome.found else ()
        return Evaluation(check_id, resource, PASSED, notes, severity)
    details = [f"Found: {outcome.found}", *_policy_and_fix(check_id)]
    waiver = match_waiver(policy, check_id, resource.address, today or today_utc())
    if waiver.active:
        reason = f"Waived by the policy map until {waiver.active.expires.isoformat()}: {waiver.active.reason}"
        return Evaluation(check_id, resource, SKIPPED, tuple(details), severity, reason)
    if waiver.expired:
        details.append(f"Waiver for {waiver.expired.resource} expired on {waiver.expired.expires.isoformat()} "
                       f"({waiver.expired.reason}); renew it in the policy map or fix the finding.")
    return Evaluation(check_id, resource, FAILED, tuple(details), severity)


@functools.cache
def _policy_and_fix(check_id: str) -> tuple[str, str]:
    """The clause and fix lines of a check's failures: the same text for each, held once (a scan can report
    thousands of failures, and checkov keeps every detail until it prints)."""
    spec = CATALOGUE[check_id]
    return f"Policy: {spec.clause.cite()}", f"Fix: {spec.fix}"


def policy_map_error_details(error: object) -> tuple[str, ...]:
    return (f"The policy map cannot be used: {error}",
            "Fix: correct the policy map; data-handling checks fail closed until it is valid.")


def internal_error_message(check_id: str, address: str, error: BaseException) -> str:
    return f"{check_id} raised while evaluating {address}: {type(error).__name__}: {error}"


def internal_error_details(message: str) -> tuple[str, ...]:
    return (f"Internal error: {message}", "The check fails closed; report this with the resource's configuration.")


def worst(results: list[tuple[Resource, Outcome | None]]) -> tuple[Resource, Outcome | None]:
    """One result for a configuration that stands for several instances: a failure wins, then a pass."""
    for resource, outcome in results:
        if outcome is not None and not outcome.passed:
            return resource, outcome
    for resource, outcome in results:
        if outcome is not None:
            return resource, outcome
    return results[0]


def evaluate_model(infra: Infrastructure, policy: PolicyMap, rules: dict[str, Rule],
                   errors: list[str] | None = None, today: dt.date | None = None) -> Iterator[Evaluation]:
    """Every enabled check of `rules` on every resource of the model its rule can judge, in model order.

    A rule that raises is a failure naming the error (and the message is appended to `errors`): it never
    drops the finding."""
    for check_id, rule in rules.items():
        if not policy.is_enabled(check_id):
            continue
        declared = applicable_types(check_id, policy)
        for resource in _of_types(infra.resources, declared):
            try:
                outcome = rule(resource, infra, policy)
            except Exception as error:  # fail closed
                message = internal_error_message(check_id, resource.address, error)
                if errors is not None:
                    errors.append(message)
                yield Evaluation(check_id, resource, FAILED, internal_error_details(message),
                                 policy.severity_of(check_id))
                continue
            evaluation = judge(check_id, resource, outcome, policy, today)
            if evaluation is not None:
                yield evaluation


def _of_types(resources: Iterable[Resource], declared: tuple[str, ...]) -> Iterator[Resource]:
    for resource in resources:
        if applies_to(declared, resource.type):
            yield resource
