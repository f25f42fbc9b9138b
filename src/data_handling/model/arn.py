"""Amazon Resource Names: the region and account fields."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
                  r"(?P<account>\d{12}|aws|\$\{[^{}]*\}|)?:(?P<resource>.+)$")  # an account known after apply


@dataclass(frozen=True)
class Arn:
    partition: str
    service: str
    region: str  # '' for global services (S3 bucket and IAM ARNs carry no region)
    account: str
    resource: str


def parse_arn(text: str) -> Arn | None:
    match = _ARN.match(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    return Arn(**{key: value or "" for key, value in match.groupdict().items()})
