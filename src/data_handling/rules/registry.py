"""Which rule each check runs, for engines other than checkov (the live audit).

The checkov adapters in checks/ name the same pairs (tests/test_live_audit.py compares them), so one rule serves
every source. A catalogued check missing here is reported by the audit as not audited, never as a pass.
"""

from __future__ import annotations

from data_handling.rules import (
    access_audited,
    card_fields,
    key_policy,
    no_model_training,
    no_third_party_sharing,
    public_access,
    raw_logs_central,
    replication,
    store_classified,
    telemetry_fields_approved,
    telemetry_fields_listed,
    tenant_home_region,
    vault_kms,
    vault_only,
)
from data_handling.rules.evaluation import Rule

RULES: dict[str, Rule] = {
    "CKV_DH_100": store_classified.evaluate,
    "CKV_DH_101": tenant_home_region.evaluate,
    "CKV_DH_102": replication.evaluate,
    "CKV_DH_103": public_access.evaluate,
    "CKV_DH_104": access_audited.evaluate,
    "CKV_DH_105": no_third_party_sharing.evaluate,
    "CKV_DH_106": no_model_training.evaluate,
    "CKV_DH_201": vault_only.evaluate,
    "CKV_DH_202": vault_kms.evaluate,
    "CKV_DH_203": card_fields.evaluate,
    "CKV_DH_204": key_policy.evaluate,
    "CKV_DH_301": telemetry_fields_listed.evaluate,
    "CKV_DH_302": telemetry_fields_approved.evaluate,
    "CKV_DH_303": raw_logs_central.evaluate,
}
