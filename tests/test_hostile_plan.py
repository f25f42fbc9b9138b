"""Hostile plans (issue 14, items 8 and 4): each refused with exit 2 and one line naming the file and the JSON path.

Every case is a real plan fixture mutated the way an attacker (or a broken pipeline) could, scanned through the
real CLI in a subprocess. Before the fix, `change: null` and its kind crashed checkov with a traceback, JSON
nested 100,000 deep exited 1 with a RecursionError, and a plan without `planned_values` exited 0 although its
resources were never checked.

tests/fixtures/plans/lifecycle/ holds real `terraform show -json` output (Terraform 1.11, built-in
`terraform_data` resources so no provider credentials are needed) of the plans that must still be accepted:
no resources at all (`empty`), nothing to change (`no_changes`), `terraform plan -destroy` (`destroy_only`:
`planned_values.root_module` is `{}`) and `terraform plan -target=...` (`targeted`: `complete` is false).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import FIXTURES

BASE = FIXTURES / "plans" / "ckv_dh_100_tags.json"
LIFECYCLE = FIXTURES / "plans" / "lifecycle"
VIOLATION = ("CKV_DH_100", "aws_s3_bucket.no_class")  # a store with no class: fails under any policy map
MAX_STDERR = 1_000


def _scan(path: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "data_handling.cli", "scan", str(path), *args],
                          cwd=cwd or path.parent, capture_output=True, text=True, timeout=120)


def _assert_refused(done: subprocess.CompletedProcess, *fragments: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr + done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr[:2000]
    assert lines[0].startswith("data-handling: error: "), lines[0][:300]
    assert len(done.stderr) < MAX_STDERR, len(done.stderr)
    assert len(done.stdout) < MAX_STDERR
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _base() -> dict[str, Any]:
    return json.loads(BASE.read_text())


def _first_resource(plan: dict[str, Any]) -> dict[str, Any]:
    return plan["planned_values"]["root_module"]["resources"][0]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets the node at a dotted path (integers index arrays)."""
    def mutate(plan: dict[str, Any]) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        node: Any = plan
        for part in parents:
            node = node[part]
        node[last] = value
    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(plan: dict[str, Any]) -> None:
        *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
        node: Any = plan
        for part in parents:
            node = node[part]
        del node[last]
    return mutate


# (id, mutation, fragments of the one-line error)
MALFORMED: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("change-null", _set("resource_changes.3.change", None),
     ("plan.json: malformed plan: resource_changes[3].change: expected an object, got null",)),
    ("change-string", _set("resource_changes.0.change", "create"), ("resource_changes[0].change", "a string")),
    ("change-array", _set("resource_changes.0.change", []), ("resource_changes[0].change", "an array")),
    ("change-missing", _delete("resource_changes.0.change"), ("resource_changes[0].change: missing",)),
    ("entry-null", _set("resource_changes.1", None), ("resource_changes[1]: expected an object, got null",)),
    ("address-missing", _delete("resource_changes.0.address"), ("resource_changes[0].address: missing",)),
    ("address-number", _set("resource_changes.0.address", 7), ("resource_changes[0].address", "a number")),
    ("type-number", _set("resource_changes.0.type", 7), ("resource_changes[0].type", "a number")),
    ("type-null", _set("resource_changes.0.type", None), ("resource_changes[0].type", "null")),
    ("type-empty", _set("resource_changes.0.type", ""), ("resource_changes[0].type", "empty")),
    ("mode-unknown", _set("resource_changes.0.mode", "ephemeral"), ("resource_changes[0].mode",)),
    ("module-address-number", _set("resource_changes.0.module_address", 1), ("resource_changes[0].module_address",)),
    ("actions-null", _set("resource_changes.0.change.actions", None), ("resource_changes[0].change.actions",)),
    ("actions-numbers", _set("resource_changes.0.change.actions", [1]), ("resource_changes[0].change.actions[0]",)),
    ("before-string", _set("resource_changes.0.change.before", "x"), ("resource_changes[0].change.before",)),
    ("after-array", _set("resource_changes.0.change.after", [1]), ("resource_changes[0].change.after",)),
    ("tags-string", _set("resource_changes.0.change.after.tags", "x"), ("resource_changes[0].change.after.tags",)),
    ("tag-value-object", _set("resource_changes.0.change.after.tags", {"data_class": {"a": 1}}),
     ("resource_changes[0].change.after.tags.data_class",)),
    ("planned-null", _set("planned_values", None), ("planned_values: expected an object, got null",)),
    ("planned-resource-null", _set("planned_values.root_module.resources.0", None),
     ("planned_values.root_module.resources[0]",)),
    ("planned-values-string", lambda plan: _first_resource(plan).__setitem__("values", "x"),
     ("planned_values.root_module.resources[0].values",)),
    ("planned-type-number", lambda plan: _first_resource(plan).__setitem__("type", 1),
     ("planned_values.root_module.resources[0].type",)),
    ("planned-children-string", _set("planned_values.root_module.child_modules", "x"),
     ("planned_values.root_module.child_modules",)),
    ("configuration-null", _set("configuration", None), ("configuration: expected an object, got null",)),
    ("config-resources-string", _set("configuration.root_module.resources", "x"),
     ("configuration.root_module.resources",)),
    ("config-resource-null", _set("configuration.root_module.resources.0", None),
     ("configuration.root_module.resources[0]",)),
    ("config-references-numbers", _set("configuration.root_module.resources.0.expressions.bucket",
                                       {"references": [1]}),
     ("configuration.root_module.resources[0].expressions.bucket.references[0]",)),
    ("module-calls-array", _set("configuration.root_module.module_calls", [1]),
     ("configuration.root_module.module_calls",)),
    ("provider-null", _set("configuration.provider_config.aws", None), ("configuration.provider_config.aws",)),
    ("provider-expressions-string", _set("configuration.provider_config.aws.expressions", "x"),
     ("configuration.provider_config.aws.expressions",)),
    ("variables-array", _set("variables", [1]), ("variables: expected an object",)),
    ("prior-state-string", _set("prior_state", "x"), ("prior_state",)),
    ("prior-state-resource-null", _set("prior_state", {"values": {"root_module": {"resources": [None]}}}),
     ("prior_state.values.root_module.resources[0]",)),
    ("terraform-version-number", _set("terraform_version", 1), ("terraform_version",)),
    # Found by tests/fuzz/test_fuzz_plan.py: each crashed checkov's plan parser
    ("after-missing", _delete("resource_changes.0.change.after"), ("resource_changes[0].change.after: missing",)),
    ("provider-expressions-null", _set("configuration.provider_config.aws.expressions", None),
     ("configuration.provider_config.aws.expressions: expected an object, got null",)),
    ("expression-scalar", _set("configuration.root_module.resources.0.expressions.bucket", "scratch"),
     ("configuration.root_module.resources[0].expressions.bucket",)),
    ("planned-resources-null", _set("planned_values.root_module.resources", None),
     ("planned_values.root_module.resources: expected an array, got null",)),
    ("duplicate-address", lambda plan: plan["resource_changes"].append(copy.deepcopy(plan["resource_changes"][0])),
     ("appears twice",)),
]




# Item 4: a plan checkov would skip, or in which it would not see a resource, is not a complete plan.
INCOMPLETE: list[tuple[str, Callable[[dict[str, Any]], None], tuple[str, ...]]] = [
    ("no-planned-values", _delete("planned_values"),
     ("not a complete plan", "planned_values.root_module", "terraform show -json")),
    ("planned-values-without-root", _set("planned_values", {}), ("not a complete plan", "planned_values.root_module")),
    ("no-terraform-version", _delete("terraform_version"), ("not a complete plan", "terraform_version")),
    ("resource-left-out-of-planned-values", lambda plan: plan["planned_values"]["root_module"].__setitem__(
        "resources", [r for r in plan["planned_values"]["root_module"]["resources"] if r["address"] != VIOLATION[1]]),
     ("not a complete plan", VIOLATION[1], "not in planned_values")),
    ("no-planned-resources", _set("planned_values.root_module.resources", []), ("not a complete plan",)),
]


@pytest.fixture(scope="module")
def refused(tmp_path_factory) -> dict[str, subprocess.CompletedProcess]:
    """Every mutated plan of MALFORMED and INCOMPLETE scanned once, a few at a time (each is a CLI start-up)."""
    runs = {}
    with ThreadPoolExecutor(max_workers=4) as pool:
        for name, mutate, _ in MALFORMED + INCOMPLETE:
            plan = _base()
            mutate(plan)
            path = tmp_path_factory.mktemp(name) / "plan.json"
            path.write_text(json.dumps(plan))
            runs[name] = pool.submit(_scan, path)
    return {name: run.result() for name, run in runs.items()}


@pytest.mark.parametrize(("name", "fragments"), [(c[0], c[2]) for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_a_malformed_plan_is_refused_naming_the_path(refused, name: str, fragments):
    _assert_refused(refused[name], "malformed plan", *fragments)


@pytest.mark.parametrize(("name", "fragments"), [(c[0], c[2]) for c in INCOMPLETE], ids=[c[0] for c in INCOMPLETE])
def test_an_incomplete_plan_is_refused(refused, name: str, fragments):
    _assert_refused(refused[name], *fragments)


def _with_raw_value(text: str) -> str:
    """The base plan's text with one extra top-level key holding raw JSON `text`."""
    return BASE.read_text().rstrip().removesuffix("}") + f', "x_hostile": {text}}}\n'


@pytest.mark.parametrize(("content", "fragments"), [
    ("[" * 100_000 + "]" * 100_000, ("nested deeper than 100",)),
    (_with_raw_value("[" * 100_000 + "]" * 100_000), ("nested deeper than 100",)),
    # json parses it, but checkov's YAML loader stops at about 200 (and skips the file)
    (_with_raw_value("[" * 199 + "]" * 199), ("nested deeper than 100",)),
    (_with_raw_value("NaN"), ("NaN is not a JSON value",)),
    (BASE.read_text().replace('"assume_role_policy": "{}"', '"assume_role_policy": "' + "[" * 5000 + "]" * 5000 + '"'),
     ("JSON in a string nested deeper than 100",)),  # a policy document checkov and the model json.loads
    (BASE.read_text().replace('"format_version"', '"planned_values": {}, "format_version"', 1), ("appears twice",)),
    (BASE.read_text().replace('"aws_s3_bucket.no_class"', '"aws_s3_bucket.no_class\\ud800"', 1),
     ("surrogate",)),
    # Valid JSON that checkov's YAML loader cannot read: plain checkov skips the file (exit 0)
    (BASE.read_text().replace('"aws_s3_bucket.no_class"', '"aws_s3_bucket.no_class\\ud83d\\ude00"', 1),
     ("surrogate", "checkov cannot read it")),
    (BASE.read_text().replace('"aws_s3_bucket.no_class"', '"aws_s3_bucket.no_class\x80"', 1),
     ("U+0080", "checkov cannot read it")),
    (BASE.read_text()[:5000], ("not JSON",)),  # truncated: plain checkov skips it and exits 0
    ('{"format_version": "1.2", "resource_changes": [], "terraform_version": "1.11.4", "x": 1' + "9" * 5000 + "}",
     ("not JSON",)),  # an integer literal past Python's conversion limit
], ids=["deep-array", "deep-value", "199-deep", "nan", "deep-policy-string", "duplicate-key", "surrogate",
     "surrogate-pair", "c1-control",
     "truncated", "huge-integer"])
def test_json_a_reader_would_choke_on_is_refused(tmp_path: Path, content: str, fragments):
    path = tmp_path / "plan.json"
    path.write_text(content, encoding="utf-8")
    _assert_refused(_scan(path), "plan.json: ", *fragments)


def test_a_plan_too_large_to_parse_is_refused_before_reading(tmp_path: Path):
    path = tmp_path / "plan.json"
    with open(path, "wb") as handle:  # sparse: no disk space used
        handle.truncate(3 * 1024**3)
    _assert_refused(_scan(path), "too large to scan")


def test_a_fifo_named_like_a_plan_is_refused_without_blocking(tmp_path: Path):
    path = tmp_path / "plan.json"
    os.mkfifo(path)  # no writer: reading it would block for ever
    _assert_refused(_scan(path), "not a regular file")


def test_hostile_text_in_a_json_path_stays_on_one_bounded_line(tmp_path: Path):
    plan = _base()
    plan["configuration"]["provider_config"] = {"aws\n::error::owned" + "k" * 100_000: None}
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    done = _scan(path)
    _assert_refused(done, "configuration.provider_config")
    assert "\n::error::" not in done.stderr


def test_the_unmodified_plan_still_reports_its_violation(tmp_path: Path):
    """Positive control: the fixture every mutation starts from is accepted and fails where expected."""
    done = _scan(BASE, "--output", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    failed = {(c["check_id"], c["resource"]) for c in json.loads(done.stdout)["results"]["failed_checks"]}
    assert VIOLATION in failed


def test_a_plan_with_unknown_keys_is_still_scanned(tmp_path: Path):
    """Newer Terraform versions add keys: validation checks what the readers read, not an exact schema."""
    plan = _base()
    plan["x_future"] = {"anything": [1, None]}
    plan["resource_changes"][0]["x_future"] = None
    plan["resource_changes"][0]["change"]["x_future"] = "x"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    done = _scan(path, "--output", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr[-2000:]
    assert VIOLATION in {(c["check_id"], c["resource"]) for c in json.loads(done.stdout)["results"]["failed_checks"]}


@pytest.mark.parametrize("name", ["empty", "no_changes", "destroy_only", "targeted"])
def test_real_plans_without_new_resources_are_accepted(tmp_path: Path, name: str):
    done = _scan(LIFECYCLE / f"{name}.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr

