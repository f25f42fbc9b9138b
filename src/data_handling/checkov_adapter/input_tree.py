"""The scanned tree, surveyed before checkov reads it, and the files checkov must not read.

A pull request controls every entry of the tree. Checkov opens every `*.tf` it finds: a FIFO named `x.tf`
blocks it for ever, and a `.tf` symlink to a file outside the repository is parsed and quoted in SARIF
snippets with the host's path. An unreadable directory is skipped by checkov without a word. So, before the
scan: a directory or Terraform file that cannot be read is an error (the scan would be incomplete), and
non-regular files and symlinks that leave the repository are skipped, with a warning, by checkov and the
evaluator alike (model/hcl/files.py reads the same confinement root from the environment).
"""

from __future__ import annotations

import functools
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from data_handling.checkov_adapter.checks_location import ScanError
from data_handling.model.hcl.files import CONFINE_ENV, outside_confinement
from data_handling.safe_text import one_line

# What Terraform (and checkov) read: configuration and variable files.
TERRAFORM_SUFFIXES = (".tf", ".tf.json", ".tfvars", ".tfvars.json", ".hcl")
SKIPPED_DIRECTORIES = frozenset({".git"})


@dataclass
class InputTree:
    root: Path
    confine_to: Path
    configuration_files: int = 0  # readable .tf and .tf.json files (not variable files)
    skipped: dict[str, str] = field(default_factory=dict)  # absolute path -> why it is not read


def survey(target: Path, confine_to: Path) -> InputTree:
    """Walk the scanned tree: ScanError for what cannot be read, `skipped` for what must not be."""
    tree = InputTree(root=target, confine_to=confine_to.resolve())
    if target.is_file() or not target.is_dir():
        _file(tree, str(target))
        return tree

    def unreadable(error: OSError) -> None:
        raise ScanError(f"cannot read directory {one_line(error.filename)}: {error.strerror or error}; nothing "
                        "under it would be checked")

    for directory, subdirectories, files in os.walk(target, onerror=unreadable):
        subdirectories[:] = sorted(d for d in subdirectories if d not in SKIPPED_DIRECTORIES)
        for name in list(subdirectories):
            path = os.path.join(directory, name)
            if outside_confinement(path, tree.confine_to):
                tree.skipped[os.path.abspath(path)] = f"a symlink to {_shown(path)}, outside the repository"
                subdirectories.remove(name)
        for name in sorted(files):
            if name.endswith(TERRAFORM_SUFFIXES):
                _file(tree, os.path.join(directory, name))
    return tree


def _file(tree: InputTree, path: str) -> None:
    absolute = os.path.abspath(path)
    try:
        status = os.stat(path)  # follows symlinks: what a reader would open
    except OSError as error:
        if os.path.islink(path):
            tree.skipped[absolute] = "a broken symlink"
            return
        raise ScanError(f"cannot read {one_line(path)}: {error.strerror or error}") from None
    if outside_confinement(path, tree.confine_to):
        tree.skipped[absolute] = f"a symlink to {_shown(path)}, outside the repository"
        return
    if not stat.S_ISREG(status.st_mode):
        tree.skipped[absolute] = f"not a regular file ({_kind(status.st_mode)})"
        return
    if not os.access(path, os.R_OK):
        raise ScanError(f"cannot read {one_line(path)}: permission denied (the scan would be incomplete)")
    if path.endswith((".tf", ".tf.json")):
        tree.configuration_files += 1


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a file"


def _shown(path: str) -> str:
    return one_line(os.path.realpath(path))


# --- inside checkov ------------------------------------------------------------------------------------

_guarded: dict[str, str] = {}
_surveyed: list[InputTree] = []  # the tree guard_checkov was last given
parse_causes: dict[str, BaseException] = {}  # absolute path -> the exception checkov's parser recorded


def skipped_paths() -> frozenset[str]:
    return frozenset(_guarded)


def last_survey() -> InputTree:
    """The survey checkov was last guarded with: what a --jobs worker guards its checkov with."""
    if not _surveyed:
        raise ScanError("internal error: the tree was not surveyed before the scan")
    return _surveyed[-1]


def guard_checkov(tree: InputTree) -> None:
    """Make checkov's readers skip what the survey skipped, and any non-regular file (found later, in modules)."""
    import checkov.terraform.module_loading.module_finder as module_finder
    import checkov.terraform.parser_utils as parser_utils
    import checkov.terraform.tf_parser as tf_parser
    import checkov.terraform_json.utils as json_utils

    _guarded.clear()
    _guarded.update(tree.skipped)
    _surveyed[:] = [tree]
    parse_causes.clear()
    os.environ[CONFINE_ENV] = str(tree.confine_to)
    original = getattr(parser_utils.load_or_die_quietly, "__wrapped__", parser_utils.load_or_die_quietly)
    guarded_load = _skipping(original, lambda result: None)
    for module in (parser_utils, tf_parser, module_finder):
        module.load_or_die_quietly = guarded_load
    original_parse = getattr(json_utils.parse, "__wrapped__", json_utils.parse)
    json_utils.parse = _skipping(original_parse, lambda result: (None, None))


def _skipping(reader: Callable[..., Any], empty: Callable[[Any], Any]) -> Callable[..., Any]:
    @functools.wraps(reader)
    def read(file: Any, *args: Any, **kwargs: Any) -> Any:
        path = os.fspath(file.path if isinstance(file, os.DirEntry) else file)
        if _must_skip(path):
            return empty(None)
        result = reader(file, *args, **kwargs)
        errors = args[0] if args and isinstance(args[0], dict) else kwargs.get("parsing_errors")
        if isinstance(errors, dict) and path in errors:
            parse_causes[os.path.abspath(path)] = errors[path]
        return result

    return read


def _must_skip(path: str) -> bool:
    absolute = os.path.abspath(path)
    if absolute in _guarded:
        return True
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # the reader reports it
    confine = os.environ.get(CONFINE_ENV)
    return not regular or bool(confine and outside_confinement(path, Path(confine)))


def describe_parse_failure(path: str) -> str:
    """Why checkov could not parse `path`, in words that name the cause (not always "fix the syntax")."""
    from data_handling.safe_text import one_line as shown

    cause = parse_causes.get(os.path.abspath(path))
    name = type(cause).__name__ if cause is not None else ""
    if isinstance(cause, PermissionError) or (cause is None and not os.access(path, os.R_OK)):
        return f"{shown(path)} cannot be read (permission denied)"
    if "Timeout" in name or "seconds to parse" in str(cause):
        from checkov.common.util.env_vars_config import env_vars_config

        limit = env_vars_config.HCL_PARSE_TIMEOUT_SEC
        return (f"{shown(path)} took longer to parse than checkov's limit ({limit} s): it is too large or too "
                "convoluted for the HCL parser")
    if isinstance(cause, RecursionError):
        return f"{shown(path)} nests too deeply to parse"
    if isinstance(cause, UnicodeDecodeError):
        return f"{shown(path)} is not UTF-8 text"
    if isinstance(cause, OSError):
        return f"{shown(path)} cannot be read ({cause.strerror or cause})"
    if path.endswith(".json"):
        return _json_failure(path)
    detail = f": {shown(str(cause).splitlines()[0] if str(cause) else name, limit=200)}" if cause is not None else ""
    return f"{shown(path)} is not valid HCL{detail}; fix the Terraform syntax"


def _json_failure(path: str) -> str:
    import json

    from data_handling.safe_text import one_line as shown

    try:
        with open(path, encoding="utf-8-sig") as handle:
            document = json.load(handle)
    except json.JSONDecodeError as error:
        return f"{shown(path)} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
    except RecursionError:
        return f"{shown(path)} nests too deeply to parse"
    except (OSError, UnicodeDecodeError) as error:
        return f"{shown(path)} cannot be read ({error})"
    if not isinstance(document, dict):
        return f"{shown(path)} is not Terraform JSON (the top level must be an object)"
    return f"{shown(path)} is not valid Terraform JSON (checkov's terraform_json runner could not read it)"
