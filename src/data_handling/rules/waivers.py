"""Waivers from the policy map: an unexpired waiver turns a failure into a skip; an expired one fails."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from data_handling.model.addresses import address_matches
from data_handling.policy.schema import PolicyMap, Waiver, today_utc

__all__ = ["WaiverMatch", "match_waiver", "today_utc"]


@dataclass(frozen=True)
class WaiverMatch:
    active: Waiver | None
    expired: Waiver | None


def match_waiver(policy: PolicyMap, check_id: str, address: str, today: dt.date) -> WaiverMatch:
    """The waiver that applies to a finding: the unexpired one lasting longest, else the latest expired one."""
    matching = [w for w in policy.waivers if w.check == check_id and address_matches(w.resource, address)]
    active = [w for w in matching if w.expires >= today]
    expired = [w for w in matching if w.expires < today]
    return WaiverMatch(
        active=max(active, key=lambda w: w.expires) if active else None,
        expired=max(expired, key=lambda w: w.expires) if expired else None,
    )
