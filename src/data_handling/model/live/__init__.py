"""The live AWS estate as the infrastructure model: the third source of the one model the rules evaluate
(beside the written HCL, model/hcl, and plan JSON, model/plan_source.py).

`read_estate(sessions, regions)` reads each account's data stores and the relations the rules need through
read-only API calls and returns an Estate: the Infrastructure, the accounts and regions read, and the calls that
were denied or failed (the gaps, which the audit reports as not verified). This package imports neither the
rules nor the CLI.
"""

from data_handling.model.live.api import PERMISSIONS, CallLog, Gap
from data_handling.model.live.estate import Estate, read_estate
from data_handling.model.live.records import LiveResource

__all__ = ["PERMISSIONS", "CallLog", "Estate", "Gap", "LiveResource", "read_estate"]
