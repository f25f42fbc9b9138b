"""Queries over the scanned configuration: which provider a resource really uses, its region, its tags
(with the provider's default_tags), its account. Values that cannot be resolved come back as Unknown with
the reason, never guessed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

from data_handling.model.arn import parse_arn
from data_handling.model.provider_version import UNKNOWN as UNKNOWN_VERSIONS
from data_handling.model.provider_version import AwsProviderVersions
from data_handling.model.records import ModuleCall, ModuleKey, ProviderBlock, Resource
from data_handling.model.values import Known, Resolution, Unknown, as_text, evaluate_merge, is_unrendered, unwrap
from data_handling.policy.regions import is_well_formed_region

T = TypeVar("T")

_FIX_REGION = "set the region in the provider block (or the resource's region argument), give the variable " \
              "a default or a terraform.tfvars value, or scan the plan"


class Infrastructure:
    def __init__(self, resources: list[Resource], providers: list[ProviderBlock], calls: list[ModuleCall],
                 instances_of: dict[int, list[Resource]] | None = None, problems: list[str] | None = None,
                 missing_modules: list[str] | None = None, failed_roots: dict[str, str] | None = None,
                 written: dict[tuple[str, str, str], list[Resource]] | None = None,
                 aws_versions: dict[str, AwsProviderVersions] | None = None):
        self.resources = [r for r in resources if r.mode == "resource"]
        # root module directory -> what decides its hashicorp/aws version (a default that changed with 6.0)
        self._aws_versions = aws_versions or {}
        # (file, type, name) of a .tf.json resource block as written -> its evaluated instances (no graph there)
        self._written = written or {}
        # id(a configuration checkov hands a check) -> the evaluated instances it stands for; [] = none exist
        self._instances_of = instances_of or {}
        self.problems = problems or []  # what kept the evaluation from being complete
        self.missing_modules = missing_modules or []  # module calls whose source is not available locally
        self.failed_roots = failed_roots or {}  # root module directory -> why it could not be evaluated
        self.data_sources = [r for r in resources if r.mode == "data"]
        self._by_conf = {id(resource.config): resource for resource in resources}
        self._by_address: dict[str, list[Resource]] = {}
        for resource in resources:
            self._by_address.setdefault(resource.address, []).append(resource)
        self._providers = {(p.root_dir, p.module, p.local_name): p for p in providers}
        self._calls: dict[ModuleKey, ModuleCall] = {(c.root_dir, c.address): c for c in calls}
        self._derived: dict[tuple[str, int], tuple[Resource, Any, Any]] = {}
        self._of_model: dict[str, tuple[Any, Any]] = {}
        self._type_index: dict[tuple[str | None, str], list[tuple[int, Resource]]] | None = None
        self._block_index: dict[tuple[str, str, str, str], list[Resource]] | None = None
        self._referrers: dict[int, list[tuple[str, Resource]]] | None = None
        # (type, attribute) -> (root, the attribute's text, stripped) -> (model position, resource)
        self._value_index: dict[tuple[str, str], dict[tuple[str, str], list[tuple[int, Resource]]]] = {}

    def aws_provider_versions(self, resource: Resource) -> AwsProviderVersions:
        """The hashicorp/aws versions the root of `resource` can run with (nothing known: UNKNOWN)."""
        return self._aws_versions.get(resource.root_dir, UNKNOWN_VERSIONS)

    # --- navigating -------------------------------------------------------------------------------------

    def of_type(self, *resource_types: str) -> list[Resource]:
        return self._indexed(None, resource_types)

    def in_same_root(self, resource: Resource, *resource_types: str) -> list[Resource]:
        """Resources of the given types in the same scanned root module tree as `resource`."""
        return self._indexed(resource.root_dir, resource_types)

    def _indexed(self, root_dir: str | None, resource_types: tuple[str, ...]) -> list[Resource]:
        """The resources of these types (in one root, or all), in model order: an index built once per model,
        since the rules ask this for every resource (a walk over all resources each time is quadratic)."""
        index = self._types()
        return _in_model_order([index.get((root_dir, kind), []) for kind in dict.fromkeys(resource_types)])

    def _types(self) -> dict[tuple[str | None, str], list[tuple[int, Resource]]]:
        """(root or None for every root, type) -> (model position, resource), built on first use."""
        if self._type_index is None:
            self._type_index = {}
            for position, candidate in enumerate(self.resources):
                self._type_index.setdefault((None, candidate.type), []).append((position, candidate))
                self._type_index.setdefault((candidate.root_dir, candidate.type), []).append((position, candidate))
        return self._type_index

    def named(self, near: Resource, resource_types: tuple[str, ...], attribute: str,
              text: str | None) -> list[Resource]:
        """Resources of these types in the root of `near` whose `attribute` reads as `text` (surrounding spaces
        aside), in model order; none for no text. The candidates for a name written where a reference could be
        (a bucket named by its literal name): callers compare the few returned as they need. An index per (type,
        attribute) built on first use keeps this from walking every resource of the type for every resource
        judged."""
        if not text:
            return []
        wanted = (near.root_dir, text.strip())
        found = []
        for kind in dict.fromkeys(resource_types):
            index = self._value_index.get((kind, attribute))
            if index is None:
                index = self._value_index[(kind, attribute)] = {}
                for position, candidate in self._types().get((None, kind), []):
                    value = as_text(candidate.get(attribute))
                    if value is not None:
                        index.setdefault((candidate.root_dir, value.strip()), []).append((position, candidate))
            found.append(index.get(wanted, []))
        return _in_model_order(found)

    def declared(self, root_dir: str, module: str, resource_type: str, name: str) -> list[Resource]:
        """The resources and data sources of one block (`type.name` in module `module` of a root): its instances."""
        if self._block_index is None:
            self._block_index = {}
            for candidate in self.resources + self.data_sources:
                key = (candidate.root_dir, candidate.module, candidate.type, candidate.name)
                self._block_index.setdefault(key, []).append(candidate)
        return list(self._block_index.get((root_dir, module, resource_type, name), []))

    @staticmethod
    def referenced(resource: Resource, attribute: str) -> list[Resource]:
        """The resources an attribute (or a block path under it: rule.destination.bucket) refers to."""
        return [target for label, target in resource.references
                if label == attribute or label.startswith(f"{attribute}.")]

    def referrers(self, resource: Resource) -> list[tuple[str, Resource]]:
        """(attribute, resource) pairs of every resource that refers to this one."""
        if self._referrers is None:
            self._referrers = {}
            for source in self.resources + self.data_sources:
                for label, target in source.references:
                    self._referrers.setdefault(id(target), []).append((label, source))
        return self._referrers.get(id(resource), [])

    # --- finding a resource -----------------------------------------------------------------------------

    def instances_for(self, conf: dict[str, Any]) -> list[Resource] | None:
        """The evaluated instances a configuration checkov hands a check stands for: one, several (a block
        checkov did not expand), none (count = 0, an empty for_each), or None when the evaluator does not know it."""
        return self._instances_of.get(id(conf))

    def instances_written(self, file_path: str, resource_type: str, name: str) -> list[Resource] | None:
        """The evaluated instances of the resource block written in `file_path`: [] when none exist (count = 0,
        a module not created), None when the evaluator never saw that block."""
        return self._written.get((file_path, resource_type, name))

    def resource_for(self, conf: dict[str, Any], file_path: str | None = None) -> Resource | None:
        """The resource whose configuration checkov hands a check (the same dict object in HCL scans)."""
        instances = self._instances_of.get(id(conf))
        if instances:
            return instances[0]
        found = self._by_conf.get(id(conf))
        if found is not None:
            return found
        candidates = self._by_address.get(str(conf.get("__address__", "")), [])
        if file_path:
            candidates = [c for c in candidates if c.file_path.endswith(file_path.lstrip("/"))] or candidates
        return candidates[0] if len(candidates) == 1 else None

    def derived(self, kind: str, resource: Resource, policy: Any, compute: Callable[[], T]) -> T:
        """`compute()` once per resource and policy map for a fact every check may ask (its class, its tenant):
        the model is built once per graph, and no check re-derives what another already did."""
        key = (kind, id(resource))  # the entry holds the resource: an id reused by another object is a miss
        cached = self._derived.get(key)
        if cached is not None and cached[0] is resource and cached[1] is policy:
            return cached[2]  # type: ignore[no-any-return]
        value = compute()
        self._derived[key] = (resource, policy, value)
        return value

    def of_model(self, kind: str, policy: Any, compute: Callable[[], T]) -> T:
        """`compute()` once per model and policy map for a fact about the whole model (the stores each KMS key
        encrypts): kept with the model, so it goes when the model goes."""
        cached = self._of_model.get(kind)
        if cached is not None and cached[0] is policy:
            return cached[1]  # type: ignore[no-any-return]
        value = compute()
        self._of_model[kind] = (policy, value)
        return value

    # --- providers --------------------------------------------------------------------------------------

    def provider_of(self, resource: Resource) -> Resolution[ProviderBlock]:
        """The provider configuration a resource uses: its `provider` argument, remapped through each enclosing
        module call's `providers` map, or inherited as the default configuration."""
        return self.derived("provider", resource, None, lambda: self._resolve_provider(resource))

    def _resolve_provider(self, resource: Resource) -> Resolution[ProviderBlock]:
        if resource.provider_key is not None:  # read from a plan: Terraform resolved it already
            stated = self._providers.get(resource.provider_key)
            if stated is None:
                return Unknown(f'the plan names provider configuration "{resource.provider_key[2]}" for '
                               f"{resource.address}, but does not describe it")
            return Known(stated, stated.describe())
        reference, module, root = resource.provider_ref, resource.module, resource.root_dir
        trail = []
        while True:
            block = self._providers.get((root, module, reference))
            if block is not None:
                via = f" via {' -> '.join(trail)}" if trail else ""
                return Known(block, sys.intern(f"{block.describe()}{via}"))  # one text per provider and path
            if not module:
                if "." in reference:
                    return Unknown(f'provider "{reference}" is not configured in the root module')
                return Unknown(f'the root module has no "{reference}" provider block, so the region would come '
                               "from the environment at apply time", implicit_provider=True)
            call = self._calls.get((root, module))
            if call is None:
                return Unknown(f"the module call that creates {module} was not found")
            if reference in call.providers:
                parent_reference = call.providers[reference]
                trail.append(f"{call.address} providers {{ {reference} = {parent_reference} }}")
                reference, module = parent_reference, call.parent
            elif call.providers:
                # A providers map replaces the default inheritance: only the listed configurations exist.
                return Unknown(f'{call.describe()} passes a providers map without "{reference}", '
                               f"which {resource.address} uses")
            elif "." in reference:
                return Unknown(f'provider "{reference}" is not passed into {call.address} '
                               "(aliased configurations are never inherited)")
            else:
                trail.append(f"{call.address} (inherited)")
                module = call.parent

    # --- region -----------------------------------------------------------------------------------------

    def region_of(self, resource: Resource) -> Resolution[str]:
        """Resource `region` argument (AWS provider v6), else the region of the provider it uses."""
        if resource.get("region") is not None:  # region = null means "not set": the provider's applies
            what = "planned region" if resource.provider_key is not None else "region argument"
            return region_value(resource.get("region"), f"{what} of {resource.describe()}")
        provider = self.provider_of(resource)
        if isinstance(provider, Unknown):
            return Unknown(f"the provider of {resource.address} cannot be resolved: {provider.reason}; "
                           f"{_FIX_REGION}")
        block = provider.value
        if "region" not in block.config:
            return Unknown(f"{block.describe()} sets no region, so it would come from the environment at "
                           f"apply time; {_FIX_REGION}")
        return region_value(block.get("region"), provider.source)

    # --- tags -------------------------------------------------------------------------------------------

    def tag_sources(self, resource: Resource) -> list[tuple[str, Any]]:
        """(where, tags) pairs: the resource's tags, its plan tags_all, and the default_tags of its provider.
        A value that is not a map is kept as is, so callers can report it could not be evaluated."""
        sources: list[tuple[str, Any]] = []
        tags_all = resource.get("tags_all")
        # A plan's tags_all already merges the provider's default_tags; Terraform leaves it unknown when the
        # provider computes it (AWS provider v5 without default_tags): then read tags and default_tags as in HCL.
        planned_tags_all = resource.provider_key is not None and "tags_all" in resource.config and not (
            isinstance(tags_all, str) and is_unrendered(tags_all))
        for key in ("tags", "tags_all"):
            if key in resource.config and (key == "tags" or planned_tags_all or resource.provider_key is None):
                sources.append((f"{key} of {resource.describe()}", _plain_tags(resource.get(key))))
        if planned_tags_all:
            return sources
        provider = self.provider_of(resource)
        if isinstance(provider, Known):
            default_tags = provider.value.get("default_tags")
            if isinstance(default_tags, dict) and "tags" in default_tags:
                sources.append((f"default_tags of {provider.source}", _plain_tags(unwrap(default_tags["tags"]))))
        return sources

    # --- account ----------------------------------------------------------------------------------------

    def account_of(self, resource: Resource) -> Resolution[frozenset[str]]:
        """The account(s) the resource is deployed into: the provider's allowed_account_ids, else the account
        of its assume_role role ARN."""
        provider = self.provider_of(resource)
        if isinstance(provider, Unknown):
            return provider
        block = provider.value
        allowed = block.get("allowed_account_ids")
        if isinstance(allowed, str | int) and not isinstance(allowed, bool):
            allowed = [allowed]  # a plan records `[var.account]` by its variable's value alone
        if isinstance(allowed, list) and allowed:
            accounts = [_account(value) for value in allowed]
            if all(accounts):
                return Known(frozenset(accounts), f"allowed_account_ids of {provider.source}")  # type: ignore[arg-type]
            return Unknown(f"allowed_account_ids of {block.describe()} could not be evaluated: {allowed!r}")
        assume_role = block.get("assume_role")
        role_arn = as_text(assume_role.get("role_arn")) if isinstance(assume_role, dict) else None
        if role_arn:
            arn = parse_arn(role_arn)
            if arn and arn.account.isdigit():
                return Known(frozenset({arn.account}), f"assume_role of {provider.source}")
            return Unknown(f"the assume_role role_arn of {block.describe()} could not be evaluated: {role_arn!r}")
        return Unknown(f"{block.describe()} sets neither allowed_account_ids nor assume_role")


def region_value(value: Any, source: str) -> Resolution[str]:
    text = as_text(value)
    if text is None or is_unrendered(text):
        reason = getattr(unwrap(value), "reason", "")  # why model/hcl could not evaluate it
        because = f": {reason}" if reason else ""
        return Unknown(f"the region in {source} is {value!r}, which could not be evaluated{because}; {_FIX_REGION}")
    text = text.strip()
    if not text:  # the provider reads an empty region as unset
        return Unknown(f"the region in {source} is empty, so it would come from the environment at apply time; "
                       f"{_FIX_REGION}")
    if not is_well_formed_region(text):
        return Unknown(f"the region in {source} is {text!r}, which is not an AWS region name")
    return Known(text, source)


def region_of_arn(text: str) -> str | None:
    arn = parse_arn(text)
    return arn.region if arn and arn.region else None


def _plain_tags(value: Any) -> Any:
    if isinstance(value, str):
        value = evaluate_merge(value) or value
    if isinstance(value, dict):
        return {str(key): unwrap(tag) for key, tag in value.items()}
    return value


def _account(value: Any) -> str | None:
    text = as_text(value)
    if text is None or not text.strip().isdigit():
        return None
    return text.strip().zfill(12)  # HCL numbers lose leading zeros: 012345678901 arrives as 12345678901


def _in_model_order(groups: list[list[tuple[int, Resource]]]) -> list[Resource]:
    """The resources of several (position, resource) lists, one list per type, in model order."""
    if len(groups) == 1:
        return [candidate for _, candidate in groups[0]]
    return [candidate for _, candidate in sorted((entry for group in groups for entry in group),
                                                 key=lambda entry: entry[0])]
