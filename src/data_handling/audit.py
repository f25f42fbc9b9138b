"""`data-handling audit`: the data-handling checks on what is deployed, read through the AWS APIs.

The same policy map, rules and check IDs as `scan`, on a model of the live estate (model/live): the rules do
not know where the model came from. Credentials, profiles and endpoints come from the standard AWS
configuration boto3 reads (AWS_PROFILE, AWS_CONFIG_FILE, AWS_ENDPOINT_URL, ...); each --role-arn is assumed from
those credentials and audited as an account of its own.

Exit codes as for `scan`: 0 clean, 1 findings, 2 the audit cannot be trusted: the policy map is invalid, a rule
raised, or a call was denied or failed (what it would have read is listed as not verified); --allow-partial
reports those and exits 1 or 0 by the findings.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from data_handling.model.infrastructure import Infrastructure
from data_handling.model.live import Estate, Gap, read_estate
from data_handling.model.live.estate import DEFAULT_WORKERS, print_progress
from data_handling.output import destinations
from data_handling.output import live_report as report
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.loader import ENV_VAR, load
from data_handling.policy.regions import closest_known_region, is_known_region, is_well_formed_region
from data_handling.policy.schema import PolicyMap
from data_handling.rules.applicability import applicable_types, applies_to, reads_evidence
from data_handling.rules.evaluation import FAILED, Evaluation, evaluate_model
from data_handling.rules.registry import RULES
from data_handling.safe_text import one_line

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
OUTPUTS = ("cli", "json", "sarif")


class AuditError(Exception):
    """The audit cannot start or cannot be trusted: one line, exit 2."""


def add_parser(commands: Any) -> None:
    audit = commands.add_parser("audit", help="audit live AWS accounts with the same checks (read-only API calls)")
    audit.add_argument("--regions", default="all", metavar="R1,R2|all",
                       help="regions to read (default: all, every region enabled in each account)")
    audit.add_argument("--profile", help="AWS profile (default: $AWS_PROFILE, else the default credentials)")
    audit.add_argument("--role-arn", action="append", default=[], metavar="ARN",
                       help="assume this role and audit its account (repeatable: several accounts in one run)")
    audit.add_argument("--policy-map", help=f"policy map (default: ${ENV_VAR}, ./policy_map.yaml, packaged)")
    audit.add_argument("--output", "-o", action="append", choices=OUTPUTS,
                       help="output format, repeatable (default: cli)")
    audit.add_argument("--output-file-path", help="directory to write the outputs to instead of stdout")
    audit.add_argument("--sarif-category", default="data-handling/audit",
                       help="the SARIF run's automationDetails.id (default: %(default)s)")
    audit.add_argument("--allow-partial", action="store_true",
                       help="report calls that were denied or failed as not verified, and exit by the findings "
                       "instead of 2")
    audit.add_argument("--workers", type=int, default=DEFAULT_WORKERS, metavar="N",
                       help="concurrent API tasks (default: %(default)s)")


def parse_regions(text: str) -> list[str] | None:
    """None for "all"; else the listed regions, each well-formed (an unknown one is a warning: AWS opens
    regions faster than botocore learns them)."""
    if text.strip().lower() == "all":
        return None
    regions = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not regions:
        raise AuditError("--regions: expected R1,R2 or all")
    for region in regions:
        if not is_well_formed_region(region):
            close = closest_known_region(region)
            raise AuditError(f"--regions: {one_line(region)} is not an AWS region name"
                             + (f" (did you mean {close}?)" if close else ""))
        if not is_known_region(region):
            print(f"data-handling: warning: region {region} is not known to the installed botocore; auditing it "
                  "anyway", file=sys.stderr)
    return regions


def sessions(profile: str | None, role_arns: list[str]) -> tuple[list[Any], list[report.Unverified]]:
    """The sessions to audit: the base credentials, or one per assumed role."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        base = boto3.Session(profile_name=profile) if profile else boto3.Session()
    except BotoCoreError as error:
        raise AuditError(f"the AWS configuration cannot be used: {error}") from None
    if not role_arns:
        return [base], []
    assumed, failed = [], []
    sts = base.client("sts")
    for arn in role_arns:
        try:
            credentials = sts.assume_role(RoleArn=arn, RoleSessionName="data-handling-audit")["Credentials"]
        except (ClientError, BotoCoreError) as error:
            failed.append(report.Unverified(arn, tuple(RULES), f"the role could not be assumed: {error}"))
            continue
        assumed.append(boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                                     aws_secret_access_key=credentials["SecretAccessKey"],
                                     aws_session_token=credentials["SessionToken"], region_name=base.region_name))
    return assumed, failed


def unverified_of(gaps: list[Gap], policy: PolicyMap, infra: Infrastructure) -> list[report.Unverified]:
    """Each gap with the enabled checks that could not verify what it would have read: those that judge the
    types the call would have produced, or the type of the resource it was about, or read them as evidence
    (applicability.EVIDENCE_TYPES: a trail for CKV_DH_104)."""
    types_of = {resource.address: resource.type for resource in infra.resources}
    items = []
    for gap in gaps:
        kinds = gap.resource_types or ((types_of[gap.resource],) if gap.resource in types_of else ())
        checks = tuple(check_id for check_id in RULES if policy.is_enabled(check_id) and any(
            applies_to(applicable_types(check_id, policy), kind) or reads_evidence(check_id, kind) for kind in kinds))
        scope = gap.resource or f"account {gap.account}" + (f", {gap.region}" if gap.region else "") + \
            f", {gap.service}"
        items.append(report.Unverified(scope, checks or tuple(RULES), gap.describe()))
    return items


def run(args: argparse.Namespace) -> int:
    outputs = list(dict.fromkeys(args.output or ["cli"]))
    if args.output_file_path:
        destinations.check_directory(args.output_file_path, [report.FILE_NAMES[o] for o in outputs])
    loaded = load(args.policy_map)
    for warning in loaded.warnings:
        print(f"data-handling: warning: {one_line(loaded.path)}: {one_line(warning, limit=1000)}", file=sys.stderr)
    policy = loaded.policy
    regions = parse_regions(args.regions)
    audited, unassumed = sessions(args.profile, args.role_arn)
    estate: Estate = read_estate(audited, regions, workers=args.workers, progress=print_progress)
    errors: list[str] = []
    evaluations: list[Evaluation] = sorted(evaluate_model(estate.infra, policy, RULES, errors),
                                           key=lambda e: (e.check_id, e.resource.address))
    unverified = unassumed + unverified_of(estate.gaps, policy, estate.infra)
    unverified += [report.Unverified(target, tuple(RULES), "its account could not be identified "
                                     "(sts:GetCallerIdentity failed)") for target in estate.targets_failed]
    for output in outputs:
        text = report.render(output, evaluations, unverified, policy, estate.accounts, estate.regions,
                             len(estate.infra.resources), args.sarif_category)
        path = (f"{args.output_file_path}/{report.FILE_NAMES[output]}" if args.output_file_path else None)
        destinations.write_text(path, text)
    not_audited = [check_id for check_id in CATALOGUE if check_id not in RULES and policy.is_enabled(check_id)]
    if not_audited:
        print(f"data-handling: note: {', '.join(not_audited)} have no live rule yet and were not audited",
              file=sys.stderr)
    failed = sum(1 for e in evaluations if e.result == FAILED)
    print(f"data-handling: audit of {len(estate.accounts)} account(s), {len(estate.regions)} region(s), "
          f"{len(estate.infra.resources)} resource(s), {len(estate.log.calls)} API call(s): {failed} finding(s), "
          f"{len(unverified)} not verified; policy map {one_line(loaded.path)} ({loaded.origin})", file=sys.stderr)
    if errors:
        raise AuditError(f"{errors[0]} ({len(errors)} error(s) in all)")
    if not estate.accounts:
        raise AuditError("no account could be read: " + (unverified[0].reason if unverified else "no credentials"))
    if unverified:
        for item in unverified:
            print(f"data-handling: {'warning' if args.allow_partial else 'error'}: not verified: "
                  f"{one_line(item.scope)}: {one_line(item.reason, limit=500)}", file=sys.stderr)
        if not args.allow_partial:
            raise AuditError(f"{len(unverified)} part(s) of the estate could not be read, so the audit is incomplete "
                             "(--allow-partial reports them and exits by the findings)")
    return EXIT_FINDINGS if failed else EXIT_CLEAN


__all__ = ["AuditError", "add_parser", "run"]
