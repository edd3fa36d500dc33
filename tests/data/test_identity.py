"""Normalisers of identity fields and keyed hashing."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

try:
    import cxchain  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from cxchain.data.identity import (
    keyed_hash,
    keyed_hash_many,
    nickname_sql,
    normalise_address,
    normalise_dob,
    normalise_email,
    normalise_first_name,
    normalise_identities,
    normalise_last_name,
    normalise_name,
    normalise_nickname,
    normalise_phone,
    normalise_postcode,
    phone_sql,
    register_keyed_hash,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("+44 (0)7700 900123", "07700900123"),
        ("+44 7700 900123", "07700900123"),
        ("+4407700900123", "07700900123"),
        ("0044 7700 900123", "07700900123"),
        ("447700900123", "07700900123"),
        ("07700-900-123", "07700900123"),
        ("(07700) 900 123", "07700900123"),
        ("7700900123", "07700900123"),
        ("(020) 7946 0000", "02079460000"),
        ("01632 960001", "01632960001"),
        ("+1 (212) 555-0100", "+12125550100"),
        ("0033 1 23 45 67 89", "+33123456789"),
        ("123", None),
        ("", None),
        (None, None),
    ],
)
def test_phone(raw: str | None, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


def test_postcode() -> None:
    raw = ["sw1a1aa", " SW1A 1AA ", "m1 1ae", "EC1A1BB", "b338th", "W1A  0AX", "DN551PT", "not a pc", "12345", None]
    assert normalise_postcode(raw) == [
        "SW1A 1AA", "SW1A 1AA", "M1 1AE", "EC1A 1BB", "B33 8TH", "W1A 0AX", "DN55 1PT", None, None, None,
    ]


def test_email() -> None:
    assert normalise_email(["  John.Smith@Example.COM ", "nope", "a@b", None]) == ["john.smith@example.com", None, None, None]


def test_names() -> None:
    assert normalise_name("Smith, John") == ("john", "smith")
    assert normalise_name("SMITH,  Mr John Paul") == ("john", "smith")
    assert normalise_name("Mr John Smith") == ("john", "smith")
    assert normalise_name("Dr. Mary-Ann O'Brien") == ("maryann", "obrien")
    assert normalise_name("Mrs Jane Doe-Smith") == ("jane", "doesmith")
    assert normalise_name("Zoë Brontë") == ("zoe", "bronte")
    assert normalise_name("Smith") == (None, "smith")
    assert normalise_name("Mr") == (None, None)
    assert normalise_first_name(["Ms. Jane", "  JOHN  paul", None]) == ["jane", "john", None]
    assert normalise_last_name(["O'Neill", "Smith-Jones", "de la Cruz"]) == ["oneill", "smithjones", "delacruz"]


def test_nicknames() -> None:
    raw = ["Bill", "billy", "Will", "Liz", "Beth", "Betty", "Bob", "Robbie", "Jimmy", "Katie", "Cathy", "Sue", "Dave",
           "Mike", "Tom", "Chris", "Steve", "Tony", "Jenny", "Nick", "Sam", "Alex", "Pat", "Maggie", "Meg",
           "Danny", "Andy", "Matt", "Pete", "Joe", "William", "Zed"]
    assert normalise_nickname(raw) == [
        "william", "william", "william", "elizabeth", "elizabeth", "elizabeth", "robert", "robert", "james",
        "katherine", "katherine", "susan", "david", "michael", "thomas", "christopher", "stephen", "anthony",
        "jennifer", "nicholas", "samuel", "alexander", "patricia", "margaret", "margaret", "daniel", "andrew",
        "matthew", "peter", "joseph", "william", "zed",
    ]
    assert duckdb.connect().sql(f"SELECT {nickname_sql(repr('bob'))}").fetchall() == [("robert",)]


def test_address_and_dob() -> None:
    assert normalise_address(["12 High Road", "12 HIGH RD.", "Flat 3, 5 St. John's Avenue", None]) == [
        "12 high rd", "12 high rd", "flat 3 5 st johns ave", None,
    ]
    assert normalise_dob(["1980-02-03", "03/02/1980", "1980-02-03 00:00:00", "31/02/1980", None]) == [
        "1980-02-03", "1980-02-03", "1980-02-03", None, None,
    ]


def test_accepts_pandas_and_arrow() -> None:
    s = pd.Series(["07700 900123", None], dtype="string")
    assert normalise_phone(s) == ["07700900123", None]
    assert normalise_phone(pa.array(["+44 7700 900123"])) == ["07700900123"]


def test_sql_scales() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT '+44 (0)7700 ' || lpad(CAST(i AS VARCHAR), 6, '0') AS phone FROM range(1000000) r(i)")
    t = time.perf_counter()
    n = con.sql(f"SELECT count(DISTINCT {phone_sql('phone')}) FROM t").fetchall()[0][0]
    assert n == 1_000_000
    assert time.perf_counter() - t < 10


def test_normalise_identities_table() -> None:
    con = duckdb.connect()
    con.execute(
        """CREATE TABLE raw AS SELECT * FROM (VALUES
        ('r1', 'crm', ' 123 ', 'Smith, Mr John', NULL, 'J.Smith@X.com', '+44 7700 900123', 'sw1a1aa', '12 High Road', '0001234', '03/02/1980'),
        ('r2', 'web', NULL, NULL, 'Bill', 'john.smith@x.com', NULL, 'bad', NULL, NULL, NULL)
        ) v(record_id, source, customer_id, name, first_name, email, phone, postcode, address, uprn, dob)"""
    )
    normalise_identities(con, "raw", "ident")
    rows = con.sql("SELECT * FROM ident ORDER BY record_id").fetchall()
    assert rows[0] == ("r1", "crm", "crm:123", "john", "smith", "j.smith@x.com", "07700900123", "SW1A 1AA",
                       "12 high rd", "1234", "1980-02-03")
    assert rows[1] == ("r2", "web", None, "bill", None, "john.smith@x.com", None, None, None, None, None)


def test_keyed_hash() -> None:
    h = keyed_hash("crm:123", "secret")
    assert h is not None and len(h) == 16 and int(h, 16) >= 0
    assert keyed_hash("crm:123", "secret") == h
    assert keyed_hash("crm:123", "other") != h
    assert keyed_hash(None, "secret") is None
    with pytest.raises(ValueError):
        keyed_hash("x", "")
    values = [f"crm:{i}" for i in range(1_000_000)]
    t = time.perf_counter()
    out = keyed_hash_many(values, "secret")
    assert time.perf_counter() - t < 5
    assert out[123] == keyed_hash("crm:123", "secret")
    con = duckdb.connect()
    register_keyed_hash(con, "secret")
    assert con.sql("SELECT keyed_hash('crm:123'), keyed_hash(NULL)").fetchall() == [(h, None)]
