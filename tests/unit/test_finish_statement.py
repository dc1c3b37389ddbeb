"""The run's finishing statement and the burst's reads (storage/conversations.py): each is one
statement, in every shape, that psycopg converts once and keeps (issue 18: a statement past its
cache's limits is parsed for placeholders at every call)."""

from __future__ import annotations

import itertools
import re

import psycopg

import wagate.storage.database  # noqa: F401  (raises psycopg's cached statement length)
from wagate.storage.conversations import _finish_sql

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _shapes() -> list[str]:
    return [
        _finish_sql(session, turns, outbound, audit, due)
        for session, turns, outbound, audit, due in itertools.product(
            ("opened", "touched", None), *([(True, False)] * 4)
        )
        if session is not None or not turns
    ]


def test_every_shape_is_kept_by_psycopgs_statement_cache() -> None:
    limit = psycopg._queries.MAX_CACHED_STATEMENT_LENGTH
    for sql in _shapes():
        assert len(sql.encode()) <= limit
        # The parameters passed are those named plus at most a few a shape leaves unused.
        assert (
            len(set(_PLACEHOLDER.findall(sql))) + 5 <= psycopg._queries.MAX_CACHED_STATEMENT_PARAMS
        )


def test_the_largest_shape_passes_psycopgs_own_limit() -> None:
    # What the raised limit is for: without it this statement would be converted every call.
    largest = max(len(sql.encode()) for sql in _shapes())
    assert largest > 4096


def test_each_part_is_in_its_shape_and_the_due_read_comes_with_the_outbound_rows() -> None:
    full = _finish_sql("opened", True, True, True, True)
    for cte in ("session_row", "turn_rows", "outbound_rows", "run", "processed", "head", "due"):
        assert f"{cte} AS (" in full
    assert "FROM outbound_rows" in full  # the due read sees the rows the statement inserts
    bare = _finish_sql(None, False, False, False, False)
    assert "session_row" not in bare and "outbound_rows" not in bare and "due" not in bare
    assert "FROM outbound_rows" not in _finish_sql("touched", True, False, False, True)


def test_the_bursts_reads_are_one_statement_psycopg_keeps() -> None:
    from wagate.storage.conversations import (
        _LOAD_CONVERSATION_OPENING_SQL,
        _LOAD_CONVERSATION_SQL,
    )

    limit = psycopg._queries.MAX_CACHED_STATEMENT_LENGTH
    for sql in (_LOAD_CONVERSATION_SQL, _LOAD_CONVERSATION_OPENING_SQL):
        assert len(sql.encode()) <= limit
        assert len(set(_PLACEHOLDER.findall(sql))) <= psycopg._queries.MAX_CACHED_STATEMENT_PARAMS
    assert "pending ON true" in _LOAD_CONVERSATION_SQL
    assert "opening_history ON true" in _LOAD_CONVERSATION_OPENING_SQL
