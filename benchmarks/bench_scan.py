#!/usr/bin/env python3
"""Time the CKV_DH_* checks against checkov's own cost on the same synthetic Terraform tree.

    python benchmarks/bench_scan.py [--resources 2000] [--repeat 3] [--keep DIR] [--checks-dir PATH] [--json]

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
# A cheap built-in *resource* check (log group retention). CKV_AWS_41 exists too, but it is a provider
# check that only sees the provider blocks; CKV_AWS_66 goes through the same resource loop as ours.
BASELINE_CHECK = "CKV_AWS_66"
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
  bucket            = aws_s3_bucket.this.id
  block_public_acls = true
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
        body = f"  bucket            = aws_s3_bucket.{bucket}.id\n  block_public_acls = true\n"
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


def generate(tree: Path, resources: int) -> None:
    """Write one root module (two tenants' files side by side) with `resources` resource blocks."""
    rng = random.Random(SEED)
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


@dataclass
class Run:
    name: str
    check_args: list[str]
    seconds: list[float] = field(default_factory=list)
    rss_kib: list[int] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)

    @property
    def results(self) -> int:
        return sum(self.summary.get(key, 0) for key in ("passed", "failed", "skipped"))

    def figures(self) -> dict[str, Any]:
        return {
            "best_s": round(min(self.seconds), 3),
            "median_s": round(statistics.median(self.seconds), 3),
            "peak_rss_mib": round(max(self.rss_kib) / 1024, 1),
            "results": self.results,
            **self.summary,
        }


def run_checkov(run: Run, tree: Path, env: dict[str, str]) -> str:
    """One timed checkov run in a child; records wall time, peak RSS and the JSON summary; returns stderr."""
    cmd = [sys.executable, "-m", "checkov.main", "-d", str(tree), "--framework", "terraform"]
    cmd += ["--skip-download", "--quiet", "--compact", "-o", "json", *run.check_args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=tree.parent)
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own rusage (and its reaped children's)
        run.seconds.append(time.perf_counter() - start)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    run.rss_kib.append(usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss)  # bytes on macOS
    if code not in (0, 1):
        sys.exit(f"bench_scan: checkov ({run.name}) exited {code}:\n{stderr[-3000:]}\ncommand: {' '.join(cmd)}")
    starts = [index for index in (stdout.find("{"), stdout.find("[")) if index >= 0]
    try:
        data = json.JSONDecoder().raw_decode(stdout[min(starts) :])[0]
    except ValueError:
        sys.exit(f"bench_scan: checkov ({run.name}) printed no JSON:\n{stdout[:2000]}\n{stderr[-2000:]}")
    summary: dict[str, int] = {}
    for report in data if isinstance(data, list) else [data]:  # a dict for one framework; bare summary if empty
        for key in ("passed", "failed", "skipped", "parsing_errors", "resource_count"):
            summary[key] = summary.get(key, 0) + int(report.get("summary", report).get(key, 0))
    if summary["parsing_errors"]:
        sys.exit(f"bench_scan: checkov ({run.name}) reported {summary['parsing_errors']} parsing errors in {tree}")
    if run.summary and run.summary != summary:
        sys.exit(f"bench_scan: checkov ({run.name}) results changed between runs: {run.summary} -> {summary}")
    run.summary = summary
    return stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--resources", type=int, default=2000, help="resource blocks in the root module")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each scan")
    parser.add_argument("--keep", type=Path, help="write the tree here (a new or empty directory) and keep it")
    parser.add_argument("--checks-dir", type=Path, default=REPO / "checks", help="external checks directory")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    checks = args.checks_dir.resolve()
    if args.resources < 1 or args.repeat < 1:
        parser.error("--resources and --repeat must be at least 1")
    if not checks.is_dir():
        parser.error(f"--checks-dir {checks} is not a directory")
    if args.keep and args.keep.exists() and any(args.keep.iterdir()):
        parser.error(f"--keep {args.keep} exists and is not empty")
    ours = Run("ours", ["--external-checks-dir", str(checks), "--check", "CKV_DH_*"])
    baseline = Run("baseline", ["--check", BASELINE_CHECK])
    with tempfile.TemporaryDirectory(prefix="bench_scan_") as scratch:
        base = args.keep.resolve() if args.keep else Path(scratch)
        tree, policy = base / "tree", base / "policy_map.yaml"
        tree.mkdir(parents=True)
        generate(tree, args.resources)
        policy.write_text(POLICY_MAP)
        env = {**os.environ, "DATA_HANDLING_POLICY_MAP": str(policy)}
        for _ in range(args.repeat):  # interleaved, so drift in the machine's load hits both alike
            for run in (ours, baseline):
                stderr = run_checkov(run, tree, env)
                if run is ours and not ours.results:
                    sys.exit(
                        f"{stderr[-3000:]}\nbench_scan: the 'ours' run produced no CKV_DH results: no check loaded "
                        f"from {checks}. Expected while no CKV_DH_* checks exist there yet; otherwise look for an "
                        "import error in checkov's stderr above."
                    )
    a, b = ours.figures(), baseline.figures()
    ratio = {key: round(a[key] / b[key], 2) for key in ("median_s", "best_s", "peak_rss_mib")}
    in_modules = len(STACKS) * MODULE_RESOURCES
    if args.json:
        meta = {"resources": args.resources, "module_resources": in_modules, "repeat": args.repeat, "seed": SEED}
        meta |= {"baseline_check": BASELINE_CHECK, "python": sys.version.split()[0]}
        print(json.dumps({**meta, "runs": {"ours": a, "baseline": b}, "ratio_ours_over_baseline": ratio}, indent=2))
        return 0
    print(f"tree: {args.resources} resources + {in_modules} in {len(STACKS)} module calls (checkov counted", end=" ")
    print(f"{b['resource_count']}); repeat {args.repeat}; baseline --check {BASELINE_CHECK}")
    row = "{:>9}  {:<8}  {:>7.2f}  {:>8.2f}  {:>12}  {:>7}"
    print(row.replace(".2f", "").format("resources", "run", "best s", "median s", "peak RSS MiB", "results"))
    for name, f in (("ours", a), ("baseline", b)):
        print(row.format(args.resources, name, f["best_s"], f["median_s"], f["peak_rss_mib"], f["results"]))
    print(f"ours/baseline: time x{ratio['median_s']:.2f} (median; best x{ratio['best_s']:.2f}),", end=" ")
    print(f"peak RSS x{ratio['peak_rss_mib']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
