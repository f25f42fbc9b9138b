"""The shape of policy_map.yaml, with its documented defaults (docs/policy-map.md).

Validation is strict: unknown keys, wrong types, malformed region names, bad globs and regexes (RE2 syntax,
bounded length), duplicate entries, blanket waivers and waivers beyond waiver_max_days are errors. A
well-formed region name botocore does not list yet is only a warning (AWS opens regions faster than pinned
libraries learn them). Values quoted in messages are truncated: they may come from a hostile map.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)

from data_handling.model.addresses import split_address
from data_handling.patterns import MAX_PATTERN_LENGTH, PatternError, compile_regex
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.regions import closest_known_region, is_known_region, is_well_formed_region
from data_handling.safe_text import quoted

DATA_CLASSES = ("public", "internal", "confidential", "restricted")
DataClass = Literal["public", "internal", "confidential", "restricted"]

DEFAULT_STORE_TYPES: tuple[str, ...] = (
    "aws_s3_bucket",
    "aws_s3_directory_bucket",
    "aws_dynamodb_table",
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_docdb_cluster",
    "aws_neptune_cluster",
    "aws_dsql_cluster",
    "aws_redshift_cluster",
    "aws_redshiftserverless_namespace",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_serverless_cache",
    "aws_memorydb_cluster",
    "aws_dax_cluster",
    "aws_efs_file_system",
    "aws_ebs_volume",
    "aws_fsx_lustre_file_system",
    "aws_fsx_ontap_file_system",
    "aws_fsx_openzfs_file_system",
    "aws_fsx_windows_file_system",
    "aws_secretsmanager_secret",
    "aws_ssm_parameter",
    "aws_kinesis_stream",
    "aws_kinesis_firehose_delivery_stream",
    "aws_msk_cluster",
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_cloudwatch_log_group",
    "aws_glue_catalog_table",
    "aws_glue_catalog_database",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_timestreamwrite_table",
    "aws_keyspaces_table",
    "aws_qldb_ledger",
    "aws_backup_vault",
    "aws_glacier_vault",
    "aws_s3tables_table_bucket",
)
DEFAULT_APPROVED_FIELDS: tuple[str, ...] = (
    "route", "status", "request_count", "latency_ms", "error_rate", "tenant_id", "billing_total",
    "endpoint_host", "delivery_success_rate", "timestamp",
)  # fmt: skip

# One address segment: a name with glob characters, optionally an instance key ["a"], [0] or [*].
_SEGMENT = r'[A-Za-z0-9_\-*?]+(\[("[^"\s]*"|\d+|\*)\])?'
_ADDRESS_GLOB = re.compile(rf"^{_SEGMENT}(\.{_SEGMENT})*$")
# A resource of the live audit is named by its ARN: waivers and classification rules may name ARNs too.
_ARN_GLOB = re.compile(r"^arn:[a-z*?-]+:[a-z0-9*?-]+:[a-z0-9*?-]*:[0-9*?]*:[^\s]+$")
_BUCKET_GLOB = re.compile(r"^[a-z0-9.\-*?]+$")
_CHECK_ID = re.compile(r"^CKV_DH_\d{3}$")
_ACCOUNT_ID = re.compile(r"^\d{12}$")
DEFAULT_WAIVER_MAX_DAYS = 365


class KeyedValueError(ValueError):
    """A validation error about a key below the one being validated (the loader appends `where` to the path)."""

    def __init__(self, where: tuple[int | str, ...], message: str) -> None:
        super().__init__(message)
        self.where = where


def today_utc() -> dt.date:
    return dt.datetime.now(dt.timezone.utc).date()


def _warn(info: ValidationInfo, message: str) -> None:
    if isinstance(info.context, dict):
        info.context.setdefault("warnings", []).append(message)


def _region(value: str, info: ValidationInfo) -> str:
    if not is_well_formed_region(value):
        guess = closest_known_region(value)
        hint = f"; did you mean {guess!r}?" if guess else " (expected a name like eu-west-1)"
        raise ValueError(f"{quoted(value)} is not an AWS region name{hint}")
    if not is_known_region(value):
        _warn(info, f"region {quoted(value)} is well formed but the installed botocore does not list it")
    return value


def _bounded(value: str) -> str:
    if len(value) > MAX_PATTERN_LENGTH:
        raise ValueError(f"{quoted(value)} is longer than {MAX_PATTERN_LENGTH} characters")
    return value


def _address_glob(value: str) -> str:
    if _ARN_GLOB.fullmatch(_bounded(value)):
        return value
    if not _ADDRESS_GLOB.fullmatch(value):
        raise ValueError(
            f"{quoted(value)} is not a resource address glob (dot-separated names such as "
            '"module.payments.*" or "aws_s3_bucket.orders*", with * and ? as wildcards)'
        )
    return value


def _bucket_glob(value: str) -> str:
    if not _BUCKET_GLOB.fullmatch(_bounded(value)):
        raise ValueError(f"{quoted(value)} is not a bucket name glob (lowercase letters, digits, '.', '-', * and ?)")
    return value


def _regex(value: str) -> str:
    # RE2, not re: matching is linear in the name, so a pattern such as (a+)+$ cannot hang the scan.
    try:
        compile_regex(value)
    except PatternError as error:
        raise ValueError(f"{quoted(value)} is not a valid regular expression (RE2 syntax): {error}") from None
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _account_id(value: str) -> str:
    if not _ACCOUNT_ID.fullmatch(value):
        raise ValueError(f"{quoted(value)} is not a 12-digit AWS account ID (quote it in YAML)")
    return value


def _no_duplicates(values: list, key=lambda item: item) -> list:
    seen: set = set()
    for item in values:
        marker = key(item)
        if marker in seen:
            raise ValueError(f"duplicate entry {quoted(marker)}")
        seen.add(marker)
    return values


Region = Annotated[StrictStr, AfterValidator(_region)]
AddressGlob = Annotated[StrictStr, AfterValidator(_address_glob)]
Name = Annotated[StrictStr, AfterValidator(_non_blank)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


class ClassificationRule(_Strict):
    match: AddressGlob
    data_class: DataClass = Field(alias="class")


class Classification(_Strict):
    tag_keys: list[Name] = Field(default_factory=lambda: ["data_class"], min_length=1)
    default: DataClass | None = None
    store_types: list[Name] = Field(default_factory=lambda: list(DEFAULT_STORE_TYPES))
    rules: list[ClassificationRule] = Field(default_factory=list)

    @field_validator("tag_keys", "store_types")
    @classmethod
    def _unique(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)

    @field_validator("rules")
    @classmethod
    def _unique_rules(cls, values: list[ClassificationRule], info: ValidationInfo) -> list[ClassificationRule]:
        return _no_duplicates(values, key=lambda rule: rule.match)


class Tenant(_Strict):
    home_region: Region


class Residency(_Strict):
    tenant_tag_key: Name = "tenant"
    tenants: dict[Name, Tenant] = Field(default_factory=dict)
    home_regions: list[Region] = Field(default_factory=list)

    @field_validator("tenants")
    @classmethod
    def _unique_tenants(cls, values: dict[str, Tenant], info: ValidationInfo) -> dict[str, Tenant]:
        # Tenant tags are matched case-insensitively and trimmed, so names must differ beyond that.
        _no_duplicates(list(values), key=lambda name: name.strip().lower())
        return values

    @field_validator("home_regions")
    @classmethod
    def _unique_regions(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)


class Vaults(_Strict):
    resource_types: list[Name] = Field(
        default_factory=lambda: ["aws_secretsmanager_secret", "aws_ssm_parameter"], min_length=1
    )

    @field_validator("resource_types")
    @classmethod
    def _unique(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)


class CentralTelemetry(_Strict):
    account_ids: list[Annotated[StrictStr, AfterValidator(_account_id)]] = Field(default_factory=list)
    bucket_name_patterns: list[Annotated[StrictStr, AfterValidator(_bucket_glob)]] = Field(default_factory=list)
    tag: dict[Name, StrictStr] = Field(default_factory=lambda: {"telemetry_scope": "central"}, max_length=1)

    @field_validator("account_ids", "bucket_name_patterns")
    @classmethod
    def _unique(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)


AccountId = Annotated[StrictStr, AfterValidator(_account_id)]
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")


def _organization_id(value: str) -> str:
    if not _ORGANIZATION_ID.fullmatch(value):
        raise ValueError(f"{quoted(value)} is not an AWS Organizations ID (o- and 10-32 lowercase letters or digits)")
    return value


class Organization(_Strict):
    """CKV_DH_105: who is inside. An account listed here, a central telemetry account, or a principal that a
    policy condition restricts to aws:PrincipalOrgID = `id` is inside; any other account is a third party."""

    account_ids: list[AccountId] = Field(default_factory=list)
    id: Annotated[StrictStr, AfterValidator(_organization_id)] | None = None

    @field_validator("account_ids")
    @classmethod
    def _unique(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)


# The CloudTrail data-event families an organisation trail can declare (audit.organization_trail.data_events).
DATA_EVENT_FAMILIES = ("s3", "dynamodb", "lambda", "sns", "sqs", "kinesis", "glue")


class OrganizationTrail(_Strict):
    """CKV_DH_104: data-event logging that exists outside the scanned repository (an organisation trail)."""

    data_events: list[Literal[DATA_EVENT_FAMILIES]] = Field(min_length=1)  # type: ignore[valid-type]

    @field_validator("data_events")
    @classmethod
    def _unique(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)


class Audit(_Strict):
    organization_trail: OrganizationTrail | None = None


class ForbiddenField(_Strict):
    pattern: Annotated[StrictStr, AfterValidator(_non_blank), AfterValidator(_regex)]
    reason: Name


class Telemetry(_Strict):
    central: CentralTelemetry = Field(default_factory=CentralTelemetry)
    approved_fields: list[Name] = Field(default_factory=lambda: list(DEFAULT_APPROVED_FIELDS))
    forbidden_fields: list[ForbiddenField] = Field(default_factory=list)

    @field_validator("approved_fields")
    @classmethod
    def _unique(cls, values: list[str], info: ValidationInfo) -> list[str]:
        return _no_duplicates(values)

    @field_validator("forbidden_fields")
    @classmethod
    def _unique_patterns(cls, values: list[ForbiddenField], info: ValidationInfo) -> list[ForbiddenField]:
        return _no_duplicates(values, key=lambda entry: entry.pattern)


class FieldDeclarations(_Strict):
    """Where Terraform has no schema (a bucket, a log group), a tag declares the fields a store or sink holds."""

    tag_key: Name = "data_fields"  # value: field names separated by commas, spaces or semicolons


DEFAULT_CARD_FIELD_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"(^|_)pan(_|$)", "a full card number (PAN) is never stored: the card processor holds cards"),
    (r"primary_?account_?number", "a full card number (PAN) is never stored: the card processor holds cards"),
    (r"(^|_)(credit_?|debit_?)?card_?(number|num|no)(_|$)", "a full card number (PAN) is never stored"),
    (r"(^|_)cc_?(number|num|no)(_|$)", "a full card number (PAN) is never stored"),
    (r"(^|_)cv(v|c|v2|c2|n)(_|$)", "card verification values (CVV/CVC) are never stored"),
    (r"card_?verification", "card verification values (CVV/CVC) are never stored"),
    (r"(^|_)security_?code(_|$)", "card verification values (CVV/CVC) are never stored"),
)
DEFAULT_TOKENISED_FIELD_PATTERNS: tuple[str, ...] = (
    r"token", r"(^|_)last_?4(_|$)", r"(^|_)last_?four(_|$)", r"payment_?method_?id", r"fingerprint",
    # The processor's verdict on a CVV (Stripe's cvc_check: pass/fail), not the CVV itself.
    r"(^|_)(cvv|cvc|cvn)2?_(check|checked|result|status|verified)$",
)


class CardData(_Strict):
    """CKV_DH_203: field-name patterns (regexes over normalised names: lower case, words joined by _)."""

    forbidden_fields: list[ForbiddenField] = Field(
        default_factory=lambda: [ForbiddenField(pattern=p, reason=r) for p, r in DEFAULT_CARD_FIELD_PATTERNS]
    )
    # Tokenised handles that pass even though a forbidden pattern matches them (card_number_token).
    tokenised_fields: list[Annotated[StrictStr, AfterValidator(_non_blank), AfterValidator(_regex)]] = Field(
        default_factory=lambda: list(DEFAULT_TOKENISED_FIELD_PATTERNS)
    )

    @field_validator("forbidden_fields")
    @classmethod
    def _unique_patterns(cls, values: list[ForbiddenField]) -> list[ForbiddenField]:
        return _no_duplicates(values, key=lambda entry: entry.pattern)

    @field_validator("tokenised_fields")
    @classmethod
    def _unique(cls, values: list[str]) -> list[str]:
        return _no_duplicates(values)


def _check_id(value: str, info: ValidationInfo) -> str:
    if not _CHECK_ID.fullmatch(value):
        raise ValueError(f"{quoted(value)} is not a data-handling check ID (CKV_DH_nnn)")
    if value not in CATALOGUE:
        _warn(info, f"{quoted(value)} names no check of this version (known: {', '.join(CATALOGUE)})")
    return value


def names_something(glob: str) -> bool:
    """Whether an address glob names a module or a resource literally (docs/policy-map.md, "Waivers").

    Segments are read as Terraform reads an address: `module` NAME, `data` TYPE NAME, or TYPE NAME; a
    segment in the place of a module or resource NAME must hold, before any instance key, at least one
    character that is not a wildcard. "*", "*.*", "aws_s3_bucket.*" and "module.*.*" name nothing. An ARN glob
    names something when its resource part does: "arn:aws:s3:::acme-*" does, "arn:aws:s3:::*" does not."""
    if _ARN_GLOB.fullmatch(glob):
        return bool(glob.split(":", 5)[5].split("/", 1)[-1].strip("*?"))
    segments = [segment.split("[", 1)[0] for segment in split_address(glob)]
    index = 0
    while index < len(segments):
        if segments[index] == "module":
            name_at = index + 1
        elif segments[index] == "data":
            name_at = index + 2
        else:
            name_at = index + 1
        if name_at < len(segments) and segments[name_at].strip("*?"):
            return True
        index = name_at + 1
    return False


def _named_resource(value: str) -> str:
    if not names_something(value):
        raise ValueError(
            f"{quoted(value)} is a blanket waiver: it names no module or resource, so it would waive the check "
            'for every resource; name the resource or module (e.g. "aws_s3_bucket.legacy_exports", '
            '"module.payments.*", "aws_s3_bucket.legacy_*")'
        )
    return value


class Waiver(_Strict):
    check: Annotated[StrictStr, AfterValidator(_check_id)]
    resource: Annotated[AddressGlob, AfterValidator(_named_resource)]
    reason: Name
    expires: dt.date = Field(strict=False)

    @field_validator("expires", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        # YAML reads 2027-03-31 as a date; refuse datetimes and numbers, accept ISO date strings.
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
            raise ValueError("expected a date such as 2027-03-31")
        return value


class ClauseRecord(_Strict):
    section: Name
    quote: Name


class CheckSetting(_Strict):
    severity: Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"] | None = None
    enabled: StrictBool = True
    clause: ClauseRecord | None = None


def _normalise(text: str) -> str:
    return " ".join(text.replace("`", "").split()).strip().lower()


class PolicyMap(_Strict):
    version: Literal[1]
    # How far ahead of today (UTC) a waiver may expire; declared before `waivers`, which it validates.
    waiver_max_days: StrictInt = Field(default=DEFAULT_WAIVER_MAX_DAYS, gt=0)

    @field_validator("version", mode="before")
    @classmethod
    def _integer_version(cls, value: object) -> object:
        if type(value) is not int:  # refuse true and 1.0, which compare equal to 1
            raise ValueError(f"input should be 1 (the integer), got {quoted(value)}")
        return value
    classification: Classification = Field(default_factory=Classification)
    residency: Residency = Field(default_factory=Residency)
    vaults: Vaults = Field(default_factory=Vaults)
    telemetry: Telemetry = Field(default_factory=Telemetry)
    fields: FieldDeclarations = Field(default_factory=FieldDeclarations)
    card_data: CardData = Field(default_factory=CardData)
    organization: Organization = Field(default_factory=Organization)
    audit: Audit = Field(default_factory=Audit)
    waivers: list[Waiver] = Field(default_factory=list)
    checks: dict[StrictStr, CheckSetting] = Field(default_factory=dict)

    @field_validator("waivers")
    @classmethod
    def _unique_waivers(cls, values: list[Waiver], info: ValidationInfo) -> list[Waiver]:
        _no_duplicates(values, key=lambda waiver: f"{waiver.check} {waiver.resource}")
        max_days = info.data.get("waiver_max_days")
        if max_days is None:  # invalid itself, and reported as such
            return values
        # The validation context may fix "today" (tests); otherwise the UTC date of the scan.
        today = info.context.get("today") if isinstance(info.context, dict) else None
        today = today or today_utc()
        horizon = dt.date.max if max_days >= (dt.date.max - today).days else today + dt.timedelta(days=max_days)
        for index, waiver in enumerate(values):
            if waiver.expires > horizon:
                raise KeyedValueError(
                    (index, "expires"),
                    f"{waiver.expires.isoformat()} is more than waiver_max_days ({max_days}) days after today "
                    f"({today.isoformat()}, UTC): the latest allowed is {horizon.isoformat()}; renew the waiver "
                    "when it expires instead",
                )
        return values

    @field_validator("checks")
    @classmethod
    def _known_checks(cls, values: dict[str, CheckSetting]) -> dict[str, CheckSetting]:
        for check_id, setting in values.items():
            spec = CATALOGUE.get(check_id)
            if spec is None:
                raise ValueError(f"{quoted(check_id)} is not a check of this version (known: {', '.join(CATALOGUE)})")
            record = setting.clause
            if record and (
                _normalise(record.section) != _normalise(spec.clause.section)
                or _normalise(record.quote) != _normalise(spec.clause.quote)
            ):
                raise ValueError(
                    f"{check_id} enforces {spec.clause.cite()}; the map records a different clause "
                    f"({quoted(record.section)}: {quoted(record.quote)})"
                )
        return values

    # --- lookups used by the rules -------------------------------------------------------------------

    def severity_of(self, check_id: str) -> str:
        setting = self.checks.get(check_id)
        if setting and setting.severity:
            return setting.severity
        return CATALOGUE[check_id].severity

    def is_enabled(self, check_id: str) -> bool:
        setting = self.checks.get(check_id)
        return setting.enabled if setting else True

    def tenant(self, name: str) -> tuple[str, Tenant] | None:
        """The tenant a tag value names (trimmed, case-insensitive), with its canonical name."""
        wanted = name.strip().lower()
        for tenant_name, tenant in self.residency.tenants.items():
            if tenant_name.strip().lower() == wanted:
                return tenant_name, tenant
        return None

