"""CloudWatch Logs: JSON filter patterns, which moto 5.2 does not evaluate.

Gap (docs/emulator.md, "CloudWatch Logs JSON filter patterns"): moto matches plain and quoted
terms, but answers a JSON pattern such as ``{ $.status >= 500 }`` with *every* event, so
``opsctl logs --filter '{ $.status >= 500 }'`` (runbook 4.1) would look like a flood of errors on
the local cloud. :func:`install` makes moto's FilterLogEvents use this module's evaluator for
JSON patterns. It evaluates the part of the syntax that selects on fields of JSON log events, as
documented in
https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
("Using filter patterns to match terms in JSON log events"):

* selectors ``$.a.b``, ``$.list[0]``, ``$.a.b[1].c``;
* ``=`` and ``!=`` on strings (``*`` is a wildcard), numbers, ``true``/``false`` and ``null``;
* ``<``, ``<=``, ``>``, ``>=`` on numbers;
* ``$.x IS NULL``, ``$.x IS TRUE``, ``$.x IS FALSE``, ``$.x NOT EXISTS``;
* ``&&`` and ``||`` with parentheses (``&&`` binds tighter).

A field that is missing, or of another type than the comparison needs, does not match.
A message that is not a JSON object does not match. A pattern outside this subset raises
:class:`FilterPatternError`, which the emulator returns as AWS's
``InvalidParameterException``: a rehearsal must never answer a question it did not understand.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from moto.logs import models as logs_models
from moto.logs.exceptions import InvalidParameterException
from moto.logs.utils import EventMessageFilter

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | (?P<selector>\$(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*)
      | (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![A-Za-z0-9_*]))
      | (?P<word>[A-Za-z0-9_.*:/-]+)
    )""",
    re.VERBOSE,
)
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]")
_MISSING = object()

Predicate = Callable[[object], bool]


class FilterPatternError(ValueError):
    """The pattern is not a JSON filter pattern this emulator understands."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str


def is_json_pattern(pattern: str) -> bool:
    """A JSON filter pattern is written between braces."""
    stripped = pattern.strip()
    return stripped.startswith("{") and stripped.endswith("}")


def _tokens(body: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(body):
        if body[position:].strip() == "":
            break
        match = _TOKEN.match(body, position)
        if match is None or match.end() == position:
            raise FilterPatternError(f"cannot read the filter pattern at {body[position:]!r}")
        kind = match.lastgroup or ""  # every alternative of _TOKEN is a named group
        tokens.append(_Token(kind, match.group(kind)))
        position = match.end()
    return tokens


def _select(document: object, selector: str) -> object:
    value: object = document
    for name, index in _PATH_PART.findall(selector[1:]):
        if name:
            if not isinstance(value, dict) or name not in value:
                return _MISSING
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
    return value


def _comparison(selector: str, op: str, operand: _Token) -> Predicate:
    def field(document: object) -> object:
        return _select(document, selector)

    if operand.kind == "number":
        number = float(operand.text)
        numeric: dict[str, Callable[[float], bool]] = {
            "=": lambda v: v == number,
            "!=": lambda v: v != number,
            "<": lambda v: v < number,
            "<=": lambda v: v <= number,
            ">": lambda v: v > number,
            ">=": lambda v: v >= number,
        }
        test = numeric[op]

        def compare_number(document: object) -> bool:
            value = field(document)
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            return is_number and test(float(value))  # type: ignore[arg-type]

        return compare_number
    if op not in ("=", "!="):
        raise FilterPatternError(f"{op} compares numbers only, not {operand.text}")
    if operand.kind == "word" and operand.text.lower() in ("true", "false", "null"):
        literal: object = {"true": True, "false": False, "null": None}[operand.text.lower()]

        def compare_literal(document: object) -> bool:
            value = field(document)
            if value is _MISSING:
                return False
            equal = value is literal  # JSON true/false/null are singletons once parsed
            return equal if op == "=" else not equal

        return compare_literal
    text = json.loads(operand.text) if operand.kind == "string" else operand.text

    def compare_string(document: object) -> bool:
        value = field(document)
        if not isinstance(value, str):
            return False
        # fnmatchcase treats only '*' (and '?', '[') specially; AWS documents '*' as the wildcard.
        matched = fnmatch.fnmatchcase(value, text)
        return matched if op == "=" else not matched

    return compare_string


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterPatternError("the filter pattern ends too early")
        self.index += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while (token := self.peek()) is not None and token.text == "||":
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.term()
        while (token := self.peek()) is not None and token.text == "&&":
            self.take()
            right = self.term()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def term(self) -> Predicate:
        token = self.take()
        if token.text == "(":
            inner = self.expression()
            if self.take().text != ")":
                raise FilterPatternError("a '(' is not closed")
            return inner
        if token.kind != "selector":
            raise FilterPatternError(f"expected a selector such as $.status, got {token.text!r}")
        selector = token.text
        following = self.take()
        if following.kind == "word" and following.text.upper() in ("IS", "NOT"):
            return self.keyword(selector, following.text.upper())
        if following.kind != "op" or following.text in ("&&", "||", "(", ")"):
            raise FilterPatternError(f"expected a comparison after {selector}")
        operand = self.take()
        if operand.kind not in ("number", "string", "word"):
            raise FilterPatternError(f"expected a value after {selector} {following.text}")
        return _comparison(selector, following.text, operand)

    def keyword(self, selector: str, keyword: str) -> Predicate:
        word = self.take().text.upper()
        if keyword == "NOT" and word == "EXISTS":
            return lambda d: _select(d, selector) is _MISSING
        literals = {"NULL": None, "TRUE": True, "FALSE": False}
        if keyword == "IS" and word in literals:
            literal = literals[word]
            return lambda d: _select(d, selector) is literal
        raise FilterPatternError(f"unsupported: {selector} {keyword} {word}")


def compile_json_pattern(pattern: str) -> Callable[[str], bool]:
    """A predicate over raw log messages for the JSON filter ``pattern`` (``{ ... }``)."""
    if not is_json_pattern(pattern):
        raise FilterPatternError("a JSON filter pattern is written between { and }")
    parser = _Parser(_tokens(pattern.strip()[1:-1]))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise FilterPatternError(f"unexpected {parser.peek().text!r} in the filter pattern")  # type: ignore[union-attr]

    def matches(message: str) -> bool:
        try:
            document = json.loads(message)
        except ValueError:
            return False
        return isinstance(document, dict) and predicate(document)

    return matches


class _JsonAwareEventMessageFilter(EventMessageFilter):
    """moto's term filter, plus JSON filter patterns."""

    def __init__(self, pattern: str) -> None:
        self._json: Callable[[str], bool] | None = None
        if is_json_pattern(pattern or ""):
            try:
                self._json = compile_json_pattern(pattern)
            except FilterPatternError as error:
                # What AWS answers for a pattern it cannot parse.
                raise InvalidParameterException(msg=f"Invalid filter pattern: {error}") from error
        else:
            super().__init__(pattern)

    def matches(self, message: str) -> bool:
        return self._json(message) if self._json is not None else super().matches(message)


def install() -> None:
    """Evaluate JSON filter patterns in FilterLogEvents (call once: :func:`moto_fixes.install`)."""
    # moto.logs.models imported the class by name: replace it where it is used.
    setattr(logs_models, "EventMessageFilter", _JsonAwareEventMessageFilter)  # noqa: B010 - moto re-exports it implicitly
