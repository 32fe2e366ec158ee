"""The SOQL subset the simulator understands, with Salesforce's error codes and messages.

Grammar (keywords case-insensitive, field and object names case-insensitive)::

    SELECT COUNT() | field [, field ...]
    FROM Object
    [WHERE condition]
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST] [, ...]]
    [LIMIT n] [OFFSET n]

    condition := term {AND term} | term {OR term}        -- mixing AND and OR needs parentheses
    term      := NOT term | ( condition ) | field op literal
               | field [NOT] IN ( literal, ... ) | field LIKE 'pattern'
    op        := = | != | <> | < | <= | > | >=
    literal   := 'string' | number | TRUE | FALSE | NULL
               | 2024-01-31T10:00:00Z | 2024-01-31T10:00:00.000+00:00 | 2024-01-31

As in Salesforce: dateTime and date literals are unquoted and must match the field's type,
strings are quoted, ``=``/``LIKE``/``IN`` on text are case-insensitive, ``!=`` matches nulls,
long text areas and compound fields cannot be filtered or sorted, and a relationship path
(``Account.Name``), ``*``, ``GROUP BY`` or a function other than ``COUNT()`` is an error.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ._util import parse_iso
from .specs import COMPOUND_TYPES, ID_TYPES, NUMBER_TYPES, STRING_TYPES, FieldSpec, ObjectSpec


class SoqlError(Exception):
    """A query Salesforce would reject: ``errorCode`` and ``message`` as the API sends them."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "IN",
    "NULL",
    "TRUE",
    "FALSE",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "OFFSET",
    "COUNT",
    "GROUP",
    "HAVING",
}
_ESCAPES = {
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "%": "\\%",
    "_": "\\_",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


def _error(code: str, query: str, pos: int, text: str) -> SoqlError:
    before = query[:pos]
    row = before.count("\n") + 1
    col = pos - (before.rfind("\n") + 1)
    line = query.split("\n")[row - 1]
    return SoqlError(code, f"\n{line}\n{' ' * col}^\nERROR at Row:{row}:Column:{col + 1}\n{text}")


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(query):
        m = _TOKEN.match(query, pos)
        if not m:
            raise _error("MALFORMED_QUERY", query, pos, f"unexpected token: '{query[pos:].split()[0]}'")
        kind = m.lastgroup or ""
        if kind != "ws":
            text = m.group()
            if kind == "ident" and text.upper() in _KEYWORDS:
                kind = "kw"
            tokens.append(Token(kind, text, pos))
        pos = m.end()
    tokens.append(Token("eof", "", len(query)))
    return tokens


@dataclass(frozen=True, slots=True)
class Literal:
    kind: str
    """``string``, ``number``, ``datetime``, ``date``, ``boolean`` or ``null``."""
    value: Any
    pos: int


@dataclass(slots=True)
class Cond:
    op: str
    """``and``, ``or``, ``not``, ``cmp``, ``in``, ``notin``, ``like``."""
    children: list[Cond] = dataclasses.field(default_factory=list)
    field: str = ""
    field_pos: int = 0
    cmp: str = ""
    values: list[Literal] = dataclasses.field(default_factory=list)


@dataclass(slots=True)
class OrderItem:
    field: str
    descending: bool
    nulls_last: bool
    pos: int


@dataclass(slots=True)
class Query:
    text: str
    object: ObjectSpec
    fields: list[str]
    count: bool
    where: Cond | None
    order: list[OrderItem]
    limit: int | None
    offset: int

    @property
    def compound_fields(self) -> list[str]:
        return [f for f in self.fields if self.object.by_name[f].type in COMPOUND_TYPES]

    def referenced(self) -> set[str]:
        out = set(self.fields) | {o.field for o in self.order}

        def walk(c: Cond | None) -> None:
            if c is None:
                return
            if c.field:
                out.add(c.field)
            for child in c.children:
                walk(child)

        walk(self.where)
        return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def unexpected(self, tok: Token | None = None) -> SoqlError:
        tok = tok or self.tok
        if tok.kind == "eof":
            return _error("MALFORMED_QUERY", self.text, max(0, tok.pos - 1), "unexpected token: <EOF>")
        return _error("MALFORMED_QUERY", self.text, tok.pos, f"unexpected token: '{tok.text}'")

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "kw" and self.tok.upper == word:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        if not self.keyword(word):
            raise self.unexpected()

    def expect_punct(self, char: str) -> None:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.unexpected()
        self.i += 1

    def parse(self) -> tuple[list[Token] | None, Token, Cond | None, list[OrderItem], int | None, int]:
        self.expect_keyword("SELECT")
        selected: list[Token] = []
        count = False
        if self.tok.kind == "kw" and self.tok.upper == "COUNT":
            self.take()
            self.expect_punct("(")
            self.expect_punct(")")
            count = True
        else:
            while True:
                tok = self.take()
                if tok.kind != "ident":
                    raise self.unexpected(tok)
                if self.tok.kind == "punct" and self.tok.text == "(":
                    raise _error("MALFORMED_QUERY", self.text, tok.pos, f"unexpected token: '{tok.text}'")
                selected.append(tok)
                if self.tok.kind == "punct" and self.tok.text == ",":
                    self.take()
                    continue
                break
        self.expect_keyword("FROM")
        obj = self.take()
        if obj.kind not in ("ident", "kw"):  # FROM Group: a reserved word is still an object name here
            raise self.unexpected(obj)
        where = None
        if self.keyword("WHERE"):
            where = self.condition()
        order: list[OrderItem] = []
        if self.tok.kind == "kw" and self.tok.upper in ("GROUP", "HAVING"):
            raise self.unexpected()
        if self.keyword("ORDER"):
            self.expect_keyword("BY")
            while True:
                tok = self.take()
                if tok.kind != "ident":
                    raise self.unexpected(tok)
                descending = False
                if self.keyword("DESC"):
                    descending = True
                else:
                    self.keyword("ASC")
                nulls_last = descending
                if self.keyword("NULLS"):
                    if self.keyword("LAST"):
                        nulls_last = True
                    else:
                        self.expect_keyword("FIRST")
                        nulls_last = False
                order.append(OrderItem(tok.text, descending, nulls_last, tok.pos))
                if self.tok.kind == "punct" and self.tok.text == ",":
                    self.take()
                    continue
                break
        limit = None
        offset = 0
        if self.keyword("LIMIT"):
            tok = self.take()
            if tok.kind != "number" or "." in tok.text or tok.text.startswith("-"):
                raise self.unexpected(tok)
            limit = int(tok.text)
        if self.keyword("OFFSET"):
            tok = self.take()
            if tok.kind != "number" or "." in tok.text or tok.text.startswith("-"):
                raise self.unexpected(tok)
            offset = int(tok.text)
            if offset > 2000:
                raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
        if self.tok.kind != "eof":
            raise self.unexpected()
        return None if count else selected, obj, where, order, limit, offset

    def condition(self) -> Cond:
        first = self.term()
        joiner = None
        items = [first]
        while self.tok.kind == "kw" and self.tok.upper in ("AND", "OR"):
            word = self.tok.upper
            if joiner is not None and word != joiner:
                raise self.unexpected()
            joiner = word
            self.take()
            items.append(self.term())
        if joiner is None:
            return first
        return Cond(joiner.lower(), items)

    def term(self) -> Cond:
        if self.keyword("NOT"):
            return Cond("not", [self.term()])
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        ftok = self.take()
        if ftok.kind != "ident":
            raise self.unexpected(ftok)
        if self.keyword("LIKE"):
            lit = self.literal()
            return Cond("like", field=ftok.text, field_pos=ftok.pos, values=[lit])
        negate = False
        if self.tok.kind == "kw" and self.tok.upper == "NOT":
            self.take()
            negate = True
            if not (self.tok.kind == "kw" and self.tok.upper == "IN"):
                raise self.unexpected()
        if self.keyword("IN"):
            self.expect_punct("(")
            values = [self.literal()]
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.take()
                values.append(self.literal())
            self.expect_punct(")")
            return Cond("notin" if negate else "in", field=ftok.text, field_pos=ftok.pos, values=values)
        op = self.take()
        if op.kind != "op":
            raise self.unexpected(op)
        lit = self.literal()
        return Cond("cmp", field=ftok.text, field_pos=ftok.pos, cmp="!=" if op.text == "<>" else op.text, values=[lit])

    def literal(self) -> Literal:
        tok = self.take()
        if tok.kind == "string":
            raw = tok.text[1:-1]
            value = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), raw)
            return Literal("string", value, tok.pos)
        if tok.kind == "number":
            return Literal("number", float(tok.text), tok.pos)
        if tok.kind == "datetime":
            seconds = parse_iso(tok.text)
            if seconds is None:
                raise _error(
                    "MALFORMED_QUERY",
                    self.text,
                    tok.pos,
                    f"line 1:{tok.pos} no viable alternative at character '{tok.text[:1]}'",
                )
            return Literal("datetime", seconds, tok.pos)
        if tok.kind == "date":
            return Literal("date", tok.text, tok.pos)
        if tok.kind == "kw" and tok.upper in ("TRUE", "FALSE"):
            return Literal("boolean", tok.upper == "TRUE", tok.pos)
        if tok.kind == "kw" and tok.upper == "NULL":
            return Literal("null", None, tok.pos)
        raise self.unexpected(tok)


_TYPE_WORDS = {
    "datetime": "dateTime",
    "date": "date",
    "boolean": "boolean",
    "int": "integer",
    "double": "double",
    "currency": "currency",
    "percent": "percent",
    "time": "time",
}


def _resolve_field(spec: ObjectSpec, name: str, query: str, pos: int) -> FieldSpec:
    if "." in name:
        rel = name.split(".", 1)[0]
        raise _error(
            "INVALID_FIELD",
            query,
            pos,
            f"Didn't understand relationship '{rel}' in field path. If you are attempting to use a custom "
            "relationship, be sure to append the '__r' after the custom relationship name. Please reference "
            "your WSDL or the describe call for the appropriate names.",
        )
    f = spec.by_lower.get(name.lower())
    if f is None:
        raise _error(
            "INVALID_FIELD",
            query,
            pos,
            f"No such column '{name}' on entity '{spec.name}'. If you are attempting to use a custom field, "
            "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
            "describe call for the appropriate names.",
        )
    return f


def _check_literal(f: FieldSpec, lit: Literal, query: str) -> None:
    if lit.kind == "null":
        return
    want = {"datetime": "datetime", "date": "date", "boolean": "boolean"}.get(f.type)
    if f.type in NUMBER_TYPES:
        want = "number"
    if want is None:
        want = "string"
    if lit.kind == want:
        return
    if want == "string":
        text = f"value of filter criterion for field '{f.name}' must be of type string and should be enclosed in quotes"
    else:
        text = (
            f"value of filter criterion for field '{f.name}' must be of type {_TYPE_WORDS.get(f.type, f.type)} "
            "and should not be enclosed in quotes"
        )
    raise _error("INVALID_FIELD", query, lit.pos, text)


def parse(text: str, resolve_object: Callable[[str], ObjectSpec | None]) -> Query:
    """Parse and validate ``text``; raises :class:`SoqlError` as Salesforce would."""
    if not text.strip():
        raise SoqlError("MALFORMED_QUERY", "unexpected token: <EOF>")
    p = _Parser(text)
    field_tokens, obj_tok, where, order, limit, offset = p.parse()
    spec = resolve_object(obj_tok.text)
    if spec is None:
        raise _error(
            "INVALID_TYPE",
            text,
            obj_tok.pos,
            f"sObject type '{obj_tok.text}' is not supported. If you are attempting to use a custom object, "
            "be sure to append the '__c' after the entity name. Please reference your WSDL or the describe "
            "call for the appropriate names.",
        )
    fields: list[str] = []
    if field_tokens is not None:
        seen: set[str] = set()
        for tok in field_tokens:
            f = _resolve_field(spec, tok.text, text, tok.pos)
            if f.name in seen:
                raise _error("MALFORMED_QUERY", text, tok.pos, f"duplicate field selected: {f.name}")
            seen.add(f.name)
            fields.append(f.name)

    def check(c: Cond | None) -> None:
        if c is None:
            return
        for child in c.children:
            check(child)
        if not c.field:
            return
        f = _resolve_field(spec, c.field, text, c.field_pos)
        c.field = f.name
        if not f.filterable:
            raise _error("INVALID_FIELD", text, c.field_pos, f"field '{f.name}' can not be filtered in a query call")
        for lit in c.values:
            _check_literal(f, lit, text)
            if c.op == "like" and lit.kind != "string":
                raise _error("INVALID_FIELD", text, lit.pos, f"invalid operator on field '{f.name}'")
        if c.op == "like" and f.type not in STRING_TYPES:
            raise _error("INVALID_FIELD", text, c.field_pos, f"invalid operator on field '{f.name}'")

    check(where)
    for item in order:
        f = _resolve_field(spec, item.field, text, item.pos)
        if not f.sortable:
            raise _error("INVALID_FIELD", text, item.pos, f"field '{f.name}' can not be sorted in a query call")
        item.field = f.name
    return Query(text, spec, fields, field_tokens is None, where, order, limit, offset)


# ---------------------------------------------------------------------- evaluation

Getter = Callable[[int, list[Any]], Any]
"""``getter(row, memo)`` → the field's value, normalised for comparison (memo caches the built record)."""


def normaliser(f: FieldSpec) -> Callable[[Any], Any]:
    if f.type in ID_TYPES:
        return lambda v: None if v is None else v[:15]
    if f.type in STRING_TYPES:
        return lambda v: None if v is None else v.casefold()
    if f.type in NUMBER_TYPES:
        return lambda v: None if v is None else float(v)
    return lambda v: v


def _literal_value(f: FieldSpec, lit: Literal) -> Any:
    if lit.kind == "null":
        return None
    if lit.kind == "string":
        return lit.value[:15] if f.type in ID_TYPES else lit.value.casefold()
    return lit.value


def _like(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if ch == "%" else "." if ch == "_" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def _compare(op: str, lit: Any) -> Callable[[Any], bool]:
    if lit is None:
        if op == "=":
            return lambda v: v is None
        if op == "!=":
            return lambda v: v is not None
        return lambda v: False
    if op == "=":
        return lambda v: v is not None and v == lit
    if op == "!=":
        return lambda v: v is None or v != lit
    if op == "<":
        return lambda v: v is not None and v < lit
    if op == "<=":
        return lambda v: v is not None and v <= lit
    if op == ">":
        return lambda v: v is not None and v > lit
    return lambda v: v is not None and v >= lit


def compile_where(q: Query, getter: Callable[[str], Getter]) -> Callable[[int, list[Any]], bool] | None:
    """The WHERE clause as a predicate over rows."""

    def build(c: Cond) -> Callable[[int, list[Any]], bool]:
        if c.op in ("and", "or"):
            parts = [build(child) for child in c.children]
            if c.op == "and":
                return lambda idx, memo: all(p(idx, memo) for p in parts)
            return lambda idx, memo: any(p(idx, memo) for p in parts)
        if c.op == "not":
            inner = build(c.children[0])
            return lambda idx, memo: not inner(idx, memo)
        f = q.object.by_name[c.field]
        get = getter(c.field)
        if c.op == "like":
            rx = _like(c.values[0].value)
            return lambda idx, memo: (v := get(idx, memo)) is not None and rx.fullmatch(v) is not None
        if c.op in ("in", "notin"):
            values = {_literal_value(f, lit) for lit in c.values}
            if c.op == "in":
                return lambda idx, memo: get(idx, memo) in values
            return lambda idx, memo: get(idx, memo) not in values
        test = _compare(c.cmp, _literal_value(f, c.values[0]))
        return lambda idx, memo: test(get(idx, memo))

    return build(q.where) if q.where is not None else None


def order_rows(q: Query, rows: list[int], getter: Callable[[str], Getter]) -> list[int]:
    """``rows`` sorted by the ORDER BY items (stable, nulls first or last as asked)."""
    for item in reversed(q.order):
        get = getter(item.field)
        keyed = [(get(idx, [None]), idx) for idx in rows]
        present = [(v, idx) for v, idx in keyed if v is not None]
        missing = [idx for v, idx in keyed if v is None]
        present.sort(key=lambda pair: pair[0], reverse=item.descending)
        ordered = [idx for _, idx in present]
        rows = ordered + missing if item.nulls_last else missing + ordered
    return rows


def select(rows: Sequence[int], q: Query) -> list[int]:
    """OFFSET and LIMIT."""
    out = list(rows[q.offset :])
    if q.limit is not None:
        out = out[: q.limit]
    return out
