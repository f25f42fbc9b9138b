"""Hypothesis profiles for the fuzzing suite, chosen by the HYPOTHESIS_PROFILE environment variable.

- `ci` (the default, what `.ci/run` uses): few examples, derandomized and without an example database, so every
  run of the same code tries the same inputs. No wall-clock deadline (on a shared machine it fails examples that
  only waited for a CPU): the per-example limit is the tests' own CPU-time bound (bounds.py). The whole suite
  runs in a few minutes.
- `long`: for local campaigns (`HYPOTHESIS_PROFILE=long python -m pytest tests/fuzz`): many more examples, random
  seeds, the example database under `.hypothesis/` so a failure found once is tried first next time.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    # Generating hostile inputs (nested expressions, whole files) is slower than Hypothesis expects of a
    # strategy; the per-example bound is the tests' own time limit.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking in CI: report the input as found
)
settings.register_profile(
    "long",
    max_examples=5_000,
    deadline=timedelta(seconds=5),
    print_blob=True,
    # No explain phase: it traces every line, which makes the code under test ten times slower than the bounds.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# Tests that take whole files or plans set a longer deadline for the long profile; in ci it stays off.
LONG_DEADLINES = os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci"


@pytest.fixture(scope="session", autouse=True)
def _parser_built_outside_the_bounds() -> None:
    """python-hcl2 builds its lark parser on first use (seconds of CPU on a fresh virtualenv, cached afterwards):
    build it here, so the first fuzz example is not charged for it (a fresh-clone CI run failed a 10 s bound so)."""
    import hcl2

    hcl2.loads('a = "b"\n')
