"""Fuzzing the policy-map loader (policy/loader.py, policy/schema.py): the map may come from a pull request.

Property: any text, and any structured-but-wrong YAML document (the real maps mutated: keys dropped, renamed or
given values of the wrong type, hostile sizes, nesting, anchors, dates), ends in a PolicyMap or a PolicyMapError
whose message is one line of bounded length, within the time and memory bound: never another exception.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from data_handling.policy.loader import MAX_MESSAGE, PolicyMapError, parse
from data_handling.policy.schema import PolicyMap

from .bounds import bounded

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 1)  # fixed: the property must not depend on the day the suite runs
MAPS = [REPO / "policy_map.yaml", REPO / "tests/fixtures/policy_map.yaml",
        REPO / "tests/fixtures/ckv_dh_20x/policy_map.yaml", REPO / "tests/fixtures/ckv_dh_30x/policy_map.yaml"]
SEEDS = [yaml.safe_load(path.read_text()) for path in MAPS if path.is_file()]


def assert_result_or_one_line_error(text: str) -> None:
    with bounded(seconds=3):
        try:
            policy, warnings = parse(text, "fuzz.yaml", today=TODAY)
        except PolicyMapError as error:
            message = str(error)
            assert message.startswith("fuzz.yaml") or message.startswith("the policy map"), message
            assert "\n" not in message and "\r" not in message
            assert len(message) <= MAX_MESSAGE + 40, len(message)  # one_line adds "... (N characters)"
            return
    assert isinstance(policy, PolicyMap)
    assert all(isinstance(w, str) for w in warnings)


# --- arbitrary text ---------------------------------------------------------------------------------------

YAML_BITS = st.sampled_from([
    "version: 1\n", "version:", " ", "\n", "\t", "- ", ": ", "[", "]", "{", "}", ",", "&a ", "*a", "<<: ", "!!binary ",
    "!!python/object:os.system ", "? ", "'", '"', "#", "---\n", "...\n", "2027-02-30", "9" * 50, "\x00", "\ufeff",
    "waivers:\n  - ", "expires: ", "resource: '*'", "pattern: '(a+)+$'", "%YAML 1.1\n", "|\n  ", ">-\n  ", "\\u0000",
])
HOSTILE_TEXT = st.one_of(
    st.text(max_size=400),
    st.lists(YAML_BITS, max_size=60).map("".join),
    st.lists(st.one_of(YAML_BITS, st.text(max_size=8)), max_size=80).map("".join),
)


@given(HOSTILE_TEXT)
@example("version: 1\nwaivers:\n  - {check: CKV_DH_100, resource: x.y, reason: r, expires: 2027-02-30}\n")
@example("version: 1\nx: " + "[" * 5000 + "]" * 5000)
@example("a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n")
@example("version: " + "1" * 5000)
@example("version: 1\n" + "x" * 2_000_000)
@example("version: !!python/object/apply:os.system ['true']\n")
def test_any_text_ends_in_a_map_or_a_one_line_error(text):
    assert_result_or_one_line_error(text)


# --- structured but wrong ---------------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30), st.floats(allow_nan=True),
    st.text(max_size=40), st.dates(), st.datetimes(),
    st.sampled_from(["*", "**", "*.*", "module.*.*", "aws_s3_bucket.x", "CKV_DH_100", "eu-west-1", "(a+)+$",
                     "(?=x)", r"(a)\1", "*a*a*a*a*a*a*a*a*b", "x" * 300, "9999-12-31", "2027-02-30", "1"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(max_size=12), st.integers()), inner, max_size=4)),
    max_leaves=20)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


def _replace(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = _replace(copy[path[0]], path[1:], value)
    return copy


@st.composite
def mutated_maps(draw: st.DrawFn) -> Any:
    data = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        kind = draw(st.sampled_from(["value", "drop", "add"]))
        if kind == "value" or not path:
            data = _replace(data, path, draw(VALUES))
        else:
            container = data
            for part in path[:-1]:
                container = container[part]
            if kind == "drop" and isinstance(container, dict | list):
                rebuilt = ({k: v for k, v in container.items() if k != path[-1]} if isinstance(container, dict)
                           else [v for i, v in enumerate(container) if i != path[-1]])
                data = _replace(data, path[:-1], rebuilt)
            elif isinstance(container, dict):
                data = _replace(data, path[:-1], {**container, draw(st.text(max_size=12)): draw(VALUES)})
    return data


def _dump(data: Any) -> str:
    try:
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError:
        return yaml.safe_dump(repr(data))


@given(mutated_maps())
def test_structured_but_wrong_documents_end_in_a_map_or_a_one_line_error(data):
    assert_result_or_one_line_error(_dump(data))


@given(st.sampled_from(SEEDS), st.sampled_from(["*", "*.*", "**", "module.*.*", "aws_s3_bucket.*", "?", "*.*.*"]),
       st.dates(min_value=dt.date(2000, 1, 1)))
def test_blanket_waivers_are_always_refused(seed, glob, expires):
    data = {**seed, "waivers": [{"check": "CKV_DH_100", "resource": glob, "reason": "r", "expires": expires}]}
    data.pop("waiver_max_days", None)
    try:
        parse(_dump(data), "fuzz.yaml", today=TODAY)
    except PolicyMapError as error:
        assert "waivers[0]" in str(error)
    else:
        raise AssertionError(f"a blanket waiver {glob!r} until {expires} was accepted")
