"""A small evaluator for the Terraform expressions checkov leaves unrendered.

Checkov renders most values, but not the ones module authors write for dynamic blocks: `for_each =
flatten(try([var.rules["rule"]], [var.rules["rules"]], []))`, `region_name = replica.value.region_name`,
`region = try(replica.value.region, replica.key)`. This module evaluates that subset: literals, lists,
maps, references into a scope (`var.*`, `local.*`, dynamic-block iterators), index and attribute access,
conditionals, comparisons and boolean operators, `for` expressions, and the collection functions such code
uses (try, lookup, flatten, concat, merge, keys, values, toset, ...). Anything else raises NotEvaluable: the
caller reports the value as unknown rather than guessing.

Checkov's spelling of rendered values is accepted too: Python reprs (`{'a': 'b'}`, None, True), `:>` for
`=>`, and interpolations nested in quotes (`['${var.x}']`).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import re2


class NotEvaluable(Exception):
    """The value is not known before apply, or uses something this evaluator does not know: the caller reports
    it as unknown. try() does not catch it (Terraform's try() returns an unknown value unchanged)."""


class EvaluationError(NotEvaluable):
    """What Terraform itself reports as an error while evaluating (a missing key or attribute, an index out of
    range, a function given the wrong arguments, null in a template): try() moves on, can() is false."""


_Missing = EvaluationError


class EvaluationLimit(NotEvaluable):
    """The expression is too deep, too large or too much work to evaluate within bounds (the scanned code is
    untrusted: `range()` over a billion, a template doubled through 40 locals, a regex run on a megabyte).
    Terraform might evaluate it; we do not guess, the value is unknown, so a check that needs it fails."""


# Bounds on what one evaluation may build. Real configurations stay far below them; beyond, the value is unknown.
MAX_TEXT = 1_000_000  # characters of one string
MAX_ELEMENTS = 100_000  # elements of one list or map
MAX_NUMBER_BITS = 1024  # magnitude of an integer (Terraform's numbers are 512-bit floats)
MAX_NESTING = 100  # depth of one expression's syntax tree (python's own stack stays well within its limit)
MAX_STEPS = 200_000  # evaluation steps of one expression (well under a second; a whole module tree: see Budget)
MAX_PRODUCED_TEXT = 20_000_000  # characters of new text one expression may produce in all


class Budget:
    """The work an evaluation may do: steps (nodes evaluated, elements iterated) and characters of text produced.
    One budget covers a top-level evaluate() call, or a whole module tree when the tree installs it with
    `budget()`; once spent, every further evaluation under it is unknown and `exhausted` says why."""

    def __init__(self, steps: int = MAX_STEPS, text: int = MAX_PRODUCED_TEXT):
        self.steps = steps
        self.text = text
        self.exhausted: str | None = None

    def charge(self, steps: int = 1, text: int = 0) -> None:
        self.steps -= steps
        self.text -= text
        if self.exhausted is None and self.steps < 0:
            self.exhausted = "it takes too many evaluation steps"
        elif self.exhausted is None and self.text < 0:
            self.exhausted = "it produces too much text"
        if self.exhausted is not None:
            raise EvaluationLimit(f"the expression is too large to evaluate: {self.exhausted}")


_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("expression_budget", default=None)


@contextlib.contextmanager
def budget(limit: Budget) -> Iterator[Budget]:
    """Evaluations inside the block share `limit` (a module tree evaluates many expressions that feed each other;
    per-expression budgets alone would let instances × attributes multiply the work)."""
    token = _BUDGET.set(limit)
    try:
        yield limit
    finally:
        _BUDGET.reset(token)


def _active_budget() -> Budget:
    return _BUDGET.get() or Budget()


def _check_text(length: int) -> None:
    if length > MAX_TEXT:
        raise EvaluationLimit(f"a string of {length:,} characters is too long to evaluate (limit {MAX_TEXT:,})")


def _bounded(value: Any) -> Any:
    """A value built by the evaluator, checked against the size bounds before anything uses it."""
    if isinstance(value, str):
        _check_text(len(value))
    elif isinstance(value, list | tuple | dict) and len(value) > MAX_ELEMENTS:
        raise EvaluationLimit(f"a collection of {len(value):,} elements is too large to evaluate "
                              f"(limit {MAX_ELEMENTS:,})")
    elif isinstance(value, float) and not math.isfinite(value):
        raise EvaluationLimit(f"the number {value} cannot be evaluated")
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_NUMBER_BITS:
        raise EvaluationLimit("a number too large to evaluate")
    return value


def _produced(value: Any) -> int:
    """Characters of text in a function's result, charged to the budget (strings, or a list of strings)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return sum(len(item) for item in value if isinstance(item, str))
    return 0


def _nesting(node: tuple) -> int:
    """Depth of a syntax tree, without recursion (a chain `1+1+...+1` is as deep as it is long); the tuples of
    arguments or elements count as a level too."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_NESTING:
            return depth
        deepest = max(deepest, depth)
        if isinstance(current[0], str):  # a node: (kind, ...)
            if current[0] == "literal":
                continue
            children = current[1:]
        else:  # a tuple of nodes, or of (key, value) pairs
            children = current
        stack.extend((child, depth + 1) for child in children if isinstance(child, tuple) and child)
    return deepest


class Lazy:
    """A value whose attributes are evaluated on demand (a module's outputs, a resource instance, var.*)."""

    def attribute(self, name: str) -> Any:
        raise EvaluationError(f"unsupported attribute {name!r}")

    def index(self, key: Any) -> Any:
        raise EvaluationError(f"cannot index with {key!r}")


class TerraformSet(list):
    """A set (toset(), a set literal): iterating it in for_each gives each element as both key and value."""


@dataclass(frozen=True)
class Reference:
    """A value known only after apply (`aws_s3_bucket.replica.arn`): kept as its text, with the address of the
    resource instance it belongs to when that is known."""

    text: str
    target: str | None = field(default=None, compare=False)
    template: bool = field(default=False, compare=False)  # text is a template ("arn:...:${x.id}"), not a traversal


@dataclass(frozen=True)
class UnknownValue(Reference):
    """A value that cannot be known here (a variable given no value): inside a list or map it leaves the other
    elements known, as Terraform's unknown values do."""

    reason: str = field(default="", compare=False)


Lookup = Callable[[str, str], Any]  # (namespace "var" or "local", name) -> value; raises NotEvaluable

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>\$\{|=>|:>|==|!=|<=|>=|&&|\|\||\.\.\.|[\[\]{}(),.:?=!<>+\-*/%])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
""", re.VERBOSE)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}
_KEYWORDS = {"null": None, "None": None, "true": True, "True": True, "false": False, "False": False}


_TEMPLATE_MARK = re.compile(r"\$\$\{|%%\{|%\{|\$\{")


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise NotEvaluable(f"cannot read {text[position:position + 20]!r}")
        position = match.end()
        if match.lastgroup != "space":
            tokens.append((match.lastgroup or "", match.group()))
    return tokens


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ESCAPED = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _escaped(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    if code:
        try:
            return chr(int(code, 16))
        except ValueError:  # beyond Unicode: Terraform refuses the string
            raise NotEvaluable("a \\U escape beyond Unicode") from None
    return _ESCAPED.get(match.group(3), match.group(0))


def _unescape(body: str) -> str:
    """A quoted string inside an expression, as Terraform reads it: python-hcl2 keeps the escapes as written
    (`regex("\\\\d+", ...)` arrives with two backslashes), and only a quoted string has them (a heredoc does not,
    which is why the outer template of an attribute is left alone)."""
    return _ESCAPE.sub(_escaped, body) if "\\" in body else body


class _Parser:
    """Recursive descent over the tokens, producing a small tuple AST evaluated later (try() is lazy)."""

    def __init__(self, text: str):
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self, offset: int = 0) -> str:
        index = self.position + offset
        return self.tokens[index][1] if index < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens) or (expected is not None and self.peek() != expected):
            raise NotEvaluable(f"expected {expected or 'more'} at token {self.position}")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> tuple:
        try:
            node = self.expression()
        except RecursionError:
            raise EvaluationLimit("the expression nests too deeply to evaluate") from None
        if self.position != len(self.tokens):
            raise NotEvaluable(f"unexpected {self.peek()!r}")
        if _nesting(node) > MAX_NESTING:
            raise EvaluationLimit(f"the expression nests deeper than {MAX_NESTING} levels")
        return node

    def expression(self) -> tuple:
        node = self.logical()
        if self.peek() == "?":
            self.take("?")
            when_true = self.expression()
            self.take(":")
            return ("if", node, when_true, self.expression())
        return node

    def logical(self) -> tuple:
        node = self.conjunction()
        while self.peek() == "||":
            self.take()
            node = ("logical", "||", node, self.conjunction())
        return node

    def conjunction(self) -> tuple:
        node = self.comparison()
        while self.peek() == "&&":
            self.take()
            node = ("logical", "&&", node, self.comparison())
        return node

    def comparison(self) -> tuple:
        node = self.additive()
        while self.peek() in _COMPARISONS:
            operator = self.take()[1]
            node = ("compare", operator, node, self.additive())
        return node

    def additive(self) -> tuple:
        node = self.multiplicative()
        while self.peek() in ("+", "-"):
            operator = self.take()[1]
            node = ("arithmetic", operator, node, self.multiplicative())
        return node

    def multiplicative(self) -> tuple:
        node = self.unary()
        while self.peek() in ("*", "/", "%"):
            operator = self.take()[1]
            node = ("arithmetic", operator, node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() == "!":
            self.take("!")
            return ("not", self.unary())
        if self.peek() == "-":
            self.take("-")
            return ("arithmetic", "-", ("literal", 0), self.unary())
        return self.postfix()

    def postfix(self) -> tuple:
        node = self.primary()
        while True:
            if (self.peek() == "." and self.peek(1) == "*") or (self.peek() == "[" and self.peek(1) == "*"):
                # A splat: the accessors that follow apply to each element (`var.x[*].id`, `aws_x.y.*.arn`).
                self.take()
                self.take("*")
                if self.tokens[self.position - 2][1] == "[":
                    self.take("]")
                node = ("splat", node, tuple(self.accessors()))
            elif self.peek() == "." and self.peek(1) not in ("", "."):
                self.take(".")
                kind, name = self.take()
                node = ("get", node, ("literal", int(name) if kind == "number" else name))
            elif self.peek() == "[" and node[0] != "literal":
                self.take("[")
                node = ("get", node, self.expression())
                self.take("]")
            else:
                return node

    def accessors(self) -> list[tuple]:
        found = []
        while True:
            if self.peek() == "." and self.peek(1) not in ("", ".", "*"):
                self.take(".")
                kind, name = self.take()
                found.append(("literal", int(name) if kind == "number" else name))
            elif self.peek() == "[" and self.peek(1) != "*":
                self.take("[")
                found.append(self.expression())
                self.take("]")
            else:
                return found

    def primary(self) -> tuple:
        kind, text = self.take()
        if kind == "number":
            return ("literal", float(text) if "." in text else int(text))
        if kind == "string":
            return self.string(text[1:-1], quoted=True)
        if text == "${":
            node = self.expression()
            self.take("}")
            return node
        if text == "(":
            node = self.expression()
            self.take(")")
            return node
        if text == "[":
            return self.list_or_for()
        if text == "{":
            return self.map_or_for()
        if kind == "name":
            if text in _KEYWORDS:
                return ("literal", _KEYWORDS[text])
            if self.peek() == "(":
                return self.call(text)
            return ("name", text)
        raise NotEvaluable(f"unexpected {text!r}")

    def string(self, body: str, quoted: bool = False) -> tuple:
        # The outer template of an attribute may be a heredoc, which has no escapes: only its quotes are read.
        body = _unescape(body) if quoted else body.replace('\\"', '"').replace("\\'", "'")
        if "${" not in body and "%{" not in body:
            return ("literal", body)
        parts: list[tuple] = []
        pieces: list[str] = []  # literal text since the last interpolation (joined once: linear time)
        position = 0
        while position < len(body):
            special = _TEMPLATE_MARK.search(body, position)
            if special is None:
                pieces.append(body[position:])
                break
            pieces.append(body[position:special.start()])
            position = special.start()
            if body.startswith(("$${", "%%{"), position):  # escaped: a literal ${ or %{
                pieces.append(body[position + 1:position + 3])
                position += 3
            elif body.startswith("%{", position):
                raise NotEvaluable("template directives (%{ if }, %{ for }) are not evaluated")
            else:
                closing = _closing_brace(body, position + 1)
                if closing < 0:
                    raise NotEvaluable("an interpolation is not closed")
                if "".join(pieces):
                    parts.append(("literal", "".join(pieces)))
                pieces = []
                parts.append(_Parser(body[position + 2:closing]).parse())
                position = closing + 1
        if "".join(pieces):
            parts.append(("literal", "".join(pieces)))
        return parts[0] if len(parts) == 1 and parts[0][0] != "literal" else ("template", tuple(parts))

    def items(self, closing: str) -> list[tuple]:
        found = []
        while self.peek() != closing:
            found.append(self.expression())
            if self.peek() == ",":
                self.take(",")
            elif self.peek() != closing:
                raise NotEvaluable(f"expected , or {closing}")
        self.take(closing)
        return found

    def call(self, function: str) -> tuple:
        self.take("(")
        arguments = self.items(")")
        return ("call", function, tuple(arguments))

    def for_header(self) -> tuple[str | None, str, tuple]:
        self.take("for")
        first = self.take()[1]
        second = None
        if self.peek() == ",":
            self.take(",")
            second = self.take()[1]
        self.take("in")
        collection = self.expression()
        self.take(":")
        return (first, second, collection) if second else (None, first, collection)  # type: ignore[return-value]

    def list_or_for(self) -> tuple:
        if self.peek() == "for":
            key, value, collection = self.for_header()
            body = self.expression()
            condition = self.condition()
            self.take("]")
            return ("for_list", key, value, collection, body, condition)
        return ("list", tuple(self.items("]")))

    def map_or_for(self) -> tuple:
        if self.peek() == "for":
            key, value, collection = self.for_header()
            key_body = self.expression()
            if self.peek() not in ("=>", ":>"):
                raise NotEvaluable("expected => in a map for expression")
            self.take()
            value_body = self.expression()
            if self.peek() == "...":
                raise NotEvaluable("grouping for expressions are not evaluated")
            condition = self.condition()
            self.take("}")
            return ("for_map", key, value, collection, key_body, value_body, condition)
        entries: list[tuple[tuple, tuple]] = []
        values: list[tuple] = []
        while self.peek() != "}":
            node = self.expression()
            if self.peek() in ("=", ":"):
                self.take()
                key = ("literal", node[1]) if node[0] == "name" else node
                entries.append((key, self.expression()))
            else:
                values.append(node)  # a Python set repr: {'us-east-1', 'eu-west-1'}
            if self.peek() == ",":
                self.take(",")
        self.take("}")
        if values and entries:
            raise NotEvaluable("mixed map and set literal")
        return ("set", tuple(values)) if values else ("map", tuple(entries))

    def condition(self) -> tuple | None:
        if self.peek() == "if":
            self.take("if")
            return self.expression()
        return None


def _get(container: Any, key: Any) -> Any:
    if isinstance(container, Reference):
        step = f"[{key}]" if isinstance(key, int) else f'["{key}"]' if not str(key).isidentifier() else f".{key}"
        return Reference(f"{container.text}{step}", container.target, container.template)
    if isinstance(container, Lazy):
        if isinstance(key, str) and not isinstance(container, LazyCollection):
            return container.attribute(key)
        return container.index(key)
    if isinstance(key, Reference):
        raise NotEvaluable(f"the key {key.text} is known only after apply")
    if not isinstance(key, str | int | float | bool) and key is not None:
        raise _Missing(f"a {type(key).__name__} is not a valid key")  # Terraform: Invalid index
    if isinstance(container, dict):
        if key in container:
            return container[key]
        if isinstance(key, int | float) and not isinstance(key, bool) and str(int(key)) in container:
            return container[str(int(key))]
        raise _Missing(f"no key {key!r}")
    if isinstance(container, list | tuple):
        if isinstance(key, str) and key.isdigit():
            key = int(key)
        if isinstance(key, int | float) and not isinstance(key, bool) and 0 <= int(key) < len(container):
            return container[int(key)]
        raise _Missing(f"no index {key!r}")
    if container is None:
        raise _Missing(f"attempt to get {key!r} from a null value")
    raise _Missing(f"cannot index {type(container).__name__}")


class LazyCollection(Lazy):
    """A lazy value indexed by key (`aws_x.y["a"]`, `module.m[0]`): `.name` on it is an error, as in Terraform."""

    def elements(self) -> list[Any]:
        raise NotImplementedError

    def as_value(self) -> Any:
        """The collection as a plain list (count) or map (for_each), for functions and for expressions."""
        raise NotImplementedError


def pairs(collection: Any) -> list[tuple[Any, Any]]:
    """(key, value) of each element, as for_each and for expressions see them."""
    if isinstance(collection, LazyCollection):
        collection = collection.as_value()
    if isinstance(collection, dict):
        return sorted(collection.items(), key=lambda item: str(item[0]))
    if isinstance(collection, TerraformSet):
        return [(item, item) for item in collection]
    if isinstance(collection, list | tuple):
        return list(enumerate(collection))
    if isinstance(collection, Reference):
        raise NotEvaluable(f"{collection.text} is known only after apply")
    raise EvaluationError(f"cannot iterate over {collection!r}")


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [item for element in value for item in _flatten(element)]
    return [value]


def _frozen(value: Any) -> Any:
    """A hashable stand-in with the same equality as the value (1 == 1.0 == True, as `in` on a list has it), so
    sets are built in linear time: the scanned code decides their size."""
    if isinstance(value, dict):
        return ("map", frozenset((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return ("list", tuple(_frozen(item) for item in value))
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return value


def _set(*values: Any) -> TerraformSet:
    unique, seen = TerraformSet(), set()
    for value in values:
        key = _frozen(value)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    # Terraform orders a set of strings lexically: what for_each and iteration see.
    if all(isinstance(value, str) for value in unique):
        unique.sort()
    return unique


def _members(collection: Any) -> set[Any]:
    return {_frozen(item) for item in _list_argument(collection)}


def _setintersection(first: Any, *rest: Any) -> TerraformSet:
    others = [_members(other) for other in rest]
    return _set(*(item for item in _list_argument(first) if all(_frozen(item) in other for other in others)))


def _setsubtract(first: Any, second: Any) -> TerraformSet:
    removed = _members(second)
    return _set(*(item for item in _list_argument(first) if _frozen(item) not in removed))


def _lookup(mapping: Any, key: Any, *default: Any) -> Any:
    if isinstance(mapping, dict) and key in mapping:
        return mapping[key]
    if default:
        return default[0]
    raise _Missing(f"lookup of missing key {key!r}")


def _merge(*maps: Any) -> dict[Any, Any]:
    merged: dict[Any, Any] = {}
    for mapping in maps:
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            raise EvaluationError("merge of a value that is not a map")
        merged.update(mapping)
    return merged


def _list_argument(value: Any) -> list[Any]:
    if isinstance(value, TerraformSet):
        return list(value)
    if not isinstance(value, list | tuple):
        raise EvaluationError(f"expected a list, got {value!r}")
    return list(value)


def _map_argument(value: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise EvaluationError(f"expected a map, got {value!r}")
    return value


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value)
    raise EvaluationError(f"{value!r} is not a string")


def _format(template: Any, *values: Any) -> str:
    """Terraform's format(): %s %d %f %v %q %%, with flags and widths as printf has them."""
    remaining = list(values)
    written = [0]  # characters produced so far: widths come from the scanned code ("%0999999999d")

    def substitute(match: re.Match[str]) -> str:
        spec, verb = match.group(1), match.group(2)
        if verb == "%":
            return "%"
        if not remaining:
            raise EvaluationError("format() has fewer values than verbs")
        value = remaining.pop(0)
        sizes = [int(digits) for digits in re.findall(r"\d+", spec)]
        if sum(sizes) + written[0] > MAX_TEXT:
            raise EvaluationLimit(f"format() with a width or precision of {max(sizes):,} is not evaluated")
        if verb in "sv":
            text = ("%" + spec + "s") % _text(value) if not isinstance(value, dict | list) else _jsonencode(value)
        elif verb == "q":
            text = _jsonencode(_text(value))
        elif verb in "dfeEgGxXob":
            number = float(value) if verb in "feEgG" else int(float(value))
            text = ("%" + spec + verb) % number
        elif verb == "t":
            text = _text(bool(value))
        else:
            raise NotEvaluable(f"format verb %{verb} is not evaluated")
        written[0] += len(text)
        _check_text(written[0])
        return text

    return re.sub(r"%([-+# 0]*\d*(?:\.\d+)?)([a-zA-Z%])", substitute, _text(template))


def _plain(value: Any) -> Any:
    if isinstance(value, Reference):
        raise NotEvaluable(f"{value.text} is known only after apply")
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Lazy):
        raise NotEvaluable("a whole module or resource cannot be encoded")
    return value


def _jsonencode(value: Any) -> str:
    import json

    plain = _plain(value)
    _check_text(_measure(plain))
    return json.dumps(plain, separators=(",", ":"), sort_keys=isinstance(value, dict))


def _measure(value: Any) -> int:
    """A lower bound of the encoded size, walked without recursion and given up once over MAX_TEXT (a list of a
    thousand references to one long string is small in memory but not once written out)."""
    total, stack = 0, [value]
    while stack and total <= MAX_TEXT:
        current = stack.pop()
        if isinstance(current, dict):
            total += 2 + sum(len(str(key)) + 4 for key in current)
            stack.extend(current.values())
        elif isinstance(current, list | tuple):
            total += 2 + len(current)
            stack.extend(current)
        else:
            total += len(current) + 2 if isinstance(current, str) else 8
    return total


def _jsondecode(text: Any) -> Any:
    import json

    try:
        return json.loads(_text(text))
    except ValueError as error:
        raise EvaluationError(f"jsondecode() of text that is not JSON: {error}") from None


def _coalesce(*values: Any) -> Any:
    for value in values:
        if isinstance(value, Reference):
            raise NotEvaluable(f"{value.text} is known only after apply")
        if value not in (None, ""):
            return value
    raise EvaluationError("no non-null, non-empty argument to coalesce()")


def _coalescelist(*values: Any) -> Any:
    for value in values:
        if _list_argument(value):
            return value
    raise EvaluationError("no non-empty list argument to coalescelist()")


def _one(value: Any) -> Any:
    items = _list_argument(value)
    if len(items) > 1:
        raise EvaluationError("one() of a collection with more than one element")
    return items[0] if items else None


def _index(collection: Any, value: Any) -> int:
    items = _list_argument(collection)
    if value not in items:
        raise EvaluationError(f"index(): {value!r} is not in the list")
    return items.index(value)


def _slice(collection: Any, start: Any, end: Any) -> list[Any]:
    items = _list_argument(collection)
    start, end = int(start), int(end)
    if not 0 <= start <= end <= len(items):
        raise EvaluationError(f"slice() indices {start}, {end} are out of range")
    return items[start:end]


def _element(collection: Any, index: Any) -> Any:
    items = _list_argument(collection)
    if not items:
        raise EvaluationError("element() of an empty list")
    return items[int(index) % len(items)]


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise EvaluationError("a bool is not a number")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        raise EvaluationError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise EvaluationError(f"{value!r} is not a number")
    return int(number) if number.is_integer() else number


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print parse errors on stderr besides raising them
_RE2_OPTIONS.max_mem = 8 << 20  # a pattern whose program needs more is refused (re2.error)
_GO_GROUP = re.compile(r"\$(?:\$|\{(\w+)\}|(\w+))")


def _regex_replace(text: Any, search: Any, replacement: Any) -> str:
    text, search, replacement = _text(text), _text(search), _text(replacement)
    if len(search) > 1 and search.startswith("/") and search.endswith("/"):
        # The pattern comes from the scanned code: RE2 (what Terraform itself uses) matches in linear time,
        # where Python's re can backtrack for ever on `(a+)+$`.
        if len(search) > 10_000:
            raise EvaluationLimit(f"replace() with a pattern of {len(search):,} characters is not evaluated")
        try:
            pattern = re2.compile(search[1:-1], _RE2_OPTIONS)
        except re2.error as error:
            raise EvaluationError(f"replace(): invalid regular expression: {error}") from None
        written = [len(text)]

        def expand(match: Any) -> str:  # Go's Regexp.Expand: $1, ${1}, $name, ${name}, $$
            def group(found: re.Match[str]) -> str:
                if found.group() == "$$":
                    return "$"
                name = found.group(1) or found.group(2)
                try:
                    return match.group(int(name) if name.isdigit() else name) or ""
                except (IndexError, KeyError, ValueError):
                    return ""  # Go expands a group that does not exist to nothing

            expanded = _GO_GROUP.sub(group, replacement)
            written[0] += len(expanded)
            _check_text(written[0])
            return expanded

        pieces, end = [], 0
        for match in pattern.finditer(text):
            if match.start() == match.end() and match.start() == end and pieces:
                continue  # Go ignores an empty match abutting the previous match ("abc" /b*/ -> "-a-c-")
            pieces += [text[end:match.start()], expand(match)]
            end = match.end()
        return "".join([*pieces, text[end:]])
    if search and len(replacement) > len(search):
        _check_text(len(text) + text.count(search) * (len(replacement) - len(search)))
    elif not search:
        _check_text(len(text) + (len(text) + 1) * len(replacement))
    return text.replace(search, replacement)


def _terraform_regex(pattern: Any) -> Any:
    """The RE2 program of a regex()/regexall() pattern from the scanned code (Terraform's regexp is RE2 too)."""
    source = _text(pattern)
    if len(source) > 10_000:
        raise EvaluationLimit(f"a regular expression of {len(source):,} characters is not evaluated")
    try:
        compiled = re2.compile(source, _RE2_OPTIONS)
    except re2.error as error:
        raise EvaluationError(f"invalid regular expression: {error}") from None
    names = compiled.groupindex
    if names and len(names) != compiled.groups:
        raise EvaluationError("a regular expression may not mix named and unnamed capture groups")
    return compiled


def _regex_result(compiled: Any, match: Any) -> Any:
    """Terraform's shape of one match: the whole match without groups, the list of groups, or the map of named
    groups; a group that took no part in the match is null."""
    if not compiled.groups:
        return match.group(0)
    if compiled.groupindex:
        return {name: match.group(name) for name in sorted(compiled.groupindex)}
    return [match.group(index) for index in range(1, compiled.groups + 1)]


def _regex(pattern: Any, text: Any) -> Any:
    compiled = _terraform_regex(pattern)
    match = compiled.search(_text(text))
    if match is None:
        raise EvaluationError("regex(): the pattern does not match the string")
    return _regex_result(compiled, match)


def _regexall(pattern: Any, text: Any) -> list[Any]:
    compiled = _terraform_regex(pattern)
    found, previous_end = [], -1
    for match in compiled.finditer(_text(text)):
        if match.start() == match.end() == previous_end:
            continue  # Go's FindAll: an empty match abutting the preceding match is ignored
        found.append(_regex_result(compiled, match))
        previous_end = match.end()
    return found


def _join(separator: str, texts: list[str]) -> str:
    _check_text(sum(map(len, texts)) + len(separator) * max(len(texts) - 1, 0))
    return separator.join(texts)


def _contains(collection: Any, value: Any) -> bool:
    return value in _list_argument(collection)


def _range(*arguments: Any) -> list[int | float]:
    numbers = [_number(argument) for argument in arguments]
    if len(numbers) == 1:
        numbers = [0, numbers[0], 1]
    elif len(numbers) == 2:
        numbers.append(1)
    start, stop, step = numbers
    if step == 0 or abs((stop - start) / step) > 1024:
        raise EvaluationError("range() too long")
    found, current = [], start
    while (step > 0 and current < stop) or (step < 0 and current > stop):
        found.append(current)
        current += step
    return found


def _path_function(function: Callable[[str], str]) -> Callable[[Any], str]:
    return lambda value: function(_text(value))


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] if path.rstrip("/") else path


def _dirname(path: str) -> str:
    stripped = path.rstrip("/")
    return stripped.rsplit("/", 1)[0] if "/" in stripped else "."


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "lookup": _lookup,
    "flatten": lambda value: _flatten(_list_argument(value)),
    "concat": lambda *lists: [item for value in lists for item in _list_argument(value)],
    "merge": _merge,
    "tolist": lambda value: list(value.values()) if isinstance(value, dict) else _list_argument(value),
    "toset": lambda value: _set(*_list_argument(value)),
    "tomap": lambda value: dict(_map_argument(value)),
    "tostring": lambda value: None if value is None else _text(value),
    "keys": lambda value: sorted(_map_argument(value)),
    "values": lambda value: [value[key] for key in sorted(_map_argument(value))],
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": lambda value: [v for v in _list_argument(value) if v not in (None, "")],
    "element": _element,
    "index": _index,
    "one": _one,
    "slice": _slice,
    "contains": _contains,
    "distinct": lambda value: list(dict.fromkeys(_list_argument(value))) if all(
        isinstance(v, str | int | float | bool) for v in _list_argument(value)) else _list_argument(value),
    "reverse": lambda value: list(reversed(_list_argument(value))),
    "sort": lambda value: sorted(_text(v) for v in _list_argument(value)),
    "zipmap": lambda names, values: dict(zip(_list_argument(names), _list_argument(values), strict=True)),
    "setunion": lambda *sets: _set(*(item for value in sets for item in _list_argument(value))),
    "setintersection": _setintersection,
    "setsubtract": _setsubtract,
    "range": _range,
    "alltrue": lambda value: all(_Evaluator.boolean(v) for v in _list_argument(value)),
    "anytrue": lambda value: any(_Evaluator.boolean(v) for v in _list_argument(value)),
    "tobool": lambda value: None if value is None else _Evaluator.boolean(value),
    "tonumber": lambda value: None if value is None else _number(value),
    "length": lambda value: len(value) if isinstance(value, str | list | tuple | dict) else _length_error(value),
    "lower": lambda value: _text(value).lower(),
    "upper": lambda value: _text(value).upper(),
    "title": lambda value: _text(value).title(),
    "trimspace": lambda value: _text(value).strip(),
    "trim": lambda value, characters: _text(value).strip(_text(characters)),
    "trimprefix": lambda value, prefix: _text(value).removeprefix(_text(prefix)),
    "trimsuffix": lambda value, suffix: _text(value).removesuffix(_text(suffix)),
    "startswith": lambda value, prefix: _text(value).startswith(_text(prefix)),
    "endswith": lambda value, suffix: _text(value).endswith(_text(suffix)),
    "strcontains": lambda value, part: _text(part) in _text(value),
    "substr": lambda value, offset, length: _text(value)[int(offset):][:int(length) if int(length) >= 0 else None],
    "format": _format,
    "formatlist": lambda template, *lists: [_format(template, *row) for row in zip(*map(_list_argument, lists),
                                                                                    strict=True)],
    "join": lambda separator, *lists: _join(_text(separator), [_text(v) for value in lists
                                                                 for v in _list_argument(value)]),
    "split": lambda separator, value: _text(value).split(_text(separator)) if _text(value) else [],
    "replace": _regex_replace,
    "regex": _regex,
    "regexall": _regexall,
    "jsonencode": _jsonencode,
    "jsondecode": _jsondecode,
    "max": lambda *values: max(_number(v) for v in values),
    "min": lambda *values: min(_number(v) for v in values),
    "abs": lambda value: abs(_number(value)),
    "ceil": lambda value: -int(-_number(value) // 1),
    "floor": lambda value: int(_number(value) // 1),
    "sum": lambda value: sum(_number(v) for v in _list_argument(value)),
    "basename": _path_function(_basename),
    "dirname": _path_function(_dirname),
    "pathexpand": _path_function(lambda path: path),
    "abspath": _path_function(lambda path: path),
    "chomp": lambda value: _text(value).rstrip("\r\n"),
    "sensitive": lambda value: value,
    "nonsensitive": lambda value: value,
    "type": lambda value: type(value).__name__,
}


def _length_error(value: Any) -> int:
    raise EvaluationError(f"length() of {value!r}")


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a / b, "%": lambda a, b: a % b,
}


def _contains_unknown(value: Any) -> bool:
    if isinstance(value, Reference):
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_contains_unknown(item) for item in value)
    return False


# --- text with parts known only after apply ------------------------------------------------------------------
# A template with an unknown part ("arn:aws:s3:::${aws_s3_bucket.b.id}/*") stays a Reference whose text marks the
# unknown part as ${...}. replace(), format() and join() over such text (a policy document's JSON with a bucket ARN
# in it, an ARN built with format()) transform the known text and carry the marked parts along, so a rule can
# still read the known parts; an operation that would reach into a marked part is not evaluated (Terraform's
# result is unknown, and the real value at apply has no "${" to match).
_TEXT_OVER_UNKNOWN = {"replace", "format", "join"}


def _marked(value: Any) -> str:
    """The text of a value with its unknown parts marked as ${...}."""
    if isinstance(value, Reference):
        return value.text if value.template else "${" + value.text + "}"
    return _text(value)


def _marked_spans(text: str) -> list[tuple[int, int]]:
    """Where the ${...} marks of unknown parts are in a text (braces counted: a reference has no quotes to skip)."""
    spans, position = [], text.find("${")
    while position >= 0:
        depth, index = 0, position + 1
        while index < len(text):
            depth += {"{": 1, "}": -1}.get(text[index], 0)
            if depth == 0:
                break
            index += 1
        if not _is_policy_variable(text[position:index + 1]):
            spans.append((position, index + 1))
        position = text.find("${", index + 1)
    return spans


def _is_policy_variable(mark: str) -> bool:
    """An IAM policy variable (${aws:username}, ${s3:prefix}, ${*}): AWS's, not an unknown part of the text (a
    Terraform reference has no colon)."""
    inner = mark[2:-1]
    return mark.startswith("${") and mark.endswith("}") and (":" in inner or inner in ("*", "?", "$"))


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(start < span_end and span_start < max(end, start + 1) for span_start, span_end in spans)


def _partially_known(function: str, values: list[Any]) -> Reference:
    """replace()/format()/join() of text with unknown parts: the known text transformed, the unknown parts kept."""
    unknowns = [value for value in _flatten(values) if isinstance(value, Reference)]
    if function == "replace":
        text, search, replacement = values
        if isinstance(search, Reference):
            raise NotEvaluable("replace() of a pattern known only after apply")
        search, marked = _text(search), _marked(text)
        spans = _marked_spans(marked)
        if len(search) > 1 and search.startswith("/") and search.endswith("/"):
            if isinstance(replacement, Reference):
                raise NotEvaluable("replace() of a pattern with a replacement known only after apply")
            try:
                pattern = re2.compile(search[1:-1], _RE2_OPTIONS)
            except re2.error as error:
                raise EvaluationError(f"replace(): invalid regular expression: {error}") from None
            if any(_overlaps(spans, match.start(), match.end()) for match in pattern.finditer(marked)):
                raise NotEvaluable("replace() of a pattern that matches a part known only after apply")
            result = _regex_replace(marked, search, replacement)
        else:
            position = marked.find(search) if search else -1
            while position >= 0:
                if _overlaps(spans, position, position + len(search)):
                    raise NotEvaluable("replace() of text that reaches into a part known only after apply")
                position = marked.find(search, position + len(search))
            result = _regex_replace(marked, search, _marked(replacement))
    elif function == "format":
        if isinstance(values[0], Reference):
            raise NotEvaluable("format() of a template known only after apply")
        try:
            result = _format(values[0], *(_marked(v) if isinstance(v, Reference) else v for v in values[1:]))
        except (EvaluationError, ValueError, TypeError) as error:  # %d of an unknown: the number is unknown too
            raise NotEvaluable(f"format() of a value known only after apply: {error}") from None
    else:
        separator, *lists = values
        if isinstance(separator, Reference) or any(isinstance(value, Reference) for value in lists):
            raise NotEvaluable("join() of a value known only after apply")
        result = _join(_text(separator), [_marked(v) for value in lists for v in _list_argument(value)])
    unknown = next((value for value in unknowns if isinstance(value, UnknownValue)), None)
    if unknown is not None:
        return UnknownValue(result, None, template=True, reason=unknown.reason)
    return Reference(result, next((value.target for value in unknowns if value.target), None), template=True)


# Functions that pass values through unchanged, so an unknown element does not make the whole result unknown.
_STRUCTURAL = {"merge", "concat", "flatten", "tolist", "toset", "tomap", "lookup", "element", "values", "keys",
               "compact", "distinct", "reverse", "slice", "zipmap", "one", "length", "sensitive", "nonsensitive",
               "setunion"}


# Functions whose every parameter is a string: a list or map argument is a type error, whatever it holds.
_STRING_ONLY = {"jsondecode", "yamldecode", "base64decode", "lower", "upper", "title", "trimspace", "chomp",
                "trimprefix", "trimsuffix", "startswith", "endswith", "strcontains", "split", "regex", "regexall",
                "replace"}


class _Evaluator:
    def __init__(self, lookup: Lookup, bindings: dict[str, Any], limit: Budget | None = None):
        self.lookup = lookup
        self.bindings = bindings
        self.budget = limit or _active_budget()

    def run(self, node: tuple) -> Any:
        self.budget.charge()
        kind = node[0]
        if kind == "literal":
            return node[1]
        if kind == "name":
            return self.name(node[1])
        if kind == "get":
            if node[1][0] == "name" and node[1][1] in ("var", "local") and node[1][1] not in self.bindings:
                return self.lookup(node[1][1], str(self.run(node[2])))
            container = self.run(node[1])
            return _get(container, self.run(node[2]))
        if kind == "splat":
            return self.splat(self.run(node[1]), node[2])
        if kind == "template":
            parts = [self.element(part) for part in node[1]]  # an unknown part leaves the known text readable
            if any(isinstance(part, Reference) for part in parts):
                # Known after apply; the text keeps what is known ("arn:aws:iam::${data.x.account_id}:root").
                if any(part is None or isinstance(part, dict | list | Lazy) for part in parts):
                    raise NotEvaluable("a template with a value known only after apply")
                text = "".join((part.text if part.template else "${" + part.text + "}")
                               if isinstance(part, Reference) else _text(part) for part in parts)
                _check_text(len(text))  # the text of an unknown doubles through locals as a known one would
                self.budget.charge(text=len(text))
                unknown = next((p for p in parts if isinstance(p, UnknownValue)), None)
                if unknown is not None:
                    return UnknownValue(text, None, template=True, reason=unknown.reason)
                return Reference(text, next(p.target for p in parts if isinstance(p, Reference)), template=True)
            if any(part is None for part in parts):
                raise EvaluationError("a template with a null value")
            if any(isinstance(part, dict | list | Lazy) for part in parts):
                raise EvaluationError("a template with a value that is not text")
            texts = [_text(part) for part in parts]
            _check_text(sum(map(len, texts)))
            self.budget.charge(text=sum(map(len, texts)))
            return "".join(texts)
        if kind == "list":
            return [self.element(item) for item in node[1]]
        if kind == "set":
            return _set(*(self.element(item) for item in node[1]))
        if kind == "map":
            return {_text(self.run(key)): self.element(value) for key, value in node[1]}
        if kind == "if":
            condition = self.run(node[1])
            if isinstance(condition, Reference):
                raise NotEvaluable(f"the condition {condition.text} is known only after apply")
            return self.run(node[2] if self.boolean(condition) else node[3])
        if kind == "compare":
            left, right = self.run(node[2]), self.run(node[3])
            if isinstance(left, Reference) or isinstance(right, Reference):
                raise NotEvaluable("comparison with a value known only after apply")
            if node[1] in ("==", "!="):
                equal = _equal(left, right)
                return equal if node[1] == "==" else not equal
            try:
                return _COMPARISONS[node[1]](_number(left), _number(right))
            except TypeError:
                raise EvaluationError(f"cannot compare {left!r} {node[1]} {right!r}") from None
        if kind == "arithmetic":
            left, right = self.run(node[2]), self.run(node[3])
            if isinstance(left, Reference) or isinstance(right, Reference):
                raise NotEvaluable("arithmetic on a value known only after apply")
            try:
                result = _bounded(_ARITHMETIC[node[1]](_number(left), _number(right)))
            except ZeroDivisionError:
                raise EvaluationError("division by zero") from None
            except OverflowError:  # a float operation on an integer beyond a float's range
                raise EvaluationLimit("a number too large to evaluate") from None
            return int(result) if isinstance(result, float) and result.is_integer() else result
        if kind == "not":
            value = self.run(node[1])
            if isinstance(value, Reference):
                raise NotEvaluable(f"{value.text} is known only after apply")
            return not self.boolean(value)
        if kind == "logical":
            left = self.run(node[2])
            if isinstance(left, Reference):
                raise NotEvaluable(f"{left.text} is known only after apply")
            left = self.boolean(left)
            if (node[1] == "&&" and not left) or (node[1] == "||" and left):
                return left
            right = self.run(node[3])
            if isinstance(right, Reference):
                raise NotEvaluable(f"{right.text} is known only after apply")
            return self.boolean(right)
        if kind == "call":
            return self.call(node[1], node[2])
        if kind in ("for_list", "for_map"):
            return self.for_expression(node)
        raise NotEvaluable(f"unknown node {kind}")

    def element(self, node: tuple) -> Any:
        """An element of a list or map literal: one that cannot be known leaves the others known."""
        try:
            return self.run(node)
        except EvaluationError:
            raise
        except NotEvaluable as error:
            return UnknownValue(_source(node), None, reason=str(error))

    def splat(self, value: Any, accessors: tuple) -> Any:
        if isinstance(value, Reference):
            return Reference(f"{value.text}[*]", value.target)
        if value is None:
            return []
        if isinstance(value, LazyCollection):
            value = value.elements()
        elif not isinstance(value, list | tuple):
            value = [value]  # a splat on a single value makes a one-element list
        results = []
        for item in value:
            self.budget.charge()
            for accessor in accessors:
                item = _get(item, self.run(accessor))
            results.append(item)
        return results

    @staticmethod
    def boolean(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):  # checkov renders booleans of variables as text
            return value == "true"
        if value is None:
            raise EvaluationError("a null value where a bool is required")
        raise EvaluationError(f"{value!r} is not a bool")

    def name(self, name: str) -> Any:
        if name in self.bindings:
            return self.bindings[name]
        if name in ("var", "local"):
            return Reference(name)  # resolved by the "get" that follows
        if name in ("each", "count", "self", "path", "terraform"):
            raise NotEvaluable(f"{name}.* is not known here")
        return Reference(name)  # a resource, data source or module: kept as text for matching

    def call(self, function: str, arguments: tuple) -> Any:
        function = function.split("::")[-1]
        if function == "try":
            for argument in arguments:
                try:
                    return self.run(argument)
                except EvaluationError:
                    continue
            raise EvaluationError("no argument of try() could be evaluated")
        if function == "can":
            try:
                self.run(arguments[0])
                return True
            except EvaluationError:
                return False
        implementation = _FUNCTIONS.get(function)
        if implementation is None:
            raise NotEvaluable(f"function {function}() is not evaluated")
        values = [self.run(argument) for argument in arguments]
        values = [value.as_value() if isinstance(value, LazyCollection) else value for value in values]
        if function == "jsonencode" and values and _contains_unknown(values[0]):
            return values[0]  # the document's structure stays readable; its unknown parts stay references
        if function in _STRING_ONLY and any(isinstance(value, dict | list | tuple) for value in values):
            # Terraform checks the argument's type first: a list is an error (try() moves on) even with unknowns
            raise EvaluationError(f"{function}() of a {type(values[0]).__name__}, which is not a string")
        if function in _TEXT_OVER_UNKNOWN and any(_contains_unknown(value) for value in values):
            result = _partially_known(function, values)
            _check_text(len(result.text))
            self.budget.charge(text=len(result.text))
            return result
        if function not in _STRUCTURAL and any(_contains_unknown(value) for value in values):
            raise NotEvaluable(f"{function}() of a value known only after apply")
        if function in _STRUCTURAL and any(isinstance(value, Reference) for value in values):
            raise NotEvaluable(f"{function}() of a value known only after apply")
        self.budget.charge(sum(len(value) for value in values if isinstance(value, list | tuple | dict | str)))
        try:
            result = _bounded(implementation(*values))
        except NotEvaluable:
            raise
        except (RecursionError, OverflowError):  # our limits, not Terraform's: try() must not hide them
            raise EvaluationLimit(f"{function}() of a value too large or too deep to evaluate") from None
        except Exception as error:  # wrong arguments: Terraform reports an error too
            raise EvaluationError(f"{function}() failed: {error}") from None
        self.budget.charge(text=_produced(result))
        return result

    def for_expression(self, node: tuple) -> Any:
        if node[0] == "for_list":
            _, key_name, value_name, collection, body, condition = node
        else:
            _, key_name, value_name, collection, key_body, body, condition = node
        results: list[Any] = []
        mapped: dict[Any, Any] = {}
        for key, value in pairs(self.run(collection)):
            self.budget.charge()
            bound = {**self.bindings, value_name: value, **({key_name: key} if key_name else {})}
            scoped = _Evaluator(self.lookup, bound, self.budget)
            if condition is not None:
                kept = scoped.run(condition)
                if isinstance(kept, Reference):
                    raise NotEvaluable(f"the condition {kept.text} is known only after apply")
                if not scoped.boolean(kept):
                    continue
            if node[0] == "for_list":
                results.append(scoped.run(body))
            else:
                mapped[_text(scoped.run(key_body))] = scoped.run(body)
        return _bounded(results if node[0] == "for_list" else mapped)


def _source(node: tuple) -> str:
    """Readable text of an expression, for naming a value that is not known."""
    kind = node[0]
    if kind == "literal":
        return repr(node[1]) if isinstance(node[1], str) else str(node[1])
    if kind == "name":
        return node[1]
    if kind == "get":
        key = node[2]
        if key[0] == "literal" and isinstance(key[1], str) and key[1].isidentifier():
            return f"{_source(node[1])}.{key[1]}"
        return f"{_source(node[1])}[{_source(key)}]"
    if kind == "call":
        return f"{node[1]}({', '.join(_source(argument) for argument in node[2])})"
    if kind == "template":
        return '"' + "".join(part[1] if part[0] == "literal" else "${" + _source(part) + "}" for part in node[1]) + '"'
    return "(an expression)"


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return left is right or (isinstance(left, str) and left == _text(right)) or (
            isinstance(right, str) and right == _text(left))
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    return left == right


def _no_scope(namespace: str, name: str) -> Any:
    raise NotEvaluable(f"{namespace}.{name} is not known here")


def evaluate(text: str, bindings: dict[str, Any] | None = None, lookup: Lookup = _no_scope) -> Any:
    """Evaluate one expression as checkov leaves it; raises NotEvaluable with the reason (EvaluationLimit when
    the expression is too deep, too large or too much work: the value is unknown)."""
    # Checkov quotes interpolations in lists ('${var.x}'): unquote one whole interpolation, never across strings.
    text = re.sub(r"""'\$\{([^'{}]*)\}'""", r"${\1}", text.strip())
    try:
        return _Evaluator(lookup, bindings or {}).run(_Parser(text).parse())
    except RecursionError:  # deep data (jsondecode) or deep references: unknown, not a crash
        raise EvaluationLimit("the expression nests too deeply to evaluate") from None


def evaluate_value(value: Any, bindings: dict[str, Any] | None = None, lookup: Lookup = _no_scope) -> Any:
    """A value as python-hcl2 writes it: "${expr}", a template ("arn:aws:s3:::${local.name}"), a literal (returned
    as is), or a list or map of those."""
    if isinstance(value, dict):
        return {key: _element_value(item, bindings, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [_element_value(item, bindings, lookup) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    text = value.strip()
    if text.startswith("${") and _closing_brace(text, 1) == len(text) - 1:
        return evaluate(text[2:-1], bindings, lookup)
    try:
        return _Evaluator(lookup, bindings or {}).run(_Parser("").string(text))
    except RecursionError:
        raise EvaluationLimit("the expression nests too deeply to evaluate") from None


def _element_value(value: Any, bindings: dict[str, Any] | None, lookup: Lookup) -> Any:
    try:
        return evaluate_value(value, bindings, lookup)
    except EvaluationError:
        raise
    except NotEvaluable as error:
        text = value[2:-1] if isinstance(value, str) and value.startswith("${") and value.endswith("}") else value
        return UnknownValue(str(text), None, reason=str(error))


def _closing_brace(text: str, opening: int) -> int:
    depth, quote = 0, ""
    for index in range(opening, len(text)):
        char = text[index]
        if quote:
            quote = "" if char == quote and text[index - 1] != "\\" else quote
        elif char in "'\"":
            quote = char
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return -1
