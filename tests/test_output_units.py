"""Unit tests of the output package: examples read from check docs, finding locations, the SARIF document built
from findings, the Markdown summary, and the pre-commit hook's choice of roots."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import validators

from conftest import REPO
from data_handling.hook import module_callers, roots_for
from data_handling.output import check_docs, sarif, summary
from data_handling.output.findings import Finding, Location, module_path, relative_path, repository_root
from data_handling.policy.catalogue import CATALOGUE

SCHEMAS = Path(__file__).resolve().parent / "schemas"


# --- examples from the check docs ---------------------------------------------------------------------------

def test_examples_of_ckv_dh_100_doc():
    found = check_docs.examples("CKV_DH_100")
    assert found.source == "docs/checks/CKV_DH_100.md"
    [failing], [passing] = found.failing, found.passing
    assert failing.language == "hcl" and 'data_class = "secret"' in failing.text
    assert "default_tags" not in failing.text
    assert 'resource "aws_s3_bucket" "orders"' in passing.text and "default_tags" in passing.text
    assert "secret" not in passing.text


def test_examples_of_ckv_dh_101_doc_keep_the_shared_provider_block():
    found = check_docs.examples("CKV_DH_101")
    [failing], [passing] = found.failing, found.passing
    for snippet in (failing, passing):
        assert snippet.text.startswith('provider "aws" {') and 'alias  = "us"' in snippet.text
    assert '"acme-exports"' in failing.text and '"acme-dashboards"' not in failing.text
    assert '"acme-dashboards"' in passing.text and '"acme-exports"' not in passing.text


def test_fails_when_section_of_a_doc():
    assert "nothing declares a class" in check_docs.fails_when("CKV_DH_100")


def test_examples_from_prose_labels_and_separate_blocks():
    doc = """# X

## Examples

**Fails:**

```hcl
resource "aws_s3_bucket" "bad" {}
```

### Non-compliant (module)
```terraform
module "m" { source = "./m" }
```

- **Passing**: a bucket with a class tag

```hcl
resource "aws_s3_bucket" "good" { tags = { data_class = "internal" } }
```

```hcl
# an unlabelled block is no example
```

## Fix
Do it.
"""
    found = check_docs.examples_from_markdown(doc, "x.md")
    assert [s.text for s in found.failing] == ['resource "aws_s3_bucket" "bad" {}', 'module "m" { source = "./m" }']
    assert [s.language for s in found.failing] == ["hcl", "terraform"]
    assert [s.text for s in found.passing] == ["a bucket with a class tag",
                                               'resource "aws_s3_bucket" "good" { tags = { data_class = "internal" } }']
    assert [s.language for s in found.passing] == ["", "hcl"]


def test_examples_from_comment_markers_in_one_block():
    doc = """## Example
```hcl
locals { x = 1 }
// Passing: first
resource "a" "ok" {}
# FAILS because
resource "a" "bad" {}
# passes too
resource "a" "ok2" {}
```
"""
    found = check_docs.examples_from_markdown(doc, "x.md")
    [failing], [passing] = found.failing, found.passing
    assert failing.text == 'locals { x = 1 }\n\n# FAILS because\nresource "a" "bad" {}'
    assert passing.text.startswith("locals { x = 1 }\n\n// Passing: first") and '"ok2"' in passing.text


def test_a_doc_without_examples_falls_back_to_the_docstring():
    assert check_docs.examples_from_markdown("# X\n\n## What it checks\nthings\n", "x.md") is None
    docstring = """CKV_DH_999 (HIGH) — something.

Fails:   resource "aws_s3_bucket" "x" { }   # no class
Fails:   a bucket created through a provider
         in us-east-1
Passes:  the same bucket in eu-west-1
Docs:    docs/checks/CKV_DH_999.md
"""
    found = check_docs.examples_from_docstring(docstring, "checks/x.py")
    assert [(s.text, s.language) for s in found.failing] == [
        ('resource "aws_s3_bucket" "x" { }   # no class', "hcl"),
        ("a bucket created through a provider in us-east-1", "")]
    assert [s.text for s in found.passing] == ["the same bucket in eu-west-1"]


def test_docstring_examples_of_the_existing_checks():
    found = check_docs.examples_from_docstring(*reversed(check_docs._check_docstring("CKV_DH_101")))
    assert "us-east-1" in found.failing[0].text and "eu-west-1" in found.passing[0].text


# --- findings ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("address", "modules"), [
    ("aws_s3_bucket.x", []),
    ("module.a.aws_s3_bucket.x", ["module.a"]),
    ('module.a["eu.west"].module.b[0].aws_s3_bucket.x', ['module.a["eu.west"]', 'module.a["eu.west"].module.b[0]']),
])
def test_module_path(address, modules):
    assert module_path(address) == modules


def test_repository_root(tmp_path, monkeypatch):
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    stack = tmp_path / "repo" / "stacks" / "a"
    stack.mkdir(parents=True)
    (stack / "main.tf").write_text("")
    assert repository_root(stack) == tmp_path / "repo"
    assert repository_root(stack / "main.tf") == tmp_path / "repo"
    assert repository_root(stack, explicit=tmp_path) == tmp_path
    monkeypatch.chdir(tmp_path)
    assert repository_root(tmp_path / "elsewhere") == tmp_path  # no work tree: the current directory
    assert relative_path(stack / "main.tf", tmp_path / "repo") == "stacks/a/main.tf"
    assert relative_path(tmp_path / "x.tf", tmp_path / "repo") is None


# --- SARIF from findings -----------------------------------------------------------------------------------

def _findings(root: Path) -> list[Finding]:
    main = root / "stacks" / "a b" / "main.tf"
    main.parent.mkdir(parents=True)
    main.write_text('module "m" {\n  source = "../m"\n}\nresource "aws_s3_bucket" "x" {\n}\n')
    module = root / "m" / "main.tf"
    module.parent.mkdir()
    module.write_text('resource "aws_s3_bucket" "this" {\n}\n')
    details = ("Found: it | is bad", "Policy: p", "Fix: f")
    return [
        Finding("CKV_DH_101", "n", "aws_s3_bucket.x", "HIGH", details, Location(main, 4, 5), None, "https://g"),
        Finding("CKV_DH_100", "n", "module.m.aws_s3_bucket.this", "MEDIUM", details, Location(main, 1, 3),
                Location(module, 1, 2), "https://g"),
        Finding("CKV_AWS_18", "Ensure S3 access logging", "aws_s3_bucket.x", None, (), Location(main, 4, 5), None,
                None),
    ]


def test_sarif_reads_each_file_once_and_sees_an_edited_file(tmp_path, monkeypatch):
    """Snippets come from each file read once per build (a file holds many results), and a file written again
    between two builds is read again."""
    findings = _findings(tmp_path)
    reads: list[Path] = []
    read_text = Path.read_text

    def counting(self, *args, **kwargs):
        if self.is_relative_to(tmp_path):  # not the check docs the rules' help is read from
            reads.append(self)
        return read_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", counting)
    first = sarif.build(findings * 20, tmp_path)
    files = {f.location.path for f in findings} | {findings[1].definition.path}
    assert sorted(map(str, reads)) == sorted(map(str, files))  # 60 results, two files, each read once
    main = findings[0].location.path
    main.write_text(main.read_text().replace('"x" {', '"x" { # edited'))
    second = sarif.build(findings, tmp_path)
    snippet = second["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["snippet"]["text"]
    assert "# edited" in snippet and "# edited" not in json.dumps(first)


def test_sarif_from_findings_is_valid_and_relative(tmp_path):
    document = sarif.build(_findings(tmp_path), tmp_path, category="c/")
    for name in ("sarif-2.1.0.json", "sarif-2.1.0-github-upload.json"):
        schema = json.loads((SCHEMAS / name).read_text())
        assert not list(validators.validator_for(schema)(schema).iter_errors(document))
    run = document["runs"][0]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == [*CATALOGUE, "CKV_AWS_18"]
    builtin = run["tool"]["driver"]["rules"][-1]
    assert "security-severity" not in builtin["properties"]  # checkov gave none: none is invented
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]]
    assert uris == ["stacks/a%20b/main.tf"] * 3
    related = run["results"][1]["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == "m/main.tf"
    assert related["physicalLocation"]["region"]["snippet"]["text"].startswith('resource "aws_s3_bucket"')
    assert run["results"][0]["message"]["text"] == "Found: it | is bad\nPolicy: p\nFix: f."
    assert run["automationDetails"] == {"id": "c/"}


def test_sarif_locations_outside_the_repository_are_absolute_and_warned(tmp_path, capsys):
    findings = _findings(tmp_path / "outside")
    (tmp_path / "repo").mkdir()
    document = sarif.build(findings[:1], tmp_path / "repo")
    uri = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///")
    assert "outside the repository root" in capsys.readouterr().err


def test_security_severity_and_classes():
    assert [sarif.security_severity(s) for s in ("LOW", "MEDIUM", "HIGH", "CRITICAL")] == ["3.0", "5.5", "8.0", "9.5"]
    assert sarif.concerned_class(CATALOGUE["CKV_DH_101"]) == "confidential"
    assert sarif.concerned_class(CATALOGUE["CKV_DH_201"]) == "restricted"
    assert sarif.concerned_class(CATALOGUE["CKV_DH_100"]) is None
    assert sarif.concerned_classes(CATALOGUE["CKV_DH_106"]) == ["restricted", "confidential"]
    assert sarif.concerned_classes(CATALOGUE["CKV_DH_101"]) == ["confidential"]
    assert sarif.concerned_classes(CATALOGUE["CKV_DH_104"]) == ["restricted", "confidential"]
    assert sarif.concerned_classes(CATALOGUE["CKV_DH_100"]) == []


def test_policy_map_severity_overrides_reach_the_rules(tmp_path):
    from data_handling.policy.loader import parse

    policy, _ = parse("version: 1\nchecks:\n  CKV_DH_100: {severity: CRITICAL}\n", "map.yaml")
    rules = sarif.build([], tmp_path, policy)["runs"][0]["tool"]["driver"]["rules"]
    assert rules[0]["properties"]["security-severity"] == "9.5"
    assert rules[0]["defaultConfiguration"]["level"] == "error"


# --- the Markdown summary ----------------------------------------------------------------------------------

def test_summary_groups_by_clause_with_resource_location_and_fix(tmp_path):
    findings = _findings(tmp_path)
    skipped = [Finding("CKV_DH_100", "n", "aws_s3_bucket.old", "MEDIUM", (), findings[0].location, None, None,
                       skip_reason="Waived by the policy map until 2099-12-31: legacy")]
    text = summary.render(findings, skipped, tmp_path, target="stacks", policy_map="policy_map.yaml",
                          environment={"GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r",
                                       "GITHUB_SHA": "abc"})
    assert "**3 finding(s)** (1 high, 1 medium, 1 without a severity)" in text
    sections = [line for line in text.splitlines() if line.startswith("### ")]
    assert sections == ["### What stays in the tenant's region", "### Classification", "### Checkov built-in checks"]
    assert f"> {CATALOGUE['CKV_DH_101'].clause.quote}" in text
    link = "https://github.com/o/r/blob/abc/stacks/a%20b/main.tf#L4-L5"
    assert f"| `aws_s3_bucket.x` | [`stacks/a b/main.tf:4-5`]({link})" in text
    assert "it \\| is bad" in text  # pipes escaped inside the table
    assert "(module call; defined at [`m/main.tf:1-2`]" in text
    assert f"**Fix (CKV_DH_101):** {CATALOGUE['CKV_DH_101'].fix}" in text
    assert "1 waived or skipped finding(s)" in text and "legacy" in text


def test_summary_of_a_clean_scan_and_appending(tmp_path):
    target = tmp_path / "summary.md"
    target.write_text("earlier step\n")
    summary.append(target, summary.render([], [], tmp_path, target=".", policy_map="m.yaml", environment={}))
    assert target.read_text().startswith("earlier step\n## Data-handling checks\n\nNo findings in `.`")


# --- the pre-commit hook's roots ---------------------------------------------------------------------------

def test_hook_scans_the_roots_that_call_a_changed_module():
    audit_log = "sample_infra/modules/tenant_data/modules/audit_log/main.tf"
    stacks = REPO / "sample_infra" / "stacks"
    assert roots_for([str(REPO / audit_log)], REPO) == [stacks / "tenant-acme", stacks / "tenant-globex"]
    callers = module_callers(REPO)
    assert callers[REPO / "sample_infra/modules/tenant_data"] == {stacks / "tenant-acme", stacks / "tenant-globex"}


def test_hook_roots_for_changed_root_files(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    changed = ["sample_infra/stacks/tenant-acme/terraform.tfvars", "sample_infra/stacks/tenant-acme/main.tf",
               "README.md", "sample_infra/stacks/shared-platform/main.tf"]
    assert roots_for(changed, REPO) == [REPO / "sample_infra/stacks/shared-platform",
                                        REPO / "sample_infra/stacks/tenant-acme"]
    # a directory inside another chosen root is covered by it; no Terraform, nothing to scan
    (tmp_path / "root" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "main.tf").write_text("")
    (tmp_path / "root" / "sub" / "main.tf").write_text("")
    (tmp_path / "empty").mkdir()
    files = [str(tmp_path / "root/sub/main.tf"), str(tmp_path / "root/main.tf"), str(tmp_path / "empty/x.tfvars")]
    assert roots_for(files, tmp_path) == [tmp_path / "root"]


def test_sarif_is_streamed_as_the_text_json_dumps_gives(tmp_path: Path, monkeypatch, capsys):
    """sarif.write streams the document in batches (destinations.write_chunks): the file and stdout get exactly
    the text of json.dumps(indent=2, ensure_ascii=False) and a newline, however many batches it takes."""
    from data_handling.output import destinations

    monkeypatch.setattr(destinations, "_BATCH_CHARACTERS", 64)  # many batches
    document = {"runs": [{"results": [{"message": {"text": f"Fundstück {n} \u2014 \"quoted\""}, "n": n}
                                      for n in range(200)]}], "version": "2.1.0"}
    expected = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    sarif.write(document, tmp_path / "out" / "results.sarif")
    assert (tmp_path / "out" / "results.sarif").read_text(encoding="utf-8") == expected
    sarif.write(document, None)
    assert capsys.readouterr().out == expected


def test_streamed_output_fails_with_the_destination_named(tmp_path: Path):
    from data_handling.output import destinations

    def chunks():
        yield "partial"
        raise OSError(28, "No space left on device")

    with pytest.raises(destinations.DestinationError, match=r"results\.sarif"):
        destinations.write_chunks(tmp_path / "results.sarif", chunks())
