"""Who may be written to (the pipeline's `RecipientCheck`): not a contact who opted out.

The number is looked up by its blind-index digest, as a contact's phone (and as its BSUID, for
a contact Meta names only that way); the number itself is not in the database."""

from __future__ import annotations

from wagate.domain.consent import OPTED_OUT, ConsentState
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.database import Database

# The rule, as a condition another read can carry (`PostgresOutbox.due`), with the parameters
# `OptOuts.lookup` gives.
OPTED_OUT_EXISTS = """EXISTS (
SELECT 1 FROM contacts
 WHERE tenant = %(tenant)s AND consent_state = %(withdrawn)s
   AND (phone = %(phone)s OR user_id = %(user_id)s)
)"""
_OPTED_OUT_SQL = f"SELECT {OPTED_OUT_EXISTS} AS opted_out"


class OptOuts:
    def __init__(self, database: Database, indexer: Indexer, tenant: str) -> None:
        self._database = database
        self._indexer = indexer
        self._tenant = tenant

    async def refusal(self, number: str) -> str | None:
        """`OPTED_OUT` when the contact with this number (or BSUID) opted out, else None."""
        rows = await self._database.tenant_rows(self._tenant, _OPTED_OUT_SQL, self.lookup(number))
        return refusal_of(bool(rows[0]["opted_out"]))

    def lookup(self, number: str) -> dict[str, str | None]:
        """The parameters of `OPTED_OUT_EXISTS` for this number."""
        return {
            "tenant": self._tenant,
            "withdrawn": ConsentState.WITHDRAWN.value,
            "phone": self._digest(number, blind.PHONE),
            "user_id": self._digest(number, blind.USER_ID),
        }

    def _digest(self, value: str, purpose: str) -> str | None:
        """None for a value with nothing to index under `purpose` (a sender id a provider gave
        that holds no digit has no phone digest): it matches no contact that way, and the
        provider judges the send, instead of this check failing the job on every retry."""
        try:
            return self._indexer.digest(value, purpose=purpose)
        except ValueError:
            return None


def refusal_of(opted_out: bool) -> str | None:
    return OPTED_OUT if opted_out else None
