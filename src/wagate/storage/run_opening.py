"""The run's opening reads (issue 18): what the conversation's steps read before the AI call,
sent with the burst's own reads as one pipelined transaction (`Database.tenant_batch`).

Each statement here is the one its store would run on its own, keyed on the conversation
only, so it can travel with the burst; the store that owns it reads its rows from
`Burst.opening` (`RunOpening`) by the same name, and runs the statement itself when they are
absent. None of these reads locks (nor did the steps' own).

The reads that find at most one row (a primary key, a unique index or LIMIT 1 says so) are not
statements of their own: each is joined to the conversation's row as a derived table, its
columns named `<read>:<column>` beside a `<read>:` marker that is true when it found its row,
and `single_rows` gives each read back its rows (issue 18: each statement of the batch cost the
worker a dispatch, whatever it read). The history, many rows, is joined as one row of arrays
(a column per turn column, in the statement's order), which `history_rows` turns back into
its rows: the burst's reads are then one statement, sent alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wagate.storage.identity import KNOWN_COLUMNS, KNOWN_SQL
from wagate.storage.sessions import LATEST_HISTORY_SQL, LATEST_SQL, NEW_SESSION_SQL
from wagate.storage.vaults import LOAD_SQL

HOLD_COLUMNS = "conversation_id, held_by, reason, taken_at, last_human_at, released_at, released_by"
# The conversation's open hold, if any (storage/handover.py decides whether it is active).
OPEN_HOLD_SQL = f"""
SELECT id, {HOLD_COLUMNS} FROM conversation_holds
 WHERE conversation_id = %(conversation_id)s AND released_at IS NULL
"""


# name -> (its statement, its columns): the reads of at most one row. `identity`: one
# conversation, its one contact, the one account linked to the contact's phone (unique per
# tenant); `hold`: the open one (`conversation_holds_open` is unique); `session`: LIMIT 1;
# `vault`: keyed on the conversation; `new_session`: one id or none (`%(session_fresh_since)s`).
SINGLE_ROW_READS: dict[str, tuple[str, tuple[str, ...]]] = {
    "identity": (KNOWN_SQL, KNOWN_COLUMNS),
    "hold": (OPEN_HOLD_SQL, ("id", *(c.strip() for c in HOLD_COLUMNS.split(",")))),
    "session": (LATEST_SQL, ("id", "last_activity_at", "disclosed_at")),
    "vault": (LOAD_SQL, ("vault",)),
    "new_session": (NEW_SESSION_SQL, ("id",)),
}


def _alias(name: str) -> str:
    return f"opening_{name}"


def single_row_columns() -> str:
    """The select list that adds every single-row read to the conversation's row."""
    columns = []
    for name, (_, names) in SINGLE_ROW_READS.items():
        alias = _alias(name)
        columns.append(f'{alias}.found AS "{name}:"')
        columns += [f'{alias}.{column} AS "{name}:{column}"' for column in names]
    return ",\n       ".join(columns)


def single_row_joins() -> str:
    """The derived tables of the single-row reads, each joined whether or not it finds one
    (their statements take `%(conversation_id)s`)."""
    return "\n".join(
        f"  LEFT JOIN (SELECT true AS found, r.* FROM ({sql.strip()}) r) {_alias(name)} ON true"
        for name, (sql, _) in SINGLE_ROW_READS.items()
    )


def single_rows(row: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Each single-row read's rows (none or one), out of the conversation's row."""
    return {
        name: [{column: row[f"{name}:{column}"] for column in names}] if row[f"{name}:"] else []
        for name, (_, names) in SINGLE_ROW_READS.items()
    }


# `LATEST_HISTORY_SQL`'s columns, each aggregated in its order (newest first, by the turn's id).
_HISTORY_COLUMNS = ("role", "content", "run_key")


def history_columns() -> str:
    """The select list that adds the history's arrays to the conversation's row."""
    return ", ".join(
        f'opening_history.{column} AS "history:{column}"' for column in _HISTORY_COLUMNS
    )


def history_join() -> str:
    """The history as one row of arrays, joined whether or not there is any (NULLs then;
    `LATEST_HISTORY_SQL` takes `%(conversation_id)s` and `%(limit)s`)."""
    aggregates = ", ".join(
        f"array_agg(h.{column} ORDER BY h.id DESC) AS {column}" for column in _HISTORY_COLUMNS
    )
    return (
        f"  LEFT JOIN LATERAL (SELECT {aggregates} FROM ({LATEST_HISTORY_SQL.strip()}) h)"
        " opening_history ON true"
    )


def history_rows(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The history's rows (as `LATEST_HISTORY_SQL` returns them), out of the conversation's row."""
    columns = [row[f"history:{column}"] or () for column in _HISTORY_COLUMNS]
    return [
        dict(zip(_HISTORY_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)
    ]
