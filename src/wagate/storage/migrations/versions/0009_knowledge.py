"""The knowledge base (issue 13, AI3): each tenant's documents, their chunks, and their words.

* `knowledge_documents` — one row per source (a file of the knowledge folder, an uploaded
  file, a web page), unique per tenant by `source` (its file name or URL): adding it again
  replaces it. `content_hash` lets a folder refresh skip what has not changed; `status` is
  `failed` (with `error`) for a folder file that could not be read, so the listing says why.
* `knowledge_chunks` — the document cut along its structure; `heading` (title and section
  path) and `body` are the normalised text (chat words expanded, lower case) that search
  reads, `tsv` their `indonesian` full-text vector (heading weighted A, body B), kept by
  PostgreSQL itself (a generated column); `text` and `section` are what a passage shows.
  A trigram index on `heading` serves similarity on section names.
* `knowledge_words` — each document's distinct words, with a trigram index: a misspelt word
  of a question ("percerain") is matched to the nearest word the documents use.
* `knowledge_lexemes` — per document, how many of its chunks hold each stemmed lexeme: the
  document frequencies that weight rare words above common ones (IDF) at search time.
* `knowledge_embeddings` — only where the `vector` extension (pgvector) is available: one
  embedding per chunk, for the optional vector ranking. Without it the table does not exist
  and search uses words alone.

Every table has a `tenant` column and the row-level security policy of 0008.

Revision ID: 0009_knowledge
Revises: 0008_row_level_security
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_knowledge"
down_revision = "0008_row_level_security"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"
TABLES = (
    "knowledge_documents",
    "knowledge_chunks",
    "knowledge_words",
    "knowledge_lexemes",
)
EMBEDDINGS = "knowledge_embeddings"

_TSV = (
    "setweight(to_tsvector('indonesian'::regconfig, heading), 'A') || "
    "setweight(to_tsvector('indonesian'::regconfig, body), 'B')"
)

# The search of storage/knowledge.py (its docstring explains the steps), as a function. It is
# SECURITY DEFINER because under row-level security PostgreSQL will not use an index whose
# operator is not leakproof (`@@`, pg_trgm's `%`) before the policy's filter: the gateway's
# role would scan every chunk. The function is bound to the transaction's tenant exactly as
# the policies are (every table is filtered on `current_setting('wagate.tenant', true)`; no
# tenant set, no rows), so it shows a caller nothing the policies would hide. Tuning values
# are parameters: changing them needs no migration. Sequential scans are off inside it: the
# planner does not know how costly similarity() and a tsvector match are per row and, on a
# small vocabulary, scans it all (8 ms a word at 20,000 chunks) where the trigram and
# full-text indexes take under 3 ms. pg_trgm's `%` takes words at least 0.5 similar (its
# index prunes the rest early); `p_min_similarity` below 0.5 therefore changes nothing.
SEARCH_FUNCTION = "wagate_knowledge_search(text[], boolean[], text, float8, float8, float8, int)"
_SEARCH = """
CREATE FUNCTION wagate_knowledge_search(
    p_words text[], p_generic boolean[], p_question text, p_min_similarity float8,
    p_common_share float8, p_heading_bonus float8, p_candidates int)
RETURNS TABLE (id bigint, matched float8, specific float8, specific_count bigint,
               in_heading float8,
               specific_weight float8, mean_weight float8, unknown_words bigint,
               matches text[], heading_similarity float8, document_id bigint, section text,
               text text, source text, title text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
SET enable_seqscan = off
SET pg_trgm.similarity_threshold = 0.5
AS $search$
    WITH asked AS (
      SELECT w, generic FROM unnest(p_words, p_generic) AS a(w, generic)
    ), fixed AS (
      SELECT a.w AS asked, a.generic,
             CASE WHEN known.yes THEN a.w ELSE m.word END AS word,
             CASE WHEN known.yes THEN 1.0 ELSE m.sim END AS sim
        FROM asked a
        CROSS JOIN LATERAL (
          SELECT EXISTS (
            SELECT 1 FROM knowledge_lexemes k
             WHERE k.tenant = {tenant}
               AND k.lexeme = ANY (tsvector_to_array(to_tsvector('indonesian', a.w)))
          ) AS yes
        ) known
        LEFT JOIN LATERAL (
          SELECT k.word, similarity(k.word, a.w) AS sim FROM knowledge_words k
           -- only topic words of 4 letters or more are worth a fuzzy look-up
           WHERE NOT known.yes AND NOT a.generic AND length(a.w) >= 4
             AND k.tenant = {tenant} AND k.word % a.w
           ORDER BY sim DESC, k.word LIMIT 1
        ) m ON m.sim >= p_min_similarity
    ), lexemes AS (
      SELECT l.lexeme, max(f.sim) AS sim, bool_and(f.generic) AS generic
        FROM fixed f CROSS JOIN LATERAL
             unnest(tsvector_to_array(to_tsvector('indonesian', f.word))) AS l(lexeme)
       WHERE f.word IS NOT NULL
       GROUP BY l.lexeme
    ), total AS (
      SELECT greatest(coalesce(sum(chunks), 0), 1)::float8 AS n
        FROM knowledge_documents WHERE tenant = {tenant} AND status = 'ready'
    ), weighted AS (
      SELECT x.lexeme, d.df, x.generic,
             x.sim * ln(1 + (t.n - d.df + 0.5) / (d.df + 0.5)) AS w,
             quote_literal(x.lexeme)::tsquery AS q,
             (quote_literal(x.lexeme) || ':' || 'A')::tsquery AS qa,  -- in a heading
             d.df <= greatest(t.n * p_common_share, 1) AS selective
        FROM lexemes x CROSS JOIN total t
        CROSS JOIN LATERAL (
          SELECT coalesce(sum(k.chunks), 0)::float8 AS df FROM knowledge_lexemes k
           WHERE k.tenant = {tenant} AND k.lexeme = x.lexeme
        ) d
       WHERE d.df > 0
    ), picked AS (
      SELECT coalesce(
               (SELECT string_agg(quote_literal(lexeme), ' | ') FROM weighted WHERE selective),
               (SELECT string_agg(quote_literal(lexeme), ' | ') FROM weighted)
             )::tsquery AS q
    ), candidates AS MATERIALIZED (  -- scored below, never re-searched per lexeme
      SELECT c.id, c.tsv FROM knowledge_chunks c, picked p
       WHERE c.tenant = {tenant} AND p.q IS NOT NULL AND c.tsv @@ p.q
    ), hits AS (  -- each (chunk, lexeme) it holds, tested once
      SELECT c.id, w.w, w.generic, c.tsv @@ w.qa AS in_heading
        FROM candidates c JOIN weighted w ON c.tsv @@ w.q
    ), scored AS (
      SELECT h.id, sum(h.w) AS matched,
             coalesce(sum(h.w) FILTER (WHERE NOT h.generic), 0) AS specific,
             count(*) FILTER (WHERE NOT h.generic) AS specific_count,
             coalesce(sum(h.w) FILTER (WHERE h.in_heading), 0) AS in_heading
        FROM hits h
       GROUP BY h.id
       ORDER BY sum(h.w) + p_heading_bonus * coalesce(sum(h.w) FILTER (WHERE h.in_heading), 0)
                DESC, h.id
       LIMIT p_candidates
    ), question AS (
      SELECT coalesce((SELECT sum(w) FROM weighted WHERE NOT generic), 0) AS specific_weight,
             (SELECT avg(w) FROM weighted) AS mean_weight,
             (SELECT count(*) FROM fixed WHERE word IS NULL AND NOT generic) AS unknown_words,
             (SELECT array_agg(asked || '>' || coalesce(word, '?')) FROM fixed) AS matches
    )
    SELECT s.id, s.matched::float8, s.specific::float8, s.specific_count::bigint,
           s.in_heading::float8,
           q.specific_weight::float8, q.mean_weight::float8, q.unknown_words::bigint, q.matches,
           word_similarity(c.heading, p_question)::float8,
           c.document_id, c.section, c.text, d.source, d.title
      FROM scored s CROSS JOIN question q
      JOIN knowledge_chunks c ON c.id = s.id
      JOIN knowledge_documents d ON d.id = c.document_id
     ORDER BY s.matched + p_heading_bonus * s.in_heading DESC, s.id
$search$
""".replace("{tenant}", "current_setting('wagate.tenant', true)")


def _secure(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {POLICY} ON {table} USING ({_MATCH}) WITH CHECK ({_MATCH})")


def _document_id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "document_id",
        sa.BigInteger,
        sa.ForeignKey("knowledge_documents.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "knowledge_documents",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("content_hash", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="ready"),
        sa.Column("error", sa.Text),
        sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "source", name="knowledge_documents_source"),
        sa.CheckConstraint(
            "origin IN ('folder', 'file', 'upload', 'url')", name="knowledge_documents_origin"
        ),
        sa.CheckConstraint("status IN ('ready', 'failed')", name="knowledge_documents_status"),
    )
    op.create_table(
        "knowledge_chunks",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("tenant", sa.Text, nullable=False),
        _document_id(),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("section", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("heading", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("tsv", sa.dialects.postgresql.TSVECTOR, sa.Computed(_TSV, persisted=True)),
    )
    op.create_index("knowledge_chunks_document", "knowledge_chunks", ["document_id"])
    op.create_index("knowledge_chunks_tsv", "knowledge_chunks", ["tsv"], postgresql_using="gin")
    op.execute(
        "CREATE INDEX knowledge_chunks_heading_trgm ON knowledge_chunks"
        " USING gin (heading gin_trgm_ops)"
    )
    op.create_table(
        "knowledge_words",
        sa.Column("tenant", sa.Text, nullable=False),
        _document_id(),
        sa.Column("word", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("document_id", "word"),
    )
    # Only the trigram index: a b-tree on (tenant, word) would tempt the planner to scan a
    # tenant's whole vocabulary and filter it by similarity.
    op.execute("CREATE INDEX knowledge_words_trgm ON knowledge_words USING gin (word gin_trgm_ops)")
    op.create_table(
        "knowledge_lexemes",
        sa.Column("tenant", sa.Text, nullable=False),
        _document_id(),
        sa.Column("lexeme", sa.Text, nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("document_id", "lexeme"),
    )
    op.execute("CREATE INDEX knowledge_lexemes_lexeme ON knowledge_lexemes (tenant, lexeme)")
    for table in TABLES:
        _secure(table)
    op.execute(_SEARCH)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC")
    _embeddings_if_possible()


def _embeddings_if_possible() -> None:
    """pgvector is optional: the embeddings table exists only where the extension does."""
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if available is None:
        return
    try:
        with bind.begin_nested():
            bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError:
        return  # installed but not creatable by this role: search works on words alone
    op.execute(
        f"CREATE TABLE {EMBEDDINGS} ("
        " chunk_id bigint PRIMARY KEY REFERENCES knowledge_chunks (id) ON DELETE CASCADE,"
        " tenant text NOT NULL,"
        " document_id bigint NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,"
        " model text NOT NULL,"
        " embedding vector NOT NULL)"
    )
    op.execute(f"CREATE INDEX {EMBEDDINGS}_document ON {EMBEDDINGS} (document_id)")
    _secure(EMBEDDINGS)


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SEARCH_FUNCTION}")
    op.execute(f"DROP TABLE IF EXISTS {EMBEDDINGS}")
    op.drop_table("knowledge_lexemes")
    op.drop_table("knowledge_words")
    op.drop_table("knowledge_chunks")
    op.drop_table("knowledge_documents")
