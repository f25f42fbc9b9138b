"""The calls of the live audit that moto (5.x, server mode) does not implement, answered the way botocore's
Stubber answers: a before-call handler returns the parsed response and no request is sent. Every botocore
session made while installed gets the handlers (botocore registers BUILTIN_HANDLERS in each new session), so
the audit's own sessions, made inside `data-handling audit`, are answered too.

Not implemented by moto: ElastiCache DescribeGlobalReplicationGroups, MemoryDB DescribeMultiRegionClusters, EFS
DescribeReplicationConfigurations, DLM (the whole service), AWS Backup ListBackupSelections/GetBackupSelection,
CloudWatch Logs GetDataProtectionPolicy, Transcribe ListLanguageModels (custom language models). By default each
answers as an account that has none; a test puts its own answer in `answers` (keyed by (botocore service name,
operation name); a function of the call's parameters), also for a call moto implements wrongly (Redshift
DescribeClusterParameters answers the defaults whatever the group holds).

S3 Control: botocore's endpoint rules put the account ID in the host (123456789012.127.0.0.1), which does not
resolve for a local endpoint; the request is sent to the endpoint's own host (moto routes /v20180820/ paths to
S3 Control).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import botocore.handlers
from botocore.awsrequest import AWSResponse

Answer = Callable[[dict[str, Any]], dict[str, Any]]

DEFAULTS: dict[tuple[str, str], Answer] = {
    ("elasticache", "DescribeGlobalReplicationGroups"): lambda _: {"GlobalReplicationGroups": []},
    ("memorydb", "DescribeMultiRegionClusters"): lambda _: {"MultiRegionClusters": []},
    ("efs", "DescribeReplicationConfigurations"): lambda _: {"Replications": []},
    ("dlm", "GetLifecyclePolicies"): lambda _: {"Policies": []},
    ("backup", "ListBackupSelections"): lambda _: {"BackupSelectionsList": []},
    ("logs", "GetDataProtectionPolicy"): lambda params: {"logGroupIdentifier": params.get("logGroupIdentifier")},
    ("transcribe", "ListLanguageModels"): lambda _: {"Models": []},
}
answers: dict[tuple[str, str], Answer] = {}


def _keep_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    context["moto_lacks_params"] = dict(params)  # the API parameters, before botocore serialises them


def _answer(model: Any, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
    key = (model.service_model.service_name, model.name)
    answer = answers.get(key) or DEFAULTS.get(key)
    if answer is None:
        return None
    return AWSResponse("http://moto-lacks", 200, {}, None), answer(context.get("moto_lacks_params") or {})


def _account_host(request: Any, **_: Any) -> None:
    parts = urlsplit(request.url)
    host = parts.netloc.split(".", 1)
    if len(host) == 2 and host[0].isdigit() and len(host[0]) == 12:
        request.url = urlunsplit(parts._replace(netloc=host[1]))


# last on before-call: the audit's call log (registered on the session) still records the call
HANDLERS = [("before-parameter-build", _keep_params),
            ("before-call", _answer, botocore.handlers.REGISTER_LAST), ("before-sign.s3-control", _account_host)]


def install(monkeypatch: Any = None) -> None:
    """For every session made from now on (until the test ends, with monkeypatch)."""
    answers.clear()
    current = [h for h in botocore.handlers.BUILTIN_HANDLERS if h not in HANDLERS]
    if monkeypatch is not None:
        monkeypatch.setattr(botocore.handlers, "BUILTIN_HANDLERS", [*current, *HANDLERS])
    else:
        botocore.handlers.BUILTIN_HANDLERS[:] = [*current, *HANDLERS]
