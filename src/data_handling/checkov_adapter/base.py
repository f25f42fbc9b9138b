"""The checkov check every data-handling rule runs in.

It finds the resource in the infrastructure model, runs the rule, applies the policy map's waivers and
writes the finding's details (what was found, the clause, the fix). It fails closed: an invalid policy map
or a rule that raises makes the check fail with a detail saying so, never pass or vanish.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from typing import Any

from checkov.common.bridgecrew.severities import Severities
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

from data_handling.checkov_adapter import (
    installed_modules,  # noqa: F401  (registers the module loader)
    shared_parse,  # noqa: F401  (checkov's parse documents reach the model)
)
from data_handling.checkov_adapter.state import (
    current_policy,
    graph_reads,
    model_for_conf,
    model_for_written_file,
    policy_for_graph,
    run_record,
    written_file,
)
from data_handling.model.records import Resource
from data_handling.policy.catalogue import CATALOGUE
from data_handling.policy.loader import PolicyMapError
from data_handling.policy.schema import PolicyMap
from data_handling.rules.applicability import ANY_AWS, applicable_types
from data_handling.rules.evaluation import (
    FAILED,
    PASSED,
    Rule,
    internal_error_details,
    internal_error_message,
    judge,
    policy_map_error_details,
    worst,
)
from data_handling.rules.outcome import Outcome

__all__ = ["DataHandlingCheck", "Rule"]


class DataHandlingCheck(BaseResourceCheck):
    def __init__(self, check_id: str, rule: Rule, supported_resources: Iterable[str] | None = None) -> None:
        self.spec = CATALOGUE[check_id]
        self.rule = rule
        if supported_resources is None:
            supported_resources = declared_types(check_id)
        super().__init__(
            name=self.spec.name,
            id=check_id,
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=list(supported_resources),
            guideline=self.spec.guideline,
        )
        self.severity = Severities[self.spec.severity]
        if not _debugging():
            # checkov writes a DEBUG record per check and resource into an in-memory log: ours stay out of it
            self.logger.setLevel(logging.INFO)
        self._waiver_comment: str | None = None

    def run(self, scanned_file: str, entity_configuration: dict[str, Any], entity_name: str, entity_type: str,
            skip_info: Any) -> Any:
        self._waiver_comment = None
        result = super().run(scanned_file, entity_configuration, entity_name, entity_type, skip_info)
        if self._waiver_comment and result.get("result") == CheckResult.SKIPPED:
            result["suppress_comment"] = self._waiver_comment
        return result

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        address = str(conf.get("__address__", "?"))
        run_record.invocations[self.id] += 1
        run_record.handed_types.add(self.entity_type)
        loaded = policy_for_graph(self.graph)
        if isinstance(loaded, PolicyMapError):
            self.details = list(policy_map_error_details(loaded))
            return CheckResult.FAILED
        policy = loaded.policy
        if not policy.is_enabled(self.id):
            return CheckResult.UNKNOWN  # disabled in the policy map: not reported
        self.severity = Severities[policy.severity_of(self.id)]
        try:
            written = self._terraform_json_file()
            if written is not None:
                return self._scan_written(written, conf, policy)
            infra = model_for_conf(self.graph, conf)
            instances = infra.instances_for(conf)
            if instances == []:
                return CheckResult.UNKNOWN  # no instance exists (count = 0, an empty for_each): nothing to judge
            targets = instances or [infra.resource_for(conf, self.entity_path.split(":", 1)[0])
                                    or _standalone(conf, self)]
            unreadable = infra.failed_roots.get(targets[0].root_dir) if not instances else None
            if unreadable:
                self.details = [f"The Terraform of {targets[0].root_dir} could not be evaluated ({unreadable}), so "
                                f"{address} cannot be checked.",
                                "Fix: report this with the configuration; data-handling checks fail closed."]
                run_record.errors.append(f"{targets[0].root_dir} could not be evaluated: {unreadable}")
                return CheckResult.FAILED
            resource, outcome = worst([(target, self.rule(target, infra, policy)) for target in targets])
        except Exception as error:  # fail closed: a rule that raises must not drop the finding
            message = internal_error_message(self.id, address, error)
            run_record.errors.append(message)
            self.logger.error(message)
            self.logger.debug("traceback of the error above", exc_info=True)  # LOG_LEVEL=DEBUG shows it
            self.details = list(internal_error_details(message))
            return CheckResult.FAILED
        return self._result(resource, outcome, policy)

    def _result(self, resource: Resource, outcome: Outcome | None, policy: PolicyMap) -> CheckResult:
        """The rule's outcome judged by rules/evaluation.py (waivers, Found/Policy/Fix), in checkov's terms."""
        evaluation = judge(self.id, resource, outcome, policy)
        if evaluation is None:
            return CheckResult.UNKNOWN  # the rule does not apply to this resource: not reported
        if evaluation.result == PASSED:
            if evaluation.details:
                self.details = list(evaluation.details)
            return CheckResult.PASSED
        if evaluation.result == FAILED:
            self.details = list(evaluation.details)
            return CheckResult.FAILED
        self._waiver_comment = evaluation.skip_reason
        return CheckResult.SKIPPED

    def _terraform_json_file(self) -> str | None:
        """Under checkov's terraform_json runner (a .tf.json file no graph of ours read): the file's absolute path.

        That runner never sets the registry's graph, so in one process (the CLI runs checkov's runners in its own)
        a check still holds the graph the terraform runner left there: a graph that did not read the file is not
        the file's."""
        file_path = self.entity_path.rsplit(":", 2)[0]
        if not file_path.endswith(".tf.json"):
            return None
        found = written_file(file_path)
        if self.graph is not None and (found is None or graph_reads(self.graph, found)):
            return None
        if found is None:
            raise FileNotFoundError(f"{file_path} is not under the scanned directory")
        return found

    def _scan_written(self, file_path: str, conf: dict[str, Any], policy: PolicyMap) -> CheckResult:
        """A resource written in Terraform JSON: evaluated in the roots that read its file, like any other."""
        infra = model_for_written_file(file_path)
        name = self.entity_path.rsplit(":", 2)[-1]
        instances = infra.instances_written(file_path, self.entity_type, name)
        if instances is None:
            reason = "; ".join(f"{root}: {why}" for root, why in infra.failed_roots.items()) or \
                "the evaluator did not find the block in any root that reads the file"
            message = f"{self.entity_type}.{name} in {file_path} could not be evaluated ({reason})"
            run_record.errors.append(message)
            self.details = [f"{message}, so it cannot be checked.",
                            "Fix: report this with the configuration; data-handling checks fail closed."]
            return CheckResult.FAILED
        if not instances:
            return CheckResult.UNKNOWN  # no instance exists (count = 0, a module not created)
        resource, outcome = worst([(target, self.rule(target, infra, policy)) for target in instances])
        run_record.json_addresses[(self.id, self.entity_path.rsplit(":", 2)[0], name)] = resource.address
        return self._result(resource, outcome, policy)

# Test-only: register every check for aws_* as before static applicability (tests/test_applicability.py compares).
ENV_ALL_TYPES = "DATA_HANDLING_TEST_ALL_AWS_TYPES"


def declared_types(check_id: str) -> tuple[str, ...]:
    """The resource types checkov hands to the check: those its rule can judge under the policy map in force when
    checkov loads the checks (rules/applicability.py); every aws_* resource when the map cannot be loaded, so that
    each check fails closed with the map's error on every resource."""
    if os.environ.get(ENV_ALL_TYPES) == "1":
        return ANY_AWS
    loaded = current_policy()
    return applicable_types(check_id, None if isinstance(loaded, PolicyMapError) else loaded.policy)


def _debugging() -> bool:
    return os.environ.get("LOG_LEVEL", "").upper() == "DEBUG" or bool(os.environ.get("DATA_HANDLING_DEBUG"))


def _standalone(conf: dict[str, Any], check: DataHandlingCheck) -> Resource:
    """A resource checkov scanned without a graph vertex we know: evaluated on its own configuration."""
    address = str(conf.get("__address__", ""))
    resource_type = check.entity_type
    return Resource(address=address, type=resource_type, name=address.rsplit(".", 1)[-1], root_dir="",
                    module="", config=conf, file_path=check.entity_path.split(":", 1)[0])
