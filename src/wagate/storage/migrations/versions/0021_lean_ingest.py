"""PostgreSQL's share per answered message (issue 18): the knowledge search, cached and skipped.

`wagate_knowledge_search` (0011) was a `LANGUAGE sql` function. PostgreSQL (before 18) parses,
analyses and plans the body of such a function at every call (it cannot inline it: SECURITY
DEFINER, SET clauses), and its body is one large statement. On PostgreSQL 15, with an empty
knowledge base: 3.1 ms of execution per call in pg_stat_statements during `answer_cpu.py`
(planning its body 1.3 ms of it), 1.3 ms of backend CPU per call measured alone. It runs once
per answered message and was the largest single statement of an answer (benchmarks/README.md).

Now `LANGUAGE plpgsql`, same arguments, result, security and settings, the same query as
0011 in `RETURN QUERY`:

* PL/pgSQL keeps the parsed statement for the session (a connection's later calls skip
  parsing and analysis; planning stays per call, with the call's values, as before).
* A tenant with no searchable words (`knowledge_lexemes` empty for it: no document, or none
  read yet) returns at once: with no lexeme, every branch of the query is empty, so the
  result is the same empty set, found by one index probe (0.25-0.3 ms per call, client included).

`#variable_conflict use_column`: in PL/pgSQL the result columns (`id`, `topic`, `text`, …)
are variables too; every such name in the query means the table's column, as it did in SQL.
CREATE OR REPLACE keeps the function's owner and grants.

Revision ID: 0021_lean_ingest
Revises: 0020_outbound_files
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0021_lean_ingest"
down_revision = "0020_outbound_files"
branch_labels = None
depends_on = None


def _revision_0011() -> ModuleType:
    """0011's module (its name starts with a digit: not importable by a plain import)."""
    path = Path(__file__).with_name("0011_knowledge_vocabulary.py")
    spec = importlib.util.spec_from_file_location("wagate_migration_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_EARLY_RETURN = """
    IF NOT EXISTS (SELECT 1 FROM knowledge_lexemes k
                    WHERE k.tenant = current_setting('wagate.tenant', true)) THEN
        RETURN;  -- nothing to match: the query below would return no row
    END IF;
"""


def _plpgsql_search(sql_function: str) -> str:
    """0011's definition as PL/pgSQL: its header (language changed) and its query, unchanged,
    after the early return."""
    head, rest = sql_function.split("AS $search$", 1)
    query = rest.rsplit("$search$", 1)[0].rstrip().rstrip(";")
    head = head.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
    head = head.replace("LANGUAGE sql STABLE", "LANGUAGE plpgsql STABLE", 1)
    assert "CREATE OR REPLACE FUNCTION" in head and "LANGUAGE plpgsql" in head
    return (
        head
        + "AS $search$\n#variable_conflict use_column\nBEGIN"
        + _EARLY_RETURN
        + "    RETURN QUERY"
        + query
        + ";\nEND\n$search$"
    )


def upgrade() -> None:
    op.execute(_plpgsql_search(_revision_0011()._SEARCH))


def downgrade() -> None:
    sql_function = _revision_0011()._SEARCH.replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1
    )
    op.execute(sql_function)
