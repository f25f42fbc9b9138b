"""`data-handling inventory` (the data map): the real CLI on the fixtures, every output format, the errors, and the
data map in the scan's job summary.

Each run is a fresh interpreter (checkov keeps state between in-process runs); results are shared per module.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO

POLICY_MAP = FIXTURES / "policy_map.yaml"
SAMPLE_MAP = REPO / "policy_map.yaml"
FIX_REGION = ("set the region in the provider block (or the resource's region argument), give the variable a default "
              "or a terraform.tfvars value, or scan the plan")


def run(*args: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
    code = "import sys\nfrom data_handling.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=REPO,
                          env=environment, timeout=600)


@cache
def data_map(path: str, policy_map: Path, output: str = "json") -> str:
    done = run("inventory", path, "--policy-map", str(policy_map), "--output", output)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


@cache
def as_json(path: str, policy_map: Path) -> dict:
    return json.loads(data_map(path, policy_map, "json"))


def store(document: dict, address: str, root: str = ".") -> dict:
    found = [s for s in document["stores"] if s["address"] == address and s["root"] == root]
    assert len(found) == 1, [(s["root"], s["address"]) for s in document["stores"]]
    return found[0]


def known(value: str, source: str) -> dict:
    return {"value": value, "source": source, "unknown": None}


def unknown(reason: str) -> dict:
    return {"value": None, "source": None, "unknown": reason}


NO_TAG = {"value": None, "source": None, "unknown": None}


# --- what the data map holds ---------------------------------------------------------------------------------

def test_sample_infra_store_with_its_region_from_a_module_providers_map():
    document = as_json("sample_infra", SAMPLE_MAP)
    assert (document["version"], document["path"], document["policy_map"]) == (1, "sample_infra",
                                                                               str(SAMPLE_MAP))
    via = 'provider "aws.eu" (providers.tf:33) via module.globex_eu_copy providers { aws = aws.eu }'
    assert store(document, "module.globex_eu_copy.aws_s3_bucket.this", "stacks/tenant-globex") == {
        "address": "module.globex_eu_copy.aws_s3_bucket.this",
        "type": "aws_s3_bucket",
        "file": "modules/tenant_data/main.tf",  # relative to PATH (the module is outside the stack's root)
        "line": 78,
        "root": "stacks/tenant-globex",
        "class": known("confidential", 'tag data_class = "confidential" in tags of '
                                       "module.globex_eu_copy.aws_s3_bucket.this (main.tf:78)"),
        "tenant": known("globex", 'tag tenant = "globex" in tags of module.globex_eu_copy.aws_s3_bucket.this '
                                  "(main.tf:78)"),
        "account": known("333333333333", f"allowed_account_ids of {via}"),
        "region": known("eu-west-1", via),
    }


def test_sample_infra_unclassified_store_says_why():
    row = store(as_json("sample_infra", SAMPLE_MAP), "aws_s3_bucket.athena_query_results", "stacks/shared-platform")
    assert row["class"] == unknown(
        "aws_s3_bucket.athena_query_results declares no data class: no tag data_class on the resource or in its "
        "provider's default_tags, no classification rule matches it, and the policy map sets no "
        "classification.default.")
    assert row["tenant"] == NO_TAG
    assert row["region"] == known("us-east-1", 'provider "aws" (providers.tf:2)')
    assert (row["file"], row["line"]) == ("stacks/shared-platform/main.tf", 116)


def test_stores_are_sorted_by_root_and_address_and_are_the_store_types():
    document = as_json("sample_infra", SAMPLE_MAP)
    keys = [(s["root"], s["address"]) for s in document["stores"]]
    # 51: 45, the trail bucket of each of the four audit.tf files (CKV_DH_104), the data-science stack's two
    # buckets (CKV_DH_106; its data.aws_s3_bucket.acme_orders is a data source, not a store of the stack)
    assert keys == sorted(keys) and len(keys) == len(set(keys)) == 51
    assert "aws_kms_key" not in {s["type"] for s in document["stores"]}  # a key is not a data store
    assert {s["root"] for s in document["stores"]} == {f"stacks/{name}" for name in (
        "data-science", "observability", "payments", "shared-platform", "tenant-acme", "tenant-globex")}


def test_store_whose_region_cannot_be_resolved_gives_the_reason():
    document = as_json("tests/fixtures/ckv_dh_101", POLICY_MAP)
    row = store(document, "aws_s3_bucket.region_unknown")
    assert row["region"] == unknown(
        "the region in provider \"aws.unset\" (providers.tf:18) is 'var.region_from_pipeline', which could not be "
        "evaluated: var.region_from_pipeline of the root module has no default and no value was given (pass it "
        f"with --var or a tfvars file, as the pipeline does); {FIX_REGION}")
    assert row["tenant"] == known("globex", 'tag tenant = "globex" in tags of aws_s3_bucket.region_unknown '
                                            "(main.tf:60)")
    assert row["account"] == unknown('provider "aws.unset" (providers.tf:18) sets neither allowed_account_ids nor '
                                     "assume_role")
    assert store(document, "aws_sqs_queue.shared_in_home_regions")["tenant"] == NO_TAG
    nested = store(document, "module.acme_nested_wrong.module.bucket.aws_s3_bucket.this")
    assert nested["region"] == known("ap-southeast-2", 'provider "aws.sydney" (providers.tf:13) via '
                                     "module.acme_nested_wrong.module.bucket providers { aws = aws } -> "
                                     "module.acme_nested_wrong providers { aws = aws.sydney }")
    assert (nested["file"], nested["line"]) == ("modules/tenant_bucket/main.tf", 9)
    assert document["copies"] == [] and document["telemetry_flows"] == []


def test_cross_region_and_same_region_copies():
    copies = as_json("sample_infra", SAMPLE_MAP)["copies"]
    assert copies == [
        {"resource": "aws_backup_plan.acme_daily", "mechanism": "AWS Backup copy action",
         "how": 'AWS Backup rule "daily" copy_action',
         "source": {"what": "the backups of aws_backup_plan.acme_daily (replication.tf:67)",
                    "region": known("eu-west-1", 'provider "aws" (providers.tf:3)')},
         "destination": {"what": "destination_vault_arn arn:aws:backup:us-east-1:222222222222:backup-vault:platform-dr",
                         "region": known("us-east-1", "the ARN arn:aws:backup:us-east-1:222222222222:backup-vault:"
                                                      "platform-dr")},
         "cross_region": True},
        {"resource": "aws_s3_bucket_replication_configuration.acme_invoices", "mechanism": "S3 replication",
         "how": 'S3 replication rule "invoices-replica"',
         "source": {"what": "aws_s3_bucket.acme_invoices (main.tf:25)",
                    "region": known("eu-west-1", 'provider "aws" (providers.tf:3)')},
         "destination": {"what": "aws_s3_bucket.acme_invoices_replica (replication.tf:6)",
                         "region": known("eu-west-1", 'provider "aws" (providers.tf:3)')},
         "cross_region": False},
    ]


def test_copy_whose_destination_region_is_unknown_has_cross_region_null():
    copies = as_json("tests/fixtures/ckv_dh_102/s3", FIXTURES / "ckv_dh_102" / "policy_map.yaml")["copies"]
    partner = [c for c in copies if c["resource"] == "aws_s3_bucket_replication_configuration.contracts_to_partner"]
    assert len(partner) == 1
    assert partner[0]["cross_region"] is None
    assert partner[0]["destination"]["what"] == 'bucket "partner-archive-bucket"'
    assert partner[0]["destination"]["region"]["value"] is None
    assert partner[0]["destination"]["region"]["unknown"].startswith(
        'bucket "partner-archive-bucket" is not created in this configuration and S3 ARNs carry no region')
    orders = [c for c in copies if c["resource"] == "aws_s3_bucket_replication_configuration.orders_to_us"]
    assert [(c["source"]["region"]["value"], c["destination"]["region"]["value"], c["cross_region"])
            for c in orders] == [("eu-west-1", "us-east-1", True)]
    assert sum(1 for c in copies if c["cross_region"] is False) == 3


def test_central_telemetry_flows():
    flows = as_json("sample_infra", SAMPLE_MAP)["telemetry_flows"]
    assert {"resource": "aws_flow_log.vpc_rejects_central", "kind": "raw logs: VPC flow logs",
            "destination": '"arn:aws:s3:::central-telemetry-eu-west-1/flow-logs/acme/", which is central: the bucket '
                           'name "central-telemetry-eu-west-1" matches telemetry.central.bucket_name_patterns '
                           '"central-telemetry-*"',
            "central": True, "fields": None} in flows
    assert {"resource": "aws_cloudwatch_event_target.billing_totals", "kind": "telemetry: sends events to",
            "destination": '"arn:aws:events:eu-west-1:111111111111:event-bus/central-telemetry", which is central: '
                           "the ARN's account 111111111111 is in telemetry.central.account_ids",
            "central": True, "fields": ["tenant_id", "billing_total"]} in flows  # as input_paths lists them
    invoice = [f for f in flows if f["resource"] == "aws_cloudwatch_event_target.invoice_events"]
    assert [f["fields"] for f in invoice] == [None]  # ships whole events: no field list
    assert all(f["central"] is True for f in flows)  # nothing undecidable in the sample


def test_flow_whose_destination_cannot_be_told_central_is_listed_with_central_null():
    flows = as_json("tests/fixtures/ckv_dh_30x/raw_logs", FIXTURES / "ckv_dh_30x" / "policy_map.yaml")[
        "telemetry_flows"]
    unresolved = [f for f in flows if f["central"] is None]
    assert unresolved == [{
        "resource": "aws_flow_log.unresolved", "kind": "raw logs: VPC flow logs",
        "destination": 'log_destination = "var.flow_log_destination", which cannot be told central or not: the value '
                       "could not be evaluated; reference the destination resource or give the variable a value",
        "central": None, "fields": None}]


def test_plan_json():
    document = as_json("tests/fixtures/plans/ckv_dh_101.json", POLICY_MAP)
    row = store(document, "aws_s3_bucket.acme_in_us", root=".")
    assert row["file"] == "ckv_dh_101.json"  # relative to the directory of the plan file
    assert row["region"]["value"] == "us-east-1"
    assert row["tenant"]["value"] == "acme"
    assert len(document["stores"]) == len(as_json("tests/fixtures/ckv_dh_101", POLICY_MAP)["stores"])


# --- output formats ------------------------------------------------------------------------------------------

def test_table_is_aligned_columns():
    text = data_map("tests/fixtures/ckv_dh_101", POLICY_MAP, "table")
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("ADDRESS "))
    assert header.split() == ["ADDRESS", "TYPE", "LOCATION", "CLASS", "TENANT", "ACCOUNT", "REGION"]
    row = next(line for line in lines if line.startswith("aws_s3_bucket.region_unknown "))
    assert row.split() == ["aws_s3_bucket.region_unknown", "aws_s3_bucket", "main.tf:60", "confidential", "globex",
                           "unknown", "unknown"]
    assert row.index("main.tf:60") == header.index("LOCATION")
    assert row.index("confidential") == header.index("CLASS")
    assert "is 'var.region_from_pipeline', which could not be evaluated" in text  # the why, further down
    assert "Copies: 0" in text and "Central telemetry flows: 0" in text


def test_csv_one_row_per_store():
    text = data_map("tests/fixtures/ckv_dh_101", POLICY_MAP, "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["address", "type", "file", "line", "root",
                             "class", "class_source", "class_unknown", "tenant", "tenant_source", "tenant_unknown",
                             "account", "account_source", "account_unknown", "region", "region_source",
                             "region_unknown"]
    by_address = {row["address"]: row for row in rows}
    assert len(rows) == len(by_address) == len(as_json("tests/fixtures/ckv_dh_101", POLICY_MAP)["stores"])
    unknown_region = by_address["aws_s3_bucket.region_unknown"]
    assert (unknown_region["region"], unknown_region["region_source"]) == ("", "")
    assert unknown_region["region_unknown"].startswith("the region in provider \"aws.unset\" (providers.tf:18)")
    assert by_address["aws_s3_bucket.acme_in_us"]["region"] == "us-east-1"
    assert by_address["aws_s3_bucket.acme_in_us"]["line"] == "8"


def test_markdown_tables():
    text = data_map("sample_infra", SAMPLE_MAP, "markdown")
    lines = text.splitlines()
    for heading, header in (
            ("### Data stores (51)", "| Store | Type | Location | Class | Tenant | Account | Region |"),
            ("### Copies (2)", "| Resource | Mechanism | Source | Source region | Destination | Destination region "
                               "| Cross-region |"),
            ("### Central telemetry flows (24)", "| Resource | Kind | Central | Destination | Fields |")):
        at = lines.index(heading)
        assert lines[at + 2] == header
        assert set(lines[at + 3].replace("|", "")) == {"-"}
        columns = header.count("|")
        body = [line for line in lines[at + 4:] if line.startswith("| ")]
        body = body[:next((i for i, line in enumerate(lines[at + 4:]) if not line.startswith("| ")), len(body))]
        assert body and all(line.replace("\\|", "").count("|") == columns for line in body)
    assert ("| `aws_s3_bucket.athena_query_results` | `aws_s3_bucket` | `stacks/shared-platform/main.tf:116` | "
            "unknown: aws_s3_bucket.athena_query_results declares no data class") in text
    assert "**eu-west-1** (provider \"aws.eu\" (providers.tf:33) via module.globex_eu_copy providers { aws = " \
           "aws.eu })" in text


def test_markdown_escapes_html_and_pipes_in_values():
    text = data_map("tests/fixtures/inventory/escaping", POLICY_MAP, "markdown")
    row = next(line for line in text.splitlines() if line.startswith("| `aws_s3_bucket.html_in_tags`"))
    assert "<b>" not in row
    assert "**&lt;b&gt;acme&lt;/b&gt;\\|globex &amp; co**" in row
    assert row.replace("\\|", "").count("|") == 8  # seven cells
    tenant = store(as_json("tests/fixtures/inventory/escaping", POLICY_MAP), "aws_s3_bucket.html_in_tags")["tenant"]
    assert tenant["value"] == "<b>acme</b>|globex & co"  # JSON carries the value as written


def test_output_file(tmp_path):
    destination = tmp_path / "out" / "map.json"
    done = run("inventory", "tests/fixtures/ckv_dh_101", "--policy-map", str(POLICY_MAP), "-o", "json",
               "--output-file", str(destination))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert json.loads(destination.read_text()) == as_json("tests/fixtures/ckv_dh_101", POLICY_MAP)


# --- errors --------------------------------------------------------------------------------------------------

def _one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("data-handling: error: ")]
    assert len(errors) == 1, done.stderr
    for fragment in fragments:
        assert fragment in errors[0]
    assert done.stdout == ""


def test_bad_path_exits_two(tmp_path):
    _one_line_error(run("inventory", str(tmp_path / "missing"), "--policy-map", str(POLICY_MAP)), "no such file")
    _one_line_error(run("inventory", str(tmp_path), "--policy-map", str(POLICY_MAP)), "no Terraform")


def test_bad_policy_map_exits_two(tmp_path):
    broken = tmp_path / "map.yaml"
    broken.write_text("version: 1\nclassification:\n  defaults: confidential\n")
    _one_line_error(run("inventory", "tests/fixtures/clean", "--policy-map", str(broken)),
                    str(broken), "classification.defaults", "unknown key")
    _one_line_error(run("inventory", "tests/fixtures/clean", "--policy-map", str(tmp_path / "nope.yaml")),
                    "nope.yaml", "not found")


def test_bad_plan_and_malformed_terraform_exit_two(tmp_path):
    not_a_plan = tmp_path / "plan.json"
    not_a_plan.write_text('{"hello": "world"}')
    _one_line_error(run("inventory", str(not_a_plan), "--policy-map", str(POLICY_MAP)), str(not_a_plan))
    _one_line_error(run("inventory", "tests/fixtures/malformed", "--policy-map", str(POLICY_MAP)),
                    "is not valid HCL", "malformed/main.tf")


def test_no_check_ran_is_an_error_not_an_empty_map(tmp_path):
    from data_handling.policy.catalogue import CATALOGUE

    disabled = tmp_path / "map.yaml"
    disabled.write_text("version: 1\nchecks:\n" + "".join(f"  {check_id}: {{enabled: false}}\n"
                                                           for check_id in CATALOGUE))
    _one_line_error(run("inventory", "tests/fixtures/ckv_dh_101", "--policy-map", str(disabled)),
                    "no data-handling check evaluated the scanned resources")


# --- the scan's job summary, and layering ---------------------------------------------------------------------

def test_scan_summary_embeds_the_data_map_collapsed(tmp_path):
    summary_file = tmp_path / "summary.md"
    done = run("scan", "tests/fixtures/inventory/escaping", "--policy-map", str(POLICY_MAP),
               "--summary-file", str(summary_file), "--repo-root", str(REPO))
    assert done.returncode == 1, done.stderr  # a tenant residency.tenants does not list: a CKV_DH_101 finding
    text = summary_file.read_text()
    assert text.startswith("## Data-handling checks")
    lines = text.splitlines()
    at = lines.index("<details><summary>Data map</summary>")
    assert lines[at + 2] == "| Store | Type | Location | Class | Tenant | Account | Region |"
    row = lines[at + 4]
    assert row.startswith("| `aws_s3_bucket.html_in_tags` | `aws_s3_bucket` | "
                          "`tests/fixtures/inventory/escaping/main.tf:8` | **confidential** ")  # paths as the findings'
    assert "**&lt;b&gt;acme&lt;/b&gt;\\|globex &amp; co**" in row and "<b>" not in text
    assert lines[at + 6] == "</details>"


def test_summary_escapes_html_in_finding_text(tmp_path):
    from data_handling.output import summary
    from data_handling.output.findings import Finding, Location

    location = Location(tmp_path / "main.tf", 1, 2)
    finding = Finding("CKV_DH_101", "n", "aws_s3_bucket.x", "HIGH", ("Found: tag <b>x</b> | y & z",), location,
                      None, None)
    text = summary.render([finding], [], tmp_path, target=".", policy_map="m.yaml", environment={},
                          data_map="| Store |\n|---|\n| `a` |")
    assert "tag &lt;b&gt;x&lt;/b&gt; \\| y &amp; z" in text
    assert text.rstrip().endswith("<details><summary>Data map</summary>\n\n| Store |\n|---|\n| `a` |\n\n</details>")
    assert summary.code("a|b`c") == "`` a\\|b`c ``"


def test_check_docs_does_not_import_the_cli():
    probe = ("import sys, data_handling.output.check_docs as docs\n"
             "assert 'data_handling.cli' not in sys.modules, 'check_docs imported the CLI'\n"
             "assert docs._check_docstring('CKV_DH_100')[0] == 'checks/dh_100_store_classified.py'\n"
             "assert 'data_handling.cli' not in sys.modules\n"
             "from data_handling import cli\n"
             "from data_handling.checkov_adapter import checks_location\n"
             "assert cli.ScanError is checks_location.ScanError and cli.checks_dir is checks_location.checks_dir\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("output", ["table", "json"])
def test_every_format_is_deterministic_across_runs(output):
    first = data_map("tests/fixtures/ckv_dh_101", POLICY_MAP, output)
    done = run("inventory", "tests/fixtures/ckv_dh_101", "--policy-map", str(POLICY_MAP), "--output", output)
    assert done.returncode == 0 and done.stdout == first
