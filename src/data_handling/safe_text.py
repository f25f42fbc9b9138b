"""Text that came from the scanned code, made safe to show: bounded, on one line, inert in a CI log.

Everything a scan echoes (file names, addresses, tag values, plan strings, policy-map values) may have been
written by the author of an untrusted pull request. A newline followed by `::error::` or `::add-mask::`
would be executed by GitHub Actions as a workflow command; a 39 MB value would drown the log. The lowest
layer of the package, so every other layer may use it.
"""

from __future__ import annotations

import re

DEFAULT_LIMIT = 160
# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators: each can end a log line
# or rewrite what the reader sees (carriage return, escape sequences, bidirectional overrides).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def one_line(text: object, limit: int = DEFAULT_LIMIT) -> str:
    """`text` with every control character shown as an escape (\\n, \\x1b, \\u2028), cut to `limit`."""
    value = text if isinstance(text, str) else str(text)
    head = value[: limit * 4]  # escaping only lengthens: never escape more than can be shown
    escaped = _CONTROL.sub(_escape, head)
    if len(escaped) <= limit and len(head) == len(value):
        return escaped
    return f"{escaped[:limit]}... ({len(value):,} characters)"


def escape_controls(text: object) -> str:
    """`text` with every control character shown as an escape, whole (for data such as a CSV cell)."""
    return _CONTROL.sub(_escape, text if isinstance(text, str) else str(text))


def quoted(value: object, limit: int = DEFAULT_LIMIT) -> str:
    """repr()-style quoting for messages, cut to `limit` characters with the original length said."""
    return truncate(repr(value), limit)


def truncate(text: str, limit: int = DEFAULT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
