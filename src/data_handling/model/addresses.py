"""Terraform resource addresses: splitting, module prefixes, and the globs the policy map uses."""

from __future__ import annotations

from functools import cache
from typing import Any

import re2

from data_handling.patterns import wildcard_source


def split_address(address: str) -> list[str]:
    """Split on dots outside instance keys: module.a["x.y"].aws_s3_bucket.b -> 4 parts."""
    parts, current, depth, quoted = [], "", 0, False
    for char in address:
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "[":
            depth += 1
        elif not quoted and char == "]":
            depth -= 1
        if char == "." and depth == 0 and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def module_address_of(tf_module: Any) -> str:
    """The module instance address of a checkov TFModule chain ('' for the root module)."""
    if tf_module is None:
        return ""
    parent = module_address_of(getattr(tf_module, "nested_tf_module", None))
    name = tf_module.name
    index = tf_module.foreach_idx
    if isinstance(index, int):
        name = f"{name}[{index}]"
    elif isinstance(index, str):
        name = f'{name}["{index}"]'
    return f"{parent}.module.{name}" if parent else f"module.{name}"


def root_dir_of(tf_module: Any, file_path: str) -> str:
    """The directory of the root module a vertex belongs to (several roots can share one graph)."""
    import os

    while tf_module is not None and getattr(tf_module, "nested_tf_module", None) is not None:
        tf_module = tf_module.nested_tf_module
    return os.path.dirname(tf_module.path if tf_module is not None else file_path)


def strip_instance_key(segment: str) -> str:
    return segment.split("[", 1)[0]


@cache
def _glob_regex(pattern: str) -> re2._Regexp:
    # Only * and ? are wildcards (* also crosses dots): brackets are literal, since addresses carry ["key"]
    # instance keys. A segment written without an instance key matches every instance of it. RE2, not re:
    # a glob such as *a*a*a*a*a*a*a*a*b would backtrack for minutes over a long address.
    segments = []
    for segment in split_address(pattern):
        translated = wildcard_source(segment)
        if "[" not in segment:
            translated += r"(?:\[[^\]]*\])?"
        segments.append(translated)
    options = re2.Options()
    options.log_errors = False
    return re2.compile("(?s)" + r"\.".join(segments), options)


def address_matches(pattern: str, address: str) -> bool:
    """Whether an address glob matches the whole address; a segment without instance key also matches every
    instance. Linear in the address's length (the policy map caps the glob's)."""
    return _glob_regex(pattern).fullmatch(address) is not None
