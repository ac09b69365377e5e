"""A small reader for the HCL that infra/bootstrap/iam.tf is written in (test support).

It parses the whole file (blocks, attributes, expressions: templates, lists, objects, for
expressions, references, function calls, conditionals, operators) into a tree, and evaluates
the subset that an IAM policy document uses: string templates, lists, objects, references to
``var``, ``local`` and ``each``, ``for`` expressions over maps and lists, and the pure string
functions in :data:`FUNCTIONS`. Anything else raises
:class:`HclError` naming the expression and its line, so a change to iam.tf this reader does
not understand fails the tests loudly instead of passing them silently. A test with terraform
(``test_deploy_policy.py``) checks that what it renders equals what terraform renders.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class HclError(Exception):
    pass


# --- tokens -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # ident, number, string, heredoc, punct, eof
    value: Any
    line: int


_PUNCT = (
    "=>",
    "==",
    "!=",
    "<=",
    ">=",
    "&&",
    "||",
    "...",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "=",
    ",",
    ".",
    ":",
    "?",
    "!",
    "<",
    ">",
    "+",
    "-",
    "*",
    "/",
    "%",
)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def _template_end(text: str, start: int) -> int:
    """Index just past the ``}`` closing the interpolation whose body starts at ``start``."""
    depth, i = 1, start
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _string_end(text, i + 1)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise HclError("unterminated interpolation")


def _string_end(text: str, start: int) -> int:
    """Index just past the closing quote of a string whose body starts at ``start``."""
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        if c in "$%" and text.startswith("{", i + 1):
            i = _template_end(text, i + 2)
            continue
        if c == "\n":
            raise HclError("newline in a quoted string")
        i += 1
    raise HclError("unterminated string")


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _template_parts(body: str, line: int) -> list[str | Node]:
    """A quoted string's body as literal text and parsed interpolations."""
    parts: list[str | Node] = []
    literal: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            literal.append(_ESCAPES.get(body[i + 1], body[i + 1]))
            i += 2
            continue
        if body.startswith(("$${", "%%{"), i):
            literal.append(body[i + 1 : i + 3])
            i += 3
            continue
        if c in "$%" and body.startswith("{", i + 1):
            end = _template_end(body, i + 2)
            if c == "%":
                raise HclError(f"line {line}: template directives (%{{...}}) are not supported")
            if literal:
                parts.append("".join(literal))
                literal = []
            inner = body[i + 2 : end - 1].strip().strip("~").strip()
            parts.append(Parser(tokenize(inner, line)).expression_only())
            i = end
            continue
        literal.append(c)
        i += 1
    if literal:
        parts.append("".join(literal))
    return parts


def tokenize(text: str, line: int = 1) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#" or text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise HclError(f"line {line}: unterminated comment")
            line += text.count("\n", i, end)
            i = end + 2
        elif text.startswith("<<", i):
            match = re.match(r"<<(-?)([A-Za-z_][A-Za-z0-9_]*)\n", text[i:])
            if not match:
                raise HclError(f"line {line}: malformed heredoc")
            marker = match.group(2)
            body_start = i + match.end()
            end = re.compile(rf"^[ \t]*{marker}[ \t]*$", re.M).search(text, body_start)
            if end is None:
                raise HclError(f"line {line}: unterminated heredoc {marker}")
            tokens.append(Token("heredoc", text[body_start : end.start()], line))
            line += text.count("\n", i, end.end())
            i = end.end()
        elif c == '"':
            end = _string_end(text, i + 1)
            tokens.append(Token("string", _template_parts(text[i + 1 : end - 1], line), line))
            i = end
        elif match := _IDENT.match(text, i):
            tokens.append(Token("ident", match.group(0), line))
            i = match.end()
        elif match := _NUMBER.match(text, i):
            tokens.append(Token("number", float(match.group(0)), line))
            i = match.end()
        else:
            for punct in _PUNCT:
                if text.startswith(punct, i):
                    tokens.append(Token("punct", punct, line))
                    i += len(punct)
                    break
            else:
                raise HclError(f"line {line}: unexpected character {c!r}")
    tokens.append(Token("eof", None, line))
    return tokens


# --- tree -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    kind: str  # template, literal, list, object, ref, call, for, other
    line: int
    value: Any = None
    items: tuple[Any, ...] = ()


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    line: int
    attributes: dict[str, Node] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]


_BINARY = {"==", "!=", "<", ">", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%"}


class Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def at(self, value: str) -> bool:
        token = self.peek()
        return token.kind == "punct" and token.value == value

    def expect(self, value: str) -> Token:
        token = self.next()
        if token.kind != "punct" or token.value != value:
            raise HclError(f"line {token.line}: expected {value!r}, found {token.value!r}")
        return token

    # body ----------------------------------------------------------------------------------

    def body(self, until_brace: bool) -> Block:
        block = Block("", (), self.peek().line)
        while True:
            token = self.peek()
            if token.kind == "eof":
                if until_brace:
                    raise HclError("unterminated block")
                return block
            if until_brace and self.at("}"):
                self.next()
                return block
            name = self.next()
            if name.kind != "ident":
                raise HclError(f"line {name.line}: expected an attribute or block")
            if self.at("="):
                self.next()
                block.attributes[name.value] = self.expression()
                continue
            labels = []
            while self.peek().kind in ("string", "ident"):
                label = self.next()
                labels.append(
                    label.value if label.kind == "ident" else _literal(label.value, label.line)
                )
            self.expect("{")
            child = self.body(until_brace=True)
            child.type, child.labels, child.line = name.value, tuple(labels), name.line
            block.blocks.append(child)

    # expressions ---------------------------------------------------------------------------

    def expression_only(self) -> Node:
        node = self.expression()
        if self.peek().kind != "eof":
            raise HclError(f"line {self.peek().line}: unexpected {self.peek().value!r}")
        return node

    def expression(self) -> Node:
        node = self.binary()
        if self.at("?"):
            self.next()
            yes = self.expression()
            self.expect(":")
            no = self.expression()
            return Node("other", node.line, "conditional", (node, yes, no))
        return node

    def binary(self) -> Node:
        node = self.unary()
        while self.peek().kind == "punct" and self.peek().value in _BINARY:
            op = self.next().value
            node = Node("other", node.line, op, (node, self.unary()))
        return node

    def unary(self) -> Node:
        if self.at("!") or self.at("-"):
            token = self.next()
            return Node("other", token.line, token.value, (self.unary(),))
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            if self.at(".") and self.peek(1).kind == "ident":
                self.next()
                node = Node("ref", node.line, "attr", (node, self.next().value))
            elif self.at(".") and self.peek(1).value == "*":
                self.next()
                self.next()
                node = Node("other", node.line, "splat", (node,))
            elif self.at("[") and self.peek(1).value == "*" and self.peek(2).value == "]":
                self.i += 3
                node = Node("other", node.line, "splat", (node,))
            elif self.at("["):
                self.next()
                index = self.expression()
                self.expect("]")
                node = Node("ref", node.line, "index", (node, index))
            else:
                return node

    def primary(self) -> Node:
        token = self.next()
        if token.kind == "string":
            return Node("template", token.line, None, tuple(token.value))
        if token.kind == "heredoc":
            return Node("template", token.line, None, (token.value,))
        if token.kind == "number":
            return Node("literal", token.line, token.value)
        if token.kind == "ident":
            if token.value in ("true", "false"):
                return Node("literal", token.line, token.value == "true")
            if token.value == "null":
                return Node("literal", token.line, None)
            if self.at("("):
                self.next()
                args = self.sequence(")")
                return Node("call", token.line, token.value, tuple(args))
            return Node("ref", token.line, "name", (token.value,))
        if token.kind == "punct" and token.value == "(":
            node = self.expression()
            self.expect(")")
            return node
        if token.kind == "punct" and token.value == "[":
            if self.peek().kind == "ident" and self.peek().value == "for":
                return self.for_expression(token.line, "]")
            return Node("list", token.line, None, tuple(self.sequence("]")))
        if token.kind == "punct" and token.value == "{":
            if self.peek().kind == "ident" and self.peek().value == "for":
                return self.for_expression(token.line, "}")
            return self.object(token.line)
        raise HclError(f"line {token.line}: unexpected {token.value!r}")

    def sequence(self, close: str) -> list[Node]:
        items: list[Node] = []
        while not self.at(close):
            items.append(self.expression())
            if self.at("..."):
                self.next()
            if self.at(","):
                self.next()
            elif not self.at(close):
                raise HclError(f"line {self.peek().line}: expected ',' or {close!r}")
        self.next()
        return items

    def object(self, line: int) -> Node:
        pairs: list[tuple[Node, Node]] = []
        while not self.at("}"):
            key = self.expression()
            if not (self.at("=") or self.at(":")):
                raise HclError(f"line {self.peek().line}: expected '=' or ':' in an object")
            self.next()
            pairs.append((key, self.expression()))
            if self.at(","):
                self.next()
        self.next()
        return Node("object", line, None, tuple(pairs))

    def for_expression(self, line: int, close: str) -> Node:
        self.next()  # for
        names = [self.next().value]
        if self.at(","):
            self.next()
            names.append(self.next().value)
        keyword = self.next()
        if keyword.value != "in":
            raise HclError(f"line {keyword.line}: expected 'in'")
        collection = self.expression()
        self.expect(":")
        key = None
        value = self.expression()
        if close == "}":
            self.expect("=>")
            key, value = value, self.expression()
            if self.at("..."):
                self.next()
        condition = None
        if self.peek().kind == "ident" and self.peek().value == "if":
            self.next()
            condition = self.expression()
        self.expect(close)
        return Node("for", line, close, (tuple(names), collection, key, value, condition))


def _literal(parts: list[str | Node], line: int) -> str:
    if all(isinstance(p, str) for p in parts):
        return "".join(parts)  # type: ignore[arg-type]
    raise HclError(f"line {line}: a block label cannot interpolate")


def parse(text: str) -> Block:
    return Parser(tokenize(text)).body(until_brace=False)


def parse_file(path: Path) -> Block:
    try:
        return parse(path.read_text(encoding="utf-8"))
    except HclError as error:
        raise HclError(f"{path}: {error}") from error


# --- evaluation -------------------------------------------------------------------------------

Resolver = Callable[[str], Any]


def _describe(node: Node) -> str:
    return f"line {node.line}: {node.kind} {node.value!r}"


def _title(text: str) -> str:
    # Terraform's title() upper-cases the first letter of each word and leaves the rest as is
    # (https://developer.hashicorp.com/terraform/language/functions/title); str.title() would
    # also lower-case letters after a digit.
    return re.sub(r"(^|\s)(\S)", lambda m: m.group(1) + m.group(2).upper(), text)


# The functions iam.tf calls, with Terraform's semantics for the arguments it passes.
FUNCTIONS: Mapping[str, Callable[..., Any]] = {
    "join": lambda sep, items: sep.join(items),
    "split": lambda sep, text: text.split(sep),
    "title": _title,
}


def evaluate(node: Node, scope: Mapping[str, Any]) -> Any:
    """Evaluate ``node``; ``scope`` maps root names (``var``, ``local``, ``each``, loop
    variables) to values (a ``local`` value may be a :class:`Lazy` mapping)."""
    if node.kind == "literal":
        return node.value
    if node.kind == "template":
        out = []
        for part in node.items:
            value = part if isinstance(part, str) else evaluate(part, scope)
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise HclError(f"{_describe(node)}: interpolates a non-string {value!r}")
            out.append(value if isinstance(value, str) else f"{value:g}")
        return "".join(out)
    if node.kind == "list":
        return [evaluate(item, scope) for item in node.items]
    if node.kind == "object":
        result = {}
        for key, value in node.items:
            name = (
                key.items[0] if key.kind == "ref" and key.value == "name" else evaluate(key, scope)
            )
            result[str(name)] = evaluate(value, scope)
        return result
    if node.kind == "ref":
        if node.value == "name":
            name = node.items[0]
            if name not in scope:
                raise HclError(f"line {node.line}: unknown name {name!r}")
            return scope[name]
        if node.value == "attr":
            base = evaluate(node.items[0], scope)
            return _get(base, node.items[1], node)
        index = evaluate(node.items[1], scope)
        return _get(evaluate(node.items[0], scope), index, node)
    if node.kind == "for":
        names, collection_node, key_node, value_node, condition = node.items
        collection = evaluate(collection_node, scope)
        pairs = (
            list(collection.items()) if isinstance(collection, Mapping) else enumerate(collection)
        )
        as_list, as_map = [], {}
        for k, v in pairs:
            inner = dict(scope)
            if len(names) == 2:
                inner[names[0]], inner[names[1]] = k, v
            else:
                inner[names[0]] = v
            if condition is not None and not evaluate(condition, inner):
                continue
            if node.value == "]":
                as_list.append(evaluate(value_node, inner))
            else:
                as_map[str(evaluate(key_node, inner))] = evaluate(value_node, inner)
        return as_list if node.value == "]" else as_map
    if node.kind == "call" and node.value in FUNCTIONS:
        return FUNCTIONS[node.value](*(evaluate(arg, scope) for arg in node.items))
    raise HclError(f"{_describe(node)}: not supported by this reader")


class Lazy(Mapping[str, Any]):
    """``local``: each attribute evaluated on first use (locals refer to each other)."""

    def __init__(self, nodes: Mapping[str, Node], scope: dict[str, Any]) -> None:
        self._nodes = nodes
        self._scope = scope
        self._values: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            if key not in self._nodes:
                raise KeyError(key)
            self._values[key] = evaluate(self._nodes[key], self._scope)
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def override(self, values: Mapping[str, Any]) -> None:
        self._values.update(values)


def _get(base: Any, key: Any, node: Node) -> Any:
    try:
        if isinstance(base, list):
            return base[int(key)]
        return base[key]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise HclError(f"line {node.line}: no {key!r} in {type(base).__name__}") from error
