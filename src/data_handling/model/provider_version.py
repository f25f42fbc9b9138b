"""Which AWS provider versions a configuration can run with, where a provider default depends on it.

Some defaults changed between major versions of hashicorp/aws (an `aws_redshift_cluster` without
`publicly_accessible` is public before 6.0 and private from 6.0 on). Terraform picks the provider version from
the dependency lock file (`.terraform.lock.hcl` beside the root module) when there is one, else the newest
release that every `required_providers` constraint of the root and its modules admits. A default is taken as
the newer one only when every version the configuration admits has it: with no lock file and no constraint that
excludes the older versions, the older default is assumed (a stricter reading).

Constraints use Terraform's syntax: comma-separated `=`, `!=`, `>`, `>=`, `<`, `<=`, `~>` and a bare version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

AWS_SOURCES = frozenset({"hashicorp/aws", "registry.terraform.io/hashicorp/aws"})
_CONDITION = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(?:-[0-9A-Za-z.-]+)?\s*$")

Version = tuple[int, int, int]


def parse_version(text: str) -> Version | None:
    match = re.match(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text or "")
    if not match:
        return None
    return int(match.group(1)), int(match.group(2) or 0), int(match.group(3) or 0)


def lowest_admitted(constraint: str) -> Version | None:
    """The lowest version a constraint's lower bounds admit (0.0.0 when it sets none); None when it cannot be
    read (the caller then assumes nothing)."""
    lowest: Version = (0, 0, 0)
    for condition in constraint.split(","):
        if not condition.strip():
            continue
        match = _CONDITION.match(condition)
        if not match:
            return None
        operator, version = match.group(1) or "=", parse_version(match.group(2))
        if version is None:
            return None
        if operator in ("=", ">=", "~>"):
            lowest = max(lowest, version)
        elif operator == ">":
            lowest = max(lowest, (version[0], version[1], version[2] + 1))
    return lowest


@dataclass(frozen=True)
class AwsProviderVersions:
    """What decides the hashicorp/aws version of one root module: the lock file's version, or the constraints."""

    locked: Version | None = None
    locked_in: str = ""  # the lock file
    constraints: tuple[tuple[str, str], ...] = field(default=())  # (constraint, where it is written)

    def always_at_least(self, major: int) -> bool:
        """Whether every provider version this configuration can run with is `major`.0.0 or newer."""
        if self.locked is not None:
            return self.locked >= (major, 0, 0)
        lows = [lowest_admitted(constraint) for constraint, _ in self.constraints]
        return any(low is not None and low >= (major, 0, 0) for low in lows)

    def describe(self) -> str:
        if self.locked is not None:
            return f"the lock file {self.locked_in} pins hashicorp/aws {'.'.join(map(str, self.locked))}"
        if not self.constraints:
            return "no required_providers constraint or lock file sets the hashicorp/aws version"
        return "required_providers admits hashicorp/aws " + ", ".join(
            f'"{constraint}" ({where})' for constraint, where in self.constraints)


UNKNOWN = AwsProviderVersions()
