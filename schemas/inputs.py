"""Inputs that no API carries: one row model per CSV kind ``supportlake load-input`` accepts.

Each kind is a table in the warehouse schema :data:`INPUT_SCHEMA` (``inputs``). A row model
validates one CSV row (every value arrives as text, already stripped of surrounding whitespace;
an empty cell of an optional column is left out, so the default applies) and normalises it:
e-mails lower-cased, times in UTC without a zone, 15-character Salesforce Ids extended to 18.
:func:`column_kinds` gives the table's columns in the transforms runner's type kinds
(``text``, ``bigint``, ``double``, ``date``, ``naive_timestamp``), so the loader's DDL and the
runner's empty stand-in for a never-loaded table are the same.

A field without a default is a required column; ``str | None`` without a default (the override's
``salesforce_account_id``) is a column that must be in the header but whose cells may be empty.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.coltypes import TABLE_KINDS

INPUT_SCHEMA = "inputs"
"""The warehouse schema of every input table."""

_ID_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def salesforce_id_suffix(id15: str) -> str:
    """Salesforce's 3-character checksum of a 15-character Id: per 5-character chunk, the letter of
    ``ABCDEFGHIJKLMNOPQRSTUVWXYZ012345`` whose index has bit *i* set when character *i* of the
    chunk is an upper-case letter."""
    if len(id15) != 15:
        raise ValueError(f"a 15-character Id is needed, got {len(id15)} characters")
    return "".join(
        _ID_SUFFIX_ALPHABET[sum(1 << i for i, ch in enumerate(id15[start : start + 5]) if "A" <= ch <= "Z")]
        for start in (0, 5, 10)
    )


def salesforce_id18(value: str) -> str:
    """A Salesforce Id in its 18-character form.

    - 15 characters (case-sensitive): the Id plus its checksum suffix.
    - 18 characters: returned with the suffix upper-cased when the suffix is the checksum of the
      first 15. Otherwise the first 15 lost their case on the way (an 18-character Id is meant to
      survive case-insensitive tools, e.g. ``001dn00000abcdeiav``): when their letters are all one
      case, the case is restored from the suffix; mixed case with a wrong suffix is a mistyped Id.

    Raises :class:`ValueError` with the reason for anything else.
    """
    text = value.strip()
    if not _ID.fullmatch(text):
        raise ValueError(f"not a Salesforce Id (15 or 18 letters and digits): {value!r}")
    if len(text) == 15:
        return text + salesforce_id_suffix(text)
    head, suffix = text[:15], text[15:].upper()
    expected = salesforce_id_suffix(head)
    if suffix == expected:
        return head + suffix
    letters = [ch for ch in head if ch.isalpha()]
    if any(ch.isupper() for ch in letters) and any(ch.islower() for ch in letters):
        raise ValueError(
            f"{value!r}: its last 3 characters are not the checksum of the first 15 (expected {expected}): "
            "a mistyped Id?"
        )
    restored = []
    for chunk, code in enumerate(suffix):
        bits = _ID_SUFFIX_ALPHABET.find(code)
        if bits < 0:
            raise ValueError(f"{value!r}: {code!r} cannot be a checksum character of an 18-character Id")
        for i, ch in enumerate(head[chunk * 5 : chunk * 5 + 5]):
            upper = bool(bits >> i & 1)
            if upper and not ch.isalpha():
                raise ValueError(
                    f"{value!r}: its last 3 characters are not the checksum of the first 15 "
                    f"(expected {expected}): a mistyped Id?"
                )
            restored.append(ch.upper() if upper else ch.lower())
    return "".join(restored) + suffix


_EMAIL = re.compile(r"[^@\s\"'<>(),;:]+@[^@\s\"'<>(),;:.]+(?:\.[^@\s\"'<>(),;:.]+)+")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")
_CURRENCY = re.compile(r"[A-Z]{3}")
_BIGINT_MAX = 2**63 - 1


def _utc_naive(value: Any) -> Any:
    """ISO 8601 text (date, or date and time with or without an offset) → naive UTC datetime."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _PLAIN_DATE.fullmatch(text):
                return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
            parsed = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"not an ISO 8601 date or time: {value!r} (write 2024-03-05, 2024-03-05T14:30:00 for UTC, "
                "or 2024-03-05T14:30:00+01:00)"
            ) from None
    else:
        return value
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _salesforce_account_id(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return None
        return salesforce_id18(value)
    return value


class InputRow(BaseModel):
    """Base of the row models: unknown fields are an error, values are stripped text."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    key: ClassVar[tuple[str, ...]] = ()
    """The natural key: at most one row per value in a file and in the table."""


class NpsResponse(InputRow):
    """One NPS survey response (``nps`` → ``inputs.input_nps_responses``)."""

    key: ClassVar[tuple[str, ...]] = ("respondent_email", "responded_at")

    respondent_email: str = Field(
        description="Who answered: an e-mail address, trimmed and lower-cased (so it joins to requesters' e-mails)."
    )
    account_id: str | None = Field(
        default=None,
        description="The respondent's Salesforce Account Id (optional): 15 or 18 characters, stored in the "
        "18-character form (a 15-character Id gets its checksum suffix).",
    )
    score: int = Field(ge=0, le=10, description="The answer to 'how likely are you to recommend us': 0 to 10.")
    responded_at: dt.datetime = Field(
        description="When the survey was answered, in UTC (no zone): ISO 8601 with or without an offset "
        "(without one it is UTC), or a plain date meaning midnight UTC."
    )

    @field_validator("respondent_email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().lower()
            if not _EMAIL.fullmatch(text):
                raise ValueError(f"not an e-mail address: {value!r}")
            return text
        return value

    @field_validator("account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return _salesforce_account_id(value)

    @field_validator("score", mode="before")
    @classmethod
    def _score(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not _INTEGER.fullmatch(text) or not 0 <= int(text) <= 10:
                raise ValueError(f"must be a whole number from 0 to 10, got {value!r}")
            return int(text)
        return value

    @field_validator("responded_at", mode="before")
    @classmethod
    def _responded_at(cls, value: Any) -> Any:
        return _utc_naive(value)


class SupportCostMonth(InputRow):
    """The cost of support in one calendar month (``support_cost`` → ``inputs.input_support_cost_monthly``)."""

    key: ClassVar[tuple[str, ...]] = ("month",)

    month: dt.date = Field(
        description="The month, as its first day: written 2024-03 or 2024-03-01 (any other day is an error)."
    )
    cost: float = Field(
        ge=0,
        description="What support cost that month (staff, tools, outsourcing), >= 0: a plain decimal number "
        "such as 12500.50, without thousands separators, currency symbols or exponents.",
    )
    currency: str = Field(
        default="USD", description="ISO 4217 code of the cost's currency (three letters); USD when left empty."
    )

    @field_validator("month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        if isinstance(value, str):
            match = _MONTH.fullmatch(value.strip())
            if not match:
                raise ValueError(f"not a month: {value!r} (write 2024-03 or 2024-03-01)")
            year, month, day = match.groups()
            if day is not None and day != "01":
                raise ValueError(f"{value!r} is not the first day of a month (write 2024-03 or 2024-03-01)")
            if not 1 <= int(month) <= 12:
                raise ValueError(f"not a month: {value!r} (month {month} does not exist)")
            return dt.date(int(year), int(month), 1)
        if isinstance(value, dt.date) and value.day != 1:
            raise ValueError(f"{value.isoformat()} is not the first day of a month")
        return value

    @field_validator("cost", mode="before")
    @classmethod
    def _cost(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not _DECIMAL.fullmatch(text):
                raise ValueError(
                    f"not a plain decimal number: {value!r} (write digits with an optional '.', e.g. 12500.50; "
                    "no thousands separators, currency symbols or exponents)"
                )
            number = float(text)
            if not math.isfinite(number):
                raise ValueError(f"too large: {value!r}")
            if number < 0:
                raise ValueError(f"must be >= 0, got {value!r}")
            return number
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip().upper()
            if not _CURRENCY.fullmatch(text):
                raise ValueError(f"not a three-letter ISO 4217 currency code: {value!r}")
            return text
        return value


class AccountOverride(InputRow):
    """How one Zendesk organization matches Salesforce Accounts, overriding the automatic matching
    (``account_overrides`` → ``inputs.input_account_overrides``)."""

    key: ClassVar[tuple[str, ...]] = ("zendesk_organization_id",)

    zendesk_organization_id: int = Field(
        gt=0, le=_BIGINT_MAX, description="The Zendesk organization's id (a positive whole number)."
    )
    salesforce_account_id: str | None = Field(
        description="The Salesforce Account the organization is, in the 18-character form (a 15-character Id "
        "gets its checksum suffix). The column is required; an EMPTY cell means: never match this "
        "organization to any Account."
    )
    note: str | None = Field(default=None, description="Why the override exists (free text, optional).")

    @field_validator("zendesk_organization_id", mode="before")
    @classmethod
    def _organization(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not _INTEGER.fullmatch(text) or not 0 < int(text) <= _BIGINT_MAX:
                raise ValueError(f"not a Zendesk organization id (a positive whole number): {value!r}")
            return int(text)
        return value

    @field_validator("salesforce_account_id", mode="before")
    @classmethod
    def _account(cls, value: Any) -> Any:
        return _salesforce_account_id(value)


@dataclass(frozen=True)
class InputKind:
    """One kind of input file: its CSV row model and its table."""

    name: str
    """The command's KIND argument."""
    table: str
    """Table name in :data:`INPUT_SCHEMA`."""
    model: type[InputRow]
    description: str

    @property
    def qualified_table(self) -> str:
        return f"{INPUT_SCHEMA}.{self.table}"


KINDS: Mapping[str, InputKind] = {
    k.name: k
    for k in (
        InputKind("nps", "input_nps_responses", NpsResponse, "NPS survey responses"),
        InputKind("support_cost", "input_support_cost_monthly", SupportCostMonth, "support cost per month"),
        InputKind(
            "account_overrides",
            "input_account_overrides",
            AccountOverride,
            "Zendesk organization → Salesforce Account matches that override the automatic matching",
        ),
    )
}
"""Every kind ``supportlake load-input`` accepts, by name."""

LOADER_COLUMNS: Mapping[str, tuple[str, str]] = {
    "source_file": (
        "text",
        "Base name of the CSV file the row was loaded from (never its full path); 'sql' for a row inserted with SQL.",
    ),
    "loaded_at": ("naive_timestamp", "When the row was loaded or inserted, in UTC (no zone)."),
}
"""Columns the loader adds to every input table: name → (kind, description)."""


def _base_type(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def column_kinds(kind: InputKind) -> dict[str, str]:
    """The table's columns in order (the CSV columns, then :data:`LOADER_COLUMNS`) with their type
    kinds, as the transforms runner names them (``transforms.runner.SQL_TYPES``)."""
    out = {name: TABLE_KINDS[_base_type(f.annotation)] for name, f in kind.model.model_fields.items()}
    out.update({name: k for name, (k, _) in LOADER_COLUMNS.items()})
    return out


def nullable(model: type[InputRow], column: str) -> bool:
    """Whether the column may hold NULL (its type admits None: an optional column without another
    default, or a required one whose cells may be empty)."""
    return type(None) in get_args(model.model_fields[column].annotation)
