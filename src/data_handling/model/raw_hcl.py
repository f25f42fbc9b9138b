"""The .tf files as python-hcl2 reads them (expressions kept as "${...}" text), parsed once per content.

Checkov parses every file with the same python-hcl2 before our model reads it; parsing is the costly part
(about as much CPU as checkov's whole parse step when done twice), so the checkov adapter hands us each
document checkov's parser produced (`share`) and `parsed` takes it instead of parsing the text again. The
documents are keyed by the SHA-256 of the exact text parsed: a file that differs in any byte from what checkov
read (or was never read by checkov) is parsed here, so sharing can never change what the model sees.
"""

from __future__ import annotations

import hashlib
import marshal
import sys
from collections import OrderedDict
from typing import Any

# Documents checkov parsed, for the model to read: digest of the text -> marshal of the document. Marshalled
# (a compact, immutable copy, read back in a fraction of a millisecond) because checkov mutates its own
# documents while it expands modules, and kept until `clear` (each scan the CLI starts) because several roots
# of one scan may read the same module.
_shared: OrderedDict[bytes, bytes] = OrderedDict()
_shared_bytes = 0
SHARED_LIMIT_BYTES = 256 * 1024 * 1024  # beyond this the oldest are dropped (and parsed again if needed)
# A string value up to this length is interned with the keys (names, tag values, references): long ones (policy
# documents, scripts) are seldom repeated and would only cost the hashing.
INTERNED_VALUE_LENGTH = 80


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def share(text: str, document: Any) -> None:
    """Record the document python-hcl2 produced for `text`, so `parsed` need not parse the same text again."""
    global _shared_bytes
    try:
        blob = marshal.dumps(_compact(document))
    except ValueError:  # a type marshal cannot copy exactly: the model parses the file itself
        return
    key = _digest(text)
    previous = _shared.pop(key, None)
    _shared_bytes -= len(previous) if previous is not None else 0
    _shared[key] = blob
    _shared_bytes += len(blob)
    while _shared_bytes > SHARED_LIMIT_BYTES and _shared:
        _, dropped = _shared.popitem(last=False)
        _shared_bytes -= len(dropped)


def shared_documents() -> int:
    """How many documents checkov's parser has shared (for tests and benchmarks)."""
    return len(_shared)


def clear() -> None:
    global _shared_bytes
    _shared.clear()
    _shared_bytes = 0


def parsed(file_path: str) -> dict[str, Any] | None:
    """A .tf file as python-hcl2 reads it (expressions kept as "${...}" text); None if unreadable. A new
    document on every call (the caller may keep it)."""
    try:
        with open(file_path, encoding="utf-8") as handle:
            text = handle.read()
    except Exception:  # unreadable (permissions, encoding, a directory): the caller reports the file
        return None
    blob = _shared.get(_digest(text))
    if blob is not None:
        return marshal.loads(blob)  # type: ignore[no-any-return]
    return _parse(text)


def _parse(text: str) -> dict[str, Any] | None:
    try:
        import hcl2

        return _compact(hcl2.loads(text))
    except Exception:  # unparsable: the caller reports the file as unreadable
        return None


def _compact(document: Any) -> Any:
    try:
        return _interned(document)
    except RecursionError:  # nested beyond the interpreter's limit: as parsed (the evaluator reports the nesting)
        return document


def _interned(document: Any) -> Any:
    """A copy of a parsed document whose keys and short string values are interned strings. python-hcl2 makes a
    new string for every `tags`, `bucket` or `"confidential"` it reads, and the evaluated configuration keeps them:
    one shared string each instead (marshal keeps a string interned, so every document read back shares it)."""
    if isinstance(document, dict):
        return {(sys.intern(key) if type(key) is str else key): _interned(value) for key, value in document.items()}
    if isinstance(document, list):
        return [_interned(value) for value in document]
    if type(document) is str and len(document) <= INTERNED_VALUE_LENGTH:
        return sys.intern(document)
    return document
