"""Hand the documents checkov's HCL parser produces to the model, so no file is parsed twice.

Checkov's `parser_utils.load_or_die_quietly` calls `hcl2.load(f)` through its module's `hcl2` name; we put a
stand-in there whose `load` is python-hcl2's own (`loads(f.read())`, exactly as `hcl2.api.load` does) and that
also records the text and its document in `model.raw_hcl`. Checkov gets the very object python-hcl2
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
        text = file.read()
        document = hcl2.loads(text)
        raw_hcl.share(text, document)
        return document

    def __getattr__(self, name: str) -> Any:
        return getattr(hcl2, name)


def install() -> None:
    import checkov.terraform.parser_utils as parser_utils

    if not isinstance(parser_utils.hcl2, _SharingHcl2):
        parser_utils.hcl2 = _SharingHcl2()


install()
