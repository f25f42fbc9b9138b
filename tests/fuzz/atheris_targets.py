"""Atheris (coverage-guided, libFuzzer) entry points for the four fuzz targets, for campaigns longer than CI's.

Not a test module (pytest does not collect it) and atheris is not a dependency: `pip install atheris`, then

    python tests/fuzz/atheris_targets.py TARGET [libFuzzer options] [CORPUS_DIR ...]

with TARGET one of `policy_map`, `plan`, `evaluator`, `matchers` (see tests/fuzz/README.md for the command
lines and the property each asserts). A violated property raises, and libFuzzer stops and writes the input to
`crash-<sha1>`; reproduce it with `python tests/fuzz/atheris_targets.py TARGET crash-<sha1>`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(REPO / "tests"))


class PropertyViolated(AssertionError):
    """The target's property does not hold for this input."""


def _one_line_error(message: str, limit: int = 2_000) -> None:
    if not message or "\n" in message or len(message) > limit:
        raise PropertyViolated(f"not a bounded one-line error: {message[:200]!r}")


def target_policy_map(data: bytes) -> None:
    """Any bytes as a policy map: a PolicyMap, or a PolicyMapError whose message is one bounded line."""
    from data_handling.policy.loader import PolicyMapError, parse

    text = data.decode("utf-8", errors="replace")
    try:
        parse(text, "fuzz.yaml", today=dt.date(2026, 12, 1))
    except PolicyMapError as error:
        _one_line_error(str(error))


def target_plan(data: bytes) -> None:
    """Any bytes as a plan file: a model, or a PlanError whose message is one bounded line (never a traceback
    from checkov's reader or ours: the shape is checked before either reads it)."""
    from data_handling.model.plan_source import PlanError, build_from_plan, load_plan

    with tempfile.TemporaryDirectory(prefix="atheris-plan-") as directory:
        path = os.path.join(directory, "plan.json")
        with open(path, "wb") as handle:
            handle.write(data)
        try:
            plan = load_plan(path)
        except PlanError as error:
            _one_line_error(str(error))
            return
        build_from_plan(plan, path)


def target_evaluator(data: bytes) -> None:
    """Any text as an expression and as a .tf file. The expression evaluates to a value or raises NotEvaluable
    (EvaluationError, EvaluationLimit); try() never turns an unknown into its fallback. The file ends in an
    evaluation of its root or a failed root with a one-line reason; the RecursionError, MemoryError or a hang of
    an unbounded input never escapes."""
    from fuzz.test_fuzz_evaluator import _evaluate_directory, _outcome

    text = data.decode("utf-8", errors="replace")
    kind, _ = _outcome(text)
    wrapped, value = _outcome(f'try({text}, "FALLBACK")')
    if kind in ("unknown", "limit") and (wrapped, value) == ("value", "FALLBACK"):
        raise PropertyViolated("try() chose its fallback over an unknown")
    with tempfile.TemporaryDirectory(prefix="atheris-tf-") as directory:
        Path(directory, "main.tf").write_text(text)
        evaluation = _evaluate_directory(Path(directory))
        for reason in evaluation.failed_roots.values():
            _one_line_error(reason)


def target_matchers(data: bytes) -> None:
    """Any pattern and text: an RE2 regex compiles or raises PatternError, and matching (regex and wildcard
    glob) returns a bool, in time linear in the text."""
    from data_handling.patterns import PatternError, compile_regex, regex_search, wildcard_match

    text = data.decode("utf-8", errors="replace")
    pattern, _, subject = text.partition("\n")
    try:
        compile_regex(pattern)
    except PatternError as error:
        _one_line_error(str(error))
    else:
        if not isinstance(regex_search(pattern, subject), bool):
            raise PropertyViolated("regex_search did not return a bool")
    for case_sensitive in (True, False):
        if not isinstance(wildcard_match(pattern, subject, case_sensitive=case_sensitive), bool):
            raise PropertyViolated("wildcard_match did not return a bool")


INSTRUMENTED = ("data_handling.model.expressions", "data_handling.model.hcl.evaluator",
                "data_handling.model.hcl.source", "data_handling.model.plan_source", "data_handling.model.plan_shape",
                "data_handling.patterns", "data_handling.policy.loader", "data_handling.policy.schema")
TARGETS: dict[str, Callable[[bytes], None]] = {
    "policy_map": target_policy_map,
    "plan": target_plan,
    "evaluator": target_evaluator,
    "matchers": target_matchers,
}


# The plan reader reserves a buffer of its size limit (plan_shape.MAX_BYTES, 2 GiB) before reading: address
# space, not memory in use, but RLIMIT_AS counts it.
EXTRA_MEMORY = {"plan": 3 << 30}


def _bounded(target: Callable[[bytes], None], extra_memory: int = 1 << 30) -> Callable[[bytes], None]:
    """Each input within the same bounds as the Hypothesis suite (tests/fuzz/bounds.py): a hang or a runaway
    allocation is a failure, not a stuck campaign."""
    from fuzz.bounds import bounded

    for module in INSTRUMENTED:  # imported before the first input: checkov's imports alone outgrow the bound
        importlib.import_module(module)

    def run(data: bytes) -> None:
        with bounded(seconds=10.0, extra_memory=extra_memory):
            target(data)

    return run


def main() -> None:
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed: pip install atheris (see tests/fuzz/README.md)")
    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(TARGETS)}}} [libFuzzer options] [corpus ...]")
    name = sys.argv.pop(1)
    with atheris.instrument_imports():  # coverage feedback from our modules (imported first here)
        for module in INSTRUMENTED:
            importlib.import_module(module)
    atheris.Setup(sys.argv, _bounded(TARGETS[name], EXTRA_MEMORY.get(name, 1 << 30)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
