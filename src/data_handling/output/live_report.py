"""The reports of `data-handling audit`: CLI text, JSON in the shape of the scan's JSON report, and SARIF.

JSON: the keys a pipeline reads from `scan --output json` (checkov's report: `check_type`, `results` with
`passed_checks` / `failed_checks` / `skipped_checks` / `parsing_errors`, `summary`), each record naming the ARN as
`resource`, plus `unverified`: what the audit could not read. SARIF: the scan's rules (output/sarif.py); each
result has a logical location naming the ARN (there is no file) and a physical location whose URI is a stable,
repository-relative path built from the account, region, type and name, which code scanning accepts and which
keeps an alert's fingerprint stable across runs. What could not be verified goes into the run's invocation as
error notifications, with executionSuccessful false.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from data_handling import __version__
from data_handling.output import sarif
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.schema import PolicyMap
from data_handling.rules.evaluation import FAILED, PASSED, SKIPPED, Evaluation

CHECK_TYPE = "aws_live"
FILE_NAMES = {"cli": "results_cli.txt", "json": "results_json.json", "sarif": sarif.FILE_NAME}
URI_PREFIX = "aws-live"


@dataclass(frozen=True)
class Unverified:
    """What the audit could not read, and the checks that therefore could not verify it."""

    scope: str  # the ARN, or "account A, region R, service S"
    checks: tuple[str, ...]
    reason: str  # the call, the error, the permission to grant

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "checks": list(self.checks), "reason": self.reason}


def _account_region(evaluation: Evaluation) -> tuple[str, str]:
    return str(getattr(evaluation.resource, "account", "")), str(getattr(evaluation.resource, "region", ""))


def _record(evaluation: Evaluation) -> dict[str, Any]:
    spec = CATALOGUE[evaluation.check_id]
    account, region = _account_region(evaluation)
    result: dict[str, Any] = {"result": evaluation.result}
    if evaluation.skip_reason:
        result["suppress_comment"] = evaluation.skip_reason
    return {
        "check_id": evaluation.check_id,
        "check_name": spec.name,
        "check_result": result,
        "resource": evaluation.resource.address,
        "resource_address": evaluation.resource.address,
        "resource_type": evaluation.resource.type,
        "account": account,
        "region": region,
        "file_path": None,
        "file_line_range": None,
        "severity": evaluation.severity,
        "guideline": spec.guideline,
        "details": list(evaluation.details),
    }


def json_report(evaluations: list[Evaluation], unverified: list[Unverified], accounts: list[str],
                regions: list[str], resource_count: int) -> dict[str, Any]:
    by_result = {status: [_record(e) for e in evaluations if e.result == status] for status in (PASSED, FAILED,
                                                                                               SKIPPED)}
    return {
        "check_type": CHECK_TYPE,
        "results": {"passed_checks": by_result[PASSED], "failed_checks": by_result[FAILED],
                    "skipped_checks": by_result[SKIPPED], "parsing_errors": []},
        "summary": {"passed": len(by_result[PASSED]), "failed": len(by_result[FAILED]),
                    "skipped": len(by_result[SKIPPED]), "parsing_errors": 0, "resource_count": resource_count,
                    "data_handling_version": __version__, "unverified": len(unverified)},
        "accounts": accounts,
        "regions": regions,
        "unverified": [item.as_dict() for item in unverified],
    }


def cli_report(evaluations: list[Evaluation], unverified: list[Unverified], accounts: list[str],
               regions: list[str]) -> str:
    lines = [f"data-handling audit of account(s) {', '.join(accounts) or 'none'} in {len(regions)} region(s)", ""]
    counts = {status: sum(1 for e in evaluations if e.result == status) for status in (PASSED, FAILED, SKIPPED)}
    lines.append(f"Passed checks: {counts[PASSED]}, Failed checks: {counts[FAILED]}, Skipped checks: "
                 f"{counts[SKIPPED]}, Not verified: {len(unverified)}")
    lines.append("")
    for evaluation in evaluations:
        if evaluation.result == PASSED:
            continue
        spec = CATALOGUE[evaluation.check_id]
        lines.append(f"Check: {evaluation.check_id}: \"{spec.name}\"")
        lines.append(f"\t{evaluation.result} for resource: {evaluation.resource.address}")
        if evaluation.skip_reason:
            lines.append(f"\t{evaluation.skip_reason}")
        else:
            lines += [f"\t{detail}" for detail in evaluation.details]
        lines.append(f"\tGuide: {spec.guideline}")
        lines.append("")
    for item in unverified:
        lines.append(f"Not verified: {item.scope} ({', '.join(item.checks) or 'no check'}): {item.reason}")
    return "\n".join(lines).rstrip() + "\n"


def sarif_report(evaluations: Iterable[Evaluation], unverified: list[Unverified], policy: PolicyMap,
                 category: str) -> dict[str, Any]:
    """SARIF 2.1.0 of the audit's failures (skips are left out, as for the scan: GitHub ignores suppressions)."""
    failed = [e for e in evaluations if e.result == FAILED]
    rules = [sarif._our_rule(spec, policy.severity_of(spec.id)) for spec in CATALOGUE.values()]
    index = {rule["id"]: position for position, rule in enumerate(rules)}
    run: dict[str, Any] = {
        "tool": {"driver": {"name": sarif.TOOL_NAME, "version": __version__, "semanticVersion": __version__,
                            "informationUri": sarif.INFORMATION_URI, "rules": rules}},
        "automationDetails": {"id": category},
        "columnKind": "utf16CodeUnits",
        "invocations": [{
            "executionSuccessful": not unverified,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": sarif._sentence(f"Not verified: {item.scope} "
                                                                     f"({', '.join(item.checks)}): {item.reason}")}}
                for item in unverified],
        }],
        "results": [_result(e, index[e.check_id]) for e in failed],
    }
    return {"$schema": sarif.SCHEMA, "version": "2.1.0", "runs": [run]}


def uri_of(evaluation: Evaluation) -> str:
    """aws-live/<account>/<region>/<type>/<name>: relative, stable, one per resource."""
    account, region = _account_region(evaluation)
    parts = [URI_PREFIX, account or "unknown-account", region or "global", evaluation.resource.type,
             evaluation.resource.name or evaluation.resource.address]
    return "/".join(quote(part, safe="") for part in parts)


def _result(evaluation: Evaluation, rule_index: int) -> dict[str, Any]:
    arn = evaluation.resource.address
    uri = uri_of(evaluation)
    return {
        "ruleId": evaluation.check_id,
        "ruleIndex": rule_index,
        "level": sarif.LEVEL.get(evaluation.severity, "warning"),
        "message": {"text": sarif._sentence("\n".join(evaluation.details) or arn)},
        "locations": [{
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1, "endLine": 1}},
            "logicalLocations": [{"fullyQualifiedName": arn, "kind": "resource"}],
        }],
        "partialFingerprints": {"dataHandlingFinding/v1": sarif._fingerprint(evaluation.check_id, arn, uri)},
        "properties": {"resource": arn, "resourceType": evaluation.resource.type,
                       "account": _account_region(evaluation)[0], "region": _account_region(evaluation)[1]},
    }


def render(output: str, evaluations: list[Evaluation], unverified: list[Unverified], policy: PolicyMap,
           accounts: list[str], regions: list[str], resource_count: int, category: str) -> str:
    if output == "json":
        return json.dumps(json_report(evaluations, unverified, accounts, regions, resource_count), indent=2) + "\n"
    if output == "sarif":
        return json.dumps(sarif_report(evaluations, unverified, policy, category), indent=2,
                          ensure_ascii=False) + "\n"
    return cli_report(evaluations, unverified, accounts, regions)
