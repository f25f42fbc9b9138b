#!/usr/bin/env python3
"""Time `data-handling audit` on a seeded account (issue 11): N stores spread over R regions of moto in server
mode, read through the audit's own path (read_estate: listings, per-item descriptions, the bounded pool), then
judged by every rule.

    python benchmarks/bench_audit.py [--stores 2000] [--regions eu-west-1,us-east-1,us-west-2,ap-southeast-2]
                                     [--workers 16] [--json]

It prints the seeding time (not part of the audit), the audit's wall time (read and evaluation separately), the
number of API calls by operation, the records read and the findings. moto answers from one Python process, so
the times measure our side (request building, parsing, the pool, the rules) plus moto's, never AWS's latency or
throttling: read them as a ceiling on our overhead, and the call count as what an account of that shape costs.
Needs moto[server] (the test extra).
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

KINDS = ("bucket", "table", "secret", "key")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _seed(stores: int, regions: list[str]) -> None:
    import boto3

    clients = {(service, region): boto3.client(service, region_name=region)
               for service in ("s3", "dynamodb", "secretsmanager", "kms") for region in regions}
    tenants = ("acme", "globex")
    for number in range(stores):
        kind, region = KINDS[number % len(KINDS)], regions[(number // len(KINDS)) % len(regions)]
        tags = [{"Key": "data_class", "Value": ("confidential", "internal", "restricted")[number % 3]},
                {"Key": "tenant", "Value": tenants[number % 2]}]
        name = f"bench-{number:05}"
        if kind == "bucket":
            extra = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            clients["s3", region].create_bucket(Bucket=name, **extra)
            clients["s3", region].put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
        elif kind == "table":
            clients["dynamodb", region].create_table(
                TableName=name, KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                Tags=tags)
        elif kind == "secret":
            clients["secretsmanager", region].create_secret(Name=name, SecretString="x", Tags=tags)
        else:
            clients["kms", region].create_key(Description=name,
                                              Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in tags])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--regions", default="eu-west-1,us-east-1,us-west-2,ap-southeast-2")
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    regions = [region.strip() for region in args.regions.split(",") if region.strip()]

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    sys.path.insert(0, str(REPO / "tests"))
    import moto_lacks  # the calls moto does not implement, answered as an account with none (see the module)

    moto_lacks.install()
    os.environ.update(AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}", AWS_ACCESS_KEY_ID="bench",
                      AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION=regions[0],
                      AWS_EC2_METADATA_DISABLED="true")
    try:
        import boto3

        from data_handling.model.live import read_estate
        from data_handling.policy.loader import load
        from data_handling.rules.evaluation import FAILED, evaluate_model
        from data_handling.rules.registry import RULES

        started = time.perf_counter()
        _seed(args.stores, regions)
        seeded = time.perf_counter() - started

        policy = load(REPO / "policy_map.yaml").policy
        started = time.perf_counter()
        estate = read_estate([boto3.Session()], regions, workers=args.workers)
        read = time.perf_counter() - started
        started = time.perf_counter()
        evaluations = list(evaluate_model(estate.infra, policy, RULES))
        evaluated = time.perf_counter() - started
    finally:
        server.stop()
    calls = collections.Counter(f"{service}:{operation}" for service, operation in estate.log.calls)
    figures = {
        "stores_seeded": args.stores, "regions": regions, "workers": args.workers, "seed_seconds": round(seeded, 2),
        "read_seconds": round(read, 2), "evaluate_seconds": round(evaluated, 2),
        "audit_seconds": round(read + evaluated, 2), "api_calls": sum(calls.values()),
        "api_calls_by_operation": dict(sorted(calls.items())), "records": len(estate.infra.resources),
        "findings": sum(1 for e in evaluations if e.result == FAILED), "gaps": len(estate.gaps),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"seeded {args.stores} stores in {len(regions)} regions in {seeded:.1f} s (not part of the audit)")
        print(f"audit: {read + evaluated:.1f} s (read {read:.1f} s with {args.workers} workers, evaluate "
              f"{evaluated:.2f} s); {figures['api_calls']} API calls; {figures['records']} records; "
              f"{figures['findings']} findings; {figures['gaps']} gaps")
        for operation, count in sorted(calls.items()):
            print(f"  {operation:40} {count}")
    return 0 if not estate.gaps else 2


if __name__ == "__main__":
    sys.exit(main())
