"""Hand the documents checkov's HCL parser produces to the model, so no file is parsed twice.

Checkov's `parser_utils.load_or_die_quietly` calls `hcl2.load(f)` through its module's `hcl2` name; we put a
stand-in there whose `load` calls `hcl2.load` itself on the same file, and records the text it read and the
document it returned in `model.raw_hcl`. Checkov gets the very object python-hcl2
returned, so its behaviour does not change. Installed when the data-handling checks are imported, which
checkov does before it parses, so plain checkov and `data-handling scan` both gain from it.
"""

from __future__ import annotations

from typing import Any, TextIO

import hcl2

from data_handling.model import raw_hcl


class _SharingHcl2:
    """python-hcl2 as checkov's parser sees it, with `load` recording what it parsed."""

    __slots__ = ()

    def load(self, file: TextIO) -> Any:
        reader = _Recording(file)
        document = hcl2.load(reader)  # looked up on each call: whatever hcl2.load is, checkov gets its result
        if reader.text is not None:
            raw_hcl.share(reader.text, document)
        return document

    def __getattr__(self, name: str) -> Any:
        return getattr(hcl2, name)


class _Recording:
    """The file checkov opened, remembering the text python-hcl2 read from it."""

    def __init__(self, file: TextIO) -> None:
        self._file = file
        self.text: str | None = None

    def read(self, *size: int) -> str:
        text = self._file.read(*size)
        self.text = text if not size and self.text is None else None  # one whole read, or nothing is shared
        return text

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def install() -> None:
    import checkov.terraform.parser_utils as parser_utils

    if not isinstance(parser_utils.hcl2, _SharingHcl2):
        parser_utils.hcl2 = _SharingHcl2()


install()
