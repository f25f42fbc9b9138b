"""Fuzzing the glob and regex matchers (patterns.py, model/addresses.py): patterns come from the policy map and,
for IAM actions and OAM filters, from the scanned code.

Properties:
1. Matching always terminates quickly, whatever the pattern and the text (RE2: linear in the text).
2. The address glob matcher agrees with a reference on the documented semantics: fnmatch where both apply (no
   brackets), and the previous backtracking implementation on short inputs with instance keys.
3. The wildcard matcher agrees with fnmatch (no brackets), and its RE2 and fallback paths agree.
4. Policy-map regexes mean what Python's re means on the names they are matched against, and every pattern
   either compiles or is refused with a PatternError (never another exception).
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from hypothesis import example, given
from hypothesis import strategies as st

from data_handling.model.addresses import address_matches, split_address
from data_handling.patterns import (
    MAX_PATTERN_LENGTH,
    PatternError,
    _wildcard_fallback,
    compile_regex,
    regex_search,
    wildcard_match,
)

from .bounds import bounded


def reference_address_matches(pattern: str, address: str) -> bool:
    """The matcher before RE2 (backtracking re): the semantics the docs describe. Short inputs only."""
    segments = []
    for segment in split_address(pattern):
        translated = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in segment)
        if "[" not in segment:
            translated += r"(\[[^\]]*\])?"
        segments.append(translated)
    return bool(re.compile("^" + r"\.".join(segments) + r"\Z", re.S).match(address))


NAME_CHARS = "ab_-"
GLOB = st.text(alphabet=NAME_CHARS + ".*?", max_size=12)
PLAIN_ADDRESS = st.text(alphabet=NAME_CHARS + ".", max_size=16)
KEY = st.sampled_from(['["a"]', '["a.b"]', "[0]", "[1]", "[*]", ""])
SEGMENT_GLOB = st.tuples(st.text(alphabet=NAME_CHARS + "*?", min_size=1, max_size=4), KEY).map("".join)
SEGMENT = st.tuples(st.text(alphabet=NAME_CHARS, min_size=1, max_size=4), KEY).map("".join)
KEYED_GLOB = st.lists(SEGMENT_GLOB, min_size=1, max_size=4).map(".".join)
KEYED_ADDRESS = st.lists(SEGMENT, min_size=1, max_size=5).map(".".join)


@given(GLOB, PLAIN_ADDRESS)
@example("module.*", "module.m.aws_s3_bucket.b")
@example("a?b", "a.b")
def test_address_globs_agree_with_fnmatch_without_brackets(pattern, address):
    assert address_matches(pattern, address) == fnmatchcase(address, pattern)


@given(KEYED_GLOB, KEYED_ADDRESS)
@example("module.m.*", 'module.m["a"].aws_s3_bucket.b')
@example('a["a.b"]', 'a["a.b"]')
@example("a", "a[0]")
def test_address_globs_agree_with_the_reference_on_instance_keys(pattern, address):
    assert address_matches(pattern, address) == reference_address_matches(pattern, address)


WILDCARD_CHARS = "ab.:/*?%_"


@given(st.text(alphabet=WILDCARD_CHARS, max_size=14), st.text(alphabet="ab.:/%_\n", max_size=18),
       st.booleans())
def test_wildcards_agree_with_fnmatch_and_the_fallback(pattern, text, case_sensitive):
    expected = fnmatchcase(text.lower(), pattern.lower()) if not case_sensitive else fnmatchcase(text, pattern)
    assert wildcard_match(pattern, text, case_sensitive=case_sensitive) == expected
    assert _wildcard_fallback(pattern, text, "*", "?") == fnmatchcase(text, pattern)
    # OAM LIKE: % and _ are the wildcards, * and ? literal.
    like = wildcard_match(pattern, text, many="%", one="_")
    assert like == _wildcard_fallback(pattern, text, "%", "_")


HOSTILE_GLOBS = st.one_of(
    st.integers(min_value=1, max_value=60).map(lambda n: "*a" * n + "b"),
    st.integers(min_value=1, max_value=60).map(lambda n: "*?" * n + "b"),
    st.text(alphabet="a*?.", min_size=1, max_size=MAX_PATTERN_LENGTH),
)
LONG_TEXT = st.tuples(st.sampled_from(["a", "a.", "ab", "?"]), st.integers(min_value=1, max_value=20_000)).map(
    lambda pair: pair[0] * pair[1])


@given(HOSTILE_GLOBS, LONG_TEXT)
@example("*a*a*a*a*a*a*a*a*b", "a" * 20_000)
def test_glob_matching_terminates_quickly(pattern, text):
    with bounded(seconds=1):
        address_matches(pattern, "aws_s3_bucket." + text)
        wildcard_match(pattern, text)
        wildcard_match(pattern, text, many="%", one="_", case_sensitive=False)


# --- regexes ----------------------------------------------------------------------------------------------

ATOMS = st.sampled_from(["a", "b", "_", "[ab]", "[^a]", ".", r"\d", "[0-9]", "(^|_)", "(_|$)", "^", "$", "ab", "pan"])


def _regex(depth: int = 2) -> st.SearchStrategy[str]:
    if depth == 0:
        return ATOMS
    inner = _regex(depth - 1)
    return st.one_of(
        ATOMS,
        st.lists(inner, min_size=1, max_size=4).map("".join),
        st.tuples(inner, inner).map(lambda pair: f"({pair[0]}|{pair[1]})"),
        st.tuples(inner, st.sampled_from(["*", "+", "?", "{2}", "{1,3}", "*?", "+?"])).map(
            lambda pair: f"(?:{pair[0]}){pair[1]}"),
    )


NAMES = st.text(alphabet="ab_0123pan", max_size=24)  # normalised field names: [a-z0-9_]


@given(_regex(), NAMES)
@example("(^|_)pan(_|$)", "payer_pan")
@example("(^|_)pan(_|$)", "company")
def test_re2_means_what_python_re_means_on_normalised_names(pattern, name):
    assert regex_search(pattern, name) == (re.search(pattern, name) is not None)


@given(st.one_of(st.text(max_size=60), st.lists(st.sampled_from(
    ["(", ")", "[", "]", "{", "}", "*", "+", "?", "\\", "1", "a", "|", "^", "$", "(?=", "(?<=", "(?P<n>", "(?P=n)",
     "{1000}", "{2000}", "\\Z", "\\p{L}", "\\x{10FFFF}", "\x00"]), max_size=40).map("".join)))
@example(r"(a)\1")
@example("[\n")  # RE2 quotes the pattern in its reason: a newline must not reach the message
@example("(?=x)")
@example("((((a{100}){100}){100}){100})")
def test_every_pattern_compiles_or_is_refused_with_a_reason(pattern):
    with bounded(seconds=1):
        try:
            compiled = compile_regex(pattern)
        except PatternError as error:
            assert str(error) and "\n" not in str(error)
            return
        compiled.search("a" * 10_000 + "_pan_" + "b" * 10_000)


HOSTILE_REGEXES = st.sampled_from(["(a+)+$", "(a|aa)+b", "(a*)*b", "(.*a){12}", "^(a|a?)+$", "(x+x+)+y", "(\\w+\\s?)+$",
                                   "([a-z]+)*[0-9]", "(a|b|ab)*c"])


@given(HOSTILE_REGEXES, st.integers(min_value=10, max_value=50_000))
def test_regex_matching_terminates_quickly(pattern, length):
    with bounded(seconds=1):
        regex_search(pattern, "a" * length)
        regex_search(pattern, "a" * length + "!")
