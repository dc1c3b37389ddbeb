"""The knowledge search, fourth version: it says which of the question's lexemes each
candidate holds, so the out-of-scope rule can ask *which* words a passage shares with the
question, not only how much they weigh together.

Same arguments as 0011 and the same columns, plus:

* per candidate chunk, `hits` (the question's lexemes it holds) and `heading_hits` (those
  of them in its title or section path);
* per question (the same on every row), `lexemes` with their `lexeme_weights` (IDF over the
  tenant's chunks times the spelling match's similarity) and `lexeme_topics` (topic
  weight), heaviest first.

The ranking and the candidates are unchanged; the arrays are built from rows the function
already reads (a few dozen lexemes per chunk at most), so the cost is a few array
aggregates.

Revision ID: 0020_kbtune3_search_evidence
Revises: 0019_media
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0020_kbtune3_search_evidence"
down_revision = "0019_media"
branch_labels = None
depends_on = None

SEARCH_FUNCTION = (
    "wagate_knowledge_search(text[], float8[], boolean[], text, float8, int, float8, float8, int)"
)

_SEARCH = """
CREATE FUNCTION wagate_knowledge_search(
    p_words text[], p_topic float8[], p_fuzzy boolean[], p_question text,
    p_min_similarity float8, p_budget int, p_common_share float8, p_heading_bonus float8,
    p_candidates int)
RETURNS TABLE (id bigint, matched float8, topic float8, topic_count float8, rarest float8,
               in_heading float8,
               topic_weight float8, absent_weight float8, matches text[],
               heading_similarity float8, document_id bigint, section text, text text,
               source text, title text, hits text[], heading_hits text[], lexemes text[],
               lexeme_weights float8[], lexeme_topics float8[])
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
      SELECT c.id, w.lexeme, w.w, w.topic, c.tsv @@ w.qa AS in_heading
        FROM candidates c JOIN weighted w ON c.tsv @@ w.q
    ), scored AS (
      SELECT h.id, sum(h.w) AS matched, sum(h.w * h.topic) AS topic,
             sum(h.topic) AS topic_count,
             coalesce(max(h.w) FILTER (WHERE h.topic > 0), 0) AS rarest,
             coalesce(sum(h.w) FILTER (WHERE h.in_heading), 0) AS in_heading,
             array_agg(h.lexeme ORDER BY h.lexeme) AS hits,
             coalesce(array_agg(h.lexeme ORDER BY h.lexeme) FILTER (WHERE h.in_heading),
                      '{}') AS heading_hits
        FROM hits h
       GROUP BY h.id
       ORDER BY sum(h.w) + p_heading_bonus * coalesce(sum(h.w) FILTER (WHERE h.in_heading), 0)
                DESC, h.id
       LIMIT p_candidates
    ), question AS (
      SELECT coalesce((SELECT sum(w * topic) FROM weighted), 0) AS topic_weight,
             (SELECT ln(1 + (n - 0.5) / 1.5) FROM total) AS absent_weight,
             (SELECT array_agg(asked || '>' || coalesce(word, '?')) FROM fixed) AS matches,
             (SELECT array_agg(lexeme ORDER BY w DESC, lexeme) FROM weighted) AS lexemes,
             (SELECT array_agg(w ORDER BY w DESC, lexeme) FROM weighted) AS lexeme_weights,
             (SELECT array_agg(topic ORDER BY w DESC, lexeme) FROM weighted) AS lexeme_topics
    )
    SELECT s.id, s.matched::float8, s.topic::float8, s.topic_count::float8, s.rarest::float8,
           s.in_heading::float8, q.topic_weight::float8, q.absent_weight::float8, q.matches,
           word_similarity(c.heading, p_question)::float8,
           c.document_id, c.section, c.text, d.source, d.title, s.hits, s.heading_hits,
           q.lexemes, q.lexeme_weights::float8[], q.lexeme_topics::float8[]
      FROM scored s CROSS JOIN question q
      JOIN knowledge_chunks c ON c.id = s.id
      JOIN knowledge_documents d ON d.id = c.document_id
     ORDER BY s.matched + p_heading_bonus * s.in_heading DESC, s.id
$search$
""".replace("{tenant}", "current_setting('wagate.tenant', true)")


def upgrade() -> None:
    op.execute(f"DROP FUNCTION {SEARCH_FUNCTION}")
    op.execute(_SEARCH)
    # The app role keeps EXECUTE through the owner's default privileges (storage/roles.py).
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SEARCH_FUNCTION}")
    op.execute(_revision_0011()._SEARCH)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC")


def _revision_0011() -> ModuleType:
    """0011's module (its name starts with a digit: not importable by a plain import)."""
    path = Path(__file__).with_name("0011_knowledge_vocabulary.py")
    spec = importlib.util.spec_from_file_location("wagate_migration_0011", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
