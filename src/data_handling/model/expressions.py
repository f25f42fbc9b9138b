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

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class NotEvaluable(Exception):
    """The expression uses something this evaluator does not know (a resource attribute, a function...)."""


class _Missing(NotEvaluable):
    """An attribute or index that does not exist: try() moves on to its next argument."""


class TerraformSet(list):
    """A set (toset(), a set literal): iterating it in for_each gives each element as both key and value."""


@dataclass(frozen=True)
class Reference:
    """A reference to something outside the scope (`aws_s3_bucket.replica.arn`): kept as its text."""

    text: str


Lookup = Callable[[str, str], Any]  # (namespace "var" or "local", name) -> value; raises NotEvaluable

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>\$\{|=>|:>|==|!=|<=|>=|&&|\|\||\.\.\.|[\[\]{}(),.:?=!<>])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
""", re.VERBOSE)
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b, ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b,
}
_KEYWORDS = {"null": None, "None": None, "true": True, "True": True, "false": False, "False": False}


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
        node = self.expression()
        if self.position != len(self.tokens):
            raise NotEvaluable(f"unexpected {self.peek()!r}")
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
        node = self.comparison()
        while self.peek() in ("&&", "||"):
            operator = self.take()[1]
            node = ("logical", operator, node, self.comparison())
        return node

    def comparison(self) -> tuple:
        node = self.unary()
        while self.peek() in _COMPARISONS:
            operator = self.take()[1]
            node = ("compare", operator, node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() == "!":
            self.take("!")
            return ("not", self.unary())
        return self.postfix()

    def postfix(self) -> tuple:
        node = self.primary()
        while True:
            if self.peek() == "." and self.peek(1) not in ("", "."):
                self.take(".")
                kind, name = self.take()
                node = ("get", node, ("literal", int(name) if kind == "number" else name))
            elif self.peek() == "[" and node[0] != "literal":
                self.take("[")
                if self.peek() == "*":
                    raise NotEvaluable("splat expressions are not evaluated")
                node = ("get", node, self.expression())
                self.take("]")
            else:
                return node

    def primary(self) -> tuple:
        kind, text = self.take()
        if kind == "number":
            return ("literal", float(text) if "." in text else int(text))
        if kind == "string":
            return self.string(text[1:-1])
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

    def string(self, body: str) -> tuple:
        body = body.replace('\\"', '"').replace("\\'", "'")
        if "${" not in body:
            return ("literal", body)
        parts: list[tuple] = []
        for piece in re.split(r"(\$\{[^{}]*\})", body):  # one level: "arn:aws:s3:::${local.name}"
            if piece.startswith("${") and piece.endswith("}"):
                parts.append(_Parser(piece[2:-1]).parse())
            elif piece:
                parts.append(("literal", piece))
        return parts[0] if len(parts) == 1 else ("template", tuple(parts))

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
        return Reference(f"{container.text}.{key}")
    if isinstance(container, dict):
        if key in container:
            return container[key]
        raise _Missing(f"no key {key!r}")
    if isinstance(container, list | tuple):
        if isinstance(key, int | float) and not isinstance(key, bool) and 0 <= int(key) < len(container):
            return container[int(key)]
        raise _Missing(f"no index {key!r}")
    raise _Missing(f"cannot index {type(container).__name__}")


def pairs(collection: Any) -> list[tuple[Any, Any]]:
    """(key, value) of each element, as for_each and for expressions see them."""
    if isinstance(collection, dict):
        return sorted(collection.items(), key=lambda item: str(item[0]))
    if isinstance(collection, TerraformSet):
        return [(item, item) for item in collection]
    if isinstance(collection, list | tuple):
        return list(enumerate(collection))
    raise NotEvaluable(f"cannot iterate over {collection!r}")


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [item for element in value for item in _flatten(element)]
    return [value]


def _set(*values: Any) -> TerraformSet:
    unique = TerraformSet()
    for value in values:
        if value not in unique:
            unique.append(value)
    return unique


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
            raise NotEvaluable("merge of a value that is not a map")
        merged.update(mapping)
    return merged


def _list_argument(value: Any) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise NotEvaluable(f"expected a list, got {value!r}")
    return list(value)


def _map_argument(value: Any) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise NotEvaluable(f"expected a map, got {value!r}")
    return value


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "lookup": _lookup,
    "flatten": lambda value: _flatten(_list_argument(value)),
    "concat": lambda *lists: [item for value in lists for item in _list_argument(value)],
    "merge": _merge,
    "tolist": lambda value: list(value.values()) if isinstance(value, dict) else _list_argument(value),
    "toset": lambda value: _set(*_list_argument(value)),
    "tomap": lambda value: dict(_map_argument(value)),
    "tostring": lambda value: value if isinstance(value, str) else str(value),
    "keys": lambda value: sorted(_map_argument(value)),
    "values": lambda value: [value[key] for key in sorted(_map_argument(value))],
    "coalesce": lambda *values: next(v for v in values if v not in (None, "")),
    "compact": lambda value: [v for v in _list_argument(value) if v not in (None, "")],
    "element": lambda value, index: _list_argument(value)[int(index) % len(value)],
    "tobool": lambda value: _Evaluator.boolean(value),
    "tonumber": lambda value: float(value) if "." in str(value) else int(value),
    "length": len,
    "lower": lambda value: str(value).lower(),
    "upper": lambda value: str(value).upper(),
}


class _Evaluator:
    def __init__(self, lookup: Lookup, bindings: dict[str, Any]):
        self.lookup = lookup
        self.bindings = bindings

    def run(self, node: tuple) -> Any:
        kind = node[0]
        if kind == "literal":
            return node[1]
        if kind == "name":
            return self.name(node[1])
        if kind == "get":
            container = self.run(node[1])
            if node[1][0] == "name" and node[1][1] in ("var", "local") and node[1][1] not in self.bindings:
                return self.lookup(node[1][1], str(self.run(node[2])))
            return _get(container, self.run(node[2]))
        if kind == "template":
            parts = [self.run(part) for part in node[1]]
            if any(isinstance(part, dict | list | Reference) or part is None for part in parts):
                raise NotEvaluable("a template with a value that is not text")
            return "".join(str(part).lower() if isinstance(part, bool) else str(part) for part in parts)
        if kind == "list":
            return [self.run(item) for item in node[1]]
        if kind == "set":
            return _set(*(self.run(item) for item in node[1]))
        if kind == "map":
            return {self.run(key): self.run(value) for key, value in node[1]}
        if kind == "if":
            return self.run(node[2] if self.boolean(self.run(node[1])) else node[3])
        if kind == "compare":
            left, right = self.run(node[2]), self.run(node[3])
            if isinstance(left, Reference) or isinstance(right, Reference):
                raise NotEvaluable("comparison with an unknown value")
            try:
                return _COMPARISONS[node[1]](left, right)
            except TypeError:
                raise NotEvaluable(f"cannot compare {left!r} {node[1]} {right!r}") from None
        if kind == "not":
            return not self.boolean(self.run(node[1]))
        if kind == "logical":
            left = self.boolean(self.run(node[2]))
            if (node[1] == "&&" and not left) or (node[1] == "||" and left):
                return left
            return self.boolean(self.run(node[3]))
        if kind == "call":
            return self.call(node[1], node[2])
        if kind in ("for_list", "for_map"):
            return self.for_expression(node)
        raise NotEvaluable(f"unknown node {kind}")

    @staticmethod
    def boolean(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):  # checkov renders booleans of variables as text
            return value == "true"
        raise NotEvaluable(f"{value!r} is not a bool")

    def name(self, name: str) -> Any:
        if name in self.bindings:
            return self.bindings[name]
        if name in ("var", "local"):
            return Reference(name)  # resolved by the "get" that follows
        if name in ("each", "count", "self", "path", "terraform"):
            raise NotEvaluable(f"{name}.* is not known here")
        return Reference(name)  # a resource, data source or module: kept as text for matching

    def call(self, function: str, arguments: tuple) -> Any:
        if function == "try":
            for argument in arguments:
                try:
                    return self.run(argument)
                except NotEvaluable:
                    continue
            raise NotEvaluable("no argument of try() could be evaluated")
        if function == "can":
            try:
                self.run(arguments[0])
                return True
            except _Missing:
                return False
        implementation = _FUNCTIONS.get(function)
        if implementation is None:
            raise NotEvaluable(f"function {function}() is not evaluated")
        values = [self.run(argument) for argument in arguments]
        if any(isinstance(value, Reference) for value in values):
            raise NotEvaluable(f"{function}() of a value that is not known")
        try:
            return implementation(*values)
        except NotEvaluable:
            raise
        except Exception as error:  # wrong arguments: not what Terraform would compute either
            raise NotEvaluable(f"{function}() failed: {error}") from None

    def for_expression(self, node: tuple) -> Any:
        if node[0] == "for_list":
            _, key_name, value_name, collection, body, condition = node
        else:
            _, key_name, value_name, collection, key_body, body, condition = node
        results: list[Any] = []
        mapped: dict[Any, Any] = {}
        for key, value in pairs(self.run(collection)):
            bound = {**self.bindings, value_name: value, **({key_name: key} if key_name else {})}
            scoped = _Evaluator(self.lookup, bound)
            if condition is not None and scoped.run(condition) is not True:
                continue
            if node[0] == "for_list":
                results.append(scoped.run(body))
            else:
                mapped[scoped.run(key_body)] = scoped.run(body)
        return results if node[0] == "for_list" else mapped


def _no_scope(namespace: str, name: str) -> Any:
    raise NotEvaluable(f"{namespace}.{name} is not known here")


def evaluate(text: str, bindings: dict[str, Any] | None = None, lookup: Lookup = _no_scope) -> Any:
    """Evaluate one expression as checkov leaves it; raises NotEvaluable with the reason."""
    text = re.sub(r"""'\$\{(.*?)\}'""", r"${\1}", text.strip())  # checkov quotes interpolations in lists
    return _Evaluator(lookup, bindings or {}).run(_Parser(text).parse())


def evaluate_value(value: Any, bindings: dict[str, Any] | None = None, lookup: Lookup = _no_scope) -> Any:
    """A value as python-hcl2 writes it: "${expr}", a template ("arn:aws:s3:::${local.name}"), a literal (returned
    as is), or a list or map of those."""
    if isinstance(value, dict):
        return {key: evaluate_value(item, bindings, lookup) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate_value(item, bindings, lookup) for item in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    text = value.strip()
    if text.startswith("${") and _closing_brace(text, 1) == len(text) - 1:
        return evaluate(text[2:-1], bindings, lookup)
    return _Evaluator(lookup, bindings or {}).run(_Parser("").string(text))


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
