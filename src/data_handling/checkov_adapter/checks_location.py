"""Where the checkov adapters are installed, and the error every layer raises when a scan cannot be trusted.

The CLI (which re-exports ScanError) and output.check_docs both import this: it depends on nothing above it.
"""

from __future__ import annotations

from pathlib import Path


class ScanError(Exception):
    """The scan cannot be trusted; the message is the one line the user sees."""


def checks_dir() -> Path:
    """The checkov adapters: packaged in the wheel, or the repository's checks/ in a development install."""
    package = Path(__file__).resolve().parents[1]  # src/data_handling (or site-packages/data_handling)
    for candidate in (package / "_checkov_checks", package.parents[1] / "checks"):
        if candidate.is_dir() and any(candidate.glob("dh_*.py")):
            return candidate
    raise ScanError("the data-handling checks are not installed (no checks directory found)")
