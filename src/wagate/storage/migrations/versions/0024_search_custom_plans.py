"""The knowledge search plans each call with the call's values (a fix to 0021).

0021 made `wagate_knowledge_search` PL/pgSQL so that a session parses its query once. It
assumed planning stayed per call. It does not: PL/pgSQL keeps the statement as a prepared
plan, and after five calls PostgreSQL may switch to one generic plan for every later call,
chosen without the words, their weights or the budget. For this query, whose best plan
depends entirely on which lexemes are asked and how rare they are, the generic plan was
ruinous: with 20,000 chunks `benchmarks/kb_eval.py` measured p50 145 ms and p95 530 ms on
PostgreSQL 15, against p50 3.4 ms and p95 7.3 ms with custom plans forced for the session
(same tree, same data, one run each). `plan_cache_mode = force_custom_plan` as a setting of
the function applies only while it runs: each call is planned with its own values (about
1 ms, what the SQL function spent before 0021), and the parse is still kept.

Revision ID: 0024_search_custom_plans
Revises: 0023_lean_jobs
"""

from alembic import op

revision = "0024_search_custom_plans"
down_revision = "0023_lean_jobs"
branch_labels = None
depends_on = None

_SIGNATURE = (
    "wagate_knowledge_search(text[], float8[], boolean[], text, float8, int, float8, float8, int)"
)


def upgrade() -> None:
    op.execute(f"ALTER FUNCTION {_SIGNATURE} SET plan_cache_mode = force_custom_plan")


def downgrade() -> None:
    op.execute(f"ALTER FUNCTION {_SIGNATURE} RESET plan_cache_mode")
