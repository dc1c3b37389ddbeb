"""The run's opening reads (issue 18): what the conversation's steps read before the AI call,
sent with the burst's own reads as one pipelined transaction (`Database.tenant_batch`).

Each statement here is the one its store would run on its own, keyed on the conversation
only, so it can travel with the burst; the store that owns it reads its rows from
`Burst.opening` (`RunOpening`) by the same name, and runs the statement itself when they are
absent. None of these reads locks (nor did the steps' own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wagate.storage.identity import KNOWN_SQL
from wagate.storage.sessions import LATEST_HISTORY_SQL, LATEST_SQL
from wagate.storage.vaults import LOAD_SQL

HOLD_COLUMNS = "conversation_id, held_by, reason, taken_at, last_human_at, released_at, released_by"
# The conversation's open hold, if any (storage/handover.py decides whether it is active).
OPEN_HOLD_SQL = f"""
SELECT id, {HOLD_COLUMNS} FROM conversation_holds
 WHERE conversation_id = %(conversation_id)s AND released_at IS NULL
"""


def opening_statements(
    conversation_id: int, *, history: int
) -> list[tuple[str, str, Mapping[str, Any]]]:
    """(name, SQL, parameters) of every opening read, for a conversation whose session's last
    `history` turns the prompt takes."""
    params = {"conversation_id": conversation_id, "limit": history}
    return [
        ("identity", KNOWN_SQL, params),
        ("hold", OPEN_HOLD_SQL, params),
        ("session", LATEST_SQL, params),
        ("history", LATEST_HISTORY_SQL, params),
        ("vault", LOAD_SQL, params),
    ]
