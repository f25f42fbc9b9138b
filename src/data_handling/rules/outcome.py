"""What a rule says about one resource."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    passed: bool
    found: str = ""  # for a failure: what was found, naming the resources, regions or values involved


PASS = Outcome(passed=True)


def fail(found: str) -> Outcome:
    return Outcome(passed=False, found=found)
