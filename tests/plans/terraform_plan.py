"""Real `terraform show -json` plans of fixture roots, from the Terraform binary and a local AWS provider mirror.

Terraform is the oracle: where a machine has `terraform` and a provider mirror (a plugin directory for
`terraform init -plugin-dir`, `$TF_PLUGIN_DIR`, default /opt/tf-plugins), this plans a copy of a fixture root
offline with mock credentials. An override file (`zz_offline_override.tf`, merged by Terraform into each
provider block the root declares) adds the provider's skip_* flags, and optionally one `data "aws_region"`
output per provider configuration: Terraform's own answer to "which region is this provider in".

    python tests/plans/terraform_plan.py --all       # regenerate tests/fixtures/plans/terraform/*.json
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PLANS = REPO / "tests" / "fixtures" / "plans" / "terraform"
# Fixture roots the installed provider (v5) can plan: no resource-level `region` argument (a v6 feature).
ROOTS = {
    "evaluator_count_zero": REPO / "tests/fixtures/evaluator/count_zero",
    "evaluator_workspace_coalesce": REPO / "tests/fixtures/evaluator/workspace_coalesce",
    "evaluator_tf_json_provider": REPO / "tests/fixtures/evaluator/tf_json_provider",
    "evaluator_variables": REPO / "tests/fixtures/evaluator/variables",
    "ckv_dh_105_plan_parity": REPO / "tests/fixtures/ckv_dh_105/plan_parity",
    "evaluator_policy_documents": REPO / "tests/fixtures/evaluator/policy_documents",
}
# Real plans that a check suite compares under its own policy map (tests/test_ckv_dh_103.py): name -> (root,
# plan arguments). Terraform refuses to plan a variable without a value, so those get one (-var) here.
SUITE_ROOTS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "ckv_dh_103_s3": (REPO / "tests/fixtures/ckv_dh_103/s3", ("-var", "reader_org=o-abc123def4")),
    "ckv_dh_103_modules": (REPO / "tests/fixtures/ckv_dh_103/modules", ()),
    "ckv_dh_103_databases": (REPO / "tests/fixtures/ckv_dh_103/databases", ("-var", "public_db=false")),
}
_SKIPS = ("  skip_credentials_validation = true\n  skip_requesting_account_id  = true\n"
          "  skip_metadata_api_check     = true\n")


def plugin_dir() -> str:
    return os.environ.get("TF_PLUGIN_DIR", "/opt/tf-plugins")


def available() -> bool:
    """Whether Terraform and an AWS provider mirror are on this machine."""
    return shutil.which("terraform") is not None and Path(plugin_dir(), "registry.terraform.io/hashicorp/aws").is_dir()


def provider_aliases(root: Path) -> list[str | None]:
    """The AWS provider configurations a root declares: None for the default one, else each alias."""
    aliases: list[str | None] = []
    for path in sorted(root.glob("*.tf")) + sorted(root.glob("*.tf.json")):
        text = path.read_text()
        if path.suffix == ".json":
            for block in json.loads(text).get("provider", {}).get("aws", []) or []:
                aliases.append(block.get("alias"))
            continue
        for body in re.findall(r'provider\s+"aws"\s*\{(.*?)\n\}', text, re.S):
            match = re.search(r'alias\s*=\s*"([^"]+)"', body)
            aliases.append(match.group(1) if match else None)
    return list(dict.fromkeys(aliases)) or [None]


def _override(aliases: list[str | None]) -> str:
    return "".join('provider "aws" {\n' + (f'  alias = "{alias}"\n' if alias else "") + _SKIPS + "}\n"
                   for alias in aliases)


def _oracle(aliases: list[str | None]) -> str:
    text = ""
    for alias in aliases:
        name = f"oracle_{alias or 'default'}"
        provider = f"  provider = aws.{alias}\n" if alias else ""
        text += f'data "aws_region" "{name}" {{\n{provider}}}\noutput "{name}" {{\n' \
                f"  value = data.aws_region.{name}.name\n}}\n"
    return text


def plan(root: Path, *, oracle: bool = False, workspace: str | None = None,
         arguments: tuple[str, ...] = ()) -> dict:
    """The JSON plan of a copy of `root` (with oracle outputs when asked); raises RuntimeError on failure."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / root.name
        shutil.copytree(root, work, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        aliases = provider_aliases(root)
        (work / "zz_offline_override.tf").write_text(_override(aliases))
        if oracle:
            (work / "zz_oracle.tf").write_text(_oracle(aliases))
        env = {**os.environ, "AWS_ACCESS_KEY_ID": "mock", "AWS_SECRET_ACCESS_KEY": "mock",
               "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "TF_INPUT": "0"}
        env.pop("TF_WORKSPACE", None)
        if workspace:
            env["TF_WORKSPACE"] = workspace
        steps = [["terraform", "init", "-backend=false", "-input=false", f"-plugin-dir={plugin_dir()}"],
                 ["terraform", "plan", "-refresh=false", "-input=false", "-lock=false", "-out=plan.out", *arguments],
                 ["terraform", "show", "-json", "plan.out"]]
        output = ""
        for step in steps:
            completed = subprocess.run(step, cwd=work, env=env, capture_output=True, text=True, timeout=300)
            if completed.returncode != 0:
                raise RuntimeError(f"{' '.join(step[:2])} failed in {root}: {completed.stderr[-2000:]}")
            output = completed.stdout
        return json.loads(output)


def oracle_regions(root: Path, **options) -> dict[str | None, str]:
    """Terraform's region of each provider configuration of the root: alias (None = default) -> region."""
    document = plan(root, oracle=True, **options)
    outputs = document.get("planned_values", {}).get("outputs", {})
    found: dict[str | None, str] = {}
    for alias in provider_aliases(root):
        value = outputs.get(f"oracle_{alias or 'default'}", {}).get("value")
        if isinstance(value, str):
            found[alias] = value
    return found


def _stable(document: dict) -> dict:
    """Drop what changes between runs of the same plan (its timestamp)."""
    for key in ("timestamp",):  # checkov recognises a plan by its terraform_version: keep it
        document.pop(key, None)
    return document


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="regenerate every committed real plan fixture")
    options = parser.parse_args()
    if not options.all:
        parser.print_help()
        return 2
    if not available():
        print("terraform or the AWS provider mirror is not on this machine", file=sys.stderr)
        return 2
    PLANS.mkdir(parents=True, exist_ok=True)
    jobs = {**{name: (root, ()) for name, root in ROOTS.items()}, **SUITE_ROOTS}
    for name, (root, arguments) in jobs.items():
        target = PLANS / f"{name}.json"
        target.write_text(json.dumps(_stable(plan(root, arguments=arguments)), indent=1, sort_keys=True) + "\n")
        print(f"wrote {target.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
