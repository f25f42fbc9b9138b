"""Issue 14: a pull request cannot silence, crash or hang the scan through the tree it hands the CLI.

Items 1 (ambient checkov configuration), 2 (.tf.json), 4 (modules and directories that cannot be read),
10 (FIFOs), 11 (unexpected exceptions), 16 (symlinks leaving the repository) and 17 (messages that name the
cause), each through the real CLI or hook in a subprocess. Where the defect needs a condition a test machine
cannot make (a permission error when the tests run as root, checkov's parse timeout, an internal error), a
`sitecustomize` injects exactly that condition into the real CLI process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.conftest import CHECKS_DIR, FIXTURES, REPO, write_tree

POLICY_MAP = FIXTURES / "policy_map.yaml"
TIMEOUT = 300

VIOLATION = """
    resource "aws_s3_bucket" "orders" {
      bucket = "acme-orders"
      tags = { data_class = "confidential", tenant = "acme" }
    }
"""
PROVIDER_US = 'provider "aws" {\n  region = "us-east-1"\n}\n'
PROVIDER_EU = 'provider "aws" {\n  region = "eu-west-1"\n}\n'


def cli(*arguments: str, cwd: Path | None = None, env: dict[str, str] | None = None,
        inject: str | None = None, tmp: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DATA_HANDLING_")}
    environment.update(env or {})
    if inject is not None:
        assert tmp is not None
        site = tmp / "inject"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(textwrap.dedent(inject))
        environment["PYTHONPATH"] = os.pathsep.join([str(site), environment.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "data_handling.cli", *arguments], capture_output=True, text=True,
                          cwd=cwd or REPO, env=environment, timeout=TIMEOUT)


def findings(done: subprocess.CompletedProcess[str]) -> set[tuple[str, str]]:
    """(check, resource) of the failed checks in checkov's JSON output (one report or a list of reports)."""
    payload = json.loads(done.stdout)
    reports = payload if isinstance(payload, list) else [payload]
    return {(item["check_id"], item["resource"]) for report in reports
            for item in report.get("results", {}).get("failed_checks", [])}


def sarif_results(path: Path) -> set[tuple[str, str]]:
    document = json.loads(path.read_text())
    return {(result["ruleId"], result["properties"]["resource"]) for run in document["runs"]
            for result in run["results"]}


def assert_error(done: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("data-handling: error: ")]
    assert len(errors) == 1, done.stderr[-3000:]
    for text in expected:
        assert text in errors[0], errors[0]


# --- item 1: the scanned repository cannot reconfigure checkov -------------------------------------------

HOSTILE_CHECKOV_CONFIG = """\
skip-check:
  - CKV_DH_101
skip-path:
  - .
framework:
  - kubernetes
no-fail-on-crash: true
soft-fail: true
external-checks-git:
  - https://example.invalid/evil-checks.git
"""


def test_ambient_checkov_configuration_is_ignored(tmp_path):
    scanned = shutil.copytree(FIXTURES / "ckv_dh_101", tmp_path / "repo")
    baseline = cli("scan", str(scanned), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert baseline.returncode == 1, baseline.stderr[-2000:]
    expected = findings(baseline)
    assert any(check == "CKV_DH_101" for check, _ in expected), expected

    home = tmp_path / "home"
    home.mkdir()
    for directory in (scanned, tmp_path, home):  # the scanned directory, the working directory, $HOME
        (directory / ".checkov.yaml").write_text(HOSTILE_CHECKOV_CONFIG)
        (directory / ".checkov.yml").write_text(HOSTILE_CHECKOV_CONFIG)
    hostile_env = {"HOME": str(home), "CKV_SKIP_CHECK": "CKV_DH_101,CKV_DH_100", "CKV_FRAMEWORK": "kubernetes",
                   "CKV_NO_FAIL_ON_CRASH": "true", "CHECKOV_SOFT_FAIL": "true", "BC_API_KEY": "stolen"}
    done = cli("scan", str(scanned), "--policy-map", str(POLICY_MAP), "--output", "json", cwd=tmp_path,
               env=hostile_env)
    assert done.returncode == 1, done.stderr[-2000:]
    assert findings(done) == expected
    assert "ignoring checkov's configuration variables" in done.stderr
    assert "stolen" not in done.stderr + done.stdout


def test_a_crash_is_exit_two_even_when_the_environment_says_no_fail_on_crash(tmp_path):
    crash = """
        import checkov.terraform.runner as runner
        def explode(self, *args, **kwargs):
            raise RuntimeError("the runner crashed")
        runner.Runner.run = explode
    """
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(POLICY_MAP), env={"CKV_NO_FAIL_ON_CRASH": "1"},
               inject=crash, tmp=tmp_path)
    assert_error(done, "internal error", "RuntimeError: the runner crashed")


def test_checkov_exiting_by_itself_is_exit_two(tmp_path):
    stop = """
        import sys
        import checkov.main
        def stop(self, *args, **kwargs):
            sys.exit(0)
        checkov.main.Checkov.run = stop
    """
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(POLICY_MAP), inject=stop, tmp=tmp_path)
    assert_error(done, "checkov stopped before the scan finished (exit 0)")


# --- item 11: any unexpected exception is exit 2 -------------------------------------------------------

def test_an_unexpected_exception_is_exit_two_not_findings(tmp_path):
    boom = """
        import data_handling.checkov_adapter.state as state
        def explode(*args, **kwargs):
            raise KeyError("surprise")
        state.models_used = explode
    """
    done = cli("scan", str(FIXTURES / "clean"), "--policy-map", str(POLICY_MAP), inject=boom, tmp=tmp_path)
    assert_error(done, "internal error, the scan could not be trusted", "KeyError")


# --- item 2: Terraform JSON is scanned with the same model -------------------------------------------------

_BLOCKED = {"block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True,
            "restrict_public_buckets": True}  # a public access block (CKV_DH_103), so only the region can fail
TF_JSON_VIOLATION = {
    "resource": {"aws_s3_bucket": {"orders": {"bucket": "acme-orders",
                                              "tags": {"data_class": "confidential", "tenant": "acme"}}},
                 "aws_s3_bucket_public_access_block": {"orders": {"bucket": "${aws_s3_bucket.orders.id}",
                                                                  **_BLOCKED}}},
}


def test_a_violation_in_tf_json_is_found(tmp_path):
    root = tmp_path / "json_only"
    root.mkdir()
    (root / "main.tf.json").write_text(json.dumps({"provider": {"aws": {"region": "us-east-1"}},
                                                   **TF_JSON_VIOLATION}))
    sarif = tmp_path / "out.sarif"
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--sarif-file", str(sarif))
    assert done.returncode == 1, done.stderr[-2000:]
    assert ("CKV_DH_101", "aws_s3_bucket.orders") in sarif_results(sarif)
    # a single .tf.json file is a target too
    single = cli("scan", str(root / "main.tf.json"), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert single.returncode == 1, single.stderr[-2000:]
    assert ("CKV_DH_101", "aws_s3_bucket.orders") in findings(single)


def test_tf_json_is_evaluated_with_the_hcl_beside_it_and_the_modules_it_is_called_from(tmp_path):
    root = write_tree(tmp_path / "mixed", {
        "providers.tf": PROVIDER_EU,
        "main.tf": 'module "store" {\n  source = "./modules/store"\n  tenant = "acme"\n}\n',
        "modules/store/variables.tf.json": json.dumps({"variable": {"tenant": {"type": "string"}}}),
    })
    # eu-west-1 from providers.tf; each bucket's access is logged (CKV_DH_104)
    (root / "compliant.tf.json").write_text(json.dumps({"resource": {**TF_JSON_VIOLATION["resource"],
        "aws_s3_bucket_logging": {"orders": {"bucket": "${aws_s3_bucket.orders.id}", "target_bucket": "logs"}}}}))
    (root / "modules/store/main.tf.json").write_text(json.dumps({"resource": {"aws_s3_bucket": {"b": {
        "tags": {"data_class": "confidential", "tenant": "${var.tenant}"}}},
        "aws_s3_bucket_public_access_block": {"b": {"bucket": "${aws_s3_bucket.b.id}", **_BLOCKED}},
        "aws_s3_bucket_logging": {"b": {"bucket": "${aws_s3_bucket.b.id}", "target_bucket": "logs"}}},
        "provider": {}}))
    us = write_tree(tmp_path / "mixed_us", {"providers.tf": PROVIDER_US})
    (us / "compliant.tf.json").write_text(json.dumps(TF_JSON_VIOLATION))
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert done.returncode == 0, done.stderr[-2000:] + done.stdout[-2000:]
    moved = cli("scan", str(us), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert moved.returncode == 1, moved.stderr[-2000:]
    assert ("CKV_DH_101", "aws_s3_bucket.orders") in findings(moved)


def test_tf_json_beside_an_hcl_root_is_evaluated_in_its_own_root(tmp_path):
    """Checkov's terraform_json runner leaves the HCL runner's graph on the checks; run in one process (the CLI),
    the JSON root's resources were judged on their own configuration: no provider, no default_tags, no address."""
    root = write_tree(tmp_path / "repo", {"hcl/main.tf": PROVIDER_EU + 'resource "aws_sqs_queue" "jobs" {}\n'})
    (root / "from_json").mkdir()
    (root / "from_json/main.tf.json").write_text(json.dumps({
        "provider": {"aws": {"region": "us-east-1", "default_tags": {"tags": {"tenant": "acme"}}}},
        "resource": {"aws_s3_bucket": {"orders": {"bucket": "acme-orders", "tags": {"data_class": "confidential"}}}},
    }))
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert done.returncode == 1, done.stderr[-2000:]
    reports = json.loads(done.stdout)
    failed = [item for report in (reports if isinstance(reports, list) else [reports])
              for item in report["results"].get("failed_checks", []) if item["check_id"] == "CKV_DH_101"]
    assert [item["resource"] for item in failed] == ["aws_s3_bucket.orders"]
    details = " ".join(failed[0]["details"])
    assert 'of tenant "acme" (tag tenant = "acme" in default_tags of provider "aws" (main.tf.json))' in details
    assert "created in us-east-1" in details


def test_a_module_written_in_tf_json_reports_its_module_address(tmp_path):
    root = write_tree(tmp_path / "root", {
        "main.tf": PROVIDER_US + 'module "store" {\n  source = "./modules/store"\n}\n',
    })
    (root / "modules/store").mkdir(parents=True)
    (root / "modules/store/main.tf.json").write_text(json.dumps(TF_JSON_VIOLATION))
    sarif = tmp_path / "out.sarif"
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--sarif-file", str(sarif))
    assert done.returncode == 1, done.stderr[-2000:]
    assert ("CKV_DH_101", "module.store.aws_s3_bucket.orders") in sarif_results(sarif)


def test_the_hook_keeps_a_root_that_holds_only_tf_json(tmp_path):
    root = tmp_path / "repo" / "stack"
    root.mkdir(parents=True)
    (root / "main.tf.json").write_text(json.dumps({"provider": {"aws": {"region": "us-east-1"}},
                                                   **TF_JSON_VIOLATION}))
    (tmp_path / "repo" / "policy_map.yaml").write_text(POLICY_MAP.read_text())
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DATA_HANDLING_")}
    done = subprocess.run([sys.executable, "-m", "data_handling.hook", "stack/main.tf.json"], capture_output=True,
                          text=True, cwd=tmp_path / "repo", env=environment, timeout=TIMEOUT)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "scanning stack" in done.stderr


def test_plain_checkov_evaluates_tf_json_in_the_same_model(tmp_path):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "main.tf.json").write_text(json.dumps({"provider": {"aws": {"region": "us-east-1"}},
                                                   **TF_JSON_VIOLATION}))
    environment = dict(os.environ, DATA_HANDLING_POLICY_MAP=str(POLICY_MAP))
    done = subprocess.run([sys.executable, "-m", "checkov.main", "-d", str(root), "--external-checks-dir",
                           str(CHECKS_DIR), "--skip-download", "--check", "CKV_DH_101", "-o", "json"],
                          capture_output=True, text=True, env=environment, timeout=TIMEOUT, cwd=REPO)
    report = json.loads(done.stdout)
    failed = report["results"]["failed_checks"]
    assert [item["check_id"] for item in failed] == ["CKV_DH_101"]
    details = " ".join(failed[0]["details"])
    assert "aws_s3_bucket.orders holds confidential" in details and "us-east-1" in details


# --- item 4: modules and directories that cannot be loaded ---------------------------------------------------

def _root_calling_store(tmp_path: Path, store: dict[str, str] | None, extra: str = "") -> Path:
    root = write_tree(tmp_path / "root", {
        "main.tf": PROVIDER_EU + 'module "store" {\n  source = "./modules/store"\n}\n' + extra,
        **(store or {}),
    })
    return root


@pytest.mark.parametrize("case", ["missing", "empty", "submodule"])
def test_a_local_module_that_cannot_be_loaded_is_exit_two(tmp_path, case):
    root = _root_calling_store(tmp_path, None)
    if case in ("empty", "submodule"):
        (root / "modules/store").mkdir(parents=True)
    if case == "submodule":
        (root / ".gitmodules").write_text('[submodule "store"]\n\tpath = modules/store\n')
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP))
    assert_error(done, "module.store", "could not be read")
    if case != "missing":
        assert "holds no .tf or .tf.json files" in done.stderr
    allowed = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--allow-missing-modules")
    assert allowed.returncode == 2, "--allow-missing-modules never excuses a local module"


def test_a_module_that_calls_itself_is_exit_two_naming_the_recursion(tmp_path):
    root = _root_calling_store(tmp_path, {
        "modules/store/main.tf": VIOLATION + 'module "again" {\n  source = "../store"\n}\n',
    })
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP))
    assert_error(done, "could not be evaluated", "calls itself")


def test_a_registry_module_not_downloaded_is_exit_two_unless_allowed(tmp_path):
    root = write_tree(tmp_path / "root", {
        "main.tf": PROVIDER_EU + 'module "bucket" {\n  source = "terraform-aws-modules/s3-bucket/aws"\n}\n',
    })
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP))
    assert_error(done, "module.bucket", "run terraform init")
    allowed = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--allow-missing-modules")
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    assert "warning: module module.bucket" in allowed.stderr


UNREADABLE = """
    import os
    _scandir = os.scandir
    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return _scandir(path)
    os.scandir = scandir
    _access = os.access
    def access(path, mode, **kwargs):
        if os.fspath(path).endswith("secret.tf"):
            return False
        return _access(path, mode, **kwargs)
    os.access = access
"""


def test_an_unreadable_subdirectory_is_exit_two(tmp_path):
    root = write_tree(tmp_path / "root", {"main.tf": PROVIDER_EU, "locked/main.tf": VIOLATION})
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), inject=UNREADABLE, tmp=tmp_path)
    assert_error(done, "cannot read directory", "locked", "Permission denied")


# --- item 17: messages that name the cause ----------------------------------------------------------------

def test_an_unreadable_file_is_a_permission_error_not_a_syntax_error(tmp_path):
    root = write_tree(tmp_path / "root", {"main.tf": PROVIDER_EU, "secret.tf": VIOLATION})
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), inject=UNREADABLE, tmp=tmp_path)
    assert_error(done, "cannot read", "secret.tf", "permission denied")
    assert "syntax" not in done.stderr


def test_a_parse_timeout_says_so(tmp_path):
    slow = """
        import hcl2
        _load = hcl2.load
        def load(handle, *args, **kwargs):
            if getattr(handle, "name", "").endswith("huge.tf"):
                raise Exception("file took more than 10 seconds to parse")  # what checkov raises on timeout
            return _load(handle, *args, **kwargs)
        hcl2.load = load
    """
    root = write_tree(tmp_path / "root", {"main.tf": PROVIDER_EU, "huge.tf": VIOLATION})
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), inject=slow, tmp=tmp_path)
    assert_error(done, "huge.tf took longer to parse than checkov's limit")
    assert "syntax" not in done.stderr


def test_malformed_tf_json_says_json(tmp_path):
    root = write_tree(tmp_path / "root", {"main.tf": PROVIDER_EU})
    (root / "broken.tf.json").write_text('{"resource": {"aws_s3_bucket": ')
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP))
    assert_error(done, "broken.tf.json is not valid JSON", "line 1")


def test_malformed_hcl_says_hcl_and_where(tmp_path):
    root = write_tree(tmp_path / "root", {"main.tf": 'resource "aws_s3_bucket" "b" {\n  bucket = \n'})
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP))
    assert_error(done, "main.tf is not valid HCL", "line 2", "fix the Terraform syntax")


# --- item 10: a FIFO cannot block the scan ---------------------------------------------------------------

def test_a_fifo_named_like_terraform_is_skipped_with_a_warning(tmp_path):
    root = write_tree(tmp_path / "root", {"main.tf": PROVIDER_US + VIOLATION})
    os.mkfifo(root / "x.tf")
    os.mkfifo(root / "y.tf.json")
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert done.returncode == 1, done.stderr[-2000:]
    assert ("CKV_DH_101", "aws_s3_bucket.orders") in findings(done)
    assert "skipped" in done.stderr and "x.tf: not a regular file (a FIFO)" in done.stderr
    assert "y.tf.json: not a regular file (a FIFO)" in done.stderr


# --- item 16: a symlink cannot bring a file from outside the repository into the scan --------------------------

def test_a_tf_symlink_leaving_the_repository_is_skipped_and_never_quoted(tmp_path):
    outside = tmp_path / "host"
    outside.mkdir()
    (outside / "secret.tf").write_text('# HOST-SECRET-LINE\n' + VIOLATION.replace("orders", "host_secret"))
    repository = tmp_path / "repo"
    root = write_tree(repository / "stack", {"main.tf": PROVIDER_US + VIOLATION})
    (repository / ".git").mkdir()
    (root / "leak.tf").symlink_to(outside / "secret.tf")
    (root / "linked_dir").symlink_to(outside, target_is_directory=True)
    sarif = tmp_path / "out.sarif"
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--sarif-file", str(sarif),
               "--output", "json")
    assert done.returncode == 1, done.stderr[-2000:]
    assert "leak.tf: a symlink to" in done.stderr and "outside the repository" in done.stderr
    assert "HOST-SECRET-LINE" not in sarif.read_text() + done.stdout
    assert all("host_secret" not in resource for _, resource in findings(done) | sarif_results(sarif))
    assert ("CKV_DH_101", "aws_s3_bucket.orders") in sarif_results(sarif)


def test_a_symlink_within_the_repository_is_still_read(tmp_path):
    repository = tmp_path / "repo"
    (repository / ".git").mkdir(parents=True)
    shared = write_tree(repository / "shared", {"bucket.tf": VIOLATION})
    root = write_tree(repository / "stack", {"main.tf": PROVIDER_US})
    (root / "bucket.tf").symlink_to(shared / "bucket.tf")
    done = cli("scan", str(root), "--policy-map", str(POLICY_MAP), "--output", "json")
    assert done.returncode == 1, done.stderr[-2000:]
    assert ("CKV_DH_101", "aws_s3_bucket.orders") in findings(done)
