"""The PostgreSQL journal's array parameters in binary (`_pg_arrays`) on a real server: every
value comes back as it was sent, NULLs and order kept (J8, J12); a value of the wrong type is
one typed error naming its column, and nothing of its batch lands (J9)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actorflow as af
from actorflow.journal import Batch, MessageRecord, PostgresJournal
from actorflow.journal._pg_arrays import ByteaArray, Float8Array, Int8Array, TextArray

from .postgres_server import PostgresServer

_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@pytest.fixture(scope="module")
def conn(postgres: PostgresServer) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(postgres.new_database(), autocommit=True) as connection:
        yield connection


def _back(conn: psycopg.Connection[Any], cast: str, array: object) -> list[Any]:
    row = conn.execute(f"SELECT %b::{cast}", (array,)).fetchone()  # type: ignore[call-overload]
    assert row is not None
    return list(row[0])


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(st.none() | _TEXT, max_size=40),
    blobs=st.lists(st.none() | st.binary(), max_size=40),
    floats=st.lists(st.floats(allow_nan=False), max_size=40),
    ints=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40),
)
def test_j12_arrays_come_back_as_sent_in_order_with_their_nulls(
    conn: psycopg.Connection[Any],
    texts: list[str | None],
    blobs: list[bytes | None],
    floats: list[float],
    ints: list[int],
) -> None:
    assert _back(conn, "text[]", TextArray(texts, "t")) == texts
    assert _back(conn, "bytea[]", ByteaArray(blobs, "b")) == blobs
    assert _back(conn, "float8[]", Float8Array(floats, "f")) == floats
    assert _back(conn, "int8[]", Int8Array(ints, "i")) == ints


@pytest.mark.parametrize(
    "texts",
    [
        ["bench.Add"] * 300,  # one value throughout: sent as one element repeated
        [None] * 300,
        ["x" * 255, "y" * 256, "z" * 70_000, "", None, "é" * 200],  # length words past the table
        ["a", "a", "b"],
    ],
)
def test_j12_repeated_and_long_values_come_back_as_sent(
    conn: psycopg.Connection[Any], texts: list[str | None]
) -> None:
    assert _back(conn, "text[]", TextArray(texts, "t")) == texts
    blobs = [None if t is None else t.encode() for t in texts]
    assert _back(conn, "bytea[]", ByteaArray(blobs, "b")) == blobs


def test_j12_text_goes_in_the_connections_client_encoding(postgres: PostgresServer) -> None:
    """The server reads a binary text element in the connection's client encoding: on a
    LATIN1 connection text is encoded in it (one value repeated too), and a value it cannot
    hold is one error naming its column and position."""
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True, options="-c client_encoding=LATIN1") as latin:
        encoding = latin.info.encoding
        assert encoding != "utf-8"
        for texts in (["é", None, "ab"], ["é"] * 3, [None, "ü"]):
            assert _back(latin, "text[]", TextArray(texts, "t")) == texts
        with pytest.raises(
            psycopg.DataError,
            match=rf"^t #1 of a text\[\] parameter cannot be encoded in {encoding}",
        ):
            _back(latin, "text[]", TextArray(["a", "€"], "t"))


def test_j12_unnest_with_ordinality_keeps_the_order_sent(conn: psycopg.Connection[Any]) -> None:
    ids = [f"m{i}" for i in range(300, 0, -1)]
    rows = conn.execute(
        "SELECT v, n FROM unnest(%b::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
        (TextArray(ids, "id"),),
    ).fetchall()
    assert [v for v, _ in rows] == ids


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("bad", "said"),
    [
        (
            MessageRecord(id=5, recipient="a", type="Add", body=b"x"),  # type: ignore[arg-type]
            "messages.id #1 of a text[] parameter is int 5, not str or None",
        ),
        (
            MessageRecord(id="m2", recipient="a", type="Add", body="text"),  # type: ignore[arg-type]
            "messages.body #1 of a bytea[] parameter is str 'text', not bytes or None",
        ),
        (
            MessageRecord(id="m2", recipient="a", type="Add", body=b"x", created_at="now"),  # type: ignore[arg-type]
            "messages.created_at #1 of a float8[] parameter is str 'now', not a float",
        ),
        (
            MessageRecord(id="m2", recipient="a", type="Add", body=b"x", attempts=2**64),
            "messages.attempts #1 of a bigint[] parameter is int 18446744073709551616",
        ),
        (
            MessageRecord(id="m2", recipient="a\udc80", type="Add", body=b"x"),
            "messages.recipient #1 of a text[] parameter cannot be encoded in utf-8",
        ),
    ],
)
async def test_j9_a_value_of_the_wrong_type_is_one_error_naming_its_column(
    postgres: PostgresServer, bad: MessageRecord, said: str
) -> None:
    backend = PostgresJournal(postgres.new_database())
    await backend.open()
    try:
        good = MessageRecord(id="m1", recipient="a", type="Add", body=b"1")
        with pytest.raises(af.JournalError) as raised:
            await backend.write(Batch(appends=[good, bad]))
        assert said in str(raised.value)
        assert await backend.pending() == []  # nothing of the batch landed
        (seq,) = await backend.write(Batch(appends=[good]))  # and the writer carries on
        assert seq is not None
    finally:
        await backend.close()
