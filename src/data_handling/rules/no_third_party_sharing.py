"""CKV_DH_105 — What we never do: "Sell, lease, share, or otherwise transmit customer data to third parties".

Confidential or Restricted data is not granted, shared or copied to an account outside the organisation. The
resource that creates the grant, share or copy is judged (a snapshot, a launch or create-volume permission, a RAM
association, a replication configuration, a backup plan, a delivery stream, a subscription filter, an event
target, a KMS grant, a Lake Formation permission); rules/sharing_mechanisms.py lists what each shares and with
whom, model/accounts.py whose account that is. The class that matters is the shared data's, judged as for
CKV_DH_102 (rules/replication.judge_class): the most sensitive of the shared stores and the sharing resource's own
declaration.

A share with an account inside the organisation (organization.account_ids, telemetry.central.account_ids, the
organisation organization.id, the scanned account itself) passes. A share of Confidential data with any other
account fails, and so does one whose recipient's account cannot be determined (an unrendered variable, a bucket
outside the configuration): the finding says what could not be read and how to fix it. Data known to be
Internal or Public may be shared; data whose class cannot be determined is not assumed to be.
"""

from __future__ import annotations

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.policy.schema import PolicyMap
from data_handling.rules.outcome import PASS, Outcome, fail
from data_handling.rules.replication import judge_class
from data_handling.rules.sharing_mechanisms import Share, shares_made_by

_UNVERIFIED = "the recipient cannot be verified"


def evaluate(resource: Resource, infra: Infrastructure, policy: PolicyMap) -> Outcome | None:
    shares = shares_made_by(resource, infra, policy)
    if not shares:
        return None  # nothing shared, or `count = 0`: checkov lists the resource, Terraform creates none
    findings: list[str] = []
    kinds: set[str] = set()
    for share in shares:
        party = share.recipient
        if party.inside or party.not_an_account:
            continue  # inside the organisation (or an AWS service): whatever the data, it stays with us
        judged = judge_class(share, resource, infra, policy)
        if judged.sensitive:
            kind = "unresolved" if party.unresolved else "out"
            finding = f"{_shares(share)} with {party.describe()}. The data is {judged.sensitive}."
        elif judged.unknown:
            kind = "class"
            finding = f"{_shares(share)} with {party.describe()}, and {_class_unknown(judged.unknown)}."
        else:
            continue  # known to be internal or public: it may be shared
        kinds.add(kind)
        if finding not in findings:
            findings.append(finding)
    if not findings:
        return PASS
    if "out" in kinds:
        summary = "shares Confidential data with an account outside the organisation"
    elif kinds == {"unresolved"}:
        summary = f"shares Confidential data, and {_UNVERIFIED}"
    else:
        summary = "makes a share that cannot be verified"
    return fail(f"{resource.address} {summary}. " + " ".join(findings))


def _shares(share: Share) -> str:
    return f"{share.how} shares {share.source.what}"


def _class_unknown(reasons: tuple[str, ...]) -> str:
    return "; ".join(reasons)
