"""Validation of ``supportlake load-input`` files, without a warehouse: every problem is named by
its physical line (the header is line 1), its column and the reason; Salesforce Ids 15 → 18."""

from __future__ import annotations

import datetime as dt
import random
import string

import pytest

from schemas.inputs import KINDS, LOADER_COLUMNS, AccountOverride, NpsResponse, SupportCostMonth, salesforce_id18
from simulators.world import salesforce_id18 as simulator_id18
from transforms.runner import SQL_TYPES, raw_table_columns
from warehouse.inputs import MAX_PROBLEMS_SHOWN, InputError, Problem, parse_csv

NPS_HEADER = "respondent_email,account_id,score,responded_at\n"


def problems(kind: str, text: str | bytes) -> list[tuple[int | None, str | None, str]]:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(InputError) as info:
        parse_csv(kind, data, "in.csv")
    assert "nothing was loaded" in str(info.value)
    return [(p.line, p.column, p.reason) for p in info.value.problems]


def only(kind: str, text: str | bytes) -> tuple[int | None, str | None, str]:
    found = problems(kind, text)
    assert len(found) == 1, found
    return found[0]


# --- Salesforce Ids -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("id15", "id18"),
    [
        ("001000000000001", "001000000000001AAA"),  # no letters: bits 0 → A, A, A
        # Derived by hand: chunk "001Dn" has D (position 3) upper → 8 → I; "00000" → A;
        # "AbCdE" has A, C, E (positions 0, 2, 4) upper → 1 + 4 + 16 = 21 → V.
        ("001Dn00000AbCdE", "001Dn00000AbCdEIAV"),
        # "500Hs" → H (3) → 8 → I; "00001" → A; "XyZab" → X (0), Z (2) → 5 → F.
        ("500Hs00001XyZab", "500Hs00001XyZabIAF"),
        # "ABCDE" all upper → 31 → '5' (the digits end the alphabet); "abcde" → A; "0000Z" → 16 → Q.
        ("ABCDEabcde0000Z", "ABCDEabcde0000Z5AQ"),
    ],
)
def test_15_character_ids_get_their_checksum_suffix(id15: str, id18: str) -> None:
    assert salesforce_id18(id15) == id18
    assert salesforce_id18(id18) == id18  # already 18: unchanged
    assert salesforce_id18(f"  {id15} ") == id18


def test_suffix_agrees_with_the_simulators_independent_implementation() -> None:
    rng = random.Random(3)
    for _ in range(500):
        id15 = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(15))
        assert salesforce_id18(id15) == simulator_id18(id15)


def test_18_character_id_that_lost_its_case_is_restored_from_the_suffix() -> None:
    assert salesforce_id18("001dn00000abcdeiav") == "001Dn00000AbCdEIAV"
    assert salesforce_id18("001DN00000ABCDEIAV") == "001Dn00000AbCdEIAV"
    assert salesforce_id18("001000000000001aaa") == "001000000000001AAA"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("001Dn00000AbCdEAAA", "not the checksum"),  # mixed case, wrong suffix: mistyped
        ("001000000000001IAA", "not the checksum"),  # suffix says position 3 is a letter: it is a digit
        ("001000000000001A9A", "cannot be a checksum character"),
        ("00100000000001", "15 or 18 letters and digits"),
        ("0010000000000012", "15 or 18 letters and digits"),
        ("001-00000000001", "15 or 18 letters and digits"),
    ],
)
def test_malformed_ids_are_refused(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        salesforce_id18(value)


# --- Good files -----------------------------------------------------------------------------------


def test_nps_rows_are_normalised() -> None:
    text = (
        NPS_HEADER + " Ann@Example.COM ,001000000000001,9,2024-03-05\n"
        "bob@example.com,,10,2024-03-05T10:00:00+02:00\n"
        "cy@example.com,001Dn00000AbCdEIAV,0,2024-03-05T10:00:00Z\n"
        "di@example.com,,5,2024-03-05 10:00:00\n"
    )
    rows = parse_csv("nps", text.encode(), "in.csv")
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert [r.row for r in rows] == [
        NpsResponse(
            respondent_email="ann@example.com",
            account_id="001000000000001AAA",
            score=9,
            responded_at=dt.datetime(2024, 3, 5),
        ),
        NpsResponse(respondent_email="bob@example.com", score=10, responded_at=dt.datetime(2024, 3, 5, 8)),
        NpsResponse(
            respondent_email="cy@example.com",
            account_id="001Dn00000AbCdEIAV",
            score=0,
            responded_at=dt.datetime(2024, 3, 5, 10),
        ),
        NpsResponse(respondent_email="di@example.com", score=5, responded_at=dt.datetime(2024, 3, 5, 10)),
    ]
    assert all(r.row.model_dump()["responded_at"].tzinfo is None for r in rows)


def test_bom_crlf_and_headers_in_any_case_with_spaces() -> None:
    text = "\ufeff Respondent_EMAIL ,SCORE,  Responded_At\r\na@example.com,7,2024-01-31\r\n"
    rows = parse_csv("nps", text.encode("utf-8"), "in.csv")
    assert rows[0].row == NpsResponse(respondent_email="a@example.com", score=7, responded_at=dt.datetime(2024, 1, 31))


def test_line_numbers_are_physical_lines() -> None:
    # A blank line and a quoted note spanning two lines: the bad row is on physical line 7.
    text = (
        "zendesk_organization_id,salesforce_account_id,note\n"
        "1,001000000000001,plain\n"
        "\n"
        '2,,"two\nlines"\n'
        "3,001000000000002,\n"
        "x,001000000000003,bad id\n"
    )
    assert only("account_overrides", text)[:2] == (7, "zendesk_organization_id")
    rows = parse_csv("account_overrides", text.replace("x,", "4,").encode(), "in.csv")
    assert [r.line for r in rows] == [2, 4, 6, 7]
    assert rows[1].row == AccountOverride(zendesk_organization_id=2, salesforce_account_id=None, note="two\nlines")


def test_support_cost_months_defaults_and_currency() -> None:
    text = "month,cost,currency\n2024-03,12500.50,\n2024-04-01,0,eur\n2024-05,.5, GBP \n"
    assert [r.row for r in parse_csv("support_cost", text.encode(), "in.csv")] == [
        SupportCostMonth(month=dt.date(2024, 3, 1), cost=12500.5, currency="USD"),
        SupportCostMonth(month=dt.date(2024, 4, 1), cost=0.0, currency="EUR"),
        SupportCostMonth(month=dt.date(2024, 5, 1), cost=0.5, currency="GBP"),
    ]
    without = parse_csv("support_cost", b"month,cost\n2024-03,1\n", "in.csv")
    assert without[0].row == SupportCostMonth(month=dt.date(2024, 3, 1), cost=1.0)
    assert without[0].row.model_dump()["currency"] == "USD"


def test_override_with_empty_account_means_never_match() -> None:
    text = "zendesk_organization_id,salesforce_account_id\n42,\n43,001Dn00000AbCdE\n"
    rows = [r.row for r in parse_csv("account_overrides", text.encode(), "in.csv")]
    assert rows == [
        AccountOverride(zendesk_organization_id=42, salesforce_account_id=None),
        AccountOverride(zendesk_organization_id=43, salesforce_account_id="001Dn00000AbCdEIAV"),
    ]


def test_blank_trailing_lines_and_rows_of_commas_are_ignored() -> None:
    text = NPS_HEADER + "a@example.com,,7,2024-01-31\n,,,\n\n   \n"
    assert len(parse_csv("nps", text.encode(), "in.csv")) == 1


# --- Header problems ------------------------------------------------------------------------------


def test_missing_required_column() -> None:
    assert only("nps", "respondent_email,score\na@example.com,7\n") == (
        1,
        "responded_at",
        "required column missing from the header",
    )


def test_override_file_needs_the_account_column_even_though_its_cells_may_be_empty() -> None:
    assert only("account_overrides", "zendesk_organization_id,note\n1,x\n")[:2] == (1, "salesforce_account_id")


def test_unknown_column_lists_the_columns_of_the_kind() -> None:
    line, column, reason = only("nps", "respondent_email,score,responded_at,comment\na@example.com,7,2024-01-01,x\n")
    assert (line, column) == (1, "comment")
    assert "unknown column" in reason
    assert "respondent_email, account_id (optional), score, responded_at" in reason


def test_semicolon_separated_file_gets_a_hint() -> None:
    found = problems("nps", "respondent_email;score;responded_at\na@example.com;7;2024-01-01\n")
    assert any("comma-separated" in reason for _, _, reason in found)


def test_column_twice_in_the_header() -> None:
    assert only("nps", "respondent_email,score,Score,responded_at\na@example.com,7,7,2024-01-01\n")[:2] == (
        1,
        "score",
    )


def test_empty_file_and_header_only_file() -> None:
    for empty in (b"", b"\xef\xbb\xbf", b"\n\n"):
        line, column, reason = only("nps", empty)
        assert (line, column) == (None, None)
        assert "empty" in reason
    line, _, reason = only("nps", NPS_HEADER)
    assert line is None
    assert "no rows" in reason


# --- Row problems ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("not-an-email,,7,2024-01-01", "respondent_email", "not an e-mail address"),
        ("a@@example.com,,7,2024-01-01", "respondent_email", "not an e-mail address"),
        ("a@example.com,,11,2024-01-01", "score", "whole number from 0 to 10"),
        ("a@example.com,,-1,2024-01-01", "score", "whole number from 0 to 10"),
        ("a@example.com,,7.5,2024-01-01", "score", "whole number from 0 to 10"),
        ("a@example.com,,seven,2024-01-01", "score", "whole number from 0 to 10"),
        ("a@example.com,,,2024-01-01", "score", "empty; a value is required"),
        ("a@example.com,,7,05/03/2024", "responded_at", "not an ISO 8601 date or time"),
        ("a@example.com,,7,2024-02-30", "responded_at", "not an ISO 8601 date or time"),
        ("a@example.com,12345,7,2024-01-01", "account_id", "15 or 18 letters and digits"),
        ("a@example.com,001Dn00000AbCdEAAA,7,2024-01-01", "account_id", "not the checksum"),
    ],
)
def test_bad_nps_values(row: str, column: str, reason: str) -> None:
    line, col, why = only("nps", NPS_HEADER + "ok@example.com,,7,2024-01-01\n" + row + "\n")
    assert (line, col) == (3, column)
    assert reason in why


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("2024-03-15,1,", "month", "not the first day of a month"),
        ("2024-13,1,", "month", "does not exist"),
        ("March 2024,1,", "month", "not a month"),
        ('2024-03,"12,500.50",', "cost", "not a plain decimal number"),
        ("2024-03,$12,", "cost", "not a plain decimal number"),
        ("2024-03,1e3,", "cost", "not a plain decimal number"),
        ("2024-03,nan,", "cost", "not a plain decimal number"),
        ("2024-03,-1,", "cost", "must be >= 0"),
        ("2024-03,1,EURO", "currency", "three-letter ISO 4217"),
    ],
)
def test_bad_support_cost_values(row: str, column: str, reason: str) -> None:
    text = "month,cost,currency\n2024-01,1,USD\n" + row + "\n"
    line, col, why = only("support_cost", text)
    assert (line, col) == (3, column)
    assert reason in why


@pytest.mark.parametrize(
    ("row", "reason"),
    [("abc,", "positive whole number"), ("0,", "positive whole number"), ("-5,", "positive whole number")],
)
def test_bad_organization_ids(row: str, reason: str) -> None:
    line, col, why = only("account_overrides", f"zendesk_organization_id,salesforce_account_id\n{row}\n")
    assert (line, col) == (2, "zendesk_organization_id")
    assert reason in why


def test_every_bad_row_is_reported_with_its_line_and_message_is_capped() -> None:
    bad = [f"user{i}@example.com,,{11 + i},2024-01-01" for i in range(25)]
    text = NPS_HEADER + "good@example.com,,7,2024-01-01\n" + "\n".join(bad) + "\n"
    with pytest.raises(InputError) as info:
        parse_csv("nps", text.encode(), "nps.csv")
    assert [p.line for p in info.value.problems] == list(range(3, 28))
    message = str(info.value)
    assert message.startswith("nps.csv: 25 problems, nothing was loaded:")
    assert "line 3, column score: must be a whole number from 0 to 10, got '11'" in message
    assert f"line {3 + MAX_PROBLEMS_SHOWN - 1}," in message
    assert f"line {3 + MAX_PROBLEMS_SHOWN}," not in message
    assert message.endswith(f"… and {25 - MAX_PROBLEMS_SHOWN} more")


def test_one_row_with_several_bad_values_reports_each() -> None:
    found = problems("nps", NPS_HEADER + "x,bad,99,soon\n")
    assert [(line, col) for line, col, _ in found] == [
        (2, "respondent_email"),
        (2, "account_id"),
        (2, "score"),
        (2, "responded_at"),
    ]


def test_an_empty_required_cell_does_not_hide_the_rows_other_problems() -> None:
    assert problems("nps", NPS_HEADER + ",,12,2024-01-01\n") == [
        (2, "respondent_email", "empty; a value is required"),
        (2, "score", "must be a whole number from 0 to 10, got '12'"),
    ]


def test_nul_character() -> None:
    assert only("nps", NPS_HEADER + "a@example.com,,7,2024-01-01\x00\n") == (2, None, "contains a NUL character")


def test_wrong_number_of_fields() -> None:
    assert only("nps", NPS_HEADER + "a@example.com,,7\n") == (2, None, "has 3 fields, the header has 4")


def test_value_under_a_column_without_a_name() -> None:
    text = "respondent_email,score,responded_at,\na@example.com,7,2024-01-01,\nb@example.com,7,2024-01-01,x\n"
    assert only("nps", text)[:2] == (3, "#4")


def test_not_utf8_names_the_line() -> None:
    data = (NPS_HEADER + "a@example.com,,7,2024-01-01\n").encode() + "é@example.com,,7,2024-01-01\n".encode("latin-1")
    line, _, reason = only("nps", data)
    assert line == 3
    assert "not UTF-8" in reason


def test_unterminated_quote() -> None:
    line, _, reason = only("nps", NPS_HEADER + 'a@example.com,,7,2024-01-01\n"b@example.com,,7,2024-01-01\n')
    assert line == 3
    assert "not readable as CSV" in reason


def test_text_after_a_closing_quote_names_its_line_and_keeps_earlier_problems() -> None:
    text = NPS_HEADER + 'a@example.com,,70,2024-01-01\nb@example.com,,7,2024-01-01\n"c"x@example.com,,7,2024-01-01\n'
    found = problems("nps", text)
    assert [(line, col) for line, col, _ in found] == [(2, "score"), (4, None)]
    assert "not readable as CSV" in found[1][2]


# --- Duplicate keys -------------------------------------------------------------------------------


def test_duplicate_keys_name_both_lines_after_normalisation() -> None:
    text = (
        NPS_HEADER + "a@example.com,,7,2024-01-01T10:00:00Z\n"
        "b@example.com,,7,2024-01-01\n"
        "A@Example.com,,8,2024-01-01T12:00:00+02:00\n"  # the same respondent and instant as line 2
    )
    line, column, reason = only("nps", text)
    assert (line, column) == (4, "respondent_email, responded_at")
    assert reason == (
        "duplicate key (respondent_email='a@example.com', responded_at=2024-01-01 10:00:00): also on line 2"
    )


def test_duplicate_month_written_two_ways() -> None:
    assert only("support_cost", "month,cost\n2024-03,1\n2024-03-01,2\n") == (
        3,
        "month",
        "duplicate key (month=2024-03-01): also on line 2",
    )


def test_duplicate_organization() -> None:
    text = "zendesk_organization_id,salesforce_account_id\n7,001000000000001\n8,\n07,\n"
    assert only("account_overrides", text) == (
        4,
        "zendesk_organization_id",
        "duplicate key (zendesk_organization_id=7): also on line 2",
    )


# --- The models and the runner's registry ---------------------------------------------------------


def test_every_field_is_described() -> None:
    for kind in KINDS.values():
        for name, field in kind.model.model_fields.items():
            assert field.description, f"{kind.name}.{name} has no description"
        assert set(kind.model.key) <= set(kind.model.model_fields)
    assert all(description for _, description in LOADER_COLUMNS.values())


def test_runner_declares_the_input_tables_for_stand_ins() -> None:
    declared = raw_table_columns()
    assert declared["inputs.input_nps_responses"] == {
        "respondent_email": "text",
        "account_id": "text",
        "score": "bigint",
        "responded_at": "naive_timestamp",
        "source_file": "text",
        "loaded_at": "naive_timestamp",
    }
    assert declared["inputs.input_support_cost_monthly"] == {
        "month": "date",
        "cost": "double",
        "currency": "text",
        "source_file": "text",
        "loaded_at": "naive_timestamp",
    }
    assert declared["inputs.input_account_overrides"] == {
        "zendesk_organization_id": "bigint",
        "salesforce_account_id": "text",
        "note": "text",
        "source_file": "text",
        "loaded_at": "naive_timestamp",
    }
    for engine in ("duckdb", "postgres"):
        assert {"date", "naive_timestamp"} <= set(SQL_TYPES[engine])


def test_problem_text() -> None:
    assert str(Problem(3, "score", "bad")) == "line 3, column score: bad"
    assert str(Problem(3, None, "bad")) == "line 3: bad"
    assert str(Problem(None, None, "no such file")) == "no such file"


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown input kind 'csat'"):
        parse_csv("csat", b"a\n1\n", "in.csv")
