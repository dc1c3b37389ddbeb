"""The knowledge search, second version: evidence for the out-of-scope decision, and faster.

Replaces the function `wagate_knowledge_search` of 0009 (same security: SECURITY DEFINER,
bound to the transaction's tenant like the policies; see 0009 for why). What changed:

* Each question word comes with a topic weight (`p_topic`: 0 for everyday words, less for
  words common in everyday Indonesian, 1 for the rest; decided in `domain.chat_words`) instead
  of a yes/no "generic" flag. The function returns, per chunk, the topic-weighted IDF it holds
  (`topic`) and how many topic words (`topic_count`, weighted), and for the question its
  topic-weighted IDF over the words the documents know (`topic_weight`) and the IDF of the
  rarest word they could know, one in a single chunk (`absent_weight`), so that
  storage/knowledge.py can charge the words the documents do not know at all. (Not the IDF
  of a word in no chunk: in a knowledge base of a few chunks that is several times any real
  word's, and one unknown word would outweigh the whole question.)
* Fuzzy spelling look-ups only for the words the caller marks (`p_fuzzy`): a real dictionary
  word the documents do not use ("cuaca", "paspor") is no typo of one they do, and each look-up
  costs a trigram scan of the vocabulary.
* Candidates are selected by the rarest lexemes only, while the chunks they select stay
  within `p_budget` (a story names ten words that each select thousands of chunks; its
  rarest ones find the chunk that answers it); when even the rarest finds more, by the
  chunks holding it and one of the others (a lone word: in a heading); when no lexeme is
  selective, by the chunks holding all of them (not every chunk holding any). Sorting runs
  in memory (`work_mem`). A long story at 20,000 chunks: 75 ms → 4 ms.

Revision ID: 0010_knowledge_search_scope
Revises: 0009_knowledge
"""

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0010_knowledge_search_scope"
down_revision = "0009_knowledge"
branch_labels = None
depends_on = None

OLD_FUNCTION = "wagate_knowledge_search(text[], boolean[], text, float8, float8, float8, int)"
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
               source text, title text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, public
SET enable_seqscan = off
SET work_mem = '16MB'
SET pg_trgm.similarity_threshold = 0.5
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
          SELECT k.word, similarity(k.word, a.w) AS sim FROM knowledge_words k
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
    op.execute(f"DROP FUNCTION {OLD_FUNCTION}")
    op.execute(_SEARCH)
    # The app role keeps EXECUTE through the owner's default privileges (storage/roles.py),
    # as for 0009; only PostgreSQL's default grant to everyone is taken back.
    op.execute(f"REVOKE EXECUTE ON FUNCTION {SEARCH_FUNCTION} FROM PUBLIC")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION {SEARCH_FUNCTION}")
    previous = _revision_0009()
    op.execute(previous._SEARCH)
    op.execute(f"REVOKE EXECUTE ON FUNCTION {OLD_FUNCTION} FROM PUBLIC")


def _revision_0009() -> ModuleType:
    """0009's module (its name starts with a digit: not importable by a plain import)."""
    path = Path(__file__).with_name("0009_knowledge.py")
    spec = importlib.util.spec_from_file_location("wagate_migration_0009", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
