"""AWS region names: the list the installed botocore ships, and the shape of a well-formed name."""

from __future__ import annotations

import re
from functools import cache

# Every AWS partition names its regions <area>-<direction>-<number> (us-gov-west-1, eu-isoe-west-1 ...);
# the areas are the prefixes of botocore's partition regexes, the directions the ones AWS uses.
REGION_SHAPE = re.compile(
    r"^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe)"
    r"-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$"
)


@cache
def known_regions() -> frozenset[str]:
    """Regions of every partition in botocore's endpoint data (empty if botocore cannot load it)."""
    try:
        from botocore.loaders import create_loader

        endpoints = create_loader().load_data("endpoints")
    except Exception:  # botocore missing or its data unreadable: fall back to the shape check alone
        return frozenset()
    return frozenset(
        region for partition in endpoints.get("partitions", []) for region in partition.get("regions", {})
    )


def is_well_formed_region(name: str) -> bool:
    return bool(REGION_SHAPE.fullmatch(name))  # not match: "$" also matches before a final newline


def is_known_region(name: str) -> bool:
    return name in known_regions()


def closest_known_region(name: str) -> str | None:
    """The listed region a mistyped name most likely meant, for error messages."""
    import difflib

    matches = difflib.get_close_matches(name, sorted(known_regions()), n=1, cutoff=0.75)
    return matches[0] if matches else None
