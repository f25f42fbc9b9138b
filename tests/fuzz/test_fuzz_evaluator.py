"""Fuzzing the HCL value evaluator (model/expressions.py, model/hcl/): the scanned code is untrusted.

Properties:
1. Any expression (generated from a grammar of what Terraform code holds, with hostile sizes, patterns and
   nesting) evaluates to a value or raises NotEvaluable (EvaluationError: Terraform's own error; EvaluationLimit:
   too large to evaluate; any other NotEvaluable: unknown), within 2 s and 1 GiB, and no value is larger than
   the evaluator's bounds. try() never turns an unknown into a known fallback.
2. Any .tf text (fixture files mutated, truncated, nested, with instance explosions, cycles and modules that call
   themselves) ends in an evaluation, possibly with the root failed with a reason, within the time bound.
3. A known violation stays one: perturbing the ckv_dh_101 fixture in ways that cannot change its meaning keeps
   each resource's region and data class, or makes them unknown (or fails the root): never a different known
   value.
Regression tests for the defects fuzzing found are at the end.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from data_handling.model import expressions
from data_handling.model.expressions import (
    EvaluationError,
    EvaluationLimit,
    Lazy,
    NotEvaluable,
    Reference,
    UnknownValue,
    evaluate,
    evaluate_value,
)

from .bounds import bounded
from .conftest import LONG_DEADLINES

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"

# --- the expression grammar ---------------------------------------------------------------------------------

FUNCTIONS = [*sorted(expressions._FUNCTIONS), "try", "can", "regex", "regexall", "pow", "strrev", "cidrsubnet",
             "provider::aws::arn_parse"]
HOSTILE_PATTERNS = ["/(a+)+$/", "/(a|aa)+$/", "/(a*)*b/", "/(.*a){20}/", "/((a+)+)+c/", "/(/", "/a{1000}{1000}/",
                    "/[/", "/(?P<x>a)|b/", "/\\\\b/", "/x*/", "/(?=a)/", "/\\\\1/", "/.{0,1000}{0,1000}/"]
HOSTILE = [
    "range(1000000000)", "range(0, 1000000000, 1)", 'format("%0999999999d", 1)', 'format("%.999999999f", 1)',
    'format("%999999s", "x")', "10000000000000000000 * 10000000000000000000", 'tonumber("1e400")',
    'tonumber("nan")', 'join(",", range(1024))', "flatten([for i in range(1024): [for j in range(1024): j]])",
    "[for i in range(1024): [for j in range(1024): [for k in range(1024): k]]]",
    'replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "/(a+)+$/", "x")',
    'replace(join("", [for i in range(1024): "aaaaaaaaaa"]), "a", join("", [for i in range(1024): "bbbbbbbbbb"]))',
    'replace(join("", [for i in range(1024): "a"]), "", join("", [for i in range(1024): "b"]))',
    'jsondecode("' + "[" * 5000 + "]" * 5000 + '")', "toset([for i in range(1024): {a = i}])",
    "setsubtract(range(1024), range(512))", "length(setunion(range(1024), range(1024)))",
    "(" * 300 + "1" + ")" * 300, "[" * 300 + "]" * 300, "!" * 2000 + "true", "+".join(["1"] * 3000),
    "-" * 2000 + "1", "x" + ".a" * 2000, '"${' * 200 + "1" + '}"' * 200, "local.a[*].b[*].c[*].d",
    "1 ? 2 : " * 500 + "3", "formatlist(\"%s%s\", range(1024), range(1024))",
]

names = st.sampled_from(["a", "b", "c", "name", "tags", "region", "list", "map", "big", "deep", "unknown",
                         "missing"])
references = st.one_of(
    names.map(lambda n: f"var.{n}"), names.map(lambda n: f"local.{n}"),
    st.sampled_from(["each.key", "each.value", "count.index", "aws_s3_bucket.b.arn", "aws_s3_bucket.b[*].id",
                     "data.aws_region.current.name", "module.m.out", "path.module", "terraform.workspace",
                     "self.id", "i", "k", "v"]),
)
numbers = st.one_of(st.integers(-10, 10), st.integers(), st.sampled_from(["1.5", "0.0", "1000000000", "10" * 40]))
text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20).map(
    lambda s: s.replace("\\", "\\\\").replace('"', '\\"'))


def _one_of(items: list[str]) -> st.SearchStrategy[str]:
    """sampled_from, without the sample in the strategy's repr (some of these strings are long, and Hypothesis
    builds reprs of strategies nested in a recursive one)."""
    return st.integers(0, len(items) - 1).map(items.__getitem__)


def _template(parts: list[str]) -> str:
    return '"' + "".join(parts) + '"'


def _expressions(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    args = st.lists(children, max_size=4).map(", ".join)
    template_part = st.one_of(text, children.map(lambda e: "${" + e + "}"),
                              st.sampled_from(["$${x}", "%{ if true }x%{ endif }", "${", "%%{"]))
    return st.one_of(
        st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||"]),
                  children).map(" ".join),
        children.map(lambda e: f"!{e}"), children.map(lambda e: f"-{e}"), children.map(lambda e: f"({e})"),
        st.tuples(children, children, children).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.lists(children, max_size=5).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(names, children), max_size=4).map(
            lambda items: "{" + ", ".join(f"{k} = {v}" for k, v in items) + "}"),
        st.tuples(st.sampled_from(FUNCTIONS), args).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(st.sampled_from(["replace", "regex", "regexall"]), children,
                  st.sampled_from(HOSTILE_PATTERNS), children).map(
            lambda t: f'{t[0]}({t[1]}, "{t[2]}", {t[3]})' if t[0] == "replace" else f'{t[0]}("{t[2]}", {t[1]})'),
        st.tuples(st.sampled_from(['"%s"', '"%d %v"', '"%05.2f%%"', '"%q %t"', '"%-10s|%x"', '"%' + "9" * 8 + 'd"']),
                  args).map(lambda t: f"format({t[0]}, {t[1]})"),
        st.tuples(children, children, st.one_of(st.none(), children)).map(
            lambda t: f"[for i, v in {t[0]}: {t[1]}" + (f" if {t[2]}" if t[2] else "") + "]"),
        st.tuples(children, children, children).map(lambda t: f"{{for k, v in {t[0]}: {t[1]} => {t[2]}}}"),
        st.tuples(children, names).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, names).map(lambda t: f"{t[0]}[*].{t[1]}"),
        st.lists(template_part, max_size=4).map(_template),
    )


leaves = st.one_of(numbers.map(str), text.map(lambda s: f'"{s}"'), references,
                   st.sampled_from(["null", "true", "false", "[]", "{}"]), _one_of(HOSTILE))
grammar = st.recursive(leaves, _expressions, max_leaves=12)


def _mutated(expression: str, cut: int, junk: str) -> str:
    """Expressions as a truncated or corrupted file leaves them."""
    position = cut % (len(expression) + 1)
    return expression[:position] + junk + expression[position:]


hostile_text = st.one_of(
    grammar,
    st.tuples(grammar, st.integers(0, 10_000), st.sampled_from(["", "(", "]", "${", '"', "}", "=>", "...", "\\",
                                                                 "\x00", "%{", "'"])).map(lambda t: _mutated(*t)),
    st.text(max_size=60),
)

# --- the scope the expressions see --------------------------------------------------------------------------

BIG = "x" * 100_000
SCOPE: dict[str, Any] = {
    "a": "eu-west-1", "b": 3, "c": True, "name": "orders", "tags": {"data_class": "confidential", "tenant": "acme"},
    "region": None, "list": ["a", "b", "a"], "map": {"k": [{"b": {"c": [1, 2]}}]}, "big": BIG,
    "deep": [[[[[[[[[[1]]]]]]]]]], "unknown": UnknownValue("var.unknown", None, reason="no value given"),
}


def lookup(namespace: str, name: str) -> Any:
    if name == "missing":
        raise EvaluationError(f"{namespace}.{name} is not declared")
    if name not in SCOPE:
        raise NotEvaluable(f"{namespace}.{name} is not known here")
    return SCOPE[name]


BINDINGS = {"each": {"key": "k", "value": {"region": "us-east-1"}}, "count": {"index": 0}}


def _within_bounds(value: Any, depth: int = 0) -> None:
    """An evaluated value: plain data, a reference or an unknown, within the evaluator's size bounds."""
    assert depth < 1_000
    if isinstance(value, str):
        assert len(value) <= expressions.MAX_TEXT
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        assert value.bit_length() <= expressions.MAX_NUMBER_BITS
    elif isinstance(value, float):
        assert value == value and abs(value) != float("inf")
    elif isinstance(value, list | tuple):
        assert len(value) <= expressions.MAX_ELEMENTS
        for item in value[:100]:
            _within_bounds(item, depth + 1)
    elif isinstance(value, dict):
        assert len(value) <= expressions.MAX_ELEMENTS
        for item in list(value.values())[:100]:
            _within_bounds(item, depth + 1)
    else:
        assert isinstance(value, Reference | Lazy), f"unexpected {type(value).__name__}"


def _outcome(source: str) -> tuple[str, Any]:
    """("value", v) or ("error" | "limit" | "unknown", reason), within the time and memory bound."""
    with bounded(seconds=2.0):
        try:
            value = evaluate(source, dict(BINDINGS), lookup)
        except EvaluationLimit as error:
            return "limit", str(error)
        except EvaluationError as error:
            return "error", str(error)
        except NotEvaluable as error:
            return "unknown", str(error)
    _within_bounds(value)
    return "value", value


@given(hostile_text)
@example("range(1000000000)")
@example('format("%0999999999d", 1)')
@example('replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "/(a+)+$/", "x")')
def test_any_expression_ends_in_a_value_or_a_documented_error(source: str):
    _outcome(source)


@given(grammar)
def test_try_never_turns_an_unknown_into_its_fallback(source: str):
    """Terraform's try() returns an unknown unchanged: a fallback chosen over an unknown would be a guess, and a
    guessed compliant value is a silent pass."""
    kind, value = _outcome(source)
    wrapped_kind, wrapped = _outcome(f'try({source}, "FALLBACK")')
    if kind == "value":
        assert (wrapped_kind, wrapped) == ("value", value) or wrapped_kind == "limit"
    elif kind == "error":
        assert (wrapped_kind, wrapped) == ("value", "FALLBACK")
    else:  # unknown, or too large to evaluate: still not known when wrapped
        assert wrapped_kind in ("unknown", "limit"), (kind, value, wrapped_kind, wrapped)
    can_kind, can = _outcome(f"can({source})")
    if kind in ("unknown", "limit"):
        assert can_kind in ("unknown", "limit")
    else:
        assert can_kind == "limit" or (can_kind, can) == ("value", kind == "value")


@given(grammar)
def test_templates_and_values_as_python_hcl2_writes_them(source: str):
    """evaluate_value() is the entry point the module tree uses ("${...}", templates, lists and maps of them)."""
    for written in ("${" + source + "}", "arn:aws:s3:::${" + source + "}-x", ["${" + source + "}", "k"],
                    {"k": "${" + source + "}"}):
        with bounded(seconds=2.0):
            try:
                value = evaluate_value(written, dict(BINDINGS), lookup)
            except NotEvaluable:
                continue
        _within_bounds(value)


# --- whole .tf files through the module tree ------------------------------------------------------------------

SEED_FILES = sorted(path for path in [*FIXTURES.rglob("*.tf"), *(REPO / "sample_infra").rglob("*.tf")]
                    if ".terraform" not in path.parts)
SEEDS = {str(path.relative_to(REPO)): path.read_text() for path in SEED_FILES}

HOSTILE_BLOCKS = [
    'resource "aws_s3_bucket" "many" {\n  count  = 100000000\n  bucket = "b-${count.index}"\n}\n',
    'resource "aws_s3_bucket" "each" {\n  for_each = toset([for i in range(1000000): tostring(i)])\n'
    '  bucket = each.key\n}\n',
    'resource "aws_s3_bucket" "wide" {\n  for_each = {for i in range(1024): tostring(i) => i}\n'
    '  bucket = each.key\n}\n',
    'locals {\n  fz_a = local.fz_b\n  fz_b = local.fz_a\n}\nresource "aws_s3_bucket" "cyclic" {\n'
    '  bucket = local.fz_a\n}\n',
    'module "myself" {\n  source = "./"\n}\n',
    'module "twice" {\n  source = "./"\n  count  = 2\n}\n',
    'locals {\n' + "".join(f'  fz_d{i + 1} = "${{local.fz_d{i}}}${{local.fz_d{i}}}"\n' for i in range(40))
    + '  fz_d0 = "xxxxxxxxxx"\n}\nresource "aws_s3_bucket" "doubled" {\n  bucket = local.fz_d40\n}\n',
    'locals {\n' + "".join(f"  fz_l{i + 1} = concat(local.fz_l{i}, local.fz_l{i})\n" for i in range(40))
    + '  fz_l0 = [1]\n}\nresource "aws_s3_bucket" "long" {\n  count = length(local.fz_l40)\n}\n',
    'locals {\n' + "".join(f"  fz_c{i + 1} = [local.fz_c{i}]\n" for i in range(300))
    + '  fz_c0 = 1\n}\nresource "aws_s3_bucket" "chain" {\n  bucket = jsonencode(local.fz_c300)\n}\n',
    'locals {\n  fz_deep = ' + "[" * 2000 + "]" * 2000 + '\n}\nresource "aws_s3_bucket" "deep" {\n'
    '  tags = { x = jsonencode(local.fz_deep) }\n}\n',
    'resource "aws_s3_bucket" "nested" {\n' + "  a {\n" * 300 + "  }\n" * 300 + "}\n",
    'resource "aws_s3_bucket" "regex" {\n  bucket = replace("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", '
    '"/(a+)+$/", "x")\n}\n',
    'resource "aws_s3_bucket" "fmt" {\n  bucket = format("%0999999999d", 1)\n}\n',
    'variable "fz_v" {\n  default = {for i in range(1024): tostring(i) => [for j in range(1024): j]}\n}\n'
    'resource "aws_s3_bucket" "fromvar" {\n  for_each = var.fz_v\n  bucket = each.key\n}\n',
]


def _token_mutation(text: str, data: st.DataObject) -> str:
    tokens = re.split(r"(\s+|[{}\[\]()=,\"])", text)
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        if not tokens:
            break
        index = data.draw(st.integers(0, len(tokens) - 1), label="at")
        action = data.draw(st.sampled_from(["delete", "duplicate", "replace", "truncate", "nest"]), label="action")
        if action == "delete":
            del tokens[index]
        elif action == "duplicate":
            tokens.insert(index, tokens[index] * data.draw(st.integers(2, 50), label="times"))
        elif action == "replace":
            tokens[index] = data.draw(st.one_of(grammar, st.sampled_from(["{", "}", "${", '"', "100000000",
                                                                           "local.a", "count.index"])),
                                      label="with")
        elif action == "truncate":
            tokens = tokens[:index]
        else:
            depth = data.draw(st.integers(1, 400), label="depth")
            tokens[index] = "[" * depth + tokens[index] + "]" * depth
    return "".join(tokens)


def _evaluate_directory(root: Path) -> Any:
    from data_handling.model.hcl.inputs import ScanInputs
    from data_handling.model.hcl.source import evaluate_roots

    return evaluate_roots([], {str(root): set()}, ScanInputs())


# A whole root: parsing the files, then up to the tree's evaluation budget.
TREE_DEADLINE = timedelta(seconds=10) if LONG_DEADLINES else None


@settings(deadline=TREE_DEADLINE)
@given(st.data())
def test_any_tf_file_ends_in_an_evaluation_or_a_failed_root(data: st.DataObject):
    seed = data.draw(st.sampled_from(sorted(SEEDS)), label="seed")
    text = SEEDS[seed]
    shape = data.draw(st.sampled_from(["mutated", "hostile", "both", "generated"]), label="shape")
    if shape in ("mutated", "both"):
        text = _token_mutation(text, data)
    if shape in ("hostile", "both"):
        text += "\n" + "\n".join(data.draw(st.lists(_one_of(HOSTILE_BLOCKS), min_size=1, max_size=3, unique=True),
                                            label="hostile"))
    if shape == "generated":
        text = "locals {\n" + "".join(f"  {name} = {value}\n" for name, value in data.draw(
            st.lists(st.tuples(names, grammar), max_size=5), label="locals")) + "}\n"
        text += 'resource "aws_s3_bucket" "g" {\n' + "".join(f"  {key} = {value}\n" for key, value in data.draw(
            st.lists(st.tuples(st.sampled_from(["bucket", "count", "for_each", "tags", "region"]), grammar),
                     max_size=3, unique_by=lambda t: t[0]), label="arguments")) + "}\n"
    root = Path(tempfile.mkdtemp(prefix="fuzz-tf-"))  # a new path each time: parses are cached by path
    try:
        (root / "main.tf").write_text(text)
        # 30 s of CPU: a hang still fails, but one derandomized example (edge.tf mutated, nested 37 deep, with a
        # replace("/(a+)+$/")) took over 10 s in a fresh-clone virtualenv and well under it in the development one,
        # for reasons not yet found (same package versions); noted on issue 14's closing note.
        with bounded(seconds=30.0):
            evaluation = _evaluate_directory(root)
        assert set(evaluation.failed_roots) | evaluation.evaluated_roots == {str(root)}
        for reason in evaluation.failed_roots.values():
            assert reason and "\n" not in reason and len(reason) < 2_000
        for resource in evaluation.resources:
            _within_bounds(resource.config)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- never a silent pass: a known violation keeps its values under perturbations that cannot change them ------

CASE = FIXTURES / "ckv_dh_101"
TOP_LEVEL = re.compile(r"^(?=(?:resource|data|module|locals|variable|provider|output|terraform)\b)", re.MULTILINE)
UNRELATED = [
    'locals {\n  fz_unused = "us-east-1"\n  fz_tags = { data_class = "public" }\n}\n',
    'variable "fz_region" {\n  type    = string\n  default = "ap-southeast-2"\n}\n',
    'variable "fz_map" {\n  default = { data_class = "public", region = "us-east-1" }\n}\n',
    "# region = \"us-east-1\"\n/* tags = { data_class = \"public\" } */\n",
    'output "fz_out" {\n  value = try(local.fz_missing, "eu-west-1")\n}\n',
    'locals {\n  fz_a = local.fz_b\n  fz_b = local.fz_a\n}\n',
    'locals {\n  fz_big = [for i in range(1000000): i]\n}\n',
]


def _answers(root: Path) -> dict[str, tuple[Any, Any]] | None:
    """address -> (region, data_class) of every resource, None where unknown; None when the root failed."""
    from data_handling.model.infrastructure import Infrastructure
    from data_handling.model.values import Known

    evaluation = _evaluate_directory(root)
    if evaluation.failed_roots:
        return None
    infra = Infrastructure(evaluation.resources, evaluation.providers, evaluation.calls)
    answers = {}
    for resource in infra.resources:
        region = infra.region_of(resource)
        tags = resource.get("tags")
        data_class = tags.get("data_class") if isinstance(tags, dict) else None
        answers[resource.address] = (region.value if isinstance(region, Known) else None,
                                     data_class if isinstance(data_class, str) else None)
    return answers


def _copy_case(destination: Path) -> None:
    shutil.copytree(CASE, destination, ignore=shutil.ignore_patterns(".terraform"))


BASELINE: dict[str, tuple[Any, Any]] = {}


def _baseline() -> dict[str, tuple[Any, Any]]:
    if not BASELINE:
        root = Path(tempfile.mkdtemp(prefix="fuzz-base-"))
        try:
            _copy_case(root / "case")
            found = _answers(root / "case")
            assert found is not None
            BASELINE.update(found)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return BASELINE


def test_the_baseline_holds_the_violations_the_perturbations_must_keep():
    baseline = _baseline()
    assert baseline["aws_s3_bucket.acme_in_us"] == ("us-east-1", "confidential")
    assert baseline["aws_dynamodb_table.v6_region"] == ("us-west-2", "confidential")
    assert baseline["aws_sqs_queue.shared_in_sydney"] == ("ap-southeast-2", "confidential")
    assert baseline["module.acme_in_us_module.aws_s3_bucket.this"] == ("us-east-1", "confidential")


@settings(deadline=TREE_DEADLINE)
@given(st.data())
def test_perturbations_that_cannot_change_the_answer_never_give_a_different_known_one(data: st.DataObject):
    baseline = _baseline()
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-perturb-"))
    root = workdir / "case"
    try:
        _copy_case(root)
        main = root / "main.tf"
        chunks = [chunk for chunk in TOP_LEVEL.split(main.read_text()) if chunk]
        order = data.draw(st.permutations(range(len(chunks))), label="order")
        files = data.draw(st.integers(1, 3), label="files")
        main.unlink()
        for position, index in enumerate(order):  # the same blocks, reordered and spread over files
            with (root / f"main_{position % files}.tf").open("a") as handle:
                handle.write(chunks[index].rstrip("\n") + "\n\n")
        for number, addition in enumerate(data.draw(st.lists(_one_of(UNRELATED), max_size=4, unique=True),
                                                     label="additions")):
            (root / f"fz_{number}.tf").write_text(addition)
        if data.draw(st.booleans(), label="comments"):
            providers = root / "providers.tf"
            providers.write_text("# a comment\n" + providers.read_text().replace("\n}\n", "\n  # inside\n}\n")
                                 + "\n/* trailing */\n")
        with bounded(seconds=10.0):
            found = _answers(root)
        if found is None:  # the root fails closed: every check on it fails
            return
        assert set(found) == set(baseline)
        for address, (region, data_class) in found.items():
            assert region in (baseline[address][0], None), address
            assert data_class in (baseline[address][1], None), address
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- regressions: what fuzzing found ---------------------------------------------------------------------------


@pytest.mark.parametrize("source", [
    'format("%0999999999d", 1)',  # allocated a gigabyte (minutes)
    'format("%.999999999f", 1)',  # was an EvaluationError, so try() took its fallback
    'format("' + "%999999d" * 5 + '", 1, 2, 3, 4, 5)',  # each width allowed, the whole too long
    'replace(join("", [for i in range(1000): "aaaaaaaaaa"]), "a", join("", [for i in range(1000): "bbbbbbbbbb"]))',
    "length([for i in range(1000): length([for j in range(1000): length([for k in range(1000): k])])])",  # hung
    "(" * 5000 + "1" + ")" * 5000,  # RecursionError escaped
    "[" * 5000 + "]" * 5000,
    "+".join(["1"] * 5000),  # RecursionError while evaluating, not parsing
    "!" * 5000 + "true",
    'jsondecode("' + "[" * 100_000 + "]" * 100_000 + '")',
], ids=lambda source: source[:40])
def test_a_hostile_expression_is_too_large_to_evaluate(source: str):
    with bounded(seconds=2.0), pytest.raises(EvaluationLimit):
        evaluate(source)


def test_limits_are_unknown_to_try_not_errors():
    """A RecursionError inside a function was an EvaluationError, so try() chose its fallback over a value
    Terraform would compute: an unknown must stay unknown."""
    deep = "[" * 100_000 + "]" * 100_000
    with bounded(seconds=2.0), pytest.raises(EvaluationLimit):
        evaluate(f'try(flatten(jsondecode("{deep}")), "eu-west-1")')
    with bounded(seconds=2.0), pytest.raises(EvaluationLimit):
        evaluate('try(format("%.999999999f", 1), "eu-west-1")')


def test_non_finite_numbers_are_not_numbers():
    """tonumber("nan") made range() empty and comparisons false (a known value Terraform never gives)."""
    assert evaluate('try(tonumber("nan"), "no")') == "no"
    assert evaluate('try(tonumber("inf"), "no")') == "no"


def test_a_long_template_is_read_in_linear_time():
    """The template reader appended one character at a time (quadratic: a megabyte took minutes)."""
    with bounded(seconds=2.0):
        assert evaluate_value("x" * 500_000 + "${1}") == "x" * 500_000 + "1"


def test_replace_is_re2_with_go_expansion():
    """Terraform's replace() is Go's regexp (RE2): linear time, $1 / ${name} / $$, empty matches after a match
    ignored."""
    assert evaluate('replace("a-b", "/(?P<x>a)-(b)/", "$2$$x $3 $x1 $${x}")') == "b$x   a"
    assert evaluate('replace("abc", "/b*/", "-")') == "-a-c-"
    assert evaluate('replace("a1b22", "/[0-9]+/", "#")') == "a#b#"
    with bounded(seconds=2.0):  # Python's re backtracked for ever on this one
        assert evaluate('replace("' + "a" * 5000 + '!", "/(a+)+b/", "x")') == "a" * 5000 + "!"
    with pytest.raises(EvaluationError):
        evaluate('replace("a", "/(/", "x")')  # an invalid pattern is Terraform's error too


def test_sets_of_many_elements_are_built_in_linear_time():
    with bounded(seconds=2.0):
        assert evaluate("length(setsubtract(toset(range(1000)), toset(range(500))))") == 500
        assert evaluate("length(toset(flatten([for i in range(50): [for j in range(1000): j]])))") == 1000
        # 20,000 distinct elements: comparing each with all the others took 5 s before
        assert evaluate("length(toset(flatten([for i in range(20): [for j in range(1000): i * 1000 + j]])))") == 20_000
    assert evaluate("toset([1, 1.0, 2, {a = [1]}, {a = [1]}])") == [1, 2, {"a": [1]}]
    assert evaluate("setintersection([1, 2, 3], [2, 3], [3, 4])") == [3]


def _tree_failure(tmp_path: Path, text: str) -> str:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(text)
    with bounded(seconds=10.0):
        evaluation = _evaluate_directory(root)
    return evaluation.failed_roots.get(str(root), "")


def test_a_huge_count_fails_the_root_instead_of_hanging(tmp_path: Path):
    reason = _tree_failure(tmp_path, 'resource "aws_s3_bucket" "b" {\n  count  = 100000000\n  bucket = "x"\n}\n')
    assert reason == "aws_s3_bucket.b makes 100,000,000 instances, more than the 10,000 evaluated"


def test_a_module_that_calls_itself_fails_the_root(tmp_path: Path):
    """With count = 2 each level doubled the instances until Python's stack gave out (2^200 instances)."""
    reason = _tree_failure(tmp_path, 'module "me" {\n  source = "./"\n  count  = 2\n}\n'
                                     'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n')
    assert "a module that calls itself?" in reason


def test_work_across_the_tree_is_bounded(tmp_path: Path):
    """Each expression within its own budget, but a thousand instances each doing a million steps: the tree's
    budget fails the root."""
    reason = _tree_failure(tmp_path, 'resource "aws_s3_bucket" "b" {\n  count  = 1000\n'
                                     "  bucket = length([for i in range(1000): [for j in range(900): j]])\n}\n")
    assert reason.startswith("the configuration is too large to evaluate")


def test_the_evaluation_budget_is_not_shared_by_separate_calls():
    for _ in range(3):  # each call its own budget when no tree installed one
        assert evaluate("length([for i in range(100): [for j in range(400): j]])") == 100


def test_a_map_or_list_as_a_key_is_terraforms_error_and_an_unknown_key_is_unknown():
    """`var.map[var.tags]` raised TypeError (unhashable dict) out of the evaluator."""
    with pytest.raises(EvaluationError):
        evaluate("var.map[var.tags]", {}, lookup)
    assert evaluate('try(var.map[var.list], "fallback")', {}, lookup) == "fallback"
    with pytest.raises(NotEvaluable) as raised:
        evaluate('try(var.map[var.unknown], "fallback")', {}, lookup)
    assert not isinstance(raised.value, EvaluationError)


def test_the_text_of_an_unknown_template_is_bounded_too(tmp_path: Path):
    """An unknown template keeps its text; doubled through 40 locals that text reached 125 MB (and would have
    reached terabytes): past MAX_TEXT the value is unknown by a short name instead."""
    locals_text = "".join(f'  d{i + 1} = "${{local.d{i}}}${{local.d{i}}}"\n' for i in range(40))
    (tmp_path / "main.tf").write_text(f'variable "v" {{\n}}\nlocals {{\n  d0 = "x-${{var.v}}"\n{locals_text}}}\n'
                                      'resource "aws_s3_bucket" "b" {\n  bucket = local.d40\n}\n')
    with bounded(seconds=10.0):
        evaluation = _evaluate_directory(tmp_path)
    bucket = evaluation.resources[0].config["bucket"][0]
    assert len(bucket) < 1_000


def test_policy_documents_that_merge_each_other_twice_are_bounded(tmp_path: Path):
    """Each aws_iam_policy_document merging the one before twice doubles the JSON: 2^40 statements by the last.
    Past the bounds the document is unknown (rendered once, not per reader), and the root is still evaluated."""
    documents = ['data "aws_iam_policy_document" "d0" {\n  statement {\n    actions = ["s3:GetObject"]\n'
                 '    resources = ["*"]\n  }\n}\n']
    documents += [f'data "aws_iam_policy_document" "d{i + 1}" {{\n  source_policy_documents = '
                  f'[data.aws_iam_policy_document.d{i}.json, data.aws_iam_policy_document.d{i}.json]\n}}\n'
                  for i in range(40)]
    (tmp_path / "main.tf").write_text("".join(documents) + 'resource "aws_s3_bucket_policy" "p" {\n'
                                      '  bucket = "b"\n  policy = replace(data.aws_iam_policy_document.d40.json, '
                                      '"x", "y")\n}\n')
    with bounded(seconds=20.0):
        evaluation = _evaluate_directory(tmp_path)
    assert not evaluation.failed_roots
    (policy,) = [r for r in evaluation.resources if r.type == "aws_s3_bucket_policy"]
    assert str(policy.config["policy"][0]) == "${data.aws_iam_policy_document.d40.json}"  # unknown, not a document
