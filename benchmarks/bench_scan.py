#!/usr/bin/env python3
"""Time the CKV_DH_* checks against checkov's own cost on the same synthetic Terraform tree (issue 13).

    python benchmarks/bench_scan.py [--resources 2000] [--repeat 3] [--roots K [--jobs N]] [--scans floor,ours,...]
                                    [--keep DIR] [--checks-dir PATH] [--floor-check CKV_AWS_20] [--json]

Five scans, interleaved R times: the floor (checkov, one trivial built-in check), ours through plain checkov,
ours through `data-handling scan`, checkov's built-ins alone and built-ins plus ours. It prints the medians,
each scan's ratio to its baseline (time and peak RSS) against the goals of issue 13 with PASS/FAIL, and whether
ours-through-checkov and ours-through-the-CLI found the same (check, resource, result) set. With --roots K (K >= 2)
and --jobs N it also runs `data-handling scan --jobs N` (cli_jobs, interleaved with the others) and prints its
wall-time speed-up over the serial cli run and whether the two found the same.

Unix only (os.wait4 gives each child's peak RSS). See benchmarks/README.md for how to read the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEED = 20240601
PER_FILE = 200
# The floor's one built-in check: CKV_AWS_20 (S3 bucket ACL allows public read), a graph check on aws_s3_bucket
# only (~20% of the generated resources). --floor-check CKV_AWS_66 (log group retention, a Python resource
# check on ~12%) goes through the same per-resource loop as ours; both cost checkov's parse and graph build.
FLOOR_CHECK = "CKV_AWS_20"
# Checkov's CKV_AWS_144 demands cross-region S3 replication, which the policy forbids: the CLI skips it beside ours.
CONFLICTING_BUILTINS = "CKV_AWS_144"
HOME = {"acme": "eu-west-1", "globex": "us-east-1"}
REGIONS = {"acme": ["eu-west-1", "eu-central-1", "us-east-1"], "globex": ["us-east-1", "us-west-2", "eu-west-1"]}
CLASSES = ["public", "internal", "confidential", "restricted"]
KINDS = {  # resource type -> weight; the last two are not data stores
    **{"aws_s3_bucket": 20, "aws_dynamodb_table": 10, "aws_sqs_queue": 12, "aws_cloudwatch_log_group": 12},
    **{"aws_db_instance": 6, "aws_s3_bucket_public_access_block": 15, "aws_iam_role": 10},
}
ROLES = [("primary", 0, "confidential"), ("analytics", 0, "restricted"), ("dr", 1, "internal")]  # 1: off-home
STACKS = [(f"{t}_{role}", t, REGIONS[t][i], data_class) for t in HOME for role, i, data_class in ROLES]
MODULE_RESOURCES = 5  # per call: 3 in modules/tenant_stack, 2 in its nested logs module
POLICY_MAP = """version: 1
residency:
  tenants:
    acme: {home_region: eu-west-1}
    globex: {home_region: us-east-1}
  home_regions: [eu-west-1, us-east-1]
"""
ROLE_POLICY = 'jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", \
Principal = { Service = "ec2.amazonaws.com" } }] })'
STATIC_FILES = {
    "versions.tf": """terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = ">= 5.0" }
  }
}
provider "aws" {
  region = var.default_region
  default_tags { tags = { data_class = "internal" } }
}
""",
    # The estate's audit trail (CKV_DH_104): every region, management events and the data events of the
    # generated S3, DynamoDB and SQS stores. Databases and log groups still need their own audit logs.
    "audit.tf": """resource "aws_cloudtrail" "audit" {
  name                  = "${local.prefix}-audit"
  s3_bucket_name        = "${local.prefix}-audit-logs"
  is_multi_region_trail = true
  advanced_event_selector {
    name = "Management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }
  dynamic "advanced_event_selector" {
    for_each = ["AWS::S3::Object", "AWS::DynamoDB::Table", "AWS::SQS::Queue"]
    content {
      name = "${advanced_event_selector.value} data events"
      field_selector {
        field  = "eventCategory"
        equals = ["Data"]
      }
      field_selector {
        field  = "resources.type"
        equals = [advanced_event_selector.value]
      }
    }
  }
}
""",
    "variables.tf": """variable "environment" { default = "dev" }
variable "name_prefix" { default = "bench" }
variable "default_region" { default = "us-east-1" }
variable "log_retention_days" { default = 30 }
variable "db_instance_class" { default = "db.t3.micro" }
""",
    "terraform.tfvars": 'environment        = "prod"\ndefault_region     = "eu-west-1"\nlog_retention_days = 90\n',
    "locals.tf": """locals {
  prefix      = "${var.name_prefix}-${var.environment}"
  common_tags = { managed_by = "terraform", environment = var.environment }
}
""",
    "modules/tenant_stack/main.tf": """variable "name" {}
variable "tenant" {}
variable "data_class" { default = "confidential" }
resource "aws_s3_bucket" "this" {
  bucket = "${var.name}-data"
  tags   = { data_class = var.data_class, tenant = var.tenant }
}
resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
resource "aws_sqs_queue" "events" {
  name = "${var.name}-events"
  tags = { data_class = var.data_class, tenant = var.tenant }
}
module "logs" {
  source = "./logs"
  name   = var.name
  tenant = var.tenant
}
""",
    "modules/tenant_stack/logs/main.tf": f"""variable "name" {{}}
variable "tenant" {{}}
resource "aws_cloudwatch_log_group" "this" {{
  name              = "/stack/${{var.name}}"
  retention_in_days = 30
  tags              = {{ data_class = "internal", tenant = var.tenant }}
}}
resource "aws_iam_role" "reader" {{
  name               = "${{var.name}}-reader"
  assume_role_policy = {ROLE_POLICY}
}}
""",
}


BLOCK_SETTINGS = "".join(f"  {setting:<23} = true\n" for setting in (
    "block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"))


def alias(tenant: str, region: str) -> str:
    return f"{tenant}_{region.replace('-', '_')}"


def resource_block(rng: random.Random, i: int, tenant: str, kind: str, refs: dict[str, list[tuple[str, str]]]) -> str:
    """One resource block; refs holds this tenant's earlier buckets and queues as (name, provider line)."""
    roll = rng.random()  # ~85% the tenant's home region, ~10% another region, ~5% the default provider
    region = HOME[tenant] if roll < 0.85 else rng.choice(REGIONS[tenant][1:]) if roll < 0.95 else None
    provider = f"  provider = aws.{alias(tenant, region)}\n" if region else ""
    if kind == "aws_s3_bucket_public_access_block" and not refs["aws_s3_bucket"]:
        kind = "aws_s3_bucket"  # nothing to point at yet
    name = f"{tenant}_{kind.removeprefix('aws_')}_{i:05d}"
    if kind == "aws_s3_bucket_public_access_block":
        bucket, provider = rng.choice(refs["aws_s3_bucket"][-50:])  # same provider as its bucket
        body = f"  bucket                  = aws_s3_bucket.{bucket}.id\n{BLOCK_SETTINGS}"
        return f'resource "{kind}" "{name}" {{\n{provider}{body}}}\n'
    tags = {} if rng.random() < 0.08 else {"data_class": rng.choice(CLASSES)}
    if rng.random() < 0.95:  # else rely on the provider's default_tags; ~3% carry the other tenant's tag
        tags["tenant"] = tenant if rng.random() < 0.97 else next(t for t in HOME if t != tenant)
    tag_map = "{ " + ", ".join(f'{key} = "{value}"' for key, value in tags.items()) + " }"
    tag_line = f"  tags = merge(local.common_tags, {tag_map})\n" if i % 2 else f"  tags = {tag_map}\n"
    dashed = name.replace("_", "-")
    body = {
        "aws_s3_bucket": f'  bucket = "${{local.prefix}}-{dashed}"\n',
        "aws_dynamodb_table": f'  name         = "{name}"\n  billing_mode = "PAY_PER_REQUEST"\n'
        '  hash_key     = "pk"\n  attribute {\n    name = "pk"\n    type = "S"\n  }\n',
        "aws_sqs_queue": f'  name = "{name}"\n',
        "aws_cloudwatch_log_group": f'  name              = "/${{local.prefix}}/{tenant}/{i}"\n'
        "  retention_in_days = var.log_retention_days\n",
        "aws_db_instance": f'  identifier                  = "{dashed}"\n  engine                      = "postgres"\n'
        "  instance_class              = var.db_instance_class\n  allocated_storage           = 20\n"
        '  username                    = "app"\n  manage_master_user_password = true\n',
        "aws_iam_role": f'  name               = "{name}"\n  assume_role_policy = {ROLE_POLICY}\n',
    }[kind]
    if kind == "aws_sqs_queue" and refs["aws_sqs_queue"] and rng.random() < 0.3:
        dlq = rng.choice(refs["aws_sqs_queue"])[0]
        body += f"  redrive_policy = jsonencode({{ deadLetterTargetArn = aws_sqs_queue.{dlq}.arn }})\n"
    if kind in refs:
        refs[kind].append((name, provider))
    return f'resource "{kind}" "{name}" {{\n{provider}{body}{tag_line}}}\n'


def generate(tree: Path, resources: int, seed: int = SEED) -> None:
    """Write one root module (two tenants' files side by side) with `resources` resource blocks."""
    rng = random.Random(seed)
    for rel, text in STATIC_FILES.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    for tenant, regions in REGIONS.items():
        providers = [
            f'provider "aws" {{\n  alias  = "{alias(tenant, region)}"\n  region = "{region}"\n  default_tags {{\n'
            f'    tags = {{ tenant = "{tenant}", data_class = "confidential" }}\n  }}\n}}\n'
            for region in regions
        ]
        (tree / f"{tenant}_providers.tf").write_text("\n".join(providers))
        stacks = [
            f'module "{name}" {{\n  source     = "./modules/tenant_stack"\n'
            f"  providers  = {{ aws = aws.{alias(tenant, region)} }}\n"
            f'  name       = "${{local.prefix}}-{name.replace("_", "-")}"\n'
            f'  tenant     = "{tenant}"\n  data_class = "{data_class}"\n}}\n'
            for name, owner, region, data_class in STACKS
            if owner == tenant
        ]
        (tree / f"{tenant}_stacks.tf").write_text("\n".join(stacks))
    blocks: dict[str, list[str]] = {tenant: [] for tenant in HOME}
    refs: dict[str, dict[str, list[tuple[str, str]]]] = {t: {"aws_s3_bucket": [], "aws_sqs_queue": []} for t in HOME}
    for i in range(resources):
        tenant = "acme" if rng.random() < 0.55 else "globex"
        kind = rng.choices(list(KINDS), list(KINDS.values()))[0]
        blocks[tenant].append(resource_block(rng, i, tenant, kind, refs[tenant]))
    for tenant, items in blocks.items():
        for number, start in enumerate(range(0, len(items), PER_FILE), 1):
            (tree / f"{tenant}_resources_{number:03d}.tf").write_text("\n".join(items[start : start + PER_FILE]))


def generate_tree(tree: Path, resources: int, roots: int) -> list[Path]:
    """One root (roots == 1) in `tree`, or `roots` independent roots tree/root_NNN of resources // roots each
    (the first ones one more for the remainder), each with its own modules and seed. Returns the root dirs."""
    if roots == 1:
        generate(tree, resources)
        return [tree]
    dirs = []
    for k in range(roots):
        root = tree / f"root_{k:03d}"
        root.mkdir(parents=True)
        generate(root, resources // roots + (1 if k < resources % roots else 0), SEED + k)
        dirs.append(root)
    return dirs


Finding = tuple[str, str, str]  # (check id, resource address, FAILED/PASSED/SKIPPED): --quiet lists failures only


@dataclass
class Scan:
    name: str
    title: str
    argv: list[str]
    baseline: str | None = None  # the scan this one's ratios are taken against
    time_goal: float | None = None
    rss_goal: float | None = None
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system seconds of the child (and its reaped children)
    rss_kib: list[int] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    findings: set[Finding] = field(default_factory=set)

    @property
    def results(self) -> int:
        return sum(self.summary.get(key, 0) for key in ("passed", "failed", "skipped"))

    def figures(self) -> dict[str, Any]:
        return {
            "best_s": round(min(self.seconds), 3),
            "median_s": round(statistics.median(self.seconds), 3),
            "runs_s": [round(s, 2) for s in self.seconds],
            "median_cpu_s": round(statistics.median(self.cpu), 3),
            "peak_rss_mib": round(max(self.rss_kib) / 1024, 1),
            "median_rss_mib": round(statistics.median(self.rss_kib) / 1024, 1),
            "results": self.results,
            "dh_results": sum(1 for f in self.findings if f[0].startswith("CKV_DH_")),
            **self.summary,
        }


def scans(tree: Path, policy: Path, checks: Path, floor_check: str, jobs: int | None = None) -> dict[str, Scan]:
    checkov = [sys.executable, "-m", "checkov.main", "-d", str(tree), "--framework", "terraform", "--skip-download",
               "--quiet", "--compact", "-o", "json"]
    ours = ["--external-checks-dir", str(checks)]
    data_handling = [sys.executable, "-m", "data_handling.cli", "scan", str(tree), "--policy-map", str(policy)]
    cli = [*data_handling, "-o", "json"]
    return {scan.name: scan for scan in (
        Scan("floor", f"checkov --check {floor_check}", [*checkov, "--check", floor_check]),
        Scan("ours", "checkov, ours only", [*checkov, *ours, "--check", "CKV_DH_*"], "floor", 1.15, 1.10),
        Scan("cli", "data-handling scan", cli, "floor", 1.15, 1.10),
        # Our SARIF alone (to stdout here), no checkov output; the action writes it beside checkov's console output.
        # Its failures must be cli's.
        Scan("cli_sarif", "data-handling scan -o sarif", [*data_handling, "-o", "sarif"], "floor", 1.15, 1.10),
        Scan("builtins", "checkov built-ins", [*checkov, "--skip-check", CONFLICTING_BUILTINS]),
        Scan("builtins_ours", "built-ins + ours", [*checkov, *ours, "--skip-check", CONFLICTING_BUILTINS],
             "builtins", 1.10, 1.10),
        # The parallel scan of a many-root tree: compared with cli (speed-up, same findings), no ratio goal.
        *([Scan("cli_jobs", f"data-handling scan --jobs {jobs}", [*cli, "--jobs", str(jobs)])] if jobs else []),
    )}


def run_scan(scan: Scan, cwd: Path, env: dict[str, str]) -> str:
    """One timed run in a child; records wall time, peak RSS, checkov's JSON summary and findings; returns stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(scan.argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage (and its reaped children's)
        scan.seconds.append(time.perf_counter() - start)
        scan.cpu.append(usage.ru_utime + usage.ru_stime)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    scan.rss_kib.append(usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss)  # bytes on macOS
    if code not in (0, 1):
        sys.exit(f"bench_scan: {scan.name} exited {code}:\n{stderr[-3000:]}\ncommand: {' '.join(scan.argv)}")
    starts = [index for index in (stdout.find("{"), stdout.find("[")) if index >= 0]
    try:
        data = json.JSONDecoder().raw_decode(stdout[min(starts):])[0]
    except ValueError:
        sys.exit(f"bench_scan: {scan.name} printed no JSON:\n{stdout[:2000]}\n{stderr[-2000:]}")
    summary: dict[str, int] = {}
    findings: set[Finding] = set()
    if isinstance(data, dict) and "runs" in data:  # SARIF: the failures only (waived and passed are not results)
        results = [result for run in data["runs"] for result in run.get("results", [])]
        summary = {"passed": 0, "failed": len(results), "skipped": 0, "parsing_errors": 0, "resource_count": 0}
        findings = {(r["ruleId"], r["properties"]["resource"], "FAILED") for r in results}
        data = []
    for report in data if isinstance(data, list) else [data]:  # a dict for one framework; bare summary if empty
        for key in ("passed", "failed", "skipped", "parsing_errors", "resource_count"):
            summary[key] = summary.get(key, 0) + int(report.get("summary", report).get(key, 0))
        for kind in ("passed_checks", "failed_checks", "skipped_checks"):
            for record in report.get("results", {}).get(kind, []):
                findings.add((record["check_id"], record["resource"], kind.split("_")[0].upper()))
    if summary["parsing_errors"]:
        sys.exit(f"bench_scan: {scan.name} reported {summary['parsing_errors']} parsing errors")
    if scan.summary and (scan.summary != summary or scan.findings != findings):
        sys.exit(f"bench_scan: {scan.name} results changed between runs: {scan.summary} -> {summary}")
    scan.summary, scan.findings = summary, findings
    return stderr


def ratios(scan: Scan, base: Scan) -> dict[str, Any]:
    """Against the baseline: the median of the per-repeat (interleaved pair) ratios of wall time and of CPU time,
    the ratio of the best times and of the peak RSS. The time goal is judged on the wall-time pair median."""
    a, b = scan.figures(), base.figures()
    ratio: dict[str, Any] = {key: round(a[key] / b[key], 3) for key in ("best_s", "peak_rss_mib")}
    ratio["pairs_s"] = [round(x / y, 3) for x, y in zip(scan.seconds, base.seconds, strict=True)]
    ratio["median_s"] = round(statistics.median(ratio["pairs_s"]), 3)
    cpu = [x / y for x, y in zip(scan.cpu, base.cpu, strict=True)]
    ratio["median_cpu"] = round(statistics.median(cpu), 3)
    ratio["baseline"] = base.name
    if scan.time_goal:
        ratio["time_goal"], ratio["time_pass"] = scan.time_goal, ratio["median_s"] <= scan.time_goal
    if scan.rss_goal:
        ratio["rss_goal"], ratio["rss_pass"] = scan.rss_goal, ratio["peak_rss_mib"] <= scan.rss_goal
    return ratio


def dh_findings(scan: Scan) -> set[Finding]:
    return {finding for finding in scan.findings if finding[0].startswith("CKV_DH_")}


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--resources", type=int, default=2000, help="resource blocks in the tree (all roots)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each scan (interleaved)")
    parser.add_argument("--roots", type=int, default=1, help="K independent roots of resources/K each (default 1)")
    parser.add_argument("--jobs", type=int, help="with --roots K >= 2: also run data-handling scan --jobs N and "
                        "compare it with the serial cli run (0: one worker per CPU)")
    parser.add_argument("--scans", default="floor,ours,cli,cli_sarif,builtins,builtins_ours",
                        help="comma-separated subset of floor,ours,cli,cli_sarif,builtins,builtins_ours (default: all)")
    parser.add_argument("--floor-check", default=FLOOR_CHECK, help="the floor's one built-in check "
                        "(default %(default)s)")
    parser.add_argument("--keep", type=Path, help="write the tree here (a new or empty directory) and keep it")
    parser.add_argument("--checks-dir", type=Path, default=REPO / "checks", help="external checks directory")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    checks = args.checks_dir.resolve()
    if args.resources < 1 or args.repeat < 1 or args.roots < 1 or args.roots > args.resources:
        parser.error("--resources, --repeat and --roots must be at least 1, and --roots at most --resources")
    if args.jobs is not None and (args.jobs < 0 or args.roots < 2):
        parser.error("--jobs: a number of workers (0: one per CPU), with --roots K of at least 2")
    if not checks.is_dir():
        parser.error(f"--checks-dir {checks} is not a directory")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep} exists and is not empty")
    wanted = [name.strip() for name in args.scans.split(",") if name.strip()]
    if args.jobs is not None:
        wanted += [name for name in ("cli", "cli_jobs") if name not in wanted]  # the speed-up is over the cli run
    with tempfile.TemporaryDirectory(prefix="bench_scan_") as scratch:
        base = args.keep.resolve() if args.keep else Path(scratch)
        tree, policy = base / "tree", base / "policy_map.yaml"
        tree.mkdir(parents=True)
        roots = generate_tree(tree, args.resources, args.roots)
        policy.write_text(POLICY_MAP)
        every = scans(tree, policy, checks, args.floor_check, args.jobs)
        unknown = [name for name in wanted if name not in every]
        if unknown:
            parser.error(f"--scans: unknown {', '.join(unknown)}")
        chosen = [every[name] for name in every if name in wanted]
        # BC_SKIP_MAPPING: no call to the platform's mapping API (the CLI sets it too); the policy map by env for
        # plain checkov, by --policy-map for the CLI.
        env = {**os.environ, "DATA_HANDLING_POLICY_MAP": str(policy), "BC_SKIP_MAPPING": "TRUE"}
        for _ in range(args.repeat):  # interleaved, so drift in the machine's load hits every scan alike
            for scan in chosen:
                stderr = run_scan(scan, base, env)
                if scan.name == "cli_jobs" and "worker processes" not in stderr:
                    sys.exit(f"{stderr[-3000:]}\nbench_scan: data-handling scan --jobs {args.jobs} did not scan in "
                             "worker processes (see its note above)")
                if scan.name in ("ours", "cli", "cli_sarif", "builtins_ours", "cli_jobs") and not dh_findings(scan):
                    sys.exit(f"{stderr[-3000:]}\nbench_scan: {scan.name} produced no CKV_DH results: no check "
                             f"loaded from {checks}; look for an import error in the stderr above.")
                print(f"  {scan.name:<14} {scan.seconds[-1]:8.2f} s wall  {scan.cpu[-1]:8.2f} s CPU  "
                      f"{scan.rss_kib[-1] / 1024:8.1f} MiB  load {os.getloadavg()[0]:.1f}", file=sys.stderr, flush=True)
    names = {scan.name: scan for scan in chosen}
    table = {name: scan.figures() for name, scan in names.items()}
    ratio = {name: ratios(scan, names[scan.baseline]) for name, scan in names.items()
             if scan.baseline and scan.baseline in names}
    same: dict[str, bool] = {}
    # Under --quiet (which the CLI passes too) checkov's JSON lists only the failed checks: the failures are
    # compared record by record, the passes and skips by their counts.
    counts = ("passed", "failed", "skipped")
    if "ours" in names and "cli" in names:
        same["ours_vs_cli"] = names["ours"].findings == names["cli"].findings and all(
            names["ours"].summary[key] == names["cli"].summary[key] for key in counts)
    if "cli" in names and "cli_sarif" in names:
        same["cli_vs_cli_sarif"] = names["cli"].findings == names["cli_sarif"].findings
    if "ours" in names and "builtins_ours" in names:
        same["ours_vs_builtins_ours"] = dh_findings(names["ours"]) == dh_findings(names["builtins_ours"])
    parallel: dict[str, Any] = {}
    if "cli_jobs" in names:
        serial, jobs = names["cli"], names["cli_jobs"]
        same["cli_vs_cli_jobs"] = serial.findings == jobs.findings and serial.summary == jobs.summary
        pairs = [round(x / y, 3) for x, y in zip(serial.seconds, jobs.seconds, strict=True)]
        parallel = {"jobs": args.jobs, "speedup_pairs": pairs, "speedup_median": round(statistics.median(pairs), 3),
                    "speedup_best": round(min(serial.seconds) / min(jobs.seconds), 3),
                    "cpu_ratio_median": round(statistics.median(
                        [y / x for x, y in zip(serial.cpu, jobs.cpu, strict=True)]), 3)}
    in_modules = len(STACKS) * MODULE_RESOURCES * args.roots
    meta = {"resources": args.resources, "roots": args.roots, "module_resources": in_modules, "repeat": args.repeat,
            "seed": SEED, "floor_check": args.floor_check, "python": sys.version.split()[0],
            "nproc": os.cpu_count(), "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        print(json.dumps({**meta, "runs": table, "ratios": ratio, "findings_identical": same,
                          **({"parallel": parallel} if parallel else {})}, indent=2))
        return 0
    counted = next(iter(table.values()))["resource_count"]
    print(f"tree: {args.resources} resources in {args.roots} root(s) + {in_modules} in module calls (checkov "
          f"counted {counted}); repeat {args.repeat}, interleaved; floor --check {args.floor_check}; "
          f"load average at the end {meta['loadavg_end']}")
    row = "{:<14}  {:<28}  {:>7}  {:>8}  {:>10}  {:>8}  {:>7}"
    print(row.format("scan", "what", "best s", "median s", "median CPU", "peak MiB", "results"))
    for name, f in table.items():
        print(row.format(name, names[name].title, f"{f['best_s']:.2f}", f"{f['median_s']:.2f}",
                         f"{f['median_cpu_s']:.2f}", f"{f['peak_rss_mib']:.0f}", f["results"]))
    for name, r in ratio.items():
        verdicts = []
        if "time_goal" in r:
            verdicts.append(f"time goal {r['time_goal']:.2f}: {'PASS' if r['time_pass'] else 'FAIL'}")
        if "rss_goal" in r:
            verdicts.append(f"memory goal {r['rss_goal']:.2f}: {'PASS' if r['rss_pass'] else 'FAIL'}")
        print(f"{name}/{r['baseline']}: time x{r['median_s']:.3f} (median of pairs; best x{r['best_s']:.2f}; CPU "
              f"x{r['median_cpu']:.3f}), peak RSS x{r['peak_rss_mib']:.3f}   {'; '.join(verdicts)}")
    if "ours_vs_cli" in same:
        print("findings identical (ours via checkov vs data-handling scan; failures by record, passes by count): "
              f"{'yes' if same['ours_vs_cli'] else 'no'}")
        if not same["ours_vs_cli"]:
            a, b = names["ours"].findings, names["cli"].findings
            print(f"  only via checkov: {sorted(a - b)[:5]} ({len(a - b)}); only via the CLI: {sorted(b - a)[:5]} "
                  f"({len(b - a)})")
    if "cli_vs_cli_sarif" in same:
        print("failures identical (data-handling scan -o json vs -o sarif): "
              f"{'yes' if same['cli_vs_cli_sarif'] else 'no'}")
    if "ours_vs_builtins_ours" in same:
        print(f"CKV_DH findings identical (ours only vs built-ins + ours): "
              f"{'yes' if same['ours_vs_builtins_ours'] else 'no'}")
    if parallel:
        print(f"parallel: data-handling scan --jobs {args.jobs}: wall-time speed-up over the serial cli run "
              f"x{parallel['speedup_median']:.2f} (median of pairs; best x{parallel['speedup_best']:.2f}); CPU "
              f"x{parallel['cpu_ratio_median']:.2f} of the serial run's (every process; its peak MiB is the largest "
              f"single process); findings identical (failures by record, passes and skips by count): "
              f"{'yes' if same['cli_vs_cli_jobs'] else 'no'}")
        if not same["cli_vs_cli_jobs"]:
            a, b = names["cli"].findings, names["cli_jobs"].findings
            print(f"  only serial: {sorted(a - b)[:5]} ({len(a - b)}); only --jobs: {sorted(b - a)[:5]} ({len(b - a)})")
    elif args.roots > 1:
        print(f"many-root tree: {len(roots)} roots, scanned serially (--jobs N measures the parallel scan)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
