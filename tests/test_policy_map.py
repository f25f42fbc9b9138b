"""policy_map.yaml: every rejection path names the file, the key path and the reason; defaults and lookup order."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.loader import ENV_VAR, PolicyMapError, load, locate, packaged_default_path, parse
from data_handling.policy.schema import DEFAULT_APPROVED_FIELDS, DEFAULT_STORE_TYPES, PolicyMap

REPO = Path(__file__).resolve().parents[1]
FILE = "pm.yaml"
VALID_WAIVER = "{check: CKV_DH_101, resource: aws_s3_bucket.a, reason: r, expires: 2030-01-01}"
# A fixed "today" (the loader takes one) keeps the 2030 expiries within waiver_max_days (365) for ever.
TODAY = dt.date(2029, 6, 1)


def _text(body: str) -> str:
    return textwrap.dedent(body).lstrip("\n")


def reject(body: str) -> str:
    """Parse a map that must be rejected; return the one-line message after checking it names the file."""
    with pytest.raises(PolicyMapError) as info:
        parse(_text(body), FILE, today=TODAY)
    message = str(info.value)
    assert message.startswith(f"{FILE}: "), message
    assert "\n" not in message, message
    return message


def accept(body: str) -> tuple[PolicyMap, list[str]]:
    return parse(_text(body), FILE, today=TODAY)


def assert_names(message: str, key: str, *reasons: str) -> None:
    assert f"{FILE}: {key}: " in message, message
    for reason in reasons:
        assert reason in message, message


# --- the file itself ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    ["version: [1\n", "version: 1\n\tclassification: {}\n", "version: 1\nresidency: {tenants: {acme: }\n"],
    ids=["unclosed-flow", "tab", "unclosed-mapping"],
)
def test_not_yaml(body):
    message = reject(body)
    assert "not valid YAML" in message
    assert "line " in message and "column " in message


@pytest.mark.parametrize("body", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(body):
    message = reject(body)
    assert "empty" in message and "version: 1" in message


@pytest.mark.parametrize(("body", "kind"), [("- version: 1\n", "list"), ("just text\n", "str"), ("1\n", "int")])
def test_top_level_not_a_mapping(body, kind):
    message = reject(body)
    assert "top level must be a mapping" in message and kind in message


def test_duplicate_top_level_key():
    message = reject("version: 1\nversion: 1\n")
    assert "duplicate key 'version'" in message and "line 2" in message


def test_duplicate_nested_key():
    message = reject("""
        version: 1
        residency:
          tenants:
            acme: {home_region: eu-west-1}
            acme: {home_region: us-east-1}
        """)
    assert "duplicate key 'acme'" in message and "line 5" in message


@pytest.mark.parametrize("body", ["version: 1\n? [a, b]\n: 1\n", "version: 1\n? {a: 1}\n: 1\n"])
def test_unhashable_key_is_a_policy_map_error(body):
    reject(body)


# --- version and unknown keys --------------------------------------------------------------------------------


def test_missing_version():
    assert_names(reject("classification: {}\n"), "version", "required key is missing")


@pytest.mark.parametrize("value", ["2", "0", "'1'", "one"])
def test_wrong_version(value):
    assert_names(reject(f"version: {value}\n"), "version", "input should be 1")


@pytest.mark.parametrize("value", ["true", "1.0"])
def test_version_of_wrong_type(value):
    assert_names(reject(f"version: {value}\n"), "version")


def test_unknown_top_level_key():
    assert_names(reject("version: 1\nwaiver: []\n"), "waiver", "unknown key")


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("residency:\n  tenant: {acme: {home_region: eu-west-1}}\n", "residency.tenant"),
        ("residency:\n  tenants:\n    acme: {home_region: eu-west-1, x: 1}\n", "residency.tenants.acme.x"),
        (f"waivers:\n  - {VALID_WAIVER}\n  - {{check: CKV_DH_100, resource: aws_s3_bucket.b, reason: r, "
         "expires: 2030-01-01, owner: me}\n", "waivers[1].owner"),
        ("classification:\n  rules:\n    - {match: 'module.a.*', class: internal, note: x}\n",
         "classification.rules[0].note"),
        ("telemetry:\n  central:\n    buckets: [x]\n", "telemetry.central.buckets"),
        ("checks:\n  CKV_DH_101: {severity: HIGH, level: 3}\n", "checks.CKV_DH_101.level"),
    ],
)
def test_unknown_nested_key(body, key):
    assert_names(reject("version: 1\n" + body), key, "unknown key")


def test_several_problems_on_one_line():
    message = reject("version: 1\nfoo: 1\nclassification:\n  default: secret\n")
    assert message.count(f"{FILE}: ") == 1
    assert "foo: unknown key" in message
    assert "classification.default: " in message and "got 'secret'" in message and "; " in message


# --- wrong types --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "reason"),
    [
        ("classification:\n  tag_keys: data_class\n", "classification.tag_keys", "valid list"),
        ("checks:\n  CKV_DH_101: {enabled: 'yes'}\n", "checks.CKV_DH_101.enabled", "valid boolean"),
        ("telemetry:\n  central:\n    account_ids: [111111111111]\n", "telemetry.central.account_ids[0]",
         "quote it in YAML"),
        ("residency:\n  tenants: [acme]\n", "residency.tenants", "valid dictionary"),
        ("residency:\n  home_regions: eu-west-1\n", "residency.home_regions", "valid list"),
        ("residency:\n  tenant_tag_key: 7\n", "residency.tenant_tag_key", "expected a string"),
        ("classification: [data_class]\n", "classification", "valid dictionary"),
        ("vaults:\n  resource_types: [aws_kms_key, 3]\n", "vaults.resource_types[1]", "expected a string"),
    ],
)
def test_wrong_type(body, key, reason):
    assert_names(reject("version: 1\n" + body), key, reason)


def test_short_account_id():
    message = reject("version: 1\ntelemetry:\n  central:\n    account_ids: ['1111']\n")
    assert_names(message, "telemetry.central.account_ids[0]", "12-digit AWS account ID")


def test_account_id_with_leading_zero_stays_a_string():
    policy, _ = accept("version: 1\ntelemetry:\n  central:\n    account_ids: ['012345678901']\n")
    assert policy.telemetry.central.account_ids == ["012345678901"]


# --- classes ------------------------------------------------------------------------------------------------


def test_invalid_default_class():
    message = reject("version: 1\nclassification:\n  default: secret\n")
    assert_names(message, "classification.default", "'restricted'", "got 'secret'")


def test_invalid_rule_class():
    message = reject("version: 1\nclassification:\n  rules:\n    - {match: 'module.a.*', class: Secret}\n")
    assert_names(message, "classification.rules[0].class", "got 'Secret'")


# --- regions ------------------------------------------------------------------------------------------------


def test_misspelt_home_region_suggests_the_real_one():
    message = reject("version: 1\nresidency:\n  tenants:\n    acme: {home_region: eu-wst-1}\n")
    assert_names(message, "residency.tenants.acme.home_region", "'eu-wst-1' is not an AWS region name",
                 "did you mean 'eu-west-1'?")


@pytest.mark.parametrize("region", ["EU-WEST-1", "westeurope", "eu-wst-1", "eu-west", ""])
def test_malformed_home_regions(region):
    message = reject(f"version: 1\nresidency:\n  home_regions: [eu-west-1, '{region}']\n")
    assert_names(message, "residency.home_regions[1]", f"{region!r} is not an AWS region name")


@pytest.mark.parametrize("region", ["EU-WEST-1", "westeurope"])
def test_malformed_tenant_region(region):
    message = reject(f"version: 1\nresidency:\n  tenants:\n    acme: {{home_region: {region}}}\n")
    assert_names(message, "residency.tenants.acme.home_region", "is not an AWS region name",
                 "expected a name like eu-west-1")


def test_unlisted_but_well_formed_region_is_a_warning():
    policy, warnings = accept("""
        version: 1
        residency:
          tenants:
            acme: {home_region: eu-north-9}
          home_regions: [eu-north-9, eu-west-1]
        """)
    assert policy.residency.tenants["acme"].home_region == "eu-north-9"
    assert policy.residency.home_regions == ["eu-north-9", "eu-west-1"]
    assert warnings and all("eu-north-9" in warning and "botocore" in warning for warning in warnings)


def test_listed_regions_give_no_warning():
    _, warnings = accept("version: 1\nresidency:\n  home_regions: [eu-west-1, us-gov-west-1, ap-southeast-2]\n")
    assert warnings == []


def test_load_returns_warnings(tmp_path):
    path = tmp_path / "policy_map.yaml"
    path.write_text("version: 1\nresidency:\n  home_regions: [eu-north-9]\n")
    loaded = load(path)
    assert loaded.warnings and "eu-north-9" in loaded.warnings[0]


# --- globs and regexes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("glob", ["module..x", "", "aws s3", "[abc", "module.a.", ".module.a", 'module.a["x'])
def test_bad_address_glob_in_rules(glob):
    message = reject(f"version: 1\nclassification:\n  rules:\n    - {{match: '{glob}', class: internal}}\n")
    assert_names(message, "classification.rules[0].match", f"{glob!r} is not a resource address glob")


@pytest.mark.parametrize("glob", ["module..x", "", "aws s3", "[abc"])
def test_bad_address_glob_in_waivers(glob):
    message = reject(f"version: 1\nwaivers:\n  - {VALID_WAIVER}\n  - {{check: CKV_DH_100, resource: '{glob}', "
                     "reason: r, expires: 2030-01-01}\n")
    assert_names(message, "waivers[1].resource", f"{glob!r} is not a resource address glob")


@pytest.mark.parametrize(
    "glob", ["module.payments.*", "aws_s3_bucket.orders*", 'module.m["a"].aws_s3_bucket.b', "module.m[0].*",
             "module.m[*].aws_s3_bucket.?", "aws_s3_bucket.b"],
)
def test_good_address_globs(glob):
    policy, _ = accept(f"version: 1\nclassification:\n  rules:\n    - {{match: '{glob}', class: internal}}\n")
    assert policy.classification.rules[0].match == glob


@pytest.mark.parametrize("pattern", ["Central_*", "central telemetry", "CENTRAL-*"])
def test_bad_bucket_glob(pattern):
    message = reject(f"version: 1\ntelemetry:\n  central:\n    bucket_name_patterns: ['central-*', '{pattern}']\n")
    assert_names(message, "telemetry.central.bucket_name_patterns[1]", "is not a bucket name glob")


@pytest.mark.parametrize("pattern", ["(email", "[a-", "*ip"])
def test_bad_forbidden_field_regex(pattern):
    message = reject(f"version: 1\ntelemetry:\n  forbidden_fields:\n    - {{pattern: '{pattern}', reason: r}}\n")
    assert_names(message, "telemetry.forbidden_fields[0].pattern", "is not a valid regular expression")


def test_blank_forbidden_field_pattern():
    message = reject("version: 1\ntelemetry:\n  forbidden_fields:\n    - {pattern: ' ', reason: r}\n")
    assert_names(message, "telemetry.forbidden_fields[0].pattern", "must not be empty")


# --- duplicates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "key", "entry"),
    [
        ("classification:\n  tag_keys: [data_class, owner, data_class]\n", "classification.tag_keys", "data_class"),
        ("classification:\n  store_types: [aws_s3_bucket, aws_s3_bucket]\n", "classification.store_types",
         "aws_s3_bucket"),
        ("residency:\n  home_regions: [eu-west-1, eu-west-1]\n", "residency.home_regions", "eu-west-1"),
        ("residency:\n  tenants:\n    Acme: {home_region: eu-west-1}\n    'acme ': {home_region: us-east-1}\n",
         "residency.tenants", "acme"),
        ("classification:\n  rules:\n    - {match: 'module.a.*', class: internal}\n"
         "    - {match: 'module.a.*', class: restricted}\n", "classification.rules", "module.a.*"),
        (f"waivers:\n  - {VALID_WAIVER}\n  - {{check: CKV_DH_101, resource: aws_s3_bucket.a, reason: other, "
         "expires: 2031-01-01}\n", "waivers", "CKV_DH_101 aws_s3_bucket.a"),
        ("telemetry:\n  approved_fields: [route, status, route]\n", "telemetry.approved_fields", "route"),
        ("telemetry:\n  central:\n    account_ids: ['111111111111', '111111111111']\n",
         "telemetry.central.account_ids", "111111111111"),
        ("telemetry:\n  central:\n    bucket_name_patterns: [central-*, central-*]\n",
         "telemetry.central.bucket_name_patterns", "central-*"),
        ("telemetry:\n  forbidden_fields:\n    - {pattern: email, reason: a}\n    - {pattern: email, reason: b}\n",
         "telemetry.forbidden_fields", "email"),
        ("vaults:\n  resource_types: [aws_ssm_parameter, aws_ssm_parameter]\n", "vaults.resource_types",
         "aws_ssm_parameter"),
    ],
)
def test_duplicates(body, key, entry):
    assert_names(reject("version: 1\n" + body), key, f"duplicate entry {entry!r}")


def test_waivers_for_different_resources_are_not_duplicates():
    policy, _ = accept(f"version: 1\nwaivers:\n  - {VALID_WAIVER}\n  - {{check: CKV_DH_101, "
                       "resource: aws_s3_bucket.b, reason: r, expires: 2030-01-01}\n")
    assert len(policy.waivers) == 2


# --- waivers ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("check", ["CKV_AWS_20", "CKV_DH_1", "ckv_dh_101", "CKV_DH_1011"])
def test_waiver_with_malformed_check_id(check):
    message = reject(f"version: 1\nwaivers:\n  - {{check: {check}, resource: aws_s3_bucket.a, reason: r, "
                     "expires: 2030-01-01}\n")
    assert_names(message, "waivers[0].check", f"{check!r} is not a data-handling check ID")


def test_waiver_for_a_check_this_version_lacks_is_a_warning():
    policy, warnings = accept("version: 1\nwaivers:\n  - {check: CKV_DH_999, resource: aws_s3_bucket.a, "
                              "reason: r, expires: 2030-01-01}\n")
    assert policy.waivers[0].check == "CKV_DH_999"
    assert any("CKV_DH_999" in warning for warning in warnings)


@pytest.mark.parametrize("reason", ["''", "'   '"])
def test_waiver_with_blank_reason(reason):
    message = reject(f"version: 1\nwaivers:\n  - {{check: CKV_DH_101, resource: aws_s3_bucket.a, reason: {reason}, "
                     "expires: 2030-01-01}\n")
    assert_names(message, "waivers[0].reason", "must not be empty")


@pytest.mark.parametrize(
    ("expires", "reason"),
    [("2030-01-01T10:00:00", "expected a date such as 2027-03-31"), ("20300101", "expected a date"),
     ("soon", "got 'soon'"), ("'2030-02-30'", "got '2030-02-30'")],
)
def test_waiver_with_bad_expiry(expires, reason):
    message = reject(f"version: 1\nwaivers:\n  - {{check: CKV_DH_101, resource: aws_s3_bucket.a, reason: r, "
                     f"expires: {expires}}}\n")
    assert_names(message, "waivers[0].expires", reason)


def test_waiver_without_expiry():
    message = reject("version: 1\nwaivers:\n  - {check: CKV_DH_101, resource: aws_s3_bucket.a, reason: r}\n")
    assert_names(message, "waivers[0].expires", "required key is missing")


@pytest.mark.parametrize("expires", ["2030-01-01", "'2030-01-01'"])
def test_waiver_dates(expires):
    policy, _ = accept(f"version: 1\nwaivers:\n  - {{check: CKV_DH_101, resource: 'module.m[\"a\"].*', reason: r, "
                       f"expires: {expires}}}\n")
    assert policy.waivers[0].expires == dt.date(2030, 1, 1)


# --- checks: ------------------------------------------------------------------------------------------------


def test_unknown_check_in_checks():
    message = reject("version: 1\nchecks:\n  CKV_DH_999: {severity: HIGH}\n")
    assert_names(message, "checks", "'CKV_DH_999' is not a check of this version", "CKV_DH_100")


@pytest.mark.parametrize("severity", ["SEVERE", "INFO", "high"])
def test_bad_severity(severity):
    message = reject(f"version: 1\nchecks:\n  CKV_DH_101: {{severity: {severity}}}\n")
    assert_names(message, "checks.CKV_DH_101.severity", f"got {severity!r}")


def test_bad_severity_names_the_accepted_values():
    message = reject("version: 1\nchecks:\n  CKV_DH_101: {severity: high}\n")
    assert "'HIGH'" in message and "'CRITICAL'" in message


def test_clause_record_that_differs_from_the_catalogue():
    other = CATALOGUE["CKV_DH_100"].clause
    message = reject(f"""
        version: 1
        checks:
          CKV_DH_101:
            clause: {{section: "{other.section}", quote: "{other.quote}"}}
        """)
    assert_names(message, "checks", "CKV_DH_101 enforces", CATALOGUE["CKV_DH_101"].clause.quote,
                 "the map records a different clause", other.quote)


def test_clause_record_matching_the_catalogue_modulo_case_space_and_backticks():
    clause = CATALOGUE["CKV_DH_101"].clause
    quote = clause.quote.replace("`", "").upper().replace(" ", "  ")
    policy, _ = accept(f"""
        version: 1
        checks:
          CKV_DH_101:
            clause: {{section: "{clause.section}", quote: "{quote}"}}
        """)
    assert policy.checks["CKV_DH_101"].clause is not None


def test_empty_tag_keys():
    assert_names(reject("version: 1\nclassification:\n  tag_keys: []\n"), "classification.tag_keys", "at least 1")


@pytest.mark.parametrize("key", ["''", "'  '"])
def test_blank_tag_key(key):
    assert_names(reject(f"version: 1\nclassification:\n  tag_keys: [{key}]\n"), "classification.tag_keys[0]",
                 "must not be empty")


def test_central_tag_with_two_entries():
    message = reject("version: 1\ntelemetry:\n  central:\n    tag: {a: b, c: d}\n")
    assert_names(message, "telemetry.central.tag", "at most 1")


# --- maps that validate -------------------------------------------------------------------------------------


def test_repository_policy_map_validates():
    loaded = load(REPO / "policy_map.yaml")
    policy = loaded.policy
    assert loaded.warnings == ()
    assert loaded.origin == "--policy-map"
    assert policy.tenant("acme") is not None
    assert [rule.match for rule in policy.classification.rules] == ["module.payments.*",
                                                                     "data.aws_s3_bucket.acme_orders"]


def test_packaged_default_validates_with_documented_defaults():
    path = packaged_default_path()
    assert path.is_file()
    loaded = load(path)
    policy = loaded.policy
    assert loaded.warnings == ()
    assert policy.version == 1
    assert policy.classification.tag_keys == ["data_class"]
    assert policy.classification.default is None
    assert policy.classification.rules == []
    assert "aws_s3_bucket" in policy.classification.store_types
    assert tuple(policy.classification.store_types) == DEFAULT_STORE_TYPES
    assert policy.residency.tenant_tag_key == "tenant"
    assert policy.residency.tenants == {}
    assert policy.residency.home_regions == []
    assert policy.vaults.resource_types == ["aws_secretsmanager_secret", "aws_ssm_parameter"]
    assert policy.telemetry.central.tag == {"telemetry_scope": "central"}
    assert policy.telemetry.central.account_ids == []
    assert tuple(policy.telemetry.approved_fields) == DEFAULT_APPROVED_FIELDS
    assert policy.waivers == []
    assert policy.checks == {}


def test_minimal_map_equals_packaged_defaults():
    minimal, _ = accept("version: 1\n")
    default = load(packaged_default_path()).policy
    assert minimal == default


# --- lookup order -------------------------------------------------------------------------------------------


@pytest.fixture
def maps(tmp_path, monkeypatch):
    """Three valid maps (explicit, env, cwd) told apart by their tenant_tag_key."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    paths = {}
    for name in ("explicit", "env", "cwd"):
        folder = tmp_path / name
        folder.mkdir()
        paths[name] = folder / "policy_map.yaml"
        paths[name].write_text(f"version: 1\nresidency:\n  tenant_tag_key: {name}\n")
    return paths


def test_explicit_path_wins(maps, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(maps["env"]))
    monkeypatch.chdir(maps["cwd"].parent)
    assert locate(maps["explicit"]) == (maps["explicit"], "--policy-map")
    loaded = load(str(maps["explicit"]))
    assert loaded.policy.residency.tenant_tag_key == "explicit"
    assert (loaded.path, loaded.origin) == (str(maps["explicit"]), "--policy-map")


def test_env_var_beats_working_directory(maps, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(maps["env"]))
    monkeypatch.chdir(maps["cwd"].parent)
    loaded = load()
    assert loaded.policy.residency.tenant_tag_key == "env"
    assert loaded.origin == f"${ENV_VAR}"
    assert load(None).origin == f"${ENV_VAR}"


def test_working_directory_beats_packaged_default(maps, monkeypatch):
    monkeypatch.chdir(maps["cwd"].parent)
    loaded = load()
    assert loaded.policy.residency.tenant_tag_key == "cwd"
    assert loaded.origin == "./policy_map.yaml"
    assert Path(loaded.path).resolve() == maps["cwd"].resolve()


def test_empty_env_var_is_ignored(maps, monkeypatch):
    monkeypatch.setenv(ENV_VAR, "")
    monkeypatch.chdir(maps["cwd"].parent)
    assert load().origin == "./policy_map.yaml"


def test_packaged_default_last(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy_map.yaml").mkdir()  # a directory of that name is not a map
    path, origin = locate()
    assert (path, origin) == (packaged_default_path(), "packaged default")
    loaded = load()
    assert loaded.origin == "packaged default"
    assert loaded.policy.residency.tenant_tag_key == "tenant"


def test_missing_file_named_by_env_var(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "map.yaml"
    monkeypatch.setenv(ENV_VAR, str(missing))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policy_map.yaml").write_text("version: 1\n")  # must not be used instead
    with pytest.raises(PolicyMapError) as info:
        load()
    message = str(info.value)
    assert message.startswith(f"{missing}: ")
    assert "not found" in message and ENV_VAR in message


def test_missing_explicit_file(tmp_path):
    missing = tmp_path / "map.yaml"
    with pytest.raises(PolicyMapError, match="not found") as info:
        load(missing)
    assert str(missing) in str(info.value)


def test_unreadable_file(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_bytes(b"version: 1\n# \xff\xfe\n")
    with pytest.raises(PolicyMapError, match="cannot be read") as info:
        load(path)
    assert str(info.value).startswith(f"{path}: ")


def test_load_error_names_the_real_file(tmp_path):
    path = tmp_path / "map.yaml"
    path.write_text("version: 1\nresidency:\n  home_regions: [westeurope]\n")
    with pytest.raises(PolicyMapError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: residency.home_regions[0]: ")


# --- lookups ------------------------------------------------------------------------------------------------


def test_severity_and_enabled_overrides():
    policy, _ = accept("""
        version: 1
        checks:
          CKV_DH_101: {severity: CRITICAL, enabled: false}
          CKV_DH_100: {enabled: true}
        """)
    assert policy.severity_of("CKV_DH_101") == "CRITICAL"
    assert policy.is_enabled("CKV_DH_101") is False
    assert policy.severity_of("CKV_DH_100") == CATALOGUE["CKV_DH_100"].severity == "MEDIUM"
    assert policy.is_enabled("CKV_DH_100") is True


def test_catalogue_severity_without_checks_section():
    policy, _ = accept("version: 1\n")
    for check_id, spec in CATALOGUE.items():
        assert policy.severity_of(check_id) == spec.severity
        assert policy.is_enabled(check_id) is True


def test_tenant_lookup_is_trimmed_and_case_insensitive():
    policy, _ = accept("""
        version: 1
        residency:
          tenants:
            Acme: {home_region: eu-west-1}
            globex: {home_region: us-east-1}
        """)
    for name in ("Acme", "acme", "  ACME ", "aCmE\t"):
        found = policy.tenant(name)
        assert found is not None
        assert found[0] == "Acme" and found[1].home_region == "eu-west-1"
    assert policy.tenant(" Globex")[0] == "globex"
    assert policy.tenant("initech") is None
    assert policy.tenant("acm") is None


def test_policy_map_is_immutable():
    policy, _ = accept("version: 1\n")
    with pytest.raises(ValidationError, match="frozen"):
        policy.version = 2  # type: ignore[misc]
