"""The .tf files as python-hcl2 reads them (expressions kept as "${...}" text), parsed once per file."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=256)
def parsed(file_path: str) -> dict[str, Any] | None:
    """A .tf file as python-hcl2 reads it (expressions kept as "${...}" text), once per file; None if unreadable."""
    try:
        import hcl2

        with open(file_path, encoding="utf-8") as handle:
            return hcl2.load(handle)
    except Exception:  # unreadable or unparsable: the caller reports the file as unreadable
        return None
