"""The knowledge search, third version: spelling look-ups in one vocabulary per tenant.

A misspelt question word ("percerain") is matched to the nearest word the tenant's documents
use, by pg_trgm similarity. 0009 kept each document's distinct words (`knowledge_words`, for
removing them with the document), so a word every document uses is there once per document,
and the trigram index's posting lists grow with the number of documents, not with the
vocabulary: at 20,000 chunks in 111 documents, 54,705 rows for 1,791 distinct words, and the
look-up was most of a slow search's time (10-30 ms a word on a busy machine).

* `knowledge_vocabulary` — each tenant's distinct words, with how many of its documents use
  each; a trigram index on `word`. Kept by triggers on `knowledge_words` (statement-level,
  with transition tables), so every way a document's words come and go (adding, replacing,
  removing, the cascade from `knowledge_documents`, erasing a tenant) keeps it exact; a word
  no document uses any more is deleted. Its key is (word, tenant), not (tenant, word): a
  b-tree led by the tenant would tempt the planner to scan a tenant's whole vocabulary and
  filter it by similarity (see 0009). Row-level security like every tenant table.
* `wagate_knowledge_search` (same arguments and result as 0010) looks misspellings up there,
  with the trigram index threshold at the look-up's own floor (0.6, `MIN_WORD_SIMILARITY`)
  instead of 0.5, so the index prunes what the look-up would throw away.
  `p_min_similarity` below 0.6 therefore changes nothing.
* The folder's documents are marked to be read again at the next refresh: the normaliser
  that writes their searchable text changed with this revision.

Revision ID: 0011_knowledge_vocabulary
Revises: 0010_knowledge_search_scope
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0011_knowledge_vocabulary"
down_revision = "0010_knowledge_search_scope"
branch_labels = None
depends_on = None

POLICY = "tenant_isolation"
_MATCH = "tenant = current_setting('wagate.tenant', true)"
SEARCH_FUNCTION = (
    "wagate_knowledge_search(text[], float8[], boolean[], text, float8, int, float8, float8, int)"
)

# Runs as whoever changes knowledge_words (the gateway's role, under row-level security):
# the rows it counts carry their tenant, which is the transaction's own.
_TRIGGERS = """
CREATE FUNCTION wagate_knowledge_vocabulary_added() RETURNS trigger
LANGUAGE plpgsql AS $added$
BEGIN
    INSERT INTO knowledge_vocabulary AS v (word, tenant, documents)
    SELECT word, tenant, count(*) FROM added GROUP BY word, tenant
    ON CONFLICT (word, tenant) DO UPDATE SET documents = v.documents + EXCLUDED.documents;
    RETURN NULL;
END
$added$;

CREATE FUNCTION wagate_knowledge_vocabulary_removed() RETURNS trigger
LANGUAGE plpgsql AS $removed$
BEGIN
    UPDATE knowledge_vocabulary v SET documents = v.documents - r.n
      FROM (SELECT word, tenant, count(*) AS n FROM removed GROUP BY word, tenant) r
     WHERE v.word = r.word AND v.tenant = r.tenant;
    DELETE FROM knowledge_vocabulary v
     USING (SELECT DISTINCT word, tenant FROM removed) r
     WHERE v.word = r.word AND v.tenant = r.tenant AND v.documents <= 0;
    RETURN NULL;
END
$removed$;

CREATE TRIGGER knowledge_words_added AFTER INSERT ON knowledge_words
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION wagate_knowledge_vocabulary_added();
CREATE TRIGGER knowledge_words_removed AFTER DELETE ON knowledge_words
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION wagate_knowledge_vocabulary_removed();
"""

_SEARCH = """
CREATE FUNCTION wagate_knowledge_search(
    p_words text[], p_topic float8[], p_fuzzy boolean[], p_question text,
    p_min_similarity float8, p_budget int, p_common_share float8, p_heading_bonus float8,
    p_candidates int)
RETURNS TABLE (id bigint, matched float8, topic float8, topic_count float8, rarest float8,
               in_heading float8,
               topic_weight float8, absent_weight float8, matches text[],
               heading_similarity float8, document_id bigint, section text, text text,
               source text, title text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
SET enable_seqscan = off
SET work_mem = '16MB'
SET pg_trgm.similarity_threshold = 0.6
AS $search$
    WITH asked AS (
      SELECT w, topic, fuzzy FROM unnest(p_words, p_topic, p_fuzzy) AS a(w, topic, fuzzy)
    ), fixed AS (
      SELECT a.w AS asked, a.topic,
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
          SELECT k.word, similarity(k.word, a.w) AS sim FROM knowledge_vocabulary k
           WHERE NOT known.yes AND a.fuzzy
             AND k.tenant = {tenant} AND k.word % a.w
           ORDER BY sim DESC, k.word LIMIT 1
        ) m ON m.sim >= p_min_similarity
    ), lexemes AS (
      SELECT l.lexeme, max(f.sim) AS sim, max(f.topic) AS topic
        FROM fixed f CROSS JOIN LATERAL
             unnest(tsvector_to_array(to_tsvector('indonesian', f.word))) AS l(lexeme)
       WHERE f.word IS NOT NULL
       GROUP BY l.lexeme
    ), total AS (
      SELECT greatest(coalesce(sum(chunks), 0), 1)::float8 AS n
        FROM knowledge_documents WHERE tenant = {tenant} AND status = 'ready'
    ), weighted AS MATERIALIZED (
      SELECT x.lexeme, x.topic, d.df,
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
    ), ranked AS (  -- selective lexemes, rarest first, with the chunks they find so far
      SELECT lexeme, df, row_number() OVER (ORDER BY w DESC, lexeme) AS rank,
             sum(df) OVER (ORDER BY w DESC, lexeme) AS found
        FROM weighted WHERE selective
    ), picked AS (  -- the rarest lexemes select while the chunks they find stay within
                    -- p_budget; when even the rarest finds more, the chunks holding it and
                    -- one of the others (or, the only word, in a heading); when none is
                    -- selective, the chunks holding them all.
                    -- All of the lexemes score.
      SELECT coalesce(
               (SELECT string_agg(quote_literal(lexeme), ' | ') FROM ranked
                 WHERE found <= p_budget),
               (SELECT quote_literal(lexeme) || coalesce(
                         ' & (' || (SELECT string_agg(quote_literal(o.lexeme), ' | ')
                                      FROM weighted o WHERE o.lexeme <> r.lexeme) || ')',
                         ':' || 'A')  -- the only word: in the title or section path
                  FROM ranked r WHERE rank = 1),
               (SELECT string_agg(quote_literal(lexeme), ' & ') FROM weighted)
             )::tsquery AS q
    ), candidates AS MATERIALIZED (  -- scored below, never re-searched per lexeme
      SELECT c.id, c.tsv FROM knowledge_chunks c, picked p
       WHERE c.tenant = {tenant} AND p.q IS NOT NULL AND c.tsv @@ p.q
    ), hits AS (  -- each (chunk, lexeme) it holds, tested once
      SELECT c.id, w.w, w.topic, c.tsv @@ w.qa AS in_heading
        FROM candidates c JOIN weighted w ON c.tsv @@ w.q
    ), scored AS (
      SELECT h.id, sum(h.w) AS matched, sum(h.w * h.topic) AS topic,
             sum(h.topic) AS topic_count,
             coalesce(max(h.w) FILTER (WHERE h.topic > 0), 0) AS rarest,
             coalesce(sum(h.w) FILTER (WHERE h.in_heading), 0) AS in_heading
        FROM hits h
       GROUP BY h.id
       ORDER BY sum(h.w) + p_heading_bonus * coalesce(sum(h.w) FILTER (WHERE h.in_heading), 0)
                DESC, h.id
       LIMIT p_candidates
    ), question AS (
      SELECT coalesce((SELECT sum(w * topic) FROM weighted), 0) AS topic_weight,
             (SELECT ln(1 + (n - 0.5) / 1.5) FROM total) AS absent_weight,
             (SELECT array_agg(asked || '>' || coalesce(word, '?')) FROM fixed) AS matches
    )
    SELECT s.id, s.matched::float8, s.topic::float8, s.topic_count::float8, s.rarest::float8,
           s.in_heading::float8, q.topic_weight::float8, q.absent_weight::float8, q.matches,
           word_similarity(c.heading, p_question)::float8,
           c.document_id, c.section, c.text, d.source, d.title
      FROM scored s CROSS JOIN question q
      JOIN knowledge_chunks c ON c.id = s.id
      JOIN knowledge_documents d ON d.id = c.document_id
     ORDER BY s.matched + p_heading_bonus * s.in_heading DESC, s.id
$search$
""".replace("{tenant}", "current_setting('wagate.tenant', true)")


def upgrade() -> None:
    op.execute(
        "CREATE TABLE knowledge_vocabulary ("
        " word text NOT NULL,"
        " tenant text NOT NULL,"
        " documents integer NOT NULL,"
        " PRIMARY KEY (word, tenant))"
    )
    op.execute(
        "CREATE INDEX knowledge_vocabulary_trgm ON knowledge_vocabulary"
        " USING gin (word gin_trgm_ops)"
    )
    op.execute("ALTER TABLE knowledge_vocabulary ENABLE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY {POLICY} ON knowledge_vocabulary USING ({_MATCH}) WITH CHECK ({_MATCH})"
    )
    op.execute(
        "INSERT INTO knowledge_vocabulary (word, tenant, documents)"
        " SELECT word, tenant, count(*) FROM knowledge_words GROUP BY word, tenant"
    )
    op.execute(_TRIGGERS)
    # The chat normaliser that writes a chunk's searchable `heading` and `body` changed with
    # this revision (spoken verb forms, possessives): the folder's documents are read again
    # at the next refresh, which compares content hashes. (Uploads and web pages keep their
    # text until added again; what they lack is only the rare chat form in a document.)
    op.execute("UPDATE knowledge_documents SET content_hash = '' WHERE origin = 'folder'")
    op.execute(f"DROP FUNCTION {SEARCH_FUNCTION}")
    op.execute(_SEARCH)
    # The app role keeps EXECUTE through the owner's default privileges (storage/roles.py).
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SEARCH_FUNCTION}")
    op.execute(_revision_0010()._SEARCH)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC")
    op.execute("DROP TRIGGER knowledge_words_added ON knowledge_words")
    op.execute("DROP TRIGGER knowledge_words_removed ON knowledge_words")
    op.execute("DROP FUNCTION wagate_knowledge_vocabulary_added()")
    op.execute("DROP FUNCTION wagate_knowledge_vocabulary_removed()")
    op.execute("DROP TABLE knowledge_vocabulary")


def _revision_0010() -> ModuleType:
    """0010's module (its name starts with a digit: not importable by a plain import)."""
    path = Path(__file__).with_name("0010_knowledge_search_scope.py")
    spec = importlib.util.spec_from_file_location("wagate_migration_0010", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
