"""Reading a plan file that may have been written by an attacker: bounded, and checked for shape before use.

A plan reaches two readers: checkov's terraform_plan runner (which finds the resources to check in
`planned_values`) and our plan model (which builds the records from `resource_changes` and `configuration`).
Both index into the document assuming Terraform wrote it: `change: null` or a string `type` gives checkov a
traceback, a missing `planned_values` makes checkov skip the file, and a resource present in
`resource_changes` but absent from `planned_values` is never shown to a check. So before either reads it the
document is checked against the parts of Terraform's JSON plan format (format_version 1.x) that they read, and
anything else is a one-line PlanError naming the file and the JSON path (`resource_changes[3].change`).

Only what a reader relies on is checked, not Terraform's whole format: unknown keys are allowed (newer
Terraform versions add them), and attribute values inside `before`/`after`/`values` are free-form except the
few the model reads by name (`tags`, `tags_all`, `region`).
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable
from typing import Any

from data_handling.safe_text import one_line, quoted

# Terraform's plans nest about 16 deep; resources with recursive blocks (WAF statements) go a few dozen
# deeper. Past this, a recursive reader could exhaust the stack: checkov's YAML loader fails at about 200
# nested arrays (and checkov then skips the file), json.loads at about 1,000.
MAX_DEPTH = 100
# A real plan of a large estate can be hundreds of MB; beyond this, parsing it would exhaust the runner's memory
# long before a check ran.
MAX_BYTES = 2 * 1024**3

_HINT = "produce it with `terraform plan -out plan.out && terraform show -json plan.out`"


class PlanError(ValueError):
    """The file is not a Terraform plan in JSON form, or not one that can be checked; the message says why."""


def read_plan_document(path: str) -> Any:
    """The parsed JSON of `path`: bounded in size and depth, without duplicate keys or non-JSON constants."""
    name = one_line(path)
    try:
        data = _read_bounded(path, name)
    except OSError as error:
        raise PlanError(f"{name}: cannot be read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")  # checkov accepts a byte-order mark (PowerShell writes one)
    except UnicodeDecodeError as error:
        raise PlanError(f"{name}: not JSON: not UTF-8 text (byte {error.start})") from None
    del data
    _check_yaml_readable(text, name)
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise PlanError(f"{name}: not JSON: {one_line(error.msg)} at line {error.lineno} column {error.colno}") \
            from None
    except _Refused as error:
        raise PlanError(f"{name}: not JSON that Terraform writes: {error}") from None
    except RecursionError:
        raise PlanError(f"{name}: not a Terraform plan: JSON nested deeper than {MAX_DEPTH} levels") from None
    except MemoryError:
        raise PlanError(f"{name}: too large to scan: out of memory while parsing") from None
    except ValueError as error:  # e.g. an integer literal too long to convert
        raise PlanError(f"{name}: not JSON: {one_line(error)}") from None
    _check_depth_and_text(document, name)
    return document


def _read_bounded(path: str, name: str) -> bytes:
    # O_NONBLOCK: opening a FIFO must not wait for a writer; only a regular file is read, in chunks, so neither
    # /dev/zero nor a file that grows after the size check can make the read unbounded.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb", buffering=0) as handle:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise PlanError(f"{name}: not a regular file")
        if status.st_size > MAX_BYTES:
            raise PlanError(f"{name}: too large to scan ({status.st_size:,} bytes; the limit is {MAX_BYTES:,})")
        chunks: list[bytes] = []
        total = 0
        while chunk := handle.read(1 << 24):
            total += len(chunk)
            if total > MAX_BYTES:
                raise PlanError(f"{name}: too large to scan (more than {MAX_BYTES:,} bytes)")
            chunks.append(chunk)
    return b"".join(chunks)


# checkov reads a plan with its YAML loader. Text that is valid JSON but not readable as YAML makes checkov
# skip the file (exit 0 under plain checkov); Terraform (Go's encoding/json) writes neither of these.
_NOT_YAML_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")


def _check_yaml_readable(text: str, name: str) -> None:
    def where(position: int) -> str:
        line = text.count("\n", 0, position) + 1
        return f"line {line} column {position - (text.rfind(chr(10), 0, position) + 1) + 1}"

    found = _NOT_YAML_PRINTABLE.search(text)
    if found:
        raise PlanError(f"{name}: not JSON that Terraform writes: character U+{ord(found.group()):04X} at "
                        f"{where(found.start())} (checkov cannot read it)")
    for match in _SURROGATE_ESCAPE.finditer(text):
        start = backslashes = match.start()
        while backslashes > 0 and text[backslashes - 1] == "\\":
            backslashes -= 1
        if (start - backslashes) % 2 == 0:  # the backslash is not itself escaped
            raise PlanError(f"{name}: not JSON that Terraform writes: a \\u escape of a UTF-16 surrogate at "
                            f"{where(start)} (checkov cannot read it)")


class _Refused(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # checkov parses the same file with its own (YAML) loader: with a key given twice, the two readers could
    # see different documents, and the checked one would not be the scanned one.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Refused(f"the key {quoted(key)} appears twice in one object")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON value")


def _check_depth_and_text(document: Any, name: str) -> None:
    """Iteratively (a recursive walk is what this guards against): depth, and strings that can be printed."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PlanError(f"{name}: not a Terraform plan: JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _check_text(key, name)
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            _check_text(value, name)
            if value[:1] in "[{" and _embedded_depth(value) + depth > MAX_DEPTH:
                # A policy document held as a string: checkov and the model parse it with json.loads
                raise PlanError(f"{name}: not a Terraform plan: JSON in a string nested deeper than {MAX_DEPTH} "
                                "levels")


_BRACKETS = re.compile(r"[^\[\]{}]+")


def _embedded_depth(text: str) -> int:
    """How deep the brackets in `text` nest (an upper bound on its depth as JSON: brackets in strings count)."""
    depth = deepest = 0
    for char in _BRACKETS.sub("", text):
        depth = depth + 1 if char in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _check_text(text: str, name: str) -> None:
    # A lone surrogate (`"\ud800"`) is valid JSON but cannot be written to a UTF-8 stream: an address holding
    # one would crash the report writer.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise PlanError(f"{name}: not a Terraform plan: a string holds an unpaired surrogate "
                            f"({quoted(text.encode('utf-8', 'backslashreplace').decode('ascii'), 60)})") from None


# --- shape ------------------------------------------------------------------------------------------------

def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


class _Shape:
    def __init__(self, name: str) -> None:
        self.name = name

    def fail(self, where: str, message: str) -> PlanError:
        return PlanError(f"{self.name}: malformed plan: {one_line(where, 200)}: {message}")

    def expect(self, value: Any, where: str, kinds: tuple[type, ...], wanted: str, nullable: bool = False) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise self.fail(where, f"expected {wanted}{' or null' if nullable else ''}, got {_kind(value)}")

    def obj(self, value: Any, where: str, nullable: bool = False) -> dict[str, Any]:
        self.expect(value, where, (dict,), "an object", nullable)
        return value or {}

    def arr(self, value: Any, where: str, nullable: bool = False) -> list[Any]:
        self.expect(value, where, (list,), "an array", nullable)
        return value or []

    def text(self, value: Any, where: str, nullable: bool = False, required: bool = False) -> None:
        self.expect(value, where, (str,), "a string", nullable)
        if required and value == "":
            raise self.fail(where, "expected a non-empty string, got an empty one")

    def field(self, parent: dict[str, Any], key: str, where: str, check: Callable[[Any, str], Any],
              required: bool = False) -> None:
        path = f"{where}.{key}" if where else key
        if key not in parent:
            if required:
                raise self.fail(path, "missing")
            return
        check(parent[key], path)

    def each(self, items: list[Any], where: str, check: Callable[[Any, str], Any]) -> None:
        for index, item in enumerate(items):
            check(item, f"{where}[{index}]")

    def entries(self, items: dict[str, Any], where: str, check: Callable[[Any, str], Any]) -> None:
        for key, item in items.items():
            check(item, f"{where}.{key}" if _PLAIN_KEY.fullmatch(key) else f"{where}[{json.dumps(key)}]")


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def check_shape(plan: dict[str, Any], name: str) -> None:
    """Raise PlanError at the first part of the plan a reader would crash on or misread."""
    shape = _Shape(name)
    for key in ("format_version", "terraform_version", "timestamp"):
        shape.field(plan, key, "", lambda v, w: shape.text(v, w))
    shape.field(plan, "resource_changes", "", lambda v, w: shape.each(shape.arr(v, w), w, _resource_change(shape)))
    shape.field(plan, "resource_drift", "", lambda v, w: shape.each(shape.arr(v, w, True), w, _resource_change(shape)))
    shape.field(plan, "planned_values", "", lambda v, w: _values(shape, v, w))
    shape.field(plan, "prior_state", "", lambda v, w: _state(shape, v, w))
    shape.field(plan, "configuration", "", lambda v, w: _configuration(shape, v, w))
    shape.field(plan, "variables", "", lambda v, w: shape.entries(
        shape.obj(v, w, True), w, lambda e, ew: shape.obj(e, ew, True)))


def _resource_change(shape: _Shape) -> Callable[[Any, str], None]:
    def check(value: Any, where: str) -> None:
        entry = shape.obj(value, where)
        _resource_identity(shape, entry, where)
        shape.field(entry, "module_address", where, lambda v, w: shape.text(v, w, required=True))
        for key in ("previous_address", "deposed", "provider_name", "action_reason"):
            shape.field(entry, key, where, lambda v, w: shape.text(v, w, nullable=True))
        shape.field(entry, "change", where, lambda v, w: _change(shape, v, w), required=True)
    return check


def _resource_identity(shape: _Shape, entry: dict[str, Any], where: str) -> None:
    for key in ("address", "type", "name"):
        shape.field(entry, key, where, lambda v, w: shape.text(v, w, required=True), required=True)

    def mode(value: Any, path: str) -> None:
        shape.text(value, path)
        if value not in ("managed", "data"):
            # checkov prepares only these two modes: any other resource would silently go unchecked
            raise shape.fail(path, f"expected \"managed\" or \"data\", got {quoted(value, 60)}")
    shape.field(entry, "mode", where, mode, required=True)


def _change(shape: _Shape, value: Any, where: str) -> None:
    change = shape.obj(value, where)
    shape.field(change, "actions", where, lambda v, w: shape.each(
        shape.arr(v, w), w, lambda a, aw: shape.text(a, aw)), required=True)
    for key in ("before", "after"):  # checkov indexes both (Terraform writes null for none)
        shape.field(change, key, where, lambda v, w: _attributes(shape, v, w, nullable=True), required=True)


def _attributes(shape: _Shape, value: Any, where: str, nullable: bool = False) -> None:
    """A resource's attribute values: free-form, except those the model reads by name."""
    attributes = shape.obj(value, where, nullable)
    for key in ("tags", "tags_all"):
        shape.field(attributes, key, where, lambda v, w: shape.entries(
            shape.obj(v, w, True), w,
            lambda t, tw: shape.expect(t, tw, (str, int, float, bool), "a string", nullable=True)))
    shape.field(attributes, "region", where, lambda v, w: shape.text(v, w, nullable=True))


def _values(shape: _Shape, value: Any, where: str) -> None:
    values = shape.obj(value, where)
    shape.field(values, "root_module", where, lambda v, w: _values_module(shape, v, w))
    shape.field(values, "outputs", where, lambda v, w: shape.obj(v, w, True))


def _values_module(shape: _Shape, value: Any, where: str) -> None:
    module = shape.obj(value, where)
    shape.field(module, "address", where, lambda v, w: shape.text(v, w, required=True))

    def resource(item: Any, path: str) -> None:
        entry = shape.obj(item, path)
        _resource_identity(shape, entry, path)
        shape.field(entry, "provider_name", path, lambda v, w: shape.text(v, w))
        shape.field(entry, "values", path, lambda v, w: _attributes(shape, v, w))
    # checkov reads these with .get(key, []) and iterates: present means an array, not null
    shape.field(module, "resources", where, lambda v, w: shape.each(shape.arr(v, w), w, resource))
    shape.field(module, "child_modules", where, lambda v, w: shape.each(
        shape.arr(v, w), w, lambda c, cw: _values_module(shape, c, cw)))


def _state(shape: _Shape, value: Any, where: str) -> None:
    state = shape.obj(value, where, nullable=True)
    shape.field(state, "values", where, lambda v, w: _values(shape, v, w) if v is not None else None)


def _configuration(shape: _Shape, value: Any, where: str) -> None:
    configuration = shape.obj(value, where)

    def provider(item: Any, path: str) -> None:
        entry = shape.obj(item, path)
        for key in ("name", "full_name", "alias", "module_address", "version_constraint"):
            shape.field(entry, key, path, lambda v, w: shape.text(v, w))
        shape.field(entry, "expressions", path, lambda v, w: _expressions(shape, shape.obj(v, w), w))
    shape.field(configuration, "provider_config", where, lambda v, w: shape.entries(shape.obj(v, w, True), w,
                                                                                    provider))
    shape.field(configuration, "root_module", where, lambda v, w: _config_module(shape, v, w))


def _config_module(shape: _Shape, value: Any, where: str) -> None:
    module = shape.obj(value, where)  # checkov: .get("root_module", {}).get("resources", [])

    def resource(item: Any, path: str) -> None:
        entry = shape.obj(item, path)
        _resource_identity(shape, entry, path)
        shape.field(entry, "provider_config_key", path, lambda v, w: shape.text(v, w))
        shape.field(entry, "expressions", path, lambda v, w: _expressions(shape, shape.obj(v, w, True), w))
        shape.field(entry, "provisioners", path, lambda v, w: shape.each(
            shape.arr(v, w, True), w,
            lambda p, pw: shape.field(shape.obj(p, pw), "expressions", pw,
                                      lambda e, ew: _expressions(shape, shape.obj(e, ew), ew))))

    def call(item: Any, path: str) -> None:
        entry = shape.obj(item, path)
        shape.field(entry, "source", path, lambda v, w: shape.text(v, w))
        shape.field(entry, "expressions", path, lambda v, w: _expressions(shape, shape.obj(v, w, True), w))
        shape.field(entry, "module", path, lambda v, w: _config_module(shape, v, w))

    def output(item: Any, path: str) -> None:
        entry = shape.obj(item, path)
        shape.field(entry, "expression", path, lambda v, w: _expressions(shape, v, w))

    shape.field(module, "resources", where, lambda v, w: shape.each(shape.arr(v, w), w, resource))
    shape.field(module, "module_calls", where, lambda v, w: shape.entries(shape.obj(v, w), w, call))
    shape.field(module, "outputs", where, lambda v, w: shape.entries(shape.obj(v, w, True), w, output))


def _expressions(shape: _Shape, value: Any, where: str) -> None:
    """Expression trees: nested blocks (objects and arrays of them) down to leaves holding `references`.
    checkov pairs each block of a resource's values with its expressions and calls .get on them."""
    if value is None:
        return
    if isinstance(value, list):
        shape.each(value, where, lambda v, w: _expressions(shape, shape.obj(v, w, True), w))
    elif not isinstance(value, dict):
        raise shape.fail(where, f"expected an expression (an object) or an array of blocks, got {_kind(value)}")
    else:
        if "references" in value or "constant_value" in value:
            shape.field(value, "references", where, lambda v, w: shape.each(
                shape.arr(v, w, True), w, lambda r, rw: shape.text(r, rw)))
            return  # a constant's value is free-form
        shape.entries(value, where, lambda v, w: _expressions(shape, v, w))


# --- completeness -----------------------------------------------------------------------------------------

def check_complete(plan: dict[str, Any], name: str) -> None:
    """Refuse a plan checkov would skip, or in which it would not see every resource the model knows."""
    if "terraform_version" not in plan:
        # checkov recognises a plan by terraform_version: without it the file is skipped and nothing is checked
        raise PlanError(f"{name}: not a complete plan: no terraform_version; {_HINT}")
    root = (plan.get("planned_values") or {}).get("root_module")
    if not isinstance(root, dict):
        # checkov checks the resources in planned_values: without them every resource would pass unchecked
        raise PlanError(f"{name}: not a complete plan: no planned_values.root_module; run terraform show -json "
                        "on a saved plan (`terraform plan -out plan.out && terraform show -json plan.out`)")
    planned = _planned_addresses(root, name)
    changes: set[tuple[str, str]] = set()
    for index, change in enumerate(plan.get("resource_changes") or []):
        key = (change["address"], str(change.get("deposed") or ""))
        if key in changes:
            # checkov keys changes by address, the model keeps both: the two would judge different resources
            raise PlanError(f"{name}: malformed plan: resource_changes[{index}].address: "
                            f"{quoted(change['address'], 100)} appears twice")
        changes.add(key)
        after = change["change"].get("after")
        if change["mode"] == "managed" and after is not None and change["address"] not in planned:
            raise PlanError(f"{name}: not a complete plan: resource_changes[{index}] "
                            f"({one_line(change['address'], 100)}) will exist after apply but is not in "
                            f"planned_values, so it would not be checked; {_HINT}")


def _planned_addresses(root: dict[str, Any], name: str) -> set[str]:
    found: set[str] = set()
    stack = [root]
    while stack:
        module = stack.pop()
        for resource in module.get("resources") or []:
            if resource["address"] in found:
                raise PlanError(f"{name}: malformed plan: planned_values: {quoted(resource['address'], 100)} "
                                "appears twice")
            found.add(resource["address"])
        stack.extend(module.get("child_modules") or [])
    return found
