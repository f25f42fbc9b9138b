"""Issue 14, items 9, 13, 14 and 15: outputs that cannot be written, writes that follow a symlink, and output
that attacks its reader (a workflow command in a CI log, HTML, links or images in the job summary). Through the
real CLI, each run in a fresh interpreter."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO

CLEAN = FIXTURES / "clean"
POLICY_MAP = FIXTURES / "policy_map.yaml"
SCAN_CLEAN = ("scan", str(CLEAN), "--policy-map", str(POLICY_MAP))
# Checkov logs a failed write of its own outputs and goes on (RunnerRegistry.save_output_to_file): as if
# every such write had failed.
CHECKOV_WRITE_FAILS = """
    from checkov.common.runners.runner_registry import RunnerRegistry
    RunnerRegistry.save_output_to_file = lambda self, file_name, data, data_format: None
"""
HOSTILE_VALUE = "</details># Pwned ![x](https://evil.example/track.png) [click](https://evil.example) a@evil.example"
HOSTILE_TAG = f"acme\n::error::pwned by a tag\n{HOSTILE_VALUE}"
HOSTILE_FILE = "evil\n::error::pwned by a file name\n.tf"


def cli(*args: str, cwd: Path = REPO, prelude: str = "", wrapper: list[str] | None = None
        ) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
    code = textwrap.dedent(prelude) + "\nimport sys\nfrom data_handling.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([*(wrapper or []), sys.executable, "-c", code, *args], capture_output=True, text=True,
                          cwd=cwd, env=environment, timeout=600)


def assert_cannot_write(done: subprocess.CompletedProcess, path: Path | str, reason: str) -> None:
    """Exit 2 with one line, `data-handling: error: cannot write PATH: reason`, and no traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("data-handling: error: ")]
    assert errors == [f"data-handling: error: cannot write {path}: {reason}"], done.stderr


def hostile_root(tmp_path: Path) -> Path:
    """A store whose file name and tenant tag hold line breaks, workflow commands, HTML and Markdown."""
    root = tmp_path / "hostile"
    root.mkdir()
    # A heredoc: the tag's line breaks are real ones (checkov keeps a quoted string's \n as written).
    (root / HOSTILE_FILE).write_text(
        'provider "aws" {\n  region = "eu-west-1"\n}\n\n'
        'resource "aws_s3_bucket" "hostile" {\n  bucket = "hostile"\n  tags = {\n'
        f'    data_class = "confidential"\n    tenant     = <<EOT\n{HOSTILE_TAG}\nEOT\n  }}\n}}\n'
        # not public (CKV_DH_103): the tenant is the one finding
        'resource "aws_s3_bucket_public_access_block" "hostile" {\n  bucket = aws_s3_bucket.hostile.id\n'
        '  block_public_acls       = true\n  block_public_policy     = true\n  ignore_public_acls      = true\n'
        '  restrict_public_buckets = true\n}\n')
    return root


def lines_starting_a_workflow_command(*texts: str) -> list[str]:
    return [line for text in texts for line in text.splitlines() if line.lstrip().startswith("::")]


# --- item 15: writes never follow a symlink ------------------------------------------------------------------

@pytest.mark.parametrize("option", ["--sarif-file", "--summary-file"])
def test_scan_refuses_a_committed_symlink_and_leaves_its_target_alone(tmp_path, option):
    outside = tmp_path / "outside" / "precious.txt"
    outside.parent.mkdir()
    outside.write_text("precious\n")
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    link = checkout / "data-handling.sarif"
    link.symlink_to(outside)
    done = cli(*SCAN_CLEAN, option, str(link))
    assert_cannot_write(done, link, "it is a symbolic link (outputs never follow one)")
    assert outside.read_text() == "precious\n"


def test_a_dangling_symlink_does_not_create_its_target(tmp_path):
    outside = tmp_path / "outside" / "created.sarif"
    outside.parent.mkdir()
    link = tmp_path / "data-handling.sarif"
    link.symlink_to(outside)
    done = cli(*SCAN_CLEAN, "--sarif-file", str(link))
    assert_cannot_write(done, link, "it is a symbolic link (outputs never follow one)")
    assert not outside.exists()


def test_inventory_refuses_a_symlink_output_file(tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("precious\n")
    link = tmp_path / "map.json"
    link.symlink_to(outside)
    done = cli("inventory", str(CLEAN), "--policy-map", str(POLICY_MAP), "--output", "json",
               "--output-file", str(link))
    assert_cannot_write(done, link, "it is a symbolic link (outputs never follow one)")
    assert outside.read_text() == "precious\n"


def test_checkovs_files_in_the_output_directory_are_not_followed(tmp_path):
    """Checkov writes results_json.json itself, following symlinks: the CLI refuses one before it runs."""
    outside = tmp_path / "precious.txt"
    outside.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "results_json.json").symlink_to(outside)
    done = cli(*SCAN_CLEAN, "--output", "json", "--output-file-path", str(out))
    assert_cannot_write(done, out / "results_json.json", "it is a symbolic link (outputs never follow one)")
    assert outside.read_text() == "precious\n"


# --- item 9: destinations that cannot be written, refused before the scan ------------------------------------

def test_a_file_destination_that_is_a_directory(tmp_path):
    for option in ("--sarif-file", "--summary-file"):
        done = cli(*SCAN_CLEAN, option, str(tmp_path))
        assert_cannot_write(done, tmp_path, "it is a directory, a file is expected")
    done = cli("inventory", str(CLEAN), "--policy-map", str(POLICY_MAP), "--output-file", str(tmp_path))
    assert_cannot_write(done, tmp_path, "it is a directory, a file is expected")


def test_an_output_directory_that_is_a_file(tmp_path):
    file = tmp_path / "results"
    file.write_text("")
    done = cli(*SCAN_CLEAN, "--output", "json", "--output-file-path", str(file))
    assert_cannot_write(done, file, "it is not a directory")
    done = cli(*SCAN_CLEAN, "--output", "sarif", "--output-file-path", str(file / "sub"))
    assert_cannot_write(done, file / "sub", f"{file} is not a directory")


def test_a_parent_that_is_a_file(tmp_path):
    file = tmp_path / "file"
    file.write_text("")
    done = cli(*SCAN_CLEAN, "--sarif-file", str(file / "a" / "x.sarif"))
    assert_cannot_write(done, file / "a" / "x.sarif", f"{file} is not a directory")


def test_a_read_only_directory(tmp_path):
    """chmod where we are not root; as root (who may write anywhere) a read-only mount in a private mount
    namespace."""
    read_only = tmp_path / "ro"
    read_only.mkdir()
    wrapper: list[str] = []
    if os.geteuid() == 0:
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True) if shutil.which("unshare") else None
        if probe is None or probe.returncode != 0:
            pytest.skip("root without unshare -m: cannot make a directory read-only")
        wrapper = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs -o ro tmpfs "$0" && exec "$@"', str(read_only)]
    else:
        read_only.chmod(0o555)
    try:
        sarif = read_only / "x.sarif"
        done = cli(*SCAN_CLEAN, "--sarif-file", str(sarif), wrapper=wrapper)
        reason = "read-only file system" if wrapper else "permission denied"
        assert_cannot_write(done, sarif, f"{reason} in {read_only}")
        done = cli(*SCAN_CLEAN, "--output", "json", "--output-file-path", str(read_only), wrapper=wrapper)
        assert_cannot_write(done, read_only, reason)
    finally:
        read_only.chmod(0o755)


def test_missing_directories_are_created(tmp_path):
    done = cli(*SCAN_CLEAN, "--sarif-file", str(tmp_path / "a" / "b" / "x.sarif"),
               "--summary-file", str(tmp_path / "c" / "summary.md"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "a" / "b" / "x.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "c" / "summary.md").read_text().startswith("## Data-handling checks")
    done = cli(*SCAN_CLEAN, "--output", "json", "--output", "sarif", "--output-file-path", str(tmp_path / "d" / "e"))
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "d" / "e").iterdir()} == {"results_json.json", "results.sarif"}


def test_an_output_checkov_did_not_write_is_an_untrusted_scan(tmp_path):
    """Checkov catches its own write errors: a clean scan without its JSON exited 0. An earlier run's file in
    the directory must not pass for this run's either."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "results_json.json").write_text('{"stale": true}')
    done = cli(*SCAN_CLEAN, "--output", "json", "--output", "cli", "--output-file-path", str(out),
               prelude=CHECKOV_WRITE_FAILS)
    assert_cannot_write(done, out / "results_json.json", "checkov did not write it (see its log above)")
    done = cli(*SCAN_CLEAN, "--output", "json", "--output-file-path", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "results_json.json").read_text())["check_type"] == "terraform"


def test_a_comma_in_the_output_directory(tmp_path):
    """Checkov would split it into one file per output format."""
    path = tmp_path / "a,b"
    done = cli(*SCAN_CLEAN, "--output", "json", "--output-file-path", str(path))
    assert_cannot_write(done, path, "checkov reads a comma as a list of output files")


# --- item 13: nothing we print starts a workflow command -----------------------------------------------------

@pytest.mark.parametrize("output", ["table", "csv", "markdown", "json"])
def test_the_data_map_never_prints_a_line_that_is_a_workflow_command(tmp_path, output):
    root = hostile_root(tmp_path)
    done = cli("inventory", str(root), "--policy-map", str(POLICY_MAP), "--output", output)
    assert done.returncode == 0, done.stderr
    assert lines_starting_a_workflow_command(done.stdout, done.stderr) == []
    assert "pwned by a tag" in done.stdout
    if output == "json":  # data: the value exactly, in proper JSON quoting
        [store] = json.loads(done.stdout)["stores"]
        assert store["tenant"]["value"] == HOSTILE_TAG and store["file"] == HOSTILE_FILE
    if output == "csv":  # data: still one row per store, the line breaks as escapes
        [row] = list(csv.DictReader(io.StringIO(done.stdout)))
        assert row["tenant"] == HOSTILE_TAG.replace("\n", "\\n") and row["file"] == HOSTILE_FILE.replace("\n", "\\n")


def test_the_scan_never_prints_a_line_that_is_a_workflow_command(tmp_path):
    """Our SARIF on stdout (checkov's console output is discarded then), our messages on stderr, among them
    the warning that names a file outside --repo-root."""
    root = hostile_root(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--output", "sarif", "--repo-root",
               str(elsewhere), "--summary-file", str(tmp_path / "summary.md"))
    assert done.returncode == 1, done.stderr
    assert lines_starting_a_workflow_command(done.stdout, done.stderr) == []
    assert "outside the repository root" in done.stderr and "pwned by a file name" in done.stderr
    # The unknown tenant's finding (CKV_DH_104 also fails the bucket: nothing logs its access).
    [result] = [r for r in json.loads(done.stdout)["runs"][0]["results"] if r["ruleId"] == "CKV_DH_101"]
    assert HOSTILE_TAG in result["message"]["text"]  # the SARIF keeps the value, JSON-escaped


# --- item 14: the job summary renders hostile values inert ---------------------------------------------------

def _render(markdown: str) -> str:
    """HTML as GitHub renders it (cmark-gfm with its extensions, raw HTML allowed) where cmarkgfm is
    installed, else Python-Markdown with tables (a dependency of checkov's)."""
    try:
        import cmarkgfm
        from cmarkgfm.cmark import Options
    except ImportError:
        markdown_module = pytest.importorskip("markdown")
        return markdown_module.markdown(markdown, extensions=["tables"])
    return cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)


def _assert_inert(html: str) -> None:
    assert "<img" not in html and "<h1" not in html
    assert not re.search(r"<a [^>]*evil", html), html
    assert not re.search(r"<h\d[^>]*>[^<]*Pwned", html), html
    assert html.count("<details>") == html.count("</details>")


def test_the_job_summary_renders_hostile_values_inert(tmp_path):
    root = hostile_root(tmp_path)
    summary = tmp_path / "summary.md"
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--summary-file", str(summary))
    assert done.returncode == 1, done.stderr
    text = summary.read_text()
    assert "Pwned" in text and "pwned by a tag" in text  # the values are shown ...
    assert "</details>#" not in text and "![x](" not in text and "[click](" not in text  # ... inert
    assert text.count("<details>") == text.count("</details>") == 1  # the data map's, and no stray one
    assert lines_starting_a_workflow_command(text) == []
    _assert_inert(_render(text))
    inventory = cli("inventory", str(root), "--policy-map", str(POLICY_MAP), "--output", "markdown")
    assert inventory.returncode == 0, inventory.stderr
    _assert_inert(_render(inventory.stdout))


@pytest.mark.parametrize("value", [
    HOSTILE_VALUE, "# heading", "1. item", "- item", "+ item", "> quote", "<img src=x onerror=alert(1)>",
    "&#x3C;img src=x&#x3E;", "<https://evil.example>", "www.evil.example", "https://evil.example",
    "mailto:a@evil.example", "a@evil.example", "[ref]: https://evil.example", "![i][ref]", "x\\|y | z",
    "`code` **bold** _em_ ~~strike~~ $math$", "line\n# heading\n<details>", "\x1b[31mred\u202e"])
def test_markdown_cells_are_inert(value):
    from data_handling.output.summary import code, markdown_cell

    table = f"| a | b |\n|---|---|\n| {markdown_cell(value)} | {code(value)} |\n\n{markdown_cell(value)}\n"
    html = _render(table)
    _assert_inert(html)
    assert "<a " not in html and "<details" not in html and "<script" not in html
    assert not re.search(r"<(h\d|ul|ol|li|blockquote|em|strong|del|code)\b", html.split("</table>")[1]), html
    assert html.count("<td>") == 2  # no cell split off
    assert "\x1b" not in html and "\u202e" not in html
