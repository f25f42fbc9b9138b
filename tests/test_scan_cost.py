"""The mechanisms that keep the checks cheap (issue 13) change nothing the checks conclude.

- checkov's parse is shared with the model (model/raw_hcl.py, checkov_adapter/shared_parse.py): a document is
  taken only for the exact text it was parsed from, and every reader gets its own copy;
- facts every check asks (class, tenant, provider) are derived once per resource and policy map
  (Infrastructure.derived), never served for another object that happens to reuse an id;
- the policy map is read once per scanned graph (state.policy_for_graph);
- checkov's heap is frozen while the checks run and released when the CLI starts the next scan.

The speed itself is measured by benchmarks/bench_scan.py, not here.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import hcl2

from conftest import REPO, build_model, write_tree
from data_handling.model import raw_hcl
from data_handling.model.classification import classify, tenant_of
from data_handling.model.infrastructure import Infrastructure
from data_handling.model.records import Resource
from data_handling.policy.loader import load

BUCKET = """
provider "aws" {
  region = "eu-west-1"
  default_tags {
    tags = { data_class = "confidential", tenant = "acme" }
  }
}

resource "aws_s3_bucket" "data" {
  bucket = "acme-data"
}
"""


def test_a_shared_document_is_used_only_for_the_text_it_was_parsed_from(tmp_path: Path):
    raw_hcl.clear()
    path = tmp_path / "main.tf"
    path.write_text(BUCKET)
    # A planted document for this exact text is what the model reads (so sharing is really used) ...
    planted = {"resource": [{"aws_s3_bucket": {"planted": {}}}]}
    raw_hcl.share(BUCKET, planted)
    assert raw_hcl.parsed(str(path)) == planted
    # ... and a file that differs by one byte is parsed from its own text.
    path.write_text(BUCKET + "\n")
    assert raw_hcl.parsed(str(path)) == hcl2.loads(BUCKET + "\n")
    raw_hcl.clear()
    assert raw_hcl.shared_documents() == 0


def test_every_reader_gets_its_own_copy(tmp_path: Path):
    raw_hcl.clear()
    path = tmp_path / "main.tf"
    path.write_text(BUCKET)
    raw_hcl.share(BUCKET, hcl2.loads(BUCKET))
    first = raw_hcl.parsed(str(path))
    first["resource"].clear()  # checkov mutates its documents while it expands modules; so may a caller
    assert raw_hcl.parsed(str(path)) == hcl2.loads(BUCKET)
    raw_hcl.clear()


def test_an_unparsable_file_is_still_unreadable(tmp_path: Path):
    path = tmp_path / "main.tf"
    path.write_text('resource "aws_s3_bucket" {\n')
    assert raw_hcl.parsed(str(path)) is None


def test_the_shared_store_is_bounded(monkeypatch):
    raw_hcl.clear()
    monkeypatch.setattr(raw_hcl, "SHARED_LIMIT_BYTES", 2_000)
    for index in range(50):
        raw_hcl.share(f"# {index}\n", {"locals": [{"value": "x" * 100}]})
    assert 0 < raw_hcl.shared_documents() < 50
    raw_hcl.clear()


def test_checkov_shares_what_it_parsed_and_the_model_reads_it(tmp_path: Path):
    """In a real checkov scan every .tf file checkov parsed reaches the model without a second parse."""
    write_tree(tmp_path, {"main.tf": BUCKET, "modules/store/main.tf": 'resource "aws_sqs_queue" "q" {}\n',
                          "root.tf": 'module "store" {\n  source = "./modules/store"\n}\n'})
    script = f"""
import json, sys
import hcl2
import data_handling.checkov_adapter.shared_parse  # what importing the checks installs
from data_handling.model import raw_hcl
parses = []
real = hcl2.loads
def counting(text):
    parses.append(text)
    return real(text)
import data_handling.model.raw_hcl as module
from checkov.main import Checkov
try:
    Checkov(argv=["-d", {str(tmp_path)!r}, "--framework", "terraform", "--skip-download", "--quiet",
                  "--compact", "-o", "json", "--check", "CKV_AWS_20"]).run()
except SystemExit:
    pass
shared = raw_hcl.shared_documents()
hcl2.loads = counting
module_parse = [raw_hcl.parsed(p) for p in sys.argv[1:]]
print(json.dumps({{"shared": shared, "parsed_again": len(parses),
                  "same": all(doc == real(open(p).read()) for doc, p in zip(module_parse, sys.argv[1:]))}}))
"""
    files = [str(tmp_path / name) for name in ("main.tf", "root.tf", "modules/store/main.tf")]
    completed = subprocess.run([sys.executable, "-c", script, *files], capture_output=True, text=True,
                               cwd=REPO, timeout=300)
    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    assert outcome == {"shared": 3, "parsed_again": 0, "same": True}


def test_derived_facts_are_computed_once_and_never_for_another_object(tmp_path: Path):
    infra = build_model(write_tree(tmp_path, {"main.tf": BUCKET}))
    policy = load(str(REPO / "policy_map.yaml")).policy
    bucket = next(r for r in infra.resources if r.type == "aws_s3_bucket")
    calls = []
    assert infra.derived("probe", bucket, policy, lambda: calls.append(1) or "first") == "first"
    assert infra.derived("probe", bucket, policy, lambda: calls.append(1) or "second") == "first"
    assert calls == [1]
    # Another policy map object is another question.
    other_policy = load(str(REPO / "policy_map.yaml")).policy
    assert infra.derived("probe", bucket, other_policy, lambda: "other") == "other"
    # A resource made on the fly may reuse a freed object's id: it must not get that object's facts.
    standalone = Infrastructure([], [], [])
    first = Resource(address="aws_s3_bucket.a", type="aws_s3_bucket", name="a", root_dir="", module="",
                     config={"tags": {"data_class": "public"}}, file_path="a.tf")
    assert classify(first, standalone, policy).effective == "public"
    del first
    gc.collect()
    second = Resource(address="aws_s3_bucket.b", type="aws_s3_bucket", name="b", root_dir="", module="",
                      config={"tags": {"data_class": "restricted", "tenant": "globex"}}, file_path="b.tf")
    assert classify(second, standalone, policy).effective == "restricted"
    assert tenant_of(second, standalone, policy).value == "globex"


def test_memoised_class_tenant_and_region_equal_a_fresh_derivation(tmp_path: Path):
    infra = build_model(write_tree(tmp_path, {"main.tf": BUCKET}))
    policy = load(str(REPO / "policy_map.yaml")).policy
    bucket = next(r for r in infra.resources if r.type == "aws_s3_bucket")
    asked_twice = [(classify(bucket, infra, policy), tenant_of(bucket, infra, policy), infra.region_of(bucket))
                   for _ in range(2)]
    assert asked_twice[0] == asked_twice[1]
    assert asked_twice[0][0].effective == "confidential"
    assert asked_twice[0][1].value == "acme"
    assert asked_twice[0][2].value == "eu-west-1"


def test_policy_is_read_once_per_graph_and_again_for_the_next(monkeypatch):
    from data_handling.checkov_adapter import state

    reads = []
    monkeypatch.setattr(state, "current_policy", lambda: reads.append(1) or f"policy {len(reads)}")
    state.run_record.reset()
    graph, next_graph = object(), object()
    assert [state.policy_for_graph(graph) for _ in range(3)] == ["policy 1"] * 3
    assert state.policy_for_graph(next_graph) == "policy 2"
    assert state.policy_for_graph(None) == "policy 3"  # no graph (a plan or .tf.json scan): read each time
    assert state.policy_for_graph(None) == "policy 4"
    state.run_record.reset()
    assert state.policy_for_graph(next_graph) == "policy 5"  # a new scan reads the map again
    state.run_record.reset()


def test_the_heap_is_frozen_for_the_check_loop_and_released_by_the_next_scan():
    from data_handling.checkov_adapter import state

    state.run_record.reset()
    assert gc.get_freeze_count() == 0
    state._freeze_checkov_heap()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    state._freeze_checkov_heap()  # once per scan
    assert gc.get_freeze_count() == frozen
    state.run_record.reset()
    assert gc.get_freeze_count() == 0


def _resource(address: str, root: str, config: dict) -> Resource:
    kind, name = address.rsplit(".", 2)[-2:]
    return Resource(address=address, type=kind, name=name, root_dir=root, module="", config=config, file_path="m.tf")


def test_named_finds_what_a_walk_over_the_type_finds_in_model_order():
    """Infrastructure.named (an index per type and attribute) returns the candidates a walk over every resource
    of the types in the same root returns: text compared without surrounding spaces, other roots, other types and
    values that are not text left out, several types in model order."""
    block_a = _resource("aws_s3_bucket_public_access_block.a", "/r1", {"bucket": ["data"]})
    other_root = _resource("aws_s3_bucket_public_access_block.b", "/r2", {"bucket": ["data"]})
    spaced = _resource("aws_s3_bucket_logging.c", "/r1", {"bucket": [" data "]})
    block_d = _resource("aws_s3_bucket_public_access_block.d", "/r1", {"bucket": ["data"]})
    not_text = _resource("aws_s3_bucket_public_access_block.e", "/r1", {"bucket": [{"name": "data"}]})
    other_name = _resource("aws_s3_bucket_public_access_block.f", "/r1", {"bucket": ["logs"]})
    bucket = _resource("aws_s3_bucket.data", "/r1", {"bucket": ["data"]})
    infra = Infrastructure([block_a, other_root, spaced, block_d, not_text, other_name, bucket], [], [])
    assert infra.named(bucket, ("aws_s3_bucket_public_access_block",), "bucket", "data") == [block_a, block_d]
    assert infra.named(bucket, ("aws_s3_bucket_public_access_block", "aws_s3_bucket_logging"), "bucket",
                       " data") == [block_a, spaced, block_d]
    assert infra.named(other_root, ("aws_s3_bucket_public_access_block",), "bucket", "data") == [other_root]
    assert infra.named(bucket, ("aws_s3_bucket_public_access_block",), "bucket", "nothing") == []
    walked = [r for r in infra.in_same_root(bucket, "aws_s3_bucket_public_access_block", "aws_s3_bucket_logging")
              if (r.text("bucket") or "").strip() == "data"]
    assert infra.named(bucket, ("aws_s3_bucket_public_access_block", "aws_s3_bucket_logging"), "bucket",
                       "data") == walked


def test_model_wide_facts_are_kept_with_their_model_and_asked_again_for_another_policy():
    infra, other = Infrastructure([], [], []), Infrastructure([], [], [])
    policy, other_policy = object(), object()
    calls = []
    assert infra.of_model("probe", policy, lambda: calls.append(1) or "first") == "first"
    assert infra.of_model("probe", policy, lambda: calls.append(1) or "again") == "first"
    assert infra.of_model("probe", other_policy, lambda: "other policy") == "other policy"
    assert other.of_model("probe", policy, lambda: "other model") == "other model"
    assert calls == [1]


def test_the_cli_lets_the_models_go_before_checkov_prints(tmp_path: Path, monkeypatch):
    """The serial scan reads what the verdict and summary need from the models when the Terraform runner's resource
    checks end, then drops them, before checkov's graph checks and output run (they reuse the models' memory):
    nothing keeps a model alive after that."""
    import weakref

    from checkov.terraform.base_runner import BaseTerraformRunner

    from data_handling import cli
    from data_handling.checkov_adapter import state
    from data_handling.checkov_adapter.isolation import run_checkov

    write_tree(tmp_path, {"main.tf": BUCKET})
    seen: list[weakref.ref] = []
    released = state.release_models

    def release() -> None:
        seen.extend(weakref.ref(model) for model in state.models_used())
        released()

    monkeypatch.setattr(state, "release_models", release)
    alive_at_graph_checks: list[list] = []
    graph_checks = BaseTerraformRunner.get_graph_checks_report

    def recording_graph_checks(self, *args, **kwargs):
        alive_at_graph_checks.append([ref() for ref in seen])
        return graph_checks(self, *args, **kwargs)

    monkeypatch.setattr(BaseTerraformRunner, "get_graph_checks_report", recording_graph_checks)
    alive_at_print = []

    def checking_run(arguments, quiet, amend=None, output=True, **options):
        def amended(reports):
            amend(reports)
            alive_at_print.append([ref() for ref in seen])
        return run_checkov(arguments, quiet, amended, output, **options)

    monkeypatch.setattr("data_handling.checkov_adapter.isolation.run_checkov", checking_run)
    summary = tmp_path / "summary.md"
    code = cli.main(["scan", str(tmp_path), "--policy-map", str(REPO / "policy_map.yaml"), "--jobs", "1",
                     "--summary-file", str(summary)])
    assert code == 1  # the bucket has no public access block (CKV_DH_103) and no audit trail (CKV_DH_104)
    assert len(seen) == 1 and alive_at_print == [[None]]
    assert alive_at_graph_checks and alive_at_graph_checks[0] == [None]  # gone before the first graph checks ran
    assert "aws_s3_bucket.data" in summary.read_text()  # the data map was read from the model before it went


def test_garbage_waiting_for_a_collection_is_freed_before_the_heap_is_frozen():
    """A cycle that became garbage before the freeze would stay in the frozen heap for the whole scan."""
    import weakref

    from data_handling.checkov_adapter import state

    class Node:
        pass

    state.run_record.reset()
    gc.disable()  # no automatic collection between making the garbage and the freeze
    try:
        node = Node()
        node.self = node
        left = weakref.ref(node)
        del node
        assert left() is not None  # a cycle: only the collector frees it
        state._freeze_checkov_heap()
        assert left() is None
    finally:
        gc.enable()
        state.run_record.reset()


def test_sarif_alone_has_checkov_render_nothing(tmp_path: Path, monkeypatch, capsys):
    """With only our SARIF asked for, checkov's console output would be discarded: checkov is not asked to
    render it (the console text of every record, about 0.2 s CPU at 8,000 resources), and the SARIF is complete."""
    from checkov.common.runners.runner_registry import RunnerRegistry

    from data_handling import cli

    write_tree(tmp_path, {"main.tf": BUCKET})
    printed: list[int] = []
    print_reports = RunnerRegistry.print_reports

    def counting(self, *args, **kwargs):
        printed.append(1)
        return print_reports(self, *args, **kwargs)

    monkeypatch.setattr(RunnerRegistry, "print_reports", counting)
    code = cli.main(["scan", str(tmp_path), "--policy-map", str(REPO / "policy_map.yaml"), "--jobs", "1",
                     "-o", "sarif"])
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    assert code == 1 and printed == []
    assert {result["ruleId"] for result in results} >= {"CKV_DH_103", "CKV_DH_104"}
    code = cli.main(["scan", str(tmp_path), "--policy-map", str(REPO / "policy_map.yaml"), "--jobs", "1",
                     "-o", "sarif", "-o", "json"])
    assert code == 1 and printed == [1]  # checkov's JSON was asked for: checkov prints it


def test_the_data_map_keeps_what_each_runner_read_before_its_models_went(tmp_path: Path):
    """The models are let go as each Terraform runner's resource checks end (HCL, then Terraform JSON): the summary's
    data map still lists the stores of both, as read before each let go."""
    from data_handling import cli

    write_tree(tmp_path, {
        "hcl/main.tf": BUCKET,
        "from_json/main.tf.json": json.dumps({
            "provider": {"aws": {"region": "eu-west-1"}},
            "resource": {"aws_dynamodb_table": {"ledger": {
                "name": "ledger", "hash_key": "id", "attribute": [{"name": "id", "type": "S"}],
                "tags": {"data_class": "Internal"}}}},
        }),
    })
    summary = tmp_path / "summary.md"
    cli.main(["scan", str(tmp_path), "--policy-map", str(REPO / "policy_map.yaml"), "--jobs", "1",
              "--summary-file", str(summary)])
    text = summary.read_text()
    assert "aws_s3_bucket.data" in text and "aws_dynamodb_table.ledger" in text


def test_a_digest_of_no_models_has_empty_rows_when_a_summary_is_asked_for(tmp_path: Path):
    """A --jobs worker whose checks evaluated no model still hands the summary its (empty) rows, not "no rows"."""
    from data_handling.checkov_adapter.scan_facts import ModelDigest
    from data_handling.checkov_adapter.state import run_record

    run_record.reset()
    assert ModelDigest(tmp_path, lambda: None).finish(tmp_path, []).rows == []
    assert ModelDigest(None, lambda: None).finish(tmp_path, []).rows is None
