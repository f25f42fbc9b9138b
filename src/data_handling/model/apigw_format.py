"""API Gateway access log formats: which field each `$context` variable carries, whatever the key is called.

A format is a JSON template (`{"ip": "$context.identity.sourceIp"}`), or a CLF, CSV or XML template of
`$context.*` variables. What a field carries is decided by its variables, not by its key: `"route":
"$context.path"` carries a URL path. The table below maps each variable to the field it counts as (the name
matched against telemetry.approved_fields and forbidden_fields), a reason when the policy itself says it never
flows centrally, and whether it identifies the caller (CKV_DH_303).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from data_handling.model.fields import normalise_field_name
from data_handling.model.values import is_unrendered, unwrap

IP_ADDRESS = "IP addresses never flow centrally"
USER_IDENTITY = "user identities (user names, emails, principal IDs and ARNs) never flow centrally"
URL_PATH = "URL paths carry customer and order identifiers; telemetry is kept by route, never by URL path"
CREDENTIAL = "API keys are credentials and never flow centrally"
CERTIFICATE = "client certificate subjects name the caller and never flow centrally"


@dataclass(frozen=True)
class Carried:
    variable: str  # as written: $context.identity.sourceIp
    field: str  # the field it counts as (normalised): client_ip_address, route, status
    meaning: str  # for finding details: "the caller's IP address"
    forbidden: str | None = None  # why it never flows centrally, when the policy itself names it
    identifies: bool = False  # identifies the caller: raw access logs carrying it are CKV_DH_303 material


@dataclass(frozen=True)
class FormatField:
    name: str  # the JSON key path ("request.ip"); for a CLF/CSV/XML template, the field its variable carries
    template: str  # the value as written: "$context.httpMethod $context.resourcePath"
    carried: tuple[Carried, ...]  # empty for a constant
    keyed: bool = True  # False for a CLF/CSV/XML variable, named by what it carries


# variable (after "$context.") -> (field, meaning, forbidden reason, identifies the caller)
_TABLE: dict[str, tuple[str, str, str | None, bool]] = {
    "identity.sourceIp": ("client_ip_address", "the caller's IP address", IP_ADDRESS, True),
    "identity.userAgent": ("user_agent", "the caller's user agent", None, True),
    "identity.user": ("user_identity", "the calling IAM user or principal", USER_IDENTITY, True),
    "identity.userArn": ("user_identity", "the caller's ARN", USER_IDENTITY, True),
    "identity.caller": ("user_identity", "the caller's principal", USER_IDENTITY, True),
    "identity.cognitoIdentityId": ("user_identity", "the caller's Cognito identity", USER_IDENTITY, True),
    "identity.cognitoAuthenticationProvider": ("user_identity", "the caller's Cognito user", USER_IDENTITY, True),
    "identity.cognitoIdentityPoolId": ("cognito_identity_pool_id", "the Cognito identity pool", None, False),
    "identity.cognitoAuthenticationType": ("authentication_type", "authenticated or not", None, False),
    "identity.accountId": ("caller_account_id", "the caller's AWS account", None, True),
    "identity.principalOrgId": ("caller_organization_id", "the caller's AWS organization", None, True),
    "identity.apiKey": ("api_key", "the caller's API key", CREDENTIAL, True),
    "identity.apiKeyId": ("api_key_id", "the ID of the caller's API key", None, True),
    "identity.accessKey": ("api_key", "the caller's access key", CREDENTIAL, True),
    "identity.vpceId": ("vpc_endpoint_id", "the VPC endpoint called through", None, False),
    "identity.vpcId": ("vpc_id", "the VPC called from", None, False),
    "authorizer.principalId": ("user_identity", "the principal the authorizer returned", USER_IDENTITY, True),
    "path": ("url_path", "the request's URL path", URL_PATH, True),
    "resourcePath": ("route", "the resource template (/orders/{id})", None, False),
    "routeKey": ("route", "the route (GET /orders/{id})", None, False),
    "httpMethod": ("route", "the HTTP method, part of the route", None, False),
    "customDomain.basePathMatched": ("route", "the base path mapping, part of the route", None, False),
    "status": ("status", "the response status", None, False),
    "integrationStatus": ("status", "the integration's status", None, False),
    "integration.status": ("status", "the integration's status", None, False),
    "integration.integrationStatus": ("status", "the integration's status", None, False),
    "authorizer.status": ("status", "the authorizer's status", None, False),
    "authorize.status": ("status", "the authorization status", None, False),
    "authenticate.status": ("status", "the authentication status", None, False),
    "waf.status": ("status", "the WAF status", None, False),
    "wafResponseCode": ("status", "the WAF response code", None, False),
    "requestTime": ("timestamp", "the request time", None, False),
    "requestTimeEpoch": ("timestamp", "the request time", None, False),
    "responseLatency": ("latency_ms", "the response latency", None, False),
    "integrationLatency": ("latency_ms", "the integration latency", None, False),
    "integration.latency": ("latency_ms", "the integration latency", None, False),
    "authorizer.latency": ("latency_ms", "the authorizer latency", None, False),
    "authorizer.integrationLatency": ("latency_ms", "the authorizer latency", None, False),
    "authorize.latency": ("latency_ms", "the authorization latency", None, False),
    "authenticate.latency": ("latency_ms", "the authentication latency", None, False),
    "waf.latency": ("latency_ms", "the WAF latency", None, False),
    "domainName": ("endpoint_host", "the API's host name", None, False),
    "domainPrefix": ("endpoint_host", "the first label of the API's host name", None, False),
    "requestId": ("request_id", "the request ID", None, False),
    "extendedRequestId": ("request_id", "the request ID", None, False),
    "awsEndpointRequestId": ("request_id", "the request ID", None, False),
    "integration.requestId": ("request_id", "the integration's request ID", None, False),
    "xrayTraceId": ("trace_id", "the X-Ray trace ID", None, False),
    "responseLength": ("response_length", "the response length", None, False),
    "protocol": ("protocol", "the protocol", None, False),
    "stage": ("stage", "the stage name", None, False),
    "apiId": ("api_id", "the API ID", None, False),
    "accountId": ("account_id", "the API owner's account", None, False),
    "deploymentId": ("deployment_id", "the deployment ID", None, False),
    "resourceId": ("resource_id", "the resource ID", None, False),
    "error.message": ("error_message", "the error message, which can quote the request", None, False),
    "error.messageString": ("error_message", "the error message, which can quote the request", None, False),
    "error.responseType": ("error_type", "the error type", None, False),
    "integrationErrorMessage": ("error_message", "the integration's error message", None, False),
    "integration.error": ("error_message", "the integration's error message", None, False),
    "authorizer.error": ("error_message", "the authorizer's error message", None, False),
    "authorize.error": ("error_message", "the authorization error message", None, False),
    "authenticate.error": ("error_message", "the authentication error message", None, False),
    "waf.error": ("error_message", "the WAF error message", None, False),
}
_TABLE_CASELESS = {name.lower(): entry for name, entry in _TABLE.items()}

# Token claims that name the user (Cognito and OIDC standard claims).
_IDENTITY_CLAIMS = {"sub", "email", "username", "cognito_username", "name", "given_name", "family_name",
                    "preferred_username", "phone_number", "address", "nickname", "birthdate", "upn", "oid"}

# $context.identity.sourceIp, $context.authorizer.claims.email, $context.authorizer.claims['custom:tenant']
_VARIABLE = re.compile(r"""\$context((?:\.[A-Za-z0-9_]+|\[\s*['"][^'"]+['"]\s*\])+)""")
_PART = re.compile(r"""\.([A-Za-z0-9_]+)|\[\s*['"]([^'"]+)['"]\s*\]""")


def carried_by(variable: str) -> Carried:
    """What one `$context` variable carries."""
    path = ".".join(dot or bracket for dot, bracket in _PART.findall(variable.strip().removeprefix("$context")))
    entry = _TABLE.get(path) or _TABLE_CASELESS.get(path.lower())
    if entry:
        field, meaning, forbidden, identifies = entry
        return Carried(variable, field, meaning, forbidden, identifies)
    lowered = path.lower()
    if lowered.startswith("identity.clientcert."):
        return Carried(variable, "client_certificate", "the caller's client certificate", CERTIFICATE, True)
    if lowered.startswith("identity."):
        return Carried(variable, "user_identity", "an attribute of the caller's identity", USER_IDENTITY, True)
    for prefix in ("authorizer.jwt.claims.", "authorizer.claims.", "authorizer."):
        if lowered.startswith(prefix):
            name = path[len(prefix):]
            field = normalise_field_name(re.sub(r"^custom:", "", name))
            if field in _IDENTITY_CLAIMS or normalise_field_name(name) in _IDENTITY_CLAIMS:
                return Carried(variable, "user_identity", f"the user's {name} claim", USER_IDENTITY, True)
            source = "token claim" if "claims" in prefix else "authorizer context value"
            return Carried(variable, field, f"the {source} {name}")
    return Carried(variable, normalise_field_name(path.rsplit(".", 1)[-1]),
                   "an API Gateway variable the format table does not list, judged by its name")


def variables_in(text: str) -> list[str]:
    return [match.group(0) for match in _VARIABLE.finditer(text)]


def parse_format(value: Any) -> list[FormatField] | None:
    """The fields of an access log format, or None when the format could not be evaluated."""
    value = unwrap(value)
    if isinstance(value, str):
        text = value.strip()
        if "${" in text or ("$context" not in text and is_unrendered(text)):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            return _template_fields(text)
    if isinstance(value, dict):
        return list(_json_fields(value, ""))
    if isinstance(value, str):
        return _template_fields(value)
    return None


def _json_fields(node: dict[str, Any], prefix: str):
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _json_fields(value, f"{name}.")
            continue
        template = json.dumps(value) if isinstance(value, list) else str(value)
        yield FormatField(name, template, tuple(carried_by(v) for v in dict.fromkeys(variables_in(template))))


def _template_fields(text: str) -> list[FormatField]:
    """CLF, CSV or XML: one field per variable, named by what it carries."""
    fields = []
    for variable in dict.fromkeys(variables_in(text)):
        carried = carried_by(variable)
        fields.append(FormatField(carried.field, variable, (carried,), keyed=False))
    return fields
