"""Fuzzing the plan loader (model/plan_source.py, model/plan_shape.py): the plan may come from a pull request.

Properties:

1. Any bytes, and any mutation of a real plan (a node replaced by null, a number, a string, an array, an object
   or deep nesting; a key deleted; an element duplicated; the text truncated or corrupted), end within the
   time and memory bound in a plan that `build_from_plan` turns into a model, or in a PlanError whose message
   is one bounded line naming the file: never another exception; and
   checkov's plan parser reads every accepted plan without an exception (tests/test_hostile_plan.py checks
   the whole CLI for each shape).
2. Never a silent pass: mutations that cannot change what the plan means (unknown keys added anywhere, object
   keys reordered, resources listed in another order) leave `aws_s3_bucket.no_class` of
   tests/fixtures/plans/ckv_dh_100_tags.json failing CKV_DH_100, and in `planned_values` (where checkov finds
   the resources it calls the checks for), or get the plan refused. Mutations that can legitimately remove the
   violation (its tags, the provider's default_tags, its type) are kept out of this property on purpose.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from checkov.terraform.plan_parser import parse_tf_plan
from hypothesis import example, given, settings
from hypothesis import strategies as st

from data_handling.model.plan_shape import MAX_DEPTH
from data_handling.model.plan_source import PlanError, build_from_plan, load_plan
from data_handling.policy.loader import packaged_default_path, parse
from data_handling.rules import store_classified

from .bounds import bounded
from .conftest import LONG_DEADLINES

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "tests" / "fixtures" / "plans"
VIOLATING_PLAN = PLANS / "ckv_dh_100_tags.json"
VIOLATION = "aws_s3_bucket.no_class"
SEED_FILES = [VIOLATING_PLAN, PLANS / "ckv_dh_30x_modules.json", PLANS / "terraform" / "evaluator_count_zero.json",
              PLANS / "lifecycle" / "destroy_only.json", PLANS / "ckv_dh_102_copies.json"]
SEEDS = [json.loads(path.read_text()) for path in SEED_FILES]
MAX_MESSAGE = 600  # a path of long keys is cut by one_line; the message stays short
POLICY, _ = parse(packaged_default_path().read_text(), "default_policy_map.yaml")
_SCRATCH = tempfile.mkdtemp(prefix="fuzz-plan-")


def _write(content: bytes) -> str:
    path = os.path.join(_SCRATCH, "plan.json")
    with open(path, "wb") as handle:
        handle.write(content)
    return path


def load_and_build(content: bytes) -> Any:
    """The model of `content` as a plan file, or None when refused; asserts the refusal is one bounded line."""
    path = _write(content)
    with bounded(seconds=5):
        try:
            plan = load_plan(path)
        except PlanError as error:
            message = str(error)
            assert message.startswith(path + ":"), message[:300]
            assert "\n" not in message and "\r" not in message, message[:300]
            assert len(message) <= MAX_MESSAGE, len(message)
            return None
        infra = build_from_plan(plan, path)
        # What checkov's terraform_plan runner does with the file first: an accepted plan must not crash it or be
        # skipped by it (the runner itself is not run here: twice in one process is unreliable).
        errors: dict[str, str] = {}
        definitions, _ = parse_tf_plan(path, errors)
        assert definitions is not None, errors
    return infra


# --- mutations of real plans ------------------------------------------------------------------------------

def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*prefix, index))


def _at(document: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        document = document[part]
    return document


JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                        st.text(max_size=40), st.sampled_from(["", "create", "managed", "data", "aws_s3_bucket",
                                                               "module.", "\n::error::x", "é", "\x80", "\x85",
                                                               "${var.x}", "delete"]))
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12)


@st.composite
def mutated_plans(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(document))
        path = paths[draw(st.integers(0, len(paths) - 1))]
        kind = draw(st.sampled_from(["replace", "replace", "delete", "duplicate", "nest"]))
        if not path:
            if kind == "replace":
                document = draw(JSON_VALUES)
            continue
        parent = _at(document, path[:-1])
        if kind == "replace":
            parent[path[-1]] = draw(JSON_VALUES)
        elif kind == "nest":
            depth = draw(st.sampled_from([2, 50, MAX_DEPTH - 10, MAX_DEPTH + 5, 199, 5_000]))
            parent[path[-1]] = f"__nest_{depth}__"  # spliced into the text: json.dumps itself would recurse
        elif kind == "delete":
            del parent[path[-1]]
        elif kind == "duplicate" and isinstance(parent, list):
            parent.insert(path[-1], copy.deepcopy(parent[path[-1]]))
    text = re.sub(r'"__nest_(\d+)__"', lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), json.dumps(document))
    cut = draw(st.sampled_from(["none", "none", "truncate", "corrupt"]))
    if cut == "truncate":
        text = text[:draw(st.integers(0, len(text)))]
    elif cut == "corrupt":
        position = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from(['"', "{", "]", ",", "\\", "\x00", "\\ud800", "\\udc00", "\x80", "NaN", "1e999"]))
        text = text[:position] + junk + text[position:]
    return text.encode("utf-8", "surrogatepass")


# Whole plans up to 110 kB, parsed, checked and modelled: slower than the profile's per-example deadline under
# load; the bound that matters is bounded(seconds=5).
WHOLE_PLAN = settings(deadline=timedelta(seconds=10) if LONG_DEADLINES else None)


@WHOLE_PLAN
@given(mutated_plans())
@example(b"[" * 100_000 + b"]" * 100_000)
@example(VIOLATING_PLAN.read_bytes().replace(b'"change": {', b'"change": null, "x": {', 1))
def test_a_mutated_plan_is_a_model_or_a_one_line_refusal(content: bytes):
    load_and_build(content)


@given(st.binary(max_size=2_000))
@example(b"\xff\xfe{}")
@example(b"\xef\xbb\xbf" + VIOLATING_PLAN.read_bytes())  # a UTF-8 byte-order mark
def test_any_bytes_are_a_model_or_a_one_line_refusal(content: bytes):
    load_and_build(content)


# --- never a silent pass ----------------------------------------------------------------------------------

# Lists whose order Terraform does not promise and no reader depends on.
_REORDERABLE = {("resource_changes",), ("planned_values", "root_module", "resources"),
                ("configuration", "root_module", "resources"), ("prior_state", "values", "root_module", "resources")}


def _reorder(node: Any, rng: random.Random, path: tuple[str, ...] = ()) -> Any:
    if isinstance(node, dict):
        items = list(node.items())
        rng.shuffle(items)
        return {key: _reorder(value, rng, (*path, key)) for key, value in items}
    if isinstance(node, list):
        items = [_reorder(value, rng, path) for value in node]
        if path in _REORDERABLE:
            rng.shuffle(items)
        return items
    return node


@st.composite
def meaning_preserving(draw: st.DrawFn) -> bytes:
    document = copy.deepcopy(json.loads(VIOLATING_PLAN.read_text()))
    for _ in range(draw(st.integers(0, 4))):
        objects = [path for path in _paths(document) if isinstance(_at(document, path), dict)]
        target = _at(document, objects[draw(st.integers(0, len(objects) - 1))])
        # A key no reader knows: not a Terraform attribute, tag key, block or plan field.
        key = "x_fuzz_" + draw(st.text("abcdefghij_0123456789", min_size=1, max_size=8))
        target.setdefault(key, draw(JSON_VALUES))
    document = _reorder(document, random.Random(draw(st.integers(0, 2**32))))
    return json.dumps(document, indent=draw(st.sampled_from([None, 1]))).encode()


@settings(WHOLE_PLAN, max_examples=40)
@given(meaning_preserving())
def test_a_meaning_preserving_mutation_keeps_the_violation(content: bytes):
    infra = load_and_build(content)
    if infra is None:
        return  # refused: exit 2, not a pass
    plan = json.loads(content)
    planned = {resource["address"] for resource in plan["planned_values"]["root_module"].get("resources") or []}
    assert VIOLATION in planned  # checkov calls the checks for it
    resource = next(r for r in infra.resources if r.address == VIOLATION)
    outcome = store_classified.evaluate(resource, infra, POLICY)
    assert outcome is not None and not outcome.passed, outcome
