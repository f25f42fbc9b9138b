"""Pattern matching with linear-time guarantees: the policy map's regexes and every wildcard glob.

Python's `re` backtracks: a policy-map regex such as `(a+)+$`, or a glob whose `*`s became `.*`
(`*a*a*a*a*a*a*a*a*b`), takes exponential or high-polynomial time on a long name or address, and the
scan hangs. RE2 (google-re2) matches in time linear in the text, and refuses the constructs that need
backtracking (backreferences, lookaround) at compile time, which is when the policy map is validated.
Wildcard globs, from the policy map or from the scanned code (IAM actions, OAM `LIKE` filters), are
translated to RE2 as well. Like safe_text, a bottom layer: every other layer may use it.
"""

from __future__ import annotations

from functools import lru_cache

import re2

from data_handling.safe_text import one_line

# Longest regex or glob the policy map may hold: real patterns are a few dozen characters, and a bound keeps
# RE2's compiled program (and the error messages quoting it) small.
MAX_PATTERN_LENGTH = 256

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print its parse errors on stderr besides raising them
_INSENSITIVE = re2.Options()
_INSENSITIVE.log_errors = False
_INSENSITIVE.case_sensitive = False


class PatternError(ValueError):
    """A pattern RE2 cannot use; the message is the reason, without the pattern."""


@lru_cache(maxsize=4096)
def compile_regex(pattern: str) -> re2._Regexp:
    """An RE2 regex from the policy map (RE2 syntax: https://github.com/google/re2/wiki/Syntax)."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"longer than {MAX_PATTERN_LENGTH} characters ({len(pattern):,})")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        raise PatternError(_reason(error)) from None


def regex_search(pattern: str, text: str) -> bool:
    """Whether an RE2 regex matches anywhere in `text`."""
    return compile_regex(pattern).search(text) is not None


def wildcard_source(pattern: str, many: str = "*", one: str = "?") -> str:
    """The RE2 source of a wildcard glob: `many` is any run of characters (newlines included), `one` any
    single character, everything else literal (brackets too: no character classes)."""
    return "".join(".*" if c == many else "." if c == one else re2.escape(c) for c in pattern)


@lru_cache(maxsize=4096)
def _compiled_wildcard(pattern: str, many: str, one: str, case_sensitive: bool) -> re2._Regexp | None:
    try:
        return re2.compile("(?s)" + wildcard_source(pattern, many, one), _OPTIONS if case_sensitive else _INSENSITIVE)
    except re2.error:  # a glob too large for RE2's memory bound: match it with the fallback below
        return None


def wildcard_match(pattern: str, text: str, *, many: str = "*", one: str = "?", case_sensitive: bool = True) -> bool:
    """Whether a wildcard glob matches the whole of `text`, in time linear in the text (no backtracking)."""
    compiled = _compiled_wildcard(pattern, many, one, case_sensitive)
    if compiled is not None:
        return compiled.fullmatch(text) is not None
    if not case_sensitive:
        pattern, text = pattern.lower(), text.lower()
    return _wildcard_fallback(pattern, text, many, one)


def _wildcard_fallback(pattern: str, text: str, many: str, one: str) -> bool:
    """Greedy matching that only ever resumes from the last `many`: O(len(pattern) * len(text)) at worst."""
    p = t = 0
    star_p, star_t = -1, 0
    while t < len(text):
        if p < len(pattern) and pattern[p] != many and (pattern[p] == one or pattern[p] == text[t]):
            p, t = p + 1, t + 1
        elif p < len(pattern) and pattern[p] == many:
            star_p, star_t = p, t
            p += 1
        elif star_p >= 0:
            star_t += 1
            p, t = star_p + 1, star_t
        else:
            return False
    while p < len(pattern) and pattern[p] == many:
        p += 1
    return p == len(pattern)


def _reason(error: re2.error) -> str:
    raw = error.args[0] if error.args else ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if "\\Z" in text:
        text += " (RE2 writes the end of the text as \\z)"
    elif "invalid perl operator" in text or "invalid escape sequence" in text or "invalid named capture" in text:
        text += " (RE2 syntax has no backreferences or lookaround)"
    elif "pattern too large" in text:
        text = "too complex (RE2 refuses it: pattern too large)"
    # RE2 quotes the offending part of the pattern, which may hold a newline or be long.
    return one_line(text, limit=120) if text else "not an RE2 regular expression"
