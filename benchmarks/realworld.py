#!/usr/bin/env python3
"""Real-world regression: scan the examples of public Terraform module repositories with the data-handling checks.

    python benchmarks/realworld.py [--repos-dir DIR] [--only PATTERN] [--verbose] [--json FILE] [--jobs N]

Every data store is Confidential (benchmarks/realworld_policy_map.yaml) and the home regions are the regions
the examples use as their primary, so a CKV_DH_101 finding is a real residency question and a CKV_DH_102
finding a real cross-region copy. For each example the script prints the stores the inventory found, how many
have an unknown region or class, the failures per check, how many failures say a value is unknown, the scan's
exit code and the registry modules that were not available. EXPECTATIONS are the outcomes that are certain
from reading the example code; the script exits 1 when one of them fails, or when the findings of one example
differ between two hash seeds.

Getting the repositories
------------------------
The script reads the repositories listed in REPOSITORIES from --repos-dir (default /work/realworld, or
$DATA_HANDLING_REALWORLD_DIR), each checked out as <owner>+<name>. Any recent commit will do:

    mkdir -p /work/realworld && cd /work/realworld
    for repo in terraform-aws-modules/terraform-aws-s3-bucket cloudposse/terraform-null-label ...; do
        git clone --depth 1 "https://github.com/$repo" "${repo/\\//+}"
    done

The commit each repository was read at is reported (`git -C DIR rev-parse HEAD`; "unknown" when the directory
is not a git checkout of its own). A repository that is missing, or whose examples call local modules
(`source = "../../"`) that hold no .tf files (a partial copy), is reported and counts against the exit code
unless --allow-missing-repos is given. The checkouts are never written to: each repository is copied into a
scratch directory first.

Registry modules
----------------
Before scanning an example the script does what `terraform init` would do for the registry modules whose
repositories are checked out here (terraform-aws-modules/vpc/aws -> terraform-aws-modules+terraform-aws-vpc,
cloudposse/label/null -> cloudposse+terraform-null-label, ...): it copies the module into the example's
.terraform/modules/<key> and writes .terraform/modules/modules.json in Terraform's format (keys of nested calls
are outer.inner, local calls are listed with their resolved Dir). The module is the checked-out commit,
whatever version the call asks for (modules.json records the checkout's release tag as its Version); a
constraint the checkout does not satisfy is reported with --verbose.
Registry (or other remote) modules that are not available are counted per example, and the scan is run with
`--allow-missing-modules` when the CLI accepts it.

Standard library only, plus the installed package (data_handling, checkov and the HCL parser checkov ships).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
POLICY_MAP = HERE / "realworld_policy_map.yaml"
DEFAULT_REPOS_DIR = "/work/realworld"
REPOS_DIR_ENV = "DATA_HANDLING_REALWORLD_DIR"
DEFAULT_TIMEOUT = 600
DETERMINISM_EXAMPLE = ("terraform-aws-modules/terraform-aws-efs", "complete")

REPOSITORIES = [
    "terraform-aws-modules/terraform-aws-s3-bucket",
    "terraform-aws-modules/terraform-aws-dynamodb-table",
    "terraform-aws-modules/terraform-aws-rds",
    "terraform-aws-modules/terraform-aws-rds-aurora",
    "terraform-aws-modules/terraform-aws-secrets-manager",
    "terraform-aws-modules/terraform-aws-kms",
    "terraform-aws-modules/terraform-aws-elasticache",
    "terraform-aws-modules/terraform-aws-efs",
    "terraform-aws-modules/terraform-aws-redshift",
    "terraform-aws-modules/terraform-aws-cloudwatch",
    "terraform-aws-modules/terraform-aws-vpc",
    "cloudposse/terraform-aws-s3-bucket",
    "cloudposse/terraform-aws-dynamodb",
    "cloudposse/terraform-null-label",
    "lgallard/terraform-aws-backup",
]


@dataclass(frozen=True)
class Expectation:
    """An outcome that is certain from the example's code (regions of its providers, replicas and copies)."""

    repo: str
    example: str
    check: str
    outcome: str  # "fails": some failure of `check` matches; "no_failure": no failure of `check` matches
    why: str
    resource: str | None = None  # regex searched in the failure's resource address
    regions: tuple[str, ...] = ()  # each must appear in the failure's details

    @property
    def name(self) -> str:
        what = f"{self.check} {'fails' if self.outcome == 'fails' else 'has no failure'}"
        where = f" on {self.resource}" if self.resource else ""
        regions = f" naming {', '.join(self.regions)}" if self.regions else ""
        return f"{self.repo.split('/')[-1]}/{self.example}: {what}{where}{regions}"


TAM = "terraform-aws-modules/terraform-aws-"
EXPECTATIONS = [
    Expectation(TAM + "rds", "replica-postgres", "CKV_DH_102", "no_failure",
                "one provider (eu-west-1); the replica is created through it, so it is in the source's region"),
    Expectation(TAM + "rds", "replica-mysql", "CKV_DH_102", "no_failure",
                "one provider (eu-west-1); a same-region read replica"),
    Expectation(TAM + "rds", "cross-region-replica-postgres", "CKV_DH_102", "fails",
                "module.master uses the default provider (local.region1 = eu-west-1); module.replica gets "
                "providers = { aws = aws.region2 } (local.region2 = eu-central-1) and replicate_source_db = "
                "module.master.db_instance_arn",
                resource=r"^module\.replica\.", regions=("eu-west-1", "eu-central-1")),
    Expectation(TAM + "rds", "cross-region-replica-postgres", "CKV_DH_101", "fails",
                "the replica instance is a Confidential store in eu-central-1, not a home region",
                resource=r"^module\.replica\..*aws_db_instance\.", regions=("eu-central-1",)),
    Expectation(TAM + "rds", "complete-postgres", "CKV_DH_102", "fails",
                "module.db_automated_backups_replication (providers = { aws = aws.region2 }, eu-central-1) "
                "replicates the automated backups of module.db (eu-west-1)",
                resource=r"^module\.db_automated_backups_replication\.", regions=("eu-west-1", "eu-central-1")),
    Expectation(TAM + "rds", "complete-mssql", "CKV_DH_102", "fails",
                "automated backups of module.db (eu-west-1) replicated through aws.region2 (eu-central-1)",
                resource=r"^module\.db_automated_backups_replication\.", regions=("eu-west-1", "eu-central-1")),
    Expectation(TAM + "rds", "complete-oracle", "CKV_DH_102", "fails",
                "automated backups of module.db (eu-west-1) replicated through aws.region2 (eu-central-1)",
                resource=r"^module\.db_automated_backups_replication\.", regions=("eu-west-1", "eu-central-1")),
    Expectation(TAM + "s3-bucket", "s3-replication", "CKV_DH_102", "fails",
                "module.s3_bucket (default provider, local.origin_region = eu-west-1) replicates to "
                "arn:aws:s3:::${local.destination_bucket_name}, the bucket of module.replica_bucket, created "
                "through aws.replica (local.replica_region = eu-central-1)",
                resource=r"^module\.s3_bucket\.", regions=("eu-west-1", "eu-central-1")),
    Expectation(TAM + "s3-bucket", "s3-replication", "CKV_DH_101", "fails",
                "the replica bucket is a Confidential store in eu-central-1, not a home region",
                resource=r"^module\.replica_bucket\..*aws_s3_bucket\.", regions=("eu-central-1",)),
    Expectation(TAM + "s3-bucket", "complete", "CKV_DH_102", "no_failure",
                "one provider (eu-west-1) and no replication configuration"),
    Expectation(TAM + "efs", "complete", "CKV_DH_102", "fails",
                "replication_configuration_destination = { region = \"eu-west-2\" } from a file system in "
                "eu-west-1 (local.region)",
                resource=r"aws_efs_replication_configuration\.", regions=("eu-west-1", "eu-west-2")),
    Expectation(TAM + "dynamodb-table", "global-tables", "CKV_DH_102", "fails",
                "provider eu-west-1; replica_regions = [{ region_name = \"us-east-1\" }]",
                resource=r"^module\.dynamodb_table\..*aws_dynamodb_table\.", regions=("eu-west-1", "us-east-1")),
    Expectation(TAM + "dynamodb-table", "basic", "CKV_DH_102", "no_failure",
                "one provider (eu-west-1) and no replica_regions"),
    Expectation(TAM + "secrets-manager", "complete", "CKV_DH_102", "fails",
                "module.secrets_manager (eu-west-1) sets replica = { us-east-1 = {}, another = { region = "
                "\"us-west-2\" } }; the module's replica region is coalesce(region, key)",
                resource=r"^module\.secrets_manager\..*aws_secretsmanager_secret\.",
                regions=("eu-west-1", "us-east-1", "us-west-2")),
    Expectation(TAM + "rds-aurora", "global-cluster", "CKV_DH_102", "fails",
                "module.aurora_primary (eu-west-1) and module.aurora_secondary (region = local.secondary_region "
                "= us-east-1) join the same aws_rds_global_cluster",
                regions=("eu-west-1", "us-east-1")),
    Expectation(TAM + "rds-aurora", "dsql", "CKV_DH_102", "fails",
                "module.dsql_cluster_1 (us-east-1) and module.dsql_cluster_2 (region = us-east-2) are peered "
                "(create_cluster_peering, clusters = [the other's arn]), a multi-region cluster",
                regions=("us-east-1", "us-east-2")),
    Expectation(TAM + "redshift", "complete", "CKV_DH_102", "fails",
                "module.redshift (eu-west-1) sets snapshot_copy = { destination_region = \"us-east-1\" }",
                resource=r"^module\.redshift\.", regions=("eu-west-1", "us-east-1")),
    Expectation(TAM + "elasticache", "redis-global-replication-group", "CKV_DH_102", "fails",
                "module.elasticache_primary (us-east-1) creates the global replication group; "
                "module.elasticache_secondary (providers = { aws = aws.euwest1 }, eu-west-1) joins it",
                regions=("us-east-1", "eu-west-1")),
    Expectation(TAM + "elasticache", "redis-replication-group-with-cluster-replica", "CKV_DH_102", "no_failure",
                "one provider (eu-west-1); the replicas are in the same replication group and region"),
    Expectation("lgallard/terraform-aws-backup", "cross_region_backup", "CKV_DH_102", "fails",
                "the plan's copy_actions copy to aws_backup_vault.secondary_vault, created through aws.secondary "
                "(var.secondary_region, default us-west-2), from the vault in var.primary_region (default "
                "us-east-1)",
                regions=("us-east-1", "us-west-2")),
]

# A failure "says a value is unknown" when its Found: line contains one of these phrases.
UNKNOWN = re.compile(
    r"\bunknown\b|could not (?:be |all be )?(?:evaluat|resolv|read|determin|verif|expand|follow|be told)"
    r"|cannot be (?:determined|resolved|read|verified|seen|ruled out|told)|cannot read|is not known"
    r"|not known (?:here|in)|until apply|is not set(?:, so| or could not)",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------------------
# Repositories and examples


@dataclass
class Repository:
    name: str
    path: Path
    present: bool
    commit: str = "unknown"
    examples: list[str] = field(default_factory=list)
    not_examples: list[str] = field(default_factory=list)  # examples/* directories without .tf files
    broken_local_modules: list[str] = field(default_factory=list)  # "example: source" that hold no .tf

    @property
    def complete(self) -> bool:
        return self.present and not self.broken_local_modules


def checkout_dir(repos_dir: Path, repo: str) -> Path:
    return repos_dir / repo.replace("/", "+")


def git_commit(path: Path) -> str:
    """HEAD of the git checkout at `path` itself (not of a repository that merely contains it)."""
    try:
        top = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=30)
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != path.resolve():
            return "unknown"
        head = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=30)
        return head.stdout.strip() if head.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def git_tag_version(path: Path) -> str | None:
    """The checkout's latest release tag as x.y.z, if it is a git checkout tagged that way."""
    if git_commit(path) == "unknown":
        return None
    try:
        described = subprocess.run(["git", "-C", str(path), "describe", "--tags", "--abbrev=0"],
                                   capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.fullmatch(r"v?(\d+\.\d+\.\d+)", described.stdout.strip())
    return match.group(1) if match else None


def has_tf(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


def load_repository(repos_dir: Path, name: str) -> Repository:
    path = checkout_dir(repos_dir, name)
    if not path.is_dir():
        return Repository(name, path, present=False)
    repository = Repository(name, path, present=True, commit=git_commit(path))
    examples_dir = path / "examples"
    for example in sorted(p for p in examples_dir.iterdir() if p.is_dir()) if examples_dir.is_dir() else []:
        if has_tf(example):
            repository.examples.append(example.name)
        elif not any(example.rglob("*.tf")):
            repository.not_examples.append(example.name)  # a README only
        # else: shared fixtures (examples/fixtures/<module>/*.tf) that examples call; not a root
    for example in repository.examples:
        for call in module_calls(examples_dir / example):
            if is_local(call.source) and not has_tf((examples_dir / example / call.source).resolve()):
                repository.broken_local_modules.append(f"{example}: module.{call.name} source = {call.source!r}")
    return repository


# ---------------------------------------------------------------------------------------------------------
# Module calls and .terraform/modules


@dataclass(frozen=True)
class ModuleCall:
    name: str
    source: str
    version: str | None


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def module_calls(directory: Path) -> list[ModuleCall]:
    """The module blocks of the .tf files directly in `directory`, in file order."""
    import hcl2  # checkov's HCL parser, installed with the package

    calls = []
    for tf_file in sorted(directory.glob("*.tf")):
        try:
            with open(tf_file, encoding="utf-8") as handle:
                document = hcl2.load(handle)
        except Exception:  # an unparsable file: the scan reports it
            continue
        for block in document.get("module", []):
            for name, body in block.items():
                source = _first(body.get("source")) if isinstance(body, dict) else None
                if isinstance(source, str):
                    version = _first(body.get("version"))
                    calls.append(ModuleCall(name, source, version if isinstance(version, str) else None))
    return calls


def is_local(source: str) -> bool:
    return source.startswith(("./", "../")) or source in (".", "..")


REGISTRY_SOURCE = re.compile(
    r"^(?:registry\.terraform\.io/)?(?P<namespace>[\w-]+)/(?P<name>[\w-]+)/(?P<provider>[a-z0-9]+)"
    r"(?://(?P<subdir>[^?]+))?$"
)


def registry_repository(source: str) -> tuple[str, str | None] | None:
    """(owner/terraform-<provider>-<name>, subdir) for a public registry source, None for anything else."""
    match = REGISTRY_SOURCE.match(source)
    if not match:
        return None
    repo = f"{match['namespace']}/terraform-{match['provider']}-{match['name']}"
    return repo, match["subdir"]


def _version_tuple(text: str) -> tuple[int, ...] | None:
    match = re.fullmatch(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?", text.strip())
    return tuple(int(part or 0) for part in match.groups()) if match else None


def satisfies(version: str, constraint: str | None) -> bool | None:
    """Whether x.y.z meets a Terraform version constraint (=, !=, <, <=, >, >=, ~>); None if unreadable."""
    have = _version_tuple(version)
    if not constraint or have is None:
        return None
    for part in constraint.split(","):
        match = re.fullmatch(r"\s*(~>|>=|<=|!=|=|>|<)?\s*(v?[\d.]+)\s*", part)
        want = _version_tuple(match.group(2)) if match else None
        if not match or want is None:
            return None
        operator = match.group(1) or "="
        if operator == "~>":
            written = len(match.group(2).lstrip("v").split("."))
            prefix = want[: max(written - 1, 1)]
            ok = have >= want and have[: len(prefix)] == prefix
        else:
            ok = {"=": have == want, "!=": have != want, ">": have > want, ">=": have >= want,
                  "<": have < want, "<=": have <= want}[operator]
        if not ok:
            return False
    return True


@dataclass
class ModuleInstall:
    """What `terraform init` would have installed for one example, and what it could not."""

    entries: list[dict[str, str]] = field(default_factory=list)  # modules.json "Modules"
    installed: list[str] = field(default_factory=list)  # "key <- registry source (repo)"
    missing: list[str] = field(default_factory=list)  # "key <- source" not available locally
    constraint_notes: list[str] = field(default_factory=list)
    broken_local: list[str] = field(default_factory=list)


def install_modules(root: Path, repos_dir: Path, available: set[str], versions: dict[str, str]) -> ModuleInstall:
    """Write root/.terraform/modules/modules.json and copy the locally available registry modules under it."""
    install = ModuleInstall(entries=[{"Key": "", "Source": "", "Dir": "."}])
    modules_dir = root / ".terraform" / "modules"
    if modules_dir.exists():
        shutil.rmtree(modules_dir)

    def walk(directory: Path, relative: str, prefix: str, depth: int) -> None:
        if depth > 20:  # a module that calls itself; Terraform refuses it too
            return
        for call in module_calls(directory):
            key = f"{prefix}.{call.name}" if prefix else call.name
            if is_local(call.source):
                child = (directory / call.source).resolve()
                child_relative = os.path.normpath(os.path.join(relative, call.source)).replace(os.sep, "/")
                install.entries.append({"Key": key, "Source": call.source, "Dir": child_relative})
                if has_tf(child):
                    walk(child, child_relative, key, depth + 1)
                else:
                    install.broken_local.append(f"{key} <- {call.source}")
                continue
            registry = registry_repository(call.source)
            if registry is None or registry[0] not in available:
                install.missing.append(f"{key} <- {call.source}" + (f" ({call.version})" if call.version else ""))
                continue
            repo, subdir = registry
            package_relative = f".terraform/modules/{key}"
            shutil.copytree(checkout_dir(repos_dir, repo), root / package_relative,
                            ignore=shutil.ignore_patterns(".git", ".terraform"), symlinks=True)
            module_relative = f"{package_relative}/{subdir.strip('/')}" if subdir else package_relative
            plain = call.source.removeprefix("registry.terraform.io/")
            pin = call.version.strip().lstrip("=").strip() if call.version else ""
            # What is on disk: the checkout's release tag, else the call's exact pin, else nothing known.
            version = versions.get(repo) or (pin if _version_tuple(pin) else "0.0.0")
            install.entries.append({"Key": key, "Source": f"registry.terraform.io/{plain}", "Version": version,
                                    "Dir": module_relative})
            install.installed.append(f"{key} <- {call.source} ({repo} {version})")
            if satisfies(versions.get(repo, ""), call.version) is False:
                install.constraint_notes.append(f"{key}: {call.source} asks for {call.version!r}; the checkout "
                                                f"of {repo} is {versions[repo]}")
            if has_tf(root / module_relative):
                walk(root / module_relative, module_relative, key, depth + 1)

    walk(root, ".", "", 0)
    modules_dir.mkdir(parents=True, exist_ok=True)
    (modules_dir / "modules.json").write_text(json.dumps({"Modules": install.entries}), encoding="utf-8")
    return install


# ---------------------------------------------------------------------------------------------------------
# Running the CLI


def snapshot_package(revision: str, destination: Path) -> str:
    """Extract src/ and checks/ of `revision` into `destination`; returns the full commit id."""
    import io
    import tarfile

    commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
                            capture_output=True, text=True, timeout=60)
    if commit.returncode != 0:
        raise SystemExit(f"realworld: --at-commit {revision}: not a commit of {REPO_ROOT}")
    archive = subprocess.run(["git", "-C", str(REPO_ROOT), "archive", "--format=tar", commit.stdout.strip(),
                              "src", "checks"], capture_output=True, timeout=300)
    if archive.returncode != 0:
        raise SystemExit(f"realworld: git archive failed: {archive.stderr.decode(errors='replace').strip()}")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    return commit.stdout.strip()


def snapshot_command(package: Path) -> list[str]:
    """The CLI of an extracted package: its src/ goes first on sys.path, ahead of the editable install."""
    bootstrap = (f"import sys; sys.path.insert(0, {str(package / 'src')!r}); "
                 "from data_handling.cli import main; sys.exit(main())")
    return [sys.executable, "-c", bootstrap]


def cli_command() -> list[str]:
    beside = Path(sys.executable).parent / "data-handling"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("data-handling")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from data_handling.cli import main; sys.exit(main())"]


@dataclass
class Features:
    allow_missing_modules: bool
    inventory: bool
    inventory_allow_missing_modules: bool


def detect_features(command: list[str]) -> Features:
    def help_text(*args: str) -> tuple[int, str]:
        try:
            done = subprocess.run([*command, *args, "--help"], capture_output=True, text=True, timeout=120,
                                  env=child_env())
        except (OSError, subprocess.SubprocessError):
            return 1, ""
        return done.returncode, done.stdout + done.stderr

    _, scan_help = help_text("scan")
    inventory_rc, inventory_help = help_text("inventory")
    inventory = inventory_rc == 0 and "usage" in inventory_help.lower()
    return Features(allow_missing_modules="--allow-missing-modules" in scan_help, inventory=inventory,
                    inventory_allow_missing_modules=inventory and "--allow-missing-modules" in inventory_help)


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["BC_SKIP_MAPPING"] = "TRUE"
    env.pop("DATA_HANDLING_POLICY_MAP", None)  # --policy-map is given explicitly
    env.update(extra)
    return env


@dataclass
class Failure:
    check_id: str
    resource: str
    file: str
    line: int | None
    details: list[str]

    @property
    def found(self) -> str:
        return next((d for d in self.details if d.startswith("Found:")), self.details[0] if self.details else "")

    def unknown_reasons(self) -> list[str]:
        """The sentences of the Found: line that say a value is unknown, each kind once.

        A summary sentence ("... copies Confidential data to a region that cannot be verified.") is dropped
        when a sentence that gives the reason (it has a colon) follows it.
        """
        sentences = [s for s in split_sentences(self.found.removeprefix("Found:").strip()) if UNKNOWN.search(s)]
        detailed = [s for s in sentences if ":" in s]
        kept, seen = [], set()
        for sentence in detailed or sentences:
            if normalise(sentence) not in seen:
                seen.add(normalise(sentence))
                kept.append(sentence)
        return kept


def split_sentences(text: str) -> list[str]:
    # Sentences end with ". " or ": " before a capital or the end; keep parenthesised "(main.tf:5)" intact.
    parts = re.split(r"(?<=[.;])\s+(?=[A-Z(])", text)
    return [part.strip() for part in parts if part.strip()]


@dataclass
class Run:
    exit_code: int | None  # None: timed out or could not start
    seconds: float
    stderr_tail: str
    error: str | None = None


def run(command: list[str], timeout: int, env: dict[str, str]) -> tuple[Run, str]:
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return Run(None, time.monotonic() - started, "", f"timed out after {timeout}s"), ""
    except OSError as error:
        return Run(None, time.monotonic() - started, "", f"could not start: {error}"), ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return Run(done.returncode, time.monotonic() - started, "\n".join(lines[-5:])), done.stdout


def read_failures(report_dir: Path, copy_root: Path) -> list[Failure] | None:
    """The failed checks of checkov's results_json.json (one report, or a list of them per framework)."""
    report_file = report_dir / "results_json.json"
    if not report_file.exists():
        return None
    document = json.loads(report_file.read_text(encoding="utf-8"))
    reports = document if isinstance(document, list) else [document]
    failures = []
    for report in reports:
        for item in (report.get("results") or {}).get("failed_checks") or []:
            path = item.get("file_abs_path") or item.get("file_path") or ""
            lines = item.get("file_line_range") or [None]
            failures.append(Failure(item.get("check_id", "?"), item.get("resource", "?"),
                                    display_path(path, copy_root), lines[0],
                                    [display_path(d, copy_root) for d in item.get("details") or []]))
    failures.sort(key=lambda f: (f.check_id, f.resource, f.details))
    return failures


def display_path(text: str, copy_root: Path) -> str:
    return text.replace(str(copy_root) + os.sep, "").replace(str(copy_root), ".")


# ---------------------------------------------------------------------------------------------------------
# One example


@dataclass
class ExampleResult:
    repo: str
    example: str
    exit_code: int | None = None
    error: str | None = None
    seconds: float = 0.0
    stderr_tail: str = ""
    failures: list[Failure] = field(default_factory=list)
    missing_modules: list[str] = field(default_factory=list)
    installed_modules: list[str] = field(default_factory=list)
    constraint_notes: list[str] = field(default_factory=list)
    broken_local_modules: list[str] = field(default_factory=list)
    scanned_with_allow_missing: bool = False
    inventory: dict[str, Any] | None = None
    inventory_error: str | None = None

    @property
    def label(self) -> str:
        return f"{self.repo.split('/')[-1]}/{self.example}" if self.repo.startswith("terraform-aws-modules/") \
            else f"{self.repo}/{self.example}"

    def by_check(self) -> Counter:
        return Counter(f.check_id for f in self.failures)

    def unknown_failures(self) -> list[Failure]:
        return [f for f in self.failures if f.unknown_reasons()]

    def stores(self) -> list[dict[str, Any]]:
        return list((self.inventory or {}).get("stores") or [])

    def stores_unknown(self, attribute: str) -> list[dict[str, Any]]:
        return [s for s in self.stores() if is_unknown(s.get(attribute))]


def is_unknown(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("unknown"))


def unknown_text(value: Any) -> str:
    reason = value.get("unknown")
    return reason if isinstance(reason, str) else str(value.get("source") or "unknown")


def scan_example(repository: Repository, example: str, scratch: Path, repos_dir: Path, available: set[str],
                 versions: dict[str, str], features: Features, command: list[str], timeout: int,
                 hash_seed: str | None = None) -> ExampleResult:
    result = ExampleResult(repository.name, example)
    copy_root = scratch / repository.name.replace("/", "+")
    root = copy_root / "examples" / example
    install = install_modules(root, repos_dir, available, versions)
    result.missing_modules, result.installed_modules = install.missing, install.installed
    result.constraint_notes, result.broken_local_modules = install.constraint_notes, install.broken_local
    extra = {"PYTHONHASHSEED": hash_seed} if hash_seed is not None else {}
    allow = bool(install.missing) and features.allow_missing_modules
    result.scanned_with_allow_missing = allow
    report_dir = Path(tempfile.mkdtemp(prefix=f"report-{example}-", dir=scratch))
    scan = [*command, "scan", str(root), "--policy-map", str(POLICY_MAP), "--output", "json",
            "--output-file-path", str(report_dir), *(["--allow-missing-modules"] if allow else [])]
    outcome, _ = run(scan, timeout, child_env(**extra))
    result.exit_code, result.seconds, result.stderr_tail, result.error = (
        outcome.exit_code, outcome.seconds, display_path(outcome.stderr_tail, copy_root), outcome.error)
    if outcome.exit_code in (0, 1):
        failures = read_failures(report_dir, copy_root)
        if failures is None:
            result.error = "the scan wrote no results_json.json"
        else:
            result.failures = failures
    elif outcome.exit_code is not None and not result.error:
        result.error = f"exit {outcome.exit_code}: {result.stderr_tail.splitlines()[-1] if result.stderr_tail else ''}"
    if features.inventory:
        allow_inventory = bool(install.missing) and features.inventory_allow_missing_modules
        inventory = [*command, "inventory", str(root), "--policy-map", str(POLICY_MAP), "--output", "json",
                     *(["--allow-missing-modules"] if allow_inventory else [])]
        listed, stdout = run(inventory, timeout, child_env(**extra))
        if listed.exit_code == 0:
            try:
                result.inventory = json.loads(display_path(stdout, copy_root))
            except json.JSONDecodeError as error:
                result.inventory_error = f"not JSON: {error}"
        else:
            result.inventory_error = listed.error or f"exit {listed.exit_code}: {listed.stderr_tail[-300:]}"
    shutil.rmtree(report_dir, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------------------
# Unknown reasons, grouped


_NORMALISE = [
    (re.compile(r"\(([\w.\-/]+\.tf(?:\.json)?):\d+\)"), "(<file>)"),
    (re.compile(r"\b[\w.\-/]+\.tf:\d+\b"), "<file>"),
    (re.compile(r"'(?:[^'\\]|\\.)*'"), "<expr>"),
    (re.compile(r'"(?:[^"\\]|\\.)*"'), "<expr>"),
    (re.compile(r"\b(?:module\.[\w-]+(?:\[[^\]]*\])?\.)*(?:data\.)?(?:aws|random|null|time|archive|tls|local)_\w+"
                r"\.[\w-]+(?:\[[^\]]*\])?"), "<resource>"),
    (re.compile(r"\bmodule\.[\w-]+(?:\[[^\]]*\])?(?:\.module\.[\w-]+(?:\[[^\]]*\])?)*"), "<module>"),
    (re.compile(r"\bvar\.[\w-]+"), "var.<name>"),
    (re.compile(r"\blocal\.[\w-]+"), "local.<name>"),
    (re.compile(r"\b[a-z]{2}(?:-gov)?-[a-z]+-\d\b"), "<region>"),
    (re.compile(r"\b\d+\b"), "<n>"),
    (re.compile(r"\s+"), " "),
]


def normalise(reason: str) -> str:
    for pattern, replacement in _NORMALISE:
        reason = pattern.sub(replacement, reason)
    return reason.strip()


@dataclass
class Unknown:
    where: str  # "CKV_DH_101" or "inventory store.region", ...
    example: str
    subject: str  # the resource or store address
    reason: str

    @property
    def kind(self) -> str:
        return normalise(self.reason)


def collect_unknowns(results: Iterable[ExampleResult]) -> list[Unknown]:
    found: list[Unknown] = []
    for result in results:
        for failure in result.failures:
            reasons = failure.unknown_reasons()
            if reasons:
                found.append(Unknown(failure.check_id, result.label, failure.resource, " ".join(reasons)))
        inventory = result.inventory or {}
        for store in inventory.get("stores") or []:
            for attribute in ("class", "tenant", "account", "region"):
                if is_unknown(store.get(attribute)):
                    found.append(Unknown(f"inventory store.{attribute}", result.label, str(store.get("address")),
                                         unknown_text(store[attribute])))
        for copy in inventory.get("copies") or []:
            for side in ("source", "destination"):
                region = (copy.get(side) or {}).get("region")
                if is_unknown(region):
                    found.append(Unknown(f"inventory copy.{side}.region", result.label, str(copy.get("resource")),
                                         unknown_text(region)))
    return found


def group_unknowns(unknowns: list[Unknown]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[Unknown]] = defaultdict(list)
    for unknown in unknowns:
        groups[(unknown.where, unknown.kind)].append(unknown)
    ordered = sorted(groups.items(), key=lambda item: (item[0][0], -len(item[1]), item[0][1]))
    return [{"where": where, "kind": kind, "count": len(items),
             "examples": sorted({u.example for u in items}),
             "samples": [{"example": u.example, "subject": u.subject, "reason": u.reason} for u in items[:2]]}
            for (where, kind), items in ordered]


# ---------------------------------------------------------------------------------------------------------
# Expectations and determinism


@dataclass
class Verdict:
    name: str
    status: str  # "holds", "FAILS", "not run", "cannot check"
    why: str
    evidence: list[str] = field(default_factory=list)


def matches(expectation: Expectation, failure: Failure) -> bool:
    if failure.check_id != expectation.check:
        return False
    if expectation.resource and not re.search(expectation.resource, failure.resource):
        return False
    text = " ".join(failure.details)
    return all(region in text for region in expectation.regions)


def check_expectations(results: dict[tuple[str, str], ExampleResult],
                       repositories: dict[str, Repository]) -> list[Verdict]:
    verdicts = []
    for expectation in EXPECTATIONS:
        result = results.get((expectation.repo, expectation.example))
        repository = repositories.get(expectation.repo)
        if repository is None or not repository.present:
            verdicts.append(Verdict(expectation.name, "cannot check", expectation.why, ["the repository is missing"]))
            continue
        broken = [b for b in repository.broken_local_modules if b.startswith(f"{expectation.example}:")]
        if broken:
            verdicts.append(Verdict(expectation.name, "cannot check", expectation.why,
                                    [f"the checkout is incomplete: {b} holds no .tf files" for b in broken]))
            continue
        if result is None:
            verdicts.append(Verdict(expectation.name, "not run", expectation.why))
            continue
        if result.error:
            verdicts.append(Verdict(expectation.name, "FAILS", expectation.why, [f"the scan failed: {result.error}"]))
            continue
        matching = [f for f in result.failures if matches(expectation, f)]
        same_check = [f for f in result.failures if f.check_id == expectation.check]
        if expectation.outcome == "fails":
            holds = bool(matching)
            evidence = [f"{f.resource}: {f.found}" for f in (matching or same_check)] or \
                [f"no {expectation.check} failure at all"]
        else:
            holds = not matching
            evidence = [f"{f.resource}: {f.found}" for f in matching]
        verdicts.append(Verdict(expectation.name, "holds" if holds else "FAILS", expectation.why, evidence))
    return verdicts


def difference(first: ExampleResult, second: ExampleResult) -> dict[str, list[str]]:
    """The failures (check and resource) only one of two scans of the same example reports."""
    one = {f"{f.check_id} {f.resource}" for f in first.failures}
    two = {f"{f.check_id} {f.resource}" for f in second.failures}
    details_changed = sorted(key for key in one & two
                             if [f.details for f in first.failures if f"{f.check_id} {f.resource}" == key]
                             != [f.details for f in second.failures if f"{f.check_id} {f.resource}" == key])
    inventories = [json.dumps(r.inventory, sort_keys=True) if r.inventory is not None else None
                   for r in (first, second)]
    return {"only_first": sorted(one - two), "only_second": sorted(two - one), "details_differ": details_changed,
            "exit_codes": [first.exit_code, second.exit_code], "inventory_differs": inventories[0] != inventories[1]}


def fingerprint(result: ExampleResult) -> list[Any]:
    return [[f.check_id, f.resource, f.file, f.line, f.details] for f in result.failures] + \
        [result.exit_code, json.dumps(result.inventory, sort_keys=True) if result.inventory is not None else None]


# ---------------------------------------------------------------------------------------------------------
# Reporting


def package_digest(root: Path = REPO_ROOT) -> str:
    """A digest of the package's sources (src/, checks/): the model changes while the figures are taken."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for top in ("src", "checks") for p in (root / top).rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"<unreadable>")
    return digest.hexdigest()[:16]


def package_state(snapshot: Path | None = None, commit: str | None = None) -> dict[str, Any]:
    """The package measured: the working tree (its HEAD, and whether src/ or checks/ differ from it) or a snapshot."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, timeout=30)
            return done.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    try:
        from data_handling import __version__ as version
    except Exception:  # a package mid-edit must not stop the figures from being written
        version = "unknown"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if snapshot is not None:
        return {"commit": git("rev-parse", "--short", commit or "HEAD"), "version": version, "snapshot": str(snapshot),
                "source_digest": package_digest(snapshot), "uncommitted_changes_in_src_or_checks": False,
                "date": date}
    dirty = git("status", "--porcelain", "--", "src", "checks")
    return {"commit": git("rev-parse", "--short", "HEAD") or "unknown", "version": version, "snapshot": None,
            "source_digest": package_digest(), "uncommitted_changes_in_src_or_checks": bool(dirty), "date": date}


CHECK_COLUMNS = ("CKV_DH_100", "CKV_DH_101", "CKV_DH_102")


def failures_text(counts: Counter) -> str:
    shown = [f"{check[-3:]}:{counts.get(check, 0)}" for check in CHECK_COLUMNS]
    shown += [f"{check[-3:]}:{n}" for check, n in sorted(counts.items()) if check not in CHECK_COLUMNS]
    return " ".join(shown)


def example_line(result: ExampleResult, width: int, inventory: bool) -> str:
    if inventory and result.inventory is not None:
        stores = f"{len(result.stores()):>6} {len(result.stores_unknown('region')):>7} " \
                 f"{len(result.stores_unknown('class')):>6}"
    else:
        stores = f"{'-':>6} {'-':>7} {'-':>6}"
    exit_code = "T/O" if result.exit_code is None else str(result.exit_code)
    line = f"{result.label:<{width}} {stores}  {failures_text(result.by_check()):<40} " \
           f"{len(result.unknown_failures()):>7} {exit_code:>4} {len(result.missing_modules):>7}"
    if result.error:
        line += f"   ! {result.error}"
    elif inventory and result.inventory_error:
        line += f"   ! inventory: {result.inventory_error.splitlines()[-1] if result.inventory_error else ''}"
    return line


def totals(results: list[ExampleResult]) -> dict[str, Any]:
    by_check: Counter = Counter()
    for result in results:
        by_check.update(result.by_check())
    exits = Counter("timeout" if r.exit_code is None else str(r.exit_code) for r in results)
    with_inventory = [r for r in results if r.inventory is not None]
    return {
        "examples": len(results),
        "exit_codes": dict(sorted(exits.items())),
        "stores": sum(len(r.stores()) for r in with_inventory) if with_inventory else None,
        "stores_unknown_region": sum(len(r.stores_unknown("region")) for r in with_inventory) if with_inventory
        else None,
        "stores_unknown_class": sum(len(r.stores_unknown("class")) for r in with_inventory) if with_inventory
        else None,
        "copies": sum(len((r.inventory or {}).get("copies") or []) for r in with_inventory) if with_inventory
        else None,
        "copies_cross_region": sum(1 for r in with_inventory for c in (r.inventory or {}).get("copies") or []
                                   if c.get("cross_region") is True) if with_inventory else None,
        "copies_cross_region_unknown": sum(1 for r in with_inventory for c in (r.inventory or {}).get("copies") or []
                                           if c.get("cross_region") is None) if with_inventory else None,
        "failures": sum(by_check.values()),
        "failures_by_check": dict(sorted(by_check.items())),
        "failures_saying_unknown": sum(len(r.unknown_failures()) for r in results),
        "examples_with_missing_modules": sum(1 for r in results if r.missing_modules),
        "missing_module_calls": sum(len(r.missing_modules) for r in results),
        "missing_module_sources": sorted({m.split(" <- ", 1)[1].split(" (")[0] for r in results
                                          for m in r.missing_modules}),
        "installed_module_calls": sum(len(r.installed_modules) for r in results),
        "scan_errors": sum(1 for r in results if r.error),
        "seconds": round(sum(r.seconds for r in results), 1),
    }


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(document: dict[str, Any]) -> str:
    """The figures as the Markdown tables of benchmarks/README.md."""
    package, totals_ = document["package"], document["totals"]
    dirty = package["uncommitted_changes_in_src_or_checks"]
    out = [f"Measured {package['date']}: data-handling {package['version']} at commit `{package['commit']}`"
           f"{' (a git-archive snapshot)' if package.get('snapshot') else ''}"
           f"{', with uncommitted changes in src/ or checks/' if dirty else ''}"
           f", sources digest `{package['source_digest']}`"
           + (f" (changed to `{package['source_digest_at_end']}` during the run: the figures mix versions)"
              if package.get("source_digest_at_end") not in (None, package["source_digest"]) else "") + ".", ""]
    out += ["| Repository | Commit | Examples |", "|---|---|---|"]
    for repo in document["repositories"]:
        state = "" if repo["complete"] else (" (missing)" if not repo["present"] else " (incomplete checkout)")
        out.append(f"| {repo['name']}{state} | `{repo['commit']}` | {len(repo['examples'])} |")
    by_check = ", ".join(f"{check}: {n}" for check, n in totals_["failures_by_check"].items())
    stores = totals_["stores"]
    rows = [
        ("examples scanned", totals_["examples"]),
        ("exit codes", ", ".join(f"{code}: {n}" for code, n in totals_["exit_codes"].items())),
        ("stores in the inventory", "n/a" if stores is None else stores),
        ("stores with unknown region", "n/a" if stores is None else totals_["stores_unknown_region"]),
        ("stores with unknown class", "n/a" if stores is None else totals_["stores_unknown_class"]),
        ("copies in the inventory (cross-region / unknown)", "n/a" if totals_["copies"] is None else
         f"{totals_['copies']} ({totals_['copies_cross_region']} / {totals_['copies_cross_region_unknown']})"),
        ("failures", f"{totals_['failures']} ({by_check})" if by_check else totals_["failures"]),
        ("failures that say a value is unknown", totals_["failures_saying_unknown"]),
        ("examples with missing registry modules (calls)",
         f"{totals_['examples_with_missing_modules']} ({totals_['missing_module_calls']})"),
        ("registry module calls installed from checkouts", totals_["installed_module_calls"]),
        ("scans that could not be trusted (exit 2) or timed out", totals_["scan_errors"]),
        ("scan time", f"{totals_['seconds']} s"),
    ]
    out += ["", "| Total | |", "|---|---|"] + [f"| {label} | {value} |" for label, value in rows]
    out += ["", "| Expectation | Today | Why it is certain |", "|---|---|---|"]
    for verdict in document["expectations"]:
        status = verdict["status"] if verdict["status"] != "FAILS" else "**FAILS**"
        out.append(f"| {_cell(verdict['name'])} | {status} | {_cell(verdict['why'])} |")
    determinism = document["determinism"]
    if determinism.get("run"):
        out.append(f"| determinism: {determinism['example']} under PYTHONHASHSEED=0 and 1 | "
                   f"{'holds' if determinism['same'] else '**FAILS**'} | the same tree and map |")
    if "all" in determinism:
        every = determinism["all"]
        out.append(f"| determinism of every example (PYTHONHASHSEED={every['seeds'][0]} vs {every['seeds'][1]}) | "
                   f"{len(every['differing'])} of {every['examples']} differ | the same tree and map |")
    out += ["", "| Count | Where | Kind of unknown (normalised) | Example |", "|---|---|---|---|"]
    for group in document["unknown_kinds"]:
        sample = group["samples"][0]
        out.append(f"| {group['count']} | {group['where']} | {_cell(group['kind'])} | "
                   f"{_cell(sample['example'])}: `{_cell(sample['subject'])}` |")
    return "\n".join(out) + "\n"


def select(label: str, patterns: list[str]) -> bool:
    if not patterns:
        return True
    return any(fnmatch.fnmatch(label, p if any(c in p for c in "*?[") else f"*{p}*") for p in patterns)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos-dir", default=os.environ.get(REPOS_DIR_ENV, DEFAULT_REPOS_DIR),
                        help=f"where the repositories are checked out as <owner>+<name> (default: ${REPOS_DIR_ENV}, "
                             f"else {DEFAULT_REPOS_DIR})")
    parser.add_argument("--allow-missing-repos", action="store_true",
                        help="exit 0 even when a listed repository is missing or incomplete")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="scan only examples whose owner/name/example matches (substring or glob; repeatable)")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="print every finding's detail, every unknown reason and the module installs")
    parser.add_argument("--json", metavar="FILE", help="write all figures to FILE as JSON")
    parser.add_argument("--jobs", "-j", type=int, default=min(2, os.cpu_count() or 1),
                        help="examples scanned in parallel (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per scan (default: %(default)s)")
    parser.add_argument("--hash-seed", default="0",
                        help="PYTHONHASHSEED of the scans, so that two runs give the same figures (default: "
                             "%(default)s; checkov's rendering depends on it, see the determinism check)")
    parser.add_argument("--skip-determinism", action="store_true", help="skip the PYTHONHASHSEED=0/1 comparison")
    parser.add_argument("--determinism-all", action="store_true",
                        help="also scan every example under PYTHONHASHSEED=1 and list those whose findings differ "
                             "from the main run (doubles the time)")
    parser.add_argument("--keep", metavar="DIR", help="keep the scratch copies in DIR (must not exist yet)")
    parser.add_argument("--markdown", metavar="FILE",
                        help="write the repositories, totals, expectations and unknown kinds as Markdown tables "
                             "(what benchmarks/README.md shows)")
    parser.add_argument("--at-commit", metavar="REV",
                        help="measure the package as committed at REV (src/ and checks/ extracted with git archive "
                             "and run from there), not the working tree, which other changes may alter mid-run")
    args = parser.parse_args(argv)

    repos_dir = Path(args.repos_dir)
    if args.keep:
        scratch = Path(args.keep)
        scratch.mkdir(parents=True)
    else:
        scratch = Path(tempfile.mkdtemp(prefix="dh-realworld-"))
    try:
        return _main(args, repos_dir, scratch)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def _main(args: argparse.Namespace, repos_dir: Path, scratch: Path) -> int:
    snapshot = None
    if args.at_commit:
        snapshot = scratch / "package"
        commit = snapshot_package(args.at_commit, snapshot)
        state = package_state(snapshot, commit)
        command = snapshot_command(snapshot)
    else:
        state = package_state()
        command = cli_command()
    print(f"data-handling {state['version']} at {state['commit']}{' (snapshot)' if snapshot else ''}"
          f"{' (with uncommitted changes in src/ or checks/)' if state['uncommitted_changes_in_src_or_checks'] else ''}"
          f" (sources {state['source_digest']}), {state['date']}; repositories from {repos_dir}; scans under "
          f"PYTHONHASHSEED={args.hash_seed}")

    repositories = {name: load_repository(repos_dir, name) for name in REPOSITORIES}
    problems = []
    for repository in repositories.values():
        if not repository.present:
            problems.append(f"missing: {repository.name} (expected at {repository.path})")
        elif repository.broken_local_modules:
            problems.append(f"incomplete: {repository.name}: {len(repository.broken_local_modules)} local module "
                            f"call(s) hold no .tf files, e.g. {repository.broken_local_modules[0]}")
    for repository in repositories.values():
        status = "missing" if not repository.present else ("INCOMPLETE" if repository.broken_local_modules else "ok")
        print(f"  {repository.name:<52} {repository.commit[:12] if repository.present else '-':<12} "
              f"{len(repository.examples):>3} examples  {status}"
              + (f"  (no .tf: {', '.join(repository.not_examples)})" if repository.not_examples else ""))
    for problem in problems:
        print(f"  ! {problem}")

    features = detect_features(command)
    notes = []
    if not features.allow_missing_modules:
        notes.append("`data-handling scan` does not accept --allow-missing-modules yet: examples with missing "
                     "modules are scanned without it")
    if not features.inventory:
        notes.append("`data-handling inventory` is not available yet: the stores columns are empty and only "
                     "failures are read for unknown reasons")
    elif not features.inventory_allow_missing_modules:
        notes.append("`data-handling inventory` does not accept --allow-missing-modules: it is run without it")
    for note in notes:
        print(f"note: {note}")

    present = {name for name, r in repositories.items() if r.present}
    versions = {name: v for name in present if (v := git_tag_version(repositories[name].path))}
    todo = [(repositories[name], example) for name in REPOSITORIES if repositories[name].present
            for example in repositories[name].examples if select(f"{name}/{example}", args.only)]

    for name in sorted({repository.name for repository, _ in todo} | {DETERMINISM_EXAMPLE[0]} & present):
        shutil.copytree(repositories[name].path, scratch / name.replace("/", "+"),
                        ignore=shutil.ignore_patterns(".git", ".terraform"), symlinks=True)

    def one(item: tuple[Repository, str], seed: str = args.hash_seed) -> ExampleResult:
        repository, example = item
        return scan_example(repository, example, scratch, repos_dir, present, versions, features, command,
                            args.timeout, hash_seed=seed)

    results: list[ExampleResult] = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        for number, result in enumerate(pool.map(one, todo), 1):
            results.append(result)
            print(f"  [{number}/{len(todo)}] {result.label} ({result.seconds:.1f}s)", file=sys.stderr, flush=True)
    wall = time.monotonic() - started

    determinism: dict[str, Any] = {"run": False}
    name, example = DETERMINISM_EXAMPLE
    if not args.skip_determinism and name in present and example in repositories[name].examples:
        seeds = [scan_example(repositories[name], example, scratch, repos_dir, present, versions, features,
                              command, args.timeout, hash_seed=seed) for seed in ("0", "1")]
        same = fingerprint(seeds[0]) == fingerprint(seeds[1]) and not seeds[0].error
        determinism = {"run": True, "example": f"{name}/{example}", "same": same,
                       "failures": [len(s.failures) for s in seeds], "exit_codes": [s.exit_code for s in seeds],
                       "difference": difference(seeds[0], seeds[1])}
    if args.determinism_all:
        other_seed = "1" if args.hash_seed != "1" else "0"
        others = []
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            for number, other in enumerate(pool.map(lambda item: one(item, other_seed), todo), 1):
                others.append(other)
                print(f"  [{number}/{len(todo)}] PYTHONHASHSEED={other_seed} {other.label} ({other.seconds:.1f}s)",
                      file=sys.stderr, flush=True)
        differing = [{"example": f"{a.repo}/{a.example}", "difference": difference(a, b)}
                     for a, b in zip(results, others, strict=True) if fingerprint(a) != fingerprint(b)]
        determinism["all"] = {"seeds": [args.hash_seed, other_seed], "examples": len(todo),
                              "differing": differing}

    # -- per example
    width = max([len(r.label) for r in results] + [20])
    header = f"{'example':<{width}} {'stores':>6} {'region?':>7} {'class?':>6}  {'failures by check':<40} " \
             f"{'unknown':>7} {'exit':>4} {'missing':>7}"
    print()
    print(header)
    print("-" * len(header))
    for result in results:
        print(example_line(result, width, features.inventory))
        if args.verbose:
            for module in result.installed_modules:
                print(f"    module installed: {module}")
            for module in result.missing_modules:
                print(f"    module missing:   {module}")
            for note in result.constraint_notes:
                print(f"    version note:     {note}")
            for broken in result.broken_local_modules:
                print(f"    local module without .tf: {broken}")
            for failure in result.failures:
                print(f"    {failure.check_id} {failure.resource} ({failure.file}:{failure.line})")
                for detail in failure.details:
                    print(f"        {detail}")
            for store in result.stores():
                for attribute in ("class", "tenant", "account", "region"):
                    if is_unknown(store.get(attribute)):
                        print(f"    store {store.get('address')} {attribute} unknown: {unknown_text(store[attribute])}")
            for copy in (result.inventory or {}).get("copies") or []:
                print(f"    copy {copy.get('resource')} ({copy.get('mechanism')}): "
                      f"{(copy.get('source') or {}).get('what')} -> {(copy.get('destination') or {}).get('what')}, "
                      f"cross_region={copy.get('cross_region')}")
                for side in ("source", "destination"):
                    region = (copy.get(side) or {}).get("region")
                    if is_unknown(region):
                        print(f"        {side} region unknown: {unknown_text(region)}")
            if result.inventory_error:
                print(f"    inventory failed: {result.inventory_error}")
            if result.error and result.stderr_tail:
                print("    stderr: " + result.stderr_tail.replace("\n", "\n            "))

    figures = totals(results)
    print()
    print(f"Totals over {figures['examples']} examples ({wall:.0f}s wall, {figures['seconds']}s of scans):")
    rows = [
        ("exit codes", ", ".join(f"{code}: {n}" for code, n in figures["exit_codes"].items())),
        ("stores (inventory)", figures["stores"] if figures["stores"] is not None else "n/a (no inventory command)"),
        ("  with unknown region", figures["stores_unknown_region"] if figures["stores"] is not None else "n/a"),
        ("  with unknown class", figures["stores_unknown_class"] if figures["stores"] is not None else "n/a"),
        ("copies (inventory)", "n/a" if figures["copies"] is None else
         f"{figures['copies']} ({figures['copies_cross_region']} cross-region, "
         f"{figures['copies_cross_region_unknown']} unknown)"),
        ("failures", f"{figures['failures']}: " + ", ".join(f"{c}: {n}" for c, n in
                                                           figures["failures_by_check"].items())),
        ("failures saying a value is unknown", figures["failures_saying_unknown"]),
        ("examples with missing modules", f"{figures['examples_with_missing_modules']} "
                                          f"({figures['missing_module_calls']} calls)"),
        ("registry modules installed from checkouts", figures["installed_module_calls"]),
        ("scans that failed (exit 2 / timeout)", figures["scan_errors"]),
    ]
    for label, value in rows:
        print(f"  {label:<42} {value}")
    print(f"  missing module sources: {', '.join(figures['missing_module_sources']) or 'none'}")

    # -- unknown reasons
    unknowns = collect_unknowns(results)
    grouped = group_unknowns(unknowns)
    print()
    print(f"Unknown reasons: {len(unknowns)} in {len(grouped)} kinds")
    for group in grouped:
        print(f"  {group['count']:>4}  {group['where']}: {group['kind']}")
        if args.verbose:
            for sample in group["samples"]:
                print(f"          e.g. {sample['example']} {sample['subject']}: {sample['reason']}")
    if args.verbose:
        print()
        print("Every unknown reason:")
        for unknown in unknowns:
            print(f"  {unknown.example} {unknown.where} {unknown.subject}: {unknown.reason}")

    # -- expectations
    verdicts = check_expectations({(r.repo, r.example): r for r in results}, repositories)
    print()
    print("Expectations:")
    for verdict in verdicts:
        print(f"  {verdict.status:<12} {verdict.name}")
        if verdict.status in ("FAILS", "cannot check") or args.verbose:
            for evidence in verdict.evidence[:4 if not args.verbose else None]:
                print(f"               {evidence}")
    if determinism["run"]:
        print(f"  {'holds' if determinism['same'] else 'FAILS':<12} determinism: {determinism['example']} has the "
              f"same findings under PYTHONHASHSEED=0 and 1 ({determinism['failures']} failures, exit "
              f"{determinism['exit_codes']})")
        for side, seed in (("only_first", "0"), ("only_second", "1")):
            for item in determinism["difference"][side]:
                print(f"               only under PYTHONHASHSEED={seed}: {item}")
    if "all" in determinism:
        every = determinism["all"]
        print(f"  determinism of every example (PYTHONHASHSEED={every['seeds'][0]} vs {every['seeds'][1]}): "
              f"{len(every['differing'])} of {every['examples']} differ")
        for item in every["differing"]:
            diff = item["difference"]
            print(f"    {item['example']}: only under {every['seeds'][0]}: {diff['only_first'] or '-'}; only under "
                  f"{every['seeds'][1]}: {diff['only_second'] or '-'}; details differ: {diff['details_differ'] or '-'}"
                  f"; inventory differs: {diff['inventory_differs']}; exit codes {diff['exit_codes']}")

    digest_now = package_digest(snapshot or REPO_ROOT)
    changed = digest_now != state["source_digest"]
    state["source_digest_at_end"] = digest_now
    if changed:
        print(f"\nwarning: the package's sources changed during the run (digest {state['source_digest']} -> "
              f"{digest_now}): the figures mix versions; run again")
    failed = [v for v in verdicts if v.status == "FAILS"]
    nondeterministic = (determinism["run"] and not determinism["same"]) or bool(
        determinism.get("all", {}).get("differing"))
    if args.json or args.markdown:
        document = {
            "package": state, "repos_dir": str(repos_dir), "policy_map": str(POLICY_MAP.relative_to(REPO_ROOT)),
            "features": asdict(features), "notes": notes, "only": args.only,
            "repositories": [{"name": r.name, "path": str(r.path), "present": r.present, "commit": r.commit,
                              "complete": r.complete, "examples": r.examples, "not_examples": r.not_examples,
                              "broken_local_modules": r.broken_local_modules} for r in repositories.values()],
            "totals": figures,
            "examples": [{
                "repo": r.repo, "example": r.example, "exit_code": r.exit_code, "error": r.error,
                "seconds": round(r.seconds, 2), "failures_by_check": dict(sorted(r.by_check().items())),
                "failures_saying_unknown": len(r.unknown_failures()),
                "stores": len(r.stores()) if r.inventory is not None else None,
                "stores_unknown_region": len(r.stores_unknown("region")) if r.inventory is not None else None,
                "stores_unknown_class": len(r.stores_unknown("class")) if r.inventory is not None else None,
                "missing_modules": r.missing_modules, "installed_modules": r.installed_modules,
                "constraint_notes": r.constraint_notes, "scanned_with_allow_missing_modules":
                    r.scanned_with_allow_missing, "inventory_error": r.inventory_error,
                "failures": [asdict(f) for f in r.failures], "inventory": r.inventory,
            } for r in results],
            "unknown_kinds": grouped,
            "expectations": [asdict(v) for v in verdicts],
            "determinism": determinism,
        }
        if args.json:
            Path(args.json).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
            print(f"\nfigures written to {args.json}")
        if args.markdown:
            Path(args.markdown).write_text(markdown(document), encoding="utf-8")
            print(f"tables written to {args.markdown}")

    if failed:
        print(f"\n{len(failed)} expectation(s) FAIL: " + "; ".join(v.name for v in failed))
    if nondeterministic:
        print("\nthe findings differ between PYTHONHASHSEED=0 and 1")
    if problems and not args.allow_missing_repos:
        print(f"\n{len(problems)} repository problem(s) (use --allow-missing-repos to accept them)")
    return 1 if failed or nondeterministic or (problems and not args.allow_missing_repos) else 0


if __name__ == "__main__":
    sys.exit(main())
