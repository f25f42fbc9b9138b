"""Where a scan writes its outputs: every destination checked before checkov starts, written without following
symbolic links, and checkov's own files verified after it ran.

A destination that cannot be written used to surface after the scan, as a traceback with exit 1 (read as
"findings"), or not at all: checkov catches its own write errors, so a missing `results_json.json` came with
exit 0. And the checkout is the pull request's: a committed symlink at `data-handling.sarif` pointing at a file
outside the workspace was followed and that file overwritten. So:

- before the scan, each destination must be writable: a file destination must not be a directory, a symbolic
  link or a special file other than a character device (/dev/null); a directory destination must not be a
  file; the nearest existing ancestor must be a directory we may write to. Missing directories are created
  when the output is written, as before (and as checkov does for --output-file-path);
- our writes open the file with O_NOFOLLOW, so a symlink put in place after the check is refused too;
- checkov's files in --output-file-path are checked before the scan the same way (checkov itself follows
  symlinks), removed so that a stale copy cannot pass for this run's, and must exist after it.

Every failure is a ScanError "cannot write PATH: reason" (exit 2).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from data_handling.checkov_adapter.checks_location import ScanError
from data_handling.safe_text import one_line

# The files checkov 3.3.30 writes into --output-file-path, per --output format
# (RunnerRegistry.print_reports); "csv" writes several files under names of its own and is not offered.
CHECKOV_FILE_NAMES = {
    "cli": "results_cli.txt",
    "github_failed_only": "results_github_failed_only.md",
    "sarif": "results_sarif.sarif",
    "json": "results_json.json",
    "junitxml": "results_junitxml.xml",
    "cyclonedx": "results_cyclonedx.xml",
    "cyclonedx_json": "results_cyclonedx.json",
    "gitlab_sast": "results_gitlab_sast.json",
    "spdx": "results_spdx.spdx",
}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; where it is missing, the lstat check below still refuses


class DestinationError(ScanError):
    """An output cannot be written: the message names the path and the reason."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"cannot write {one_line(os.fspath(path))}: {reason}")


def check_file(path: str | os.PathLike[str] | None) -> None:
    """Refuse a file destination that the write would fail on, or that would be followed elsewhere."""
    if path is None:
        return
    target = Path(path)
    if os.fspath(path).endswith(os.sep):
        raise DestinationError(path, "a file name is needed, not a directory")
    try:
        status = target.lstat()
    except (FileNotFoundError, NotADirectoryError):
        _check_creatable(target.parent, path)
        return
    except OSError as error:
        raise DestinationError(path, _reason(error)) from None
    if stat.S_ISLNK(status.st_mode):
        raise DestinationError(path, "it is a symbolic link (outputs never follow one)")
    if stat.S_ISDIR(status.st_mode):
        raise DestinationError(path, "it is a directory, a file is expected")
    if not (stat.S_ISREG(status.st_mode) or stat.S_ISCHR(status.st_mode)):
        raise DestinationError(path, "it is not a regular file")
    if not os.access(target, os.W_OK):
        raise DestinationError(path, _not_writable(target))


def check_directory(path: str | os.PathLike[str] | None, file_names: Iterable[str] = ()) -> None:
    """Refuse an output directory that cannot be written, or whose `file_names` could not be."""
    if path is None:
        return
    directory = Path(path)
    if "," in os.fspath(path):  # checkov reads a comma in --output-file-path as one file per output format
        raise DestinationError(path, "checkov reads a comma as a list of output files")
    try:
        status = directory.stat()
    except (FileNotFoundError, NotADirectoryError):
        _check_creatable(directory, path)
        return
    except OSError as error:
        raise DestinationError(path, _reason(error)) from None
    if not stat.S_ISDIR(status.st_mode):
        raise DestinationError(path, "it is not a directory")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise DestinationError(path, _not_writable(directory))
    for name in file_names:
        check_file(directory / name)


def check_scan(*, sarif_file: str | None, output_file_path: str | None, summary_file: str | None,
               checkov_outputs: Iterable[str], wants_sarif: bool) -> list[Path]:
    """Every destination of `data-handling scan`, checked before the scan; returns the files checkov is to
    write into --output-file-path (prepared: see prepare_checkov_files), for verify_checkov_files."""
    from data_handling.output.sarif import FILE_NAME

    expected = checkov_files(output_file_path, checkov_outputs)
    ours = [FILE_NAME] if wants_sarif and not sarif_file else []
    check_directory(output_file_path, ours)
    if wants_sarif:
        check_file(sarif_file)
    check_file(summary_file)
    prepare_checkov_files(expected)
    return expected


def checkov_files(directory: str | os.PathLike[str] | None, outputs: Iterable[str]) -> list[Path]:
    """The files checkov writes into `directory` for its `outputs`."""
    if directory is None:
        return []
    return [Path(directory) / CHECKOV_FILE_NAMES[output] for output in outputs if output in CHECKOV_FILE_NAMES]


def prepare_checkov_files(files: Iterable[Path]) -> None:
    """Before the scan: the files checkov will write are checked, and an earlier run's copies removed, so that
    a file found after the scan is this run's."""
    for file in files:
        check_file(file)
        try:
            file.unlink(missing_ok=True)
        except OSError as error:
            raise DestinationError(file, _reason(error)) from None


def verify_checkov_files(files: Iterable[Path]) -> None:
    """After the scan: checkov logs a failed write and goes on; a missing output is an untrusted run."""
    for file in files:
        try:
            written = stat.S_ISREG(file.lstat().st_mode)
        except OSError:
            written = False
        if not written:
            raise DestinationError(file, "checkov did not write it (see its log above)")


def open_text(path: str | os.PathLike[str], *, append: bool = False) -> IO[str]:
    """`path` opened for writing text (truncated, or appended to), never through a symbolic link; missing
    directories are created."""
    check_file(path)
    target = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_APPEND if append else os.O_TRUNC
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, flags, 0o666)
    except OSError as error:
        raise DestinationError(path, _reason(error)) from None
    return os.fdopen(descriptor, "a" if append else "w", encoding="utf-8")


def write_text(path: str | os.PathLike[str] | None, text: str, *, append: bool = False) -> None:
    """Write (or append) `text` to `path`, or to stdout when `path` is None."""
    write_chunks(path, (text,), append=append)


_BATCH_CHARACTERS = 1 << 20


def write_chunks(path: str | os.PathLike[str] | None, chunks: Iterable[str], *, append: bool = False) -> None:
    """Write (or append) the text the chunks make, in batches of about a megabyte, to `path` or stdout: a large
    document (the SARIF of thousands of findings) is never held as one string beside its parts."""
    try:
        with contextlib.ExitStack() as stack:
            handle = sys.stdout if path is None else stack.enter_context(open_text(path, append=append))
            batch: list[str] = []
            size = 0
            for chunk in chunks:
                batch.append(chunk)
                size += len(chunk)
                if size >= _BATCH_CHARACTERS:
                    handle.write("".join(batch))
                    batch, size = [], 0
            handle.write("".join(batch))
    except DestinationError:
        raise
    except OSError as error:  # a full disk, a quota: after the checks, but still one line and exit 2
        if path is None:
            raise
        raise DestinationError(path, _reason(error)) from None


def _check_creatable(directory: Path, shown: str | os.PathLike[str]) -> None:
    """A path that does not exist yet: its nearest existing ancestor must be a directory we may write to."""
    for ancestor in (directory, *directory.parents):
        try:
            status = ancestor.stat()
        except (FileNotFoundError, NotADirectoryError):  # the ancestor that is not a directory is named below
            continue
        except OSError as error:
            raise DestinationError(shown, _reason(error)) from None
        if not stat.S_ISDIR(status.st_mode):
            raise DestinationError(shown, f"{one_line(os.fspath(ancestor))} is not a directory")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise DestinationError(shown, f"{_not_writable(ancestor)} in {one_line(os.fspath(ancestor))}")
        return


def _not_writable(path: Path) -> str:
    try:
        if os.statvfs(path).f_flag & getattr(os, "ST_RDONLY", 1):
            return "read-only file system"
    except (OSError, AttributeError):  # no statvfs (Windows): the plain reason
        pass
    return "permission denied"


def _reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink put in place after the check
        return "it is a symbolic link (outputs never follow one)"
    return error.strerror.lower() if error.strerror else one_line(error)
