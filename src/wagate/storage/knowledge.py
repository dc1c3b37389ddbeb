"""A tenant's knowledge base in PostgreSQL (AI3): documents in, passages for a question out.

Ingesting: a source is read (`wagate.knowledge`), cut into chunks along its structure
(`domain.chunking`), and stored in ONE transaction: the document row, its chunks (PostgreSQL
keeps their `indonesian` tsvector), its words (for spelling correction by trigram;
triggers keep one vocabulary per tenant from them, migration 0011) and its lexeme counts (for
IDF). A source that fails changes nothing; adding a source again (same file name or URL)
replaces it.

Searching (`search`) is one SQL statement (the function `wagate_knowledge_search` of
migration 0011, see 0009 for why it is one), plus one when embeddings are on:

1. The question is normalised (`domain.chat_words`: "pesangon sy brp" → "pesangon saya
   berapa", spoken verb forms to written ones: "nagih" → "menagih") and reduced to its
   content words (a long story to its `MAX_QUESTION_WORDS` most topical ones), each with
   its topic weight (`chat_words.topic_weight`: 0 for everyday words, less for words common
   in everyday Indonesian, 1 for the rest).
2. A word whose `indonesian` stem the tenant's documents hold is known ("kontraknya" →
   kontrak). Any other word that is no dictionary word is matched to the nearest word of the
   tenant's vocabulary, by pg_trgm similarity ≥ `MIN_WORD_SIMILARITY` ("percerain" →
   "perceraian"), or stays unknown; a dictionary word ("cuaca"), a word typed in capitals
   ("BPJS") or one without a vowel ("npwp") gets no look-up and stays unknown. Before that,
   in Python, such a word that no document uses is compared by edit distance with the
   tenant's vocabulary (`domain.spelling`, read at load and after each change, never per
   question): the words it is most likely a typo of ("tanh" → "tanah", "srtifkasi" →
   "sertifikasi", which share too few letter triples for the trigram look-up) are searched
   beside it, and the evidence reads it as found as its correction. A word the documents
   use in no form that names what a document word names (`domain.related_words`:
   "tabrakan" where the guide says "kecelakaan") is searched and read the same way.
3. Each lexeme weighs its IDF over the tenant's chunks (rare = informative) times the
   match's similarity.
4. Lexical ranking: chunks holding the question's rarest lexemes (full-text index; rarest
   first while they find at most `SELECTING_BUDGET` chunks; lexemes in more than
   `COMMON_SHARE` of the chunks never select), scored by the weight of all the lexemes they
   hold, a lexeme in the title or section path counting `HEADING_BONUS` more. The best
   `CANDIDATES` go on.
5. Each candidate's trigram word similarity of its title and section path to the question
   (`heading_similarity`) is computed; it no longer ranks (it was a third ranking in the
   fusion until kbtune6: leaving it out found the labelled document more often on every
   corpus when chosen on the others, benchmarks/README.md), the scope model reads it.
6. Vector ranking (optional: an `Embedder` and pgvector): the nearest chunks by cosine.
7. Reciprocal rank fusion of the lexical and vector rankings (weights `FUSION_WEIGHTS`,
   constant `RRF_K`); without embeddings the lexical order stands.

Out of scope (the contract: `[]` when nothing is relevant enough) is decided on words alone,
so the answer is the same with or without embeddings, by the logistic model of
`domain.knowledge_scope` over the lexical rows' evidence (`evidence_of`): the hand-set rule
below did not carry over to corpora it was not tuned on (benchmarks/README.md, "kbtune6").
The rule (`in_scope`) is kept for comparison (benchmarks/kb_scope_train.py prints both), and
its notions — a word's topic weight, its unknown share, its foreign share — are the model's
inputs. The rule: the question's topic is
the IDF of its known lexemes times their topic weights, plus, for each word the documents do
not know at all, a share of the IDF such a word would have: `UNKNOWN_REAL_WORD` for a real
word ("paspor", "kereta": the question is about something else), `UNKNOWN_OTHER_WORD` for
any other word (after the chat normaliser mostly a name, brand or acronym: "indomaret",
"lpdp"; sometimes a typo the look-up missed). It is in scope when
* the best-matching chunks do not spread over more than `SPREAD_DOCUMENTS` documents (words
  found everywhere point nowhere), and
* some chunk holds enough topic words (`EVIDENCE_BESIDE_FOREIGN_WORDS`, more for each
  further one up to three) when the question names things the documents never mention — a
  real word counts one, an abbreviation typed in capitals `ACRONYM_AS_FOREIGN` (one:
  "KITAS", "SKCK"), a verb form of a dictionary root `VERB_AS_FOREIGN` (0: "dituduh",
  "nerima" tell what happened, not what it is about), any other word
  `OTHER_WORD_AS_FOREIGN` (0: a regional word is no dictionary word either), and in a
  message of several sentences a word only the circumstances use `CIRCUMSTANCE_AS_FOREIGN`
  of that ("obat batuk anak": "anak" alone is not enough), and
* some chunk holds at least `MIN_COVERAGE` of the topic, or `STRONG_MATCH` topic words (a
  long story dilutes its coverage).
"resep nasi goreng" knows no word; "kapan lebaran tahun depan" knows only everyday words;
"cerai gmn caranya" knows its one topic word, and the divorce guide holds it. Word
statistics alone cannot tell a legal neighbour from the topic it borrows words from ("syarat
nikah di KUA" against a divorce guide's "buku nikah" and "KUA"); so before the model, a
question that names a legal matter (`domain.legal_topics`: marriage registration, a PPAT's
fee, overtime pay …) that no document of the tenant names is declined. The matters each
document names are read with the vocabulary, once per document and content hash.
Figures: benchmarks/README.md (kb_eval) and benchmarks/kb_dev/README.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import psycopg
import structlog

from wagate.domain.asked_amounts import (
    asked_about,
    asked_unit,
    asks_for_an_amount,
    asks_for_money,
    gives_the_unit,
    holds_a_figure_near,
    names_the_acronym,
)
from wagate.domain.chat_words import (
    ACRONYMS,
    FAMILIAR_TOPIC,
    STOPWORDS,
    asked_clause,
    content_words,
    is_dictionary_word,
    named_at,
    normalise,
    topic_weight,
    verb_root,
    word_forms,
)
from wagate.domain.chunking import DEFAULT_MAX_CHARS, SEPARATOR, Chunk, chunk_document
from wagate.domain.contact_numbers import (
    ADDRESS_ASKED,
    HOURS_ASKED,
    OFFICE_KINDS,
    asks_for_a_number,
    asks_for_an_account,
    holds_a_number_of,
    holds_an_address_of,
    holds_hours_of,
    institutions_asked,
    number_holder,
)
from wagate.domain.knowledge import Passage
from wagate.domain.knowledge_scope import AskedWord, Candidate, Evidence, shipped_model
from wagate.domain.legal_topics import asked_topics, tokens, written_topics
from wagate.domain.off_topic import is_off_topic, named_by_a_heading
from wagate.domain.small_talk import is_small_talk
from wagate.domain.spelling import MIN_TYPED, Vocabulary
from wagate.knowledge import readers
from wagate.knowledge.document import ReadDocument
from wagate.knowledge.errors import SourceError
from wagate.knowledge.fetch import FetchLimits, fetch
from wagate.storage.database import Database

log = structlog.get_logger(__name__)

# --- the search's tuning, documented in the module docstring -------------------------------
MIN_WORD_SIMILARITY = 0.6  # a question word this close to a document word is taken for it
MAX_QUESTION_WORDS = 24  # a long story: its 24 most topical content words are plenty
MAX_FUZZY = 3  # fuzzy spelling look-ups per question
MAX_CORRECTED = 6  # question words corrected by edit distance (`domain.spelling`)
MAX_RELATED_WORDS = 3  # question words searched with related words (`domain.related_words`)
# How often (seconds) a search asks whether the tenant's documents changed since its copy of
# their vocabulary was read (another process may add or remove one; this one's own writes
# make the next search ask at once). A stale copy only misses a correction, never a match.
VOCABULARY_CHECK_SECONDS = 5.0
_NO_WORDS = Vocabulary()  # until a check has read the words: no corrections
COMMON_SHARE = 0.2  # a lexeme in more than this share of chunks does not select candidates
SELECTING_BUDGET = 300  # chunks the rarest lexemes may select (all of the lexemes score)
CANDIDATES = 60
HEADING_BONUS = 0.5
RRF_K = 60
FUSION_WEIGHTS = {"lexical": 1.0, "vector": 1.0}
MIN_COVERAGE = 0.3
UNKNOWN_REAL_WORD = 0.4  # of the IDF of a word no chunk holds (times its topic weight)
UNKNOWN_OTHER_WORD = 0.3
# The topic words (each counted by its topic weight) some chunk must hold when the question
# names 0, 1, 2, 3 or more real words (or capitalised abbreviations) the documents never use:
# an everyday word alone ("hak", "anak", 0.35) does not carry "daftar merek dagang hak paten"
# or "obat batuk anak", and the more things a question names that the documents never
# mention, the more of it a passage must hold ("visa kerja Jepang jalur SSW" matches "kerja",
# "syarat" and "proses" of an unrelated passage: 1.2 topic words beside three foreign ones).
EVIDENCE_BESIDE_FOREIGN_WORDS = (0.0, 0.8, 1.2, 1.6)
STRONG_MATCH = 3
# A word no chunk holds that is no dictionary word is not counted as naming something else.
# The kbtune branch counted it as half a foreign word (names, brands, acronyms: "indomaret",
# "lpdp"), but regional words are no dictionary words either ("pegatan", "nyuwun", "abdi"):
# on the blind kb_holdout3 set that declined questions written in Javanese or Sundanese
# (document R@5 0.886 → 0.901 and 10 → 7 answerable declined without it, out of scope
# declined unchanged at 0.643). Brands still cost through `UNKNOWN_OTHER_WORD`.
OTHER_WORD_AS_FOREIGN = 0.0
# A word typed in capitals that no chunk holds ("KITAS", "SKCK", "ETLE") names an office, a
# permit or a programme the documents never mention: it counts as a foreign word, like a
# real one. Regional words are not typed in capitals, so this does not touch them; the
# abbreviations a legal question commonly uses ("PA", "PN", "PNS") are read as their words
# first (`chat_words.ACRONYMS`) and are known when the documents spell them out.
ACRONYM_AS_FOREIGN = 1.0
# A verb form of a dictionary root ("dituduh", "menafkahi", spoken "nerima", "balikin") tells
# what happened, not what the question is about: the things a question names are nouns. On
# the tuned sets (kbtune3) 46 such words the documents lacked were in answerable questions,
# two in out-of-scope ones ("dibongkar", "melamar").
VERB_AS_FOREIGN = 0.0
# In a message of several sentences, what the circumstances name counts half as much as what
# the sentence that asks names ("Tetangga saya utang … Saya kesal dan kepikiran ambil
# motornya … Apa boleh?"): a story mentions many things the documents need not.
CIRCUMSTANCE_AS_FOREIGN = 0.5
TIE = 0.95  # chunks this close to the best hold the same evidence
SPREAD_DOCUMENTS = 8  # evidence tied across more documents than this is no evidence
# The top rows whose own headings may show that an everyday-sounding request is a topic the
# office wrote a section on (`off_topic.named_by_a_heading`).
HEADINGS_READ = 3
FIGURE_LOOKS_DEEPER = 5  # passages past the limit read for a figure the question asks


class Embedder(Protocol):
    """Turns texts into vectors (an OpenAI-compatible /embeddings endpoint, in production)."""

    model: str

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReport:
    source: str
    status: str  # added | replaced | unchanged | failed | removed
    document_id: int | None = None
    title: str = ""
    kind: str = ""
    chunks: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "status": self.status,
            "id": self.document_id,
            "title": self.title,
            "kind": self.kind,
            "chunks": self.chunks,
            "error": self.error,
        }


@dataclass(slots=True)
class RefreshReport:
    folder: str
    documents: list[DocumentReport] = field(default_factory=list)
    error: str | None = None  # the folder itself could not be read: nothing was changed

    def count(self, status: str) -> int:
        return sum(1 for d in self.documents if d.status == status)

    def as_json(self) -> dict[str, object]:
        return {
            "folder": self.folder,
            "added": self.count("added"),
            "replaced": self.count("replaced"),
            "unchanged": self.count("unchanged"),
            "removed": self.count("removed"),
            "failed": self.count("failed"),
            "error": self.error,
            "documents": [d.as_json() for d in self.documents],
        }


# --- SQL -----------------------------------------------------------------------------------

_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('wagate.knowledge:' || %(tenant)s))"
_EXISTING_SQL = """
SELECT id, content_hash, status FROM knowledge_documents
 WHERE tenant = %(tenant)s AND source = %(source)s
"""
_UPSERT_SQL = """
INSERT INTO knowledge_documents (tenant, source, origin, title, kind, content_hash, status,
                                 error, chunks, created_at, updated_at)
VALUES (%(tenant)s, %(source)s, %(origin)s, %(title)s, %(kind)s, %(hash)s, %(status)s,
        %(error)s, %(chunks)s, %(now)s, %(now)s)
ON CONFLICT (tenant, source) DO UPDATE
   SET origin = EXCLUDED.origin, title = EXCLUDED.title, kind = EXCLUDED.kind,
       content_hash = EXCLUDED.content_hash, status = EXCLUDED.status, error = EXCLUDED.error,
       chunks = EXCLUDED.chunks, updated_at = EXCLUDED.updated_at
RETURNING id
"""
_CLEAR_SQL = (
    "DELETE FROM knowledge_chunks WHERE document_id = %(id)s",
    "DELETE FROM knowledge_words WHERE document_id = %(id)s",
    "DELETE FROM knowledge_lexemes WHERE document_id = %(id)s",
)
_CHUNKS_SQL = """
INSERT INTO knowledge_chunks (tenant, document_id, ordinal, section, text, heading, body)
SELECT %(tenant)s, %(id)s, o, s, t, h, b
  FROM unnest(%(ordinals)s::int[], %(sections)s::text[], %(texts)s::text[],
              %(headings)s::text[], %(bodies)s::text[]) AS c(o, s, t, h, b)
RETURNING id
"""
_WORDS_SQL = """
INSERT INTO knowledge_words (tenant, document_id, word)
SELECT %(tenant)s, %(id)s, w FROM unnest(%(words)s::text[]) AS w
"""
_LEXEMES_SQL = """
INSERT INTO knowledge_lexemes (tenant, document_id, lexeme, chunks)
SELECT %(tenant)s, %(id)s, lexeme, count(*)
  FROM knowledge_chunks c, unnest(tsvector_to_array(c.tsv)) AS lexeme
 WHERE c.document_id = %(id)s
 GROUP BY lexeme
"""
_EMBEDDINGS_SQL = """
INSERT INTO knowledge_embeddings (chunk_id, tenant, document_id, model, embedding)
SELECT c, %(tenant)s, %(id)s, %(model)s, e::vector
  FROM unnest(%(chunk_ids)s::bigint[], %(embeddings)s::text[]) AS x(c, e)
"""
_HAS_EMBEDDINGS_SQL = "SELECT to_regclass('knowledge_embeddings') IS NOT NULL AS present"
_REMOVE_SQL = "DELETE FROM knowledge_documents WHERE tenant = %(tenant)s AND id = %(id)s"
_DOCUMENTS_SQL = """
SELECT id, source, origin, title, kind, chunks, status, error, content_hash, updated_at
  FROM knowledge_documents WHERE tenant = %(tenant)s ORDER BY source
"""
# What the spelling vocabulary was read from: it is read again only when this changes.
_DOCUMENTS_STAMP_SQL = """
SELECT count(*) AS documents, coalesce(sum(chunks), 0) AS chunks, max(updated_at) AS updated
  FROM knowledge_documents WHERE tenant = %(tenant)s
"""
_VOCABULARY_SQL = "SELECT word, documents FROM knowledge_vocabulary WHERE tenant = %(tenant)s"
_READY_DOCUMENTS_SQL = """
SELECT id, content_hash, title FROM knowledge_documents
 WHERE tenant = %(tenant)s AND status = 'ready'
"""
_DOCUMENT_TEXTS_SQL = """
SELECT document_id, section, text FROM knowledge_chunks
 WHERE tenant = %(tenant)s AND document_id = ANY(%(ids)s::bigint[])
 ORDER BY document_id, ordinal
"""
_STATS_SQL = """
SELECT count(*) FILTER (WHERE status = 'ready') AS documents,
       coalesce(sum(chunks) FILTER (WHERE status = 'ready'), 0) AS chunks
  FROM knowledge_documents WHERE tenant = %(tenant)s
"""

# The search (module docstring, steps 2–5) is the function `wagate_knowledge_search` of
# migration 0010 (first written in 0009): SECURITY DEFINER so that its full-text and trigram
# index scans are not refused under row-level security (their operators are not leakproof),
# and bound to the transaction's tenant like the policies are.
_SEARCH_SQL = """
SELECT * FROM wagate_knowledge_search(%(words)s::text[], %(topic)s::float8[],
                                      %(fuzzy)s::boolean[], %(question)s::text,
                                      %(min_similarity)s::float8, %(budget)s::int,
                                      %(common_share)s::float8, %(heading_bonus)s::float8,
                                      %(candidates)s::int)
"""
_VECTOR_SQL = """
SELECT e.chunk_id AS id, c.document_id, c.section, c.text, d.source, d.title
  FROM knowledge_embeddings e
  JOIN knowledge_chunks c ON c.id = e.chunk_id
  JOIN knowledge_documents d ON d.id = c.document_id
 WHERE e.tenant = %(tenant)s AND e.model = %(model)s
 ORDER BY e.embedding <=> %(vector)s::vector
 LIMIT %(candidates)s
"""

_WORD_SHAPE = re.compile(r"^[a-z][a-z0-9]{2,39}$")
_JUNK_TITLE = re.compile(r"(microsoft word|untitled|^document\d*$|\.(docx?|pdf|txt)$)", re.I)


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A source read and chunked, ready for its one transaction."""

    source: str
    origin: str
    title: str
    kind: str
    content_hash: str
    chunks: list[Chunk]


class KnowledgeBase:
    """One tenant's knowledge base. Every method is one or more tenant transactions."""

    def __init__(
        self,
        database: Database,
        tenant: str,
        *,
        embedder: Embedder | None = None,
        max_file_bytes: int = readers.DEFAULT_MAX_BYTES,
        fetch_limits: FetchLimits | None = None,
        max_chunk_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        self._database = database
        self._tenant = tenant
        self._embedder = embedder
        self._max_bytes = max_file_bytes
        self._fetch_limits = fetch_limits or FetchLimits(max_bytes=max_file_bytes)
        self._max_chunk_chars = max_chunk_chars
        self._vectors: bool | None = None  # whether knowledge_embeddings exists (asked once)
        # The tenant's document words for spelling corrections: (stamp, vocabulary), and
        # when the stamp was last compared with the database (monotonic seconds).
        self._spelling: tuple[tuple[Any, ...], Vocabulary] | None = None
        self._spelling_checked = float("-inf")
        # One check at a time (searches arriving meanwhile use what it read), and a count of
        # this process's writes: a check that began before a write must not mark its
        # (possibly older) words as fresh.
        self._spelling_lock = asyncio.Lock()
        self._spelling_writes = 0
        # The matters each document names (`domain.legal_topics`), by document id with the
        # content hash they were read from, and their union: None until read (unknown:
        # nothing is declined for it).
        self._document_topics: dict[int, tuple[str, frozenset[str]]] = {}
        self._written: frozenset[str] | None = None

    # --- adding ---------------------------------------------------------------------------

    async def add_file(
        self, path: Path, *, title: str | None = None, source: str | None = None
    ) -> DocumentReport:
        name = source or path.name
        try:
            document = await asyncio.to_thread(readers.read_file, path, max_bytes=self._max_bytes)
            data_hash = await asyncio.to_thread(_file_hash, path)
        except SourceError as error:
            return _failed(name, error)
        return await self._store(name, "file", document, data_hash, title, path.name)

    async def add_bytes(
        self, name: str, data: bytes, *, title: str | None = None
    ) -> DocumentReport:
        source = Path(name).name or "upload"
        try:
            document = await asyncio.to_thread(
                readers.read, source, data, max_bytes=self._max_bytes
            )
        except SourceError as error:
            return _failed(source, error)
        digest = hashlib.sha256(data).hexdigest()
        return await self._store(source, "upload", document, digest, title, source)

    async def add_url(self, url: str, *, title: str | None = None) -> DocumentReport:
        source = url.strip()
        try:
            fetched = await fetch(source, limits=self._fetch_limits)
            document = await asyncio.to_thread(
                readers.read, fetched.name, fetched.data, max_bytes=self._max_bytes
            )
        except SourceError as error:
            return _failed(source, error)
        digest = hashlib.sha256(fetched.data).hexdigest()
        return await self._store(source, "url", document, digest, title, fetched.name)

    async def add_text(
        self, source: str, text: str, *, title: str, kind: str = "text", origin: str = "file"
    ) -> DocumentReport:
        """Text already in hand (the sample knowledge base, synthetic load for benchmarks)."""
        document = ReadDocument(kind=kind, text=text, title=title)
        digest = hashlib.sha256(text.encode()).hexdigest()
        return await self._store(source, origin, document, digest, title, source)

    async def _store(
        self,
        source: str,
        origin: str,
        document: ReadDocument,
        content_hash: str,
        title: str | None,
        fallback_title: str,
    ) -> DocumentReport:
        chosen = _title(title, document, fallback_title)
        chunks = await asyncio.to_thread(
            chunk_document, document.text, title=chosen, max_chars=self._max_chunk_chars
        )
        if not chunks:
            return _failed(source, SourceError("no text found to index"))
        prepared = _Prepared(source, origin, chosen, document.kind, content_hash, chunks)
        vectors = await self._embed(prepared)
        try:
            return await self._write(prepared, vectors)
        except psycopg.Error as error:
            log.warning("knowledge.store_failed", source=source, error=type(error).__name__)
            return _failed(source, SourceError(f"storing it failed: {type(error).__name__}"))

    async def _embed(self, prepared: _Prepared) -> list[list[float]] | None:
        if self._embedder is None or not await self._has_vectors():
            return None
        texts = [f"{prepared.title}{SEPARATOR}{c.section}\n{c.text}" for c in prepared.chunks]
        try:
            return await self._embedder.embed(texts)
        except Exception as error:  # the words still find it; vectors come with the next add
            log.warning("knowledge.embedding_failed", error=type(error).__name__)
            return None

    async def _write(
        self, prepared: _Prepared, vectors: list[list[float]] | None
    ) -> DocumentReport:
        self._words_changed()  # the next search reads the new words
        now = datetime.now(UTC)
        headings = [normalise(f"{prepared.title} {c.section}") for c in prepared.chunks]
        bodies = [normalise(c.text) for c in prepared.chunks]
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_LOCK_SQL, {"tenant": self._tenant})
            existing = await (
                await conn.execute(
                    _EXISTING_SQL, {"tenant": self._tenant, "source": prepared.source}
                )
            ).fetchone()
            row = await (
                await conn.execute(
                    _UPSERT_SQL,
                    {
                        "tenant": self._tenant,
                        "source": prepared.source,
                        "origin": prepared.origin,
                        "title": prepared.title,
                        "kind": prepared.kind,
                        "hash": prepared.content_hash,
                        "status": "ready",
                        "error": None,
                        "chunks": len(prepared.chunks),
                        "now": now,
                    },
                )
            ).fetchone()
            assert row is not None
            document_id = int(row["id"])
            for statement in _CLEAR_SQL:  # a chunk's embedding goes with it (ON DELETE CASCADE)
                await conn.execute(statement, {"id": document_id})
            cursor = await conn.execute(
                _CHUNKS_SQL,
                {
                    "tenant": self._tenant,
                    "id": document_id,
                    "ordinals": [c.ordinal for c in prepared.chunks],
                    "sections": [c.section for c in prepared.chunks],
                    "texts": [c.text for c in prepared.chunks],
                    "headings": headings,
                    "bodies": bodies,
                },
            )
            chunk_ids = [int(r["id"]) for r in await cursor.fetchall()]
            await conn.execute(
                _WORDS_SQL,
                {"tenant": self._tenant, "id": document_id, "words": _vocabulary(headings, bodies)},
            )
            await conn.execute(_LEXEMES_SQL, {"tenant": self._tenant, "id": document_id})
            if vectors is not None and self._embedder is not None:
                await conn.execute(
                    _EMBEDDINGS_SQL,
                    {
                        "tenant": self._tenant,
                        "id": document_id,
                        "model": self._embedder.model,
                        "chunk_ids": chunk_ids,
                        "embeddings": [_vector_literal(v) for v in vectors],
                    },
                )
        # Committed: a search that read the words while this was under way read the old ones.
        self._words_changed()
        log.info("knowledge.stored", source=prepared.source, chunks=len(prepared.chunks))
        return DocumentReport(
            source=prepared.source,
            status="replaced" if existing is not None else "added",
            document_id=document_id,
            title=prepared.title,
            kind=prepared.kind,
            chunks=len(prepared.chunks),
        )

    # --- the folder -----------------------------------------------------------------------

    async def refresh_folder(self, folder: Path) -> RefreshReport:
        """Every supported file under `folder` read when new or changed (by content hash);
        documents of files no longer there retired. Each file is its own transaction."""
        report = RefreshReport(folder=str(folder))
        if not await asyncio.to_thread(folder.is_dir):
            # An unmounted or mistyped folder must not retire every document read from it.
            report.error = f"{folder} is not a folder that can be read; nothing was changed"
            return report
        known = {d["source"]: d for d in await self.documents() if d["origin"] == "folder"}
        present: set[str] = set()
        files = await asyncio.to_thread(_folder_files, folder)
        for path in files:
            source = path.relative_to(folder).as_posix()
            present.add(source)
            report.documents.append(await self._refresh_one(path, source, known.get(source)))
        for source, document in known.items():
            if source not in present and await self.remove(int(document["id"])):
                report.documents.append(
                    DocumentReport(source=source, status="removed", document_id=int(document["id"]))
                )
        return report

    async def _refresh_one(
        self, path: Path, source: str, known: dict[str, Any] | None
    ) -> DocumentReport:
        try:
            data_hash = await asyncio.to_thread(_checked_hash, path, self._max_bytes)
        except (OSError, SourceError) as error:
            return await self._record_failure(source, str(error), "")
        if known is not None and known["hash"] == data_hash and known["status"] == "ready":
            return DocumentReport(
                source=source,
                status="unchanged",
                document_id=int(known["id"]),
                title=str(known["title"]),
                kind=str(known["kind"]),
                chunks=int(known["chunks"]),
            )
        try:
            document = await asyncio.to_thread(readers.read_file, path, max_bytes=self._max_bytes)
        except SourceError as error:
            return await self._record_failure(source, str(error), data_hash)
        report = await self._store(source, "folder", document, data_hash, None, path.name)
        if not report.ok and report.error:
            return await self._record_failure(source, report.error, data_hash)
        return report

    async def _record_failure(self, source: str, error: str, content_hash: str) -> DocumentReport:
        """A folder file that cannot be read is listed with its error. If an earlier version
        was read, its chunks stay searchable until the file is fixed or removed."""
        async with self._database.tenant_connection(self._tenant) as conn:
            await conn.execute(_LOCK_SQL, {"tenant": self._tenant})
            existing = await (
                await conn.execute(_EXISTING_SQL, {"tenant": self._tenant, "source": source})
            ).fetchone()
            if existing is None:
                await conn.execute(
                    _UPSERT_SQL,
                    {
                        "tenant": self._tenant,
                        "source": source,
                        "origin": "folder",
                        "title": _pretty(source),
                        "kind": Path(source).suffix.lstrip(".") or "unknown",
                        "hash": content_hash,
                        "status": "failed",
                        "error": error,
                        "chunks": 0,
                        "now": datetime.now(UTC),
                    },
                )
            else:
                await conn.execute(
                    "UPDATE knowledge_documents SET error = %(error)s WHERE id = %(id)s",
                    {"error": error, "id": existing["id"]},
                )
        return DocumentReport(source=source, status="failed", error=error)

    # --- reading and removing -------------------------------------------------------------

    async def remove(self, document_id: int) -> bool:
        self._words_changed()
        async with self._database.tenant_connection(self._tenant) as conn:
            done = await conn.execute(_REMOVE_SQL, {"tenant": self._tenant, "id": document_id})
            return done.rowcount > 0

    async def erase_all(self) -> int:
        """Everything of this tenant's knowledge base, gone: erasing a tenant. Document text
        is kept unsealed (full-text search reads it), so destroying the tenant's key would not
        make it unreadable; it is deleted instead. Returns the documents removed."""
        self._words_changed()
        async with self._database.tenant_connection(self._tenant) as conn:
            params = {"tenant": self._tenant}
            done = await conn.execute(
                "DELETE FROM knowledge_documents WHERE tenant = %(tenant)s", params
            )
            await conn.execute("DELETE FROM knowledge_words WHERE tenant = %(tenant)s", params)
            await conn.execute("DELETE FROM knowledge_lexemes WHERE tenant = %(tenant)s", params)
            return done.rowcount

    async def documents(self) -> list[dict[str, Any]]:
        async with self._database.tenant_connection(self._tenant) as conn:
            rows = await (await conn.execute(_DOCUMENTS_SQL, {"tenant": self._tenant})).fetchall()
        return [
            {
                "id": int(r["id"]),
                "source": r["source"],
                "origin": r["origin"],
                "title": r["title"],
                "kind": r["kind"],
                "chunks": int(r["chunks"]),
                "status": r["status"],
                "error": r["error"],
                "hash": r["content_hash"],
                "updatedAt": r["updated_at"].isoformat(),
            }
            for r in rows
        ]

    async def stats(self) -> dict[str, Any]:
        rows = await self._database.tenant_rows(self._tenant, _STATS_SQL, {"tenant": self._tenant})
        row = rows[0] if rows else None
        documents = int(row["documents"]) if row else 0
        chunks = int(row["chunks"]) if row else 0
        return {"documents": documents, "chunks": chunks, "loaded": chunks > 0}

    # --- searching ------------------------------------------------------------------------

    async def search(self, question: str, *, limit: int = 5) -> list[Passage]:
        """The best passages for `question`, best first; [] when it is out of scope."""
        if is_small_talk(question):
            # "tes", "halo kak", "makasih": no question to look up. A word of it may still
            # be in a document ("tes DNA"), and a greeting must not be answered with a
            # passage (the conversation answers small talk as it always did).
            return []
        if (matters := asked_topics(question)) and limit >= 1:
            await self._vocabulary()  # the documents' matters are read with their words
            if self._written is not None and not matters <= self._written:
                # "syarat nikah di KUA" beside a divorce guide that names the KUA and the
                # marriage book: the question names a matter no document of the base names.
                return []
        everyday = is_off_topic(question)
        rows, read_as = await self._lexical_read(question) if limit >= 1 else ([], {})
        if everyday and not named_by_a_heading(
            question, (str(r["section"]).rpartition("›")[2] for r in rows[:HEADINGS_READ])
        ):
            # The time now, the weather, a recipe, a ferry's timetable: no legal-aid document
            # answers them, though "jam", "WIT" or the office's town match its pages. Unless
            # the office wrote a section on exactly it: then the scope model decides.
            return []
        if not shipped_model().in_scope(evidence_of(question, rows)):
            return []
        rankings: dict[str, list[int]] = {
            "lexical": [int(r["id"]) for r in rows],
        }
        found = {int(r["id"]): r for r in rows}
        vector_rows = await self._vector_candidates(question)
        if vector_rows:
            rankings["vector"] = [int(r["id"]) for r in vector_rows]
            for r in vector_rows:
                found.setdefault(int(r["id"]), r)
        fused = fuse(rankings)
        passages = [
            Passage(
                document_id=int(found[i]["document_id"]),
                source=str(found[i]["source"]),
                title=str(found[i]["title"]),
                section=str(found[i]["section"]),
                text=str(found[i]["text"]),
                score=score,
            )
            for i, score in fused[: limit + FIGURE_LOOKS_DEEPER]
        ]
        answers: Callable[[Passage], bool] | None = None
        placed = True  # the check places the answer by whose it is (a phone, a street)
        # The words as the search read them too ("hkum" → "hukum", "karyawan" → "pekerja").
        read_words = [w for ws in read_as.values() for w in ws]
        if asks_for_a_number(question):
            holder = number_holder(question)
            account = asks_for_an_account(question)

            def answers(p: Passage) -> bool:
                return holds_a_number_of(p.text, holder, p.section, read_as, account=account)

        elif hours_of := institutions_asked(question, HOURS_ASKED):

            def answers(p: Passage) -> bool:
                return holds_hours_of(p.text, hours_of, p.section)

        elif address_of := institutions_asked(question, ADDRESS_ASKED):

            def answers(p: Passage) -> bool:
                return holds_an_address_of(p.text, address_of, p.section)

        elif asks_for_an_amount(question):  # a price asked ("biaya … brp") asks an amount
            placed = False  # one asked word near a number: is the passage on what was asked?
            asked = asked_about(question, read_words)
            money = asks_for_money(question, read_words)
            unit = asked_unit(question)
            vocabulary = await self._vocabulary()
            # An acronym typed in capitals that a document uses names what the figure is of
            # ("iuran JKP brp persen?", JKP in the dismissal guide): the ojol guide's
            # "potongan 15 persen" is a figure of something else. One no document uses
            # ("bank BRI") places nothing.
            # Nor one after "ke", "di" ("daftar ke BPN"): a place the thing is done at.
            named = [
                a
                for a in acronyms_in(question)
                if _IS_A_NAME.fullmatch(a)
                and vocabulary.knows(a)
                and not re.search(rf"\b(?:{_PLACE_BEFORE})\s+{a}\b", question, re.IGNORECASE)
            ]

            def answers(p: Passage) -> bool:
                where = f"{p.title} › {p.section}"
                return (
                    holds_a_figure_near(p.text, asked, where, money=money)
                    and gives_the_unit(p.text, unit)
                    and all(names_the_acronym(f"{where} {p.text}", a) for a in named)
                )

        if answers is None or not passages or answers(passages[0]):
            return passages[:limit]
        known = (await self._vocabulary()).knows  # read once per documents' change: cached
        # A number, fee or term asked, and the first passage does not give it: the one that
        # does, a few places further down and on what was asked, comes first ("biaya cerai
        # brp" ranks the guide's kinds of divorce above its costs). A figure in a passage on
        # something else (the online-loan interest cap, when a disaster-hit mortgage's new
        # rate is asked) answers nothing: none on topic, the base does not say.
        deeper = next(
            (
                p
                for rank, p in enumerate(passages[1:], start=1)
                if (
                    (placed and rank < limit)
                    or _on_topic(p, question, read_as, rank < limit, known)
                )
                and answers(p)
            ),
            None,
        )
        if deeper is None:
            return []
        return [deeper, *(p for p in passages[:limit] if p is not deeper)][:limit]

    async def _lexical(self, question: str) -> list[dict[str, Any]]:
        """The lexical ranking with its evidence (steps 1–5 of the module docstring)."""
        rows, _ = await self._lexical_read(question)
        return rows

    async def _lexical_read(
        self, question: str
    ) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
        """The lexical ranking, and the document words the question's words were read as
        (`corrections`)."""
        words = question_words(question)
        if not words:
            return [], {}
        acronyms = acronyms_in(question)
        corrected = corrections(words, await self._vocabulary(), acronyms)
        extra = [c for cs in corrected.values() for c in cs if c not in words]
        asked = words + list(dict.fromkeys(extra))
        fuzzy = _worth_a_fuzzy_look_up(words, acronyms | frozenset(corrected))
        rows = await self._database.tenant_rows(
            self._tenant,
            _SEARCH_SQL,
            {
                "words": asked,
                "topic": [topic_weight(w) for w in asked],
                "fuzzy": fuzzy + [False] * (len(asked) - len(words)),
                "question": " ".join(asked),
                "min_similarity": MIN_WORD_SIMILARITY,
                "budget": SELECTING_BUDGET,
                "common_share": COMMON_SHARE,
                "heading_bonus": HEADING_BONUS,
                "candidates": CANDIDATES,
            },
        )
        if rows and corrected:
            rows[0]["matches"] = _corrected_matches(rows[0]["matches"] or [], corrected, words)
        return rows, corrected

    def _words_changed(self) -> None:
        """This process writes the tenant's documents: the next search reads the words again."""
        self._spelling_writes += 1
        self._spelling_checked = float("-inf")

    def _vocabulary_fresh(self) -> bool:
        return (
            self._spelling is not None
            and time.monotonic() - self._spelling_checked < VOCABULARY_CHECK_SECONDS
        )

    async def _vocabulary(self) -> Vocabulary:
        """The tenant's document words (`domain.spelling`), read again when its documents
        changed: compared at most every `VOCABULARY_CHECK_SECONDS`, never per question. A
        failed check leaves the words it had (none at first): corrections are a help, the
        search must not fail for them."""
        if not self._vocabulary_fresh():
            async with self._spelling_lock:
                if not self._vocabulary_fresh():
                    writes = self._spelling_writes
                    try:
                        await self._read_vocabulary()
                    except Exception as error:
                        log.warning("knowledge.vocabulary_failed", error=type(error).__name__)
                    if writes == self._spelling_writes:  # else stale already: read it again
                        self._spelling_checked = time.monotonic()  # a failure: retried later
        return self._spelling[1] if self._spelling is not None else _NO_WORDS

    async def _read_vocabulary(self) -> None:
        params = {"tenant": self._tenant}
        async with self._database.tenant_connection(self._tenant) as conn:
            row = await (await conn.execute(_DOCUMENTS_STAMP_SQL, params)).fetchone()
            stamp = (row["documents"], row["chunks"], row["updated"]) if row else ()
            if self._spelling is None or self._spelling[0] != stamp:
                words = await (await conn.execute(_VOCABULARY_SQL, params)).fetchall()
                vocabulary = await asyncio.to_thread(
                    Vocabulary.of, [(r["word"], int(r["documents"])) for r in words]
                )
                try:
                    await self._read_topics(conn, params)
                except Exception as error:  # the words still correct; no matter declined
                    log.warning("knowledge.topics_failed", error=type(error).__name__)
                    self._document_topics, self._written = {}, None
                self._spelling = (stamp, vocabulary)

    async def _read_topics(self, conn: Any, params: dict[str, Any]) -> None:
        """The matters the documents name, read again for the documents added or changed
        since the last read (a document's text is read once per process and content)."""
        documents = await (await conn.execute(_READY_DOCUMENTS_SQL, params)).fetchall()
        current = {int(r["id"]): str(r["content_hash"]) for r in documents}
        titles = {int(r["id"]): str(r["title"] or "") for r in documents}
        known = {
            i: entry for i, entry in self._document_topics.items() if current.get(i) == entry[0]
        }
        missing = [i for i in current if i not in known]
        if missing:
            rows = await (
                await conn.execute(_DOCUMENT_TEXTS_SQL, params | {"ids": missing})
            ).fetchall()
            texts: dict[int, list[str]] = {i: [titles[i]] for i in missing}
            for r in rows:
                texts[int(r["document_id"])].append(f"{r['section']}\n{r['text']}")
            named = await asyncio.to_thread(
                lambda: {i: written_topics(tokens("\n".join(parts))) for i, parts in texts.items()}
            )
            known |= {i: (current[i], named[i]) for i in missing}
        self._document_topics = known
        self._written = frozenset().union(*(entry[1] for entry in known.values()))

    async def _vector_candidates(self, question: str) -> list[dict[str, Any]]:
        if self._embedder is None or not await self._has_vectors():
            return []
        try:
            [vector] = await self._embedder.embed([normalise(question)])
        except Exception as error:  # words alone still answer
            log.warning("knowledge.embedding_failed", error=type(error).__name__)
            return []
        async with self._database.tenant_connection(self._tenant) as conn:
            cursor = await conn.execute(
                _VECTOR_SQL,
                {
                    "tenant": self._tenant,
                    "model": self._embedder.model,
                    "vector": _vector_literal(vector),
                    "candidates": CANDIDATES,
                },
            )
            return list(await cursor.fetchall())

    async def _has_vectors(self) -> bool:
        if self._vectors is None:
            async with self._database.tenant_connection(self._tenant) as conn:
                row = await (await conn.execute(_HAS_EMBEDDINGS_SQL)).fetchone()
            self._vectors = bool(row and row["present"])
        return self._vectors


def question_words(question: str) -> list[str]:
    """The question's content words, in order; a long story keeps its `MAX_QUESTION_WORDS`
    most topical ones (each word costs an index look-up; "kemarin" tells less than "talak")."""
    words = content_words(question)
    if len(words) <= MAX_QUESTION_WORDS:
        return words
    ranked = sorted(range(len(words)), key=lambda i: (-topic_weight(words[i]), i))
    return [words[i] for i in sorted(ranked[:MAX_QUESTION_WORDS])]


def corrections(
    words: Sequence[str], vocabulary: Vocabulary, acronyms: frozenset[str] = frozenset()
) -> dict[str, list[str]]:
    """Question words that may be misspelt (`_may_be_misspelt`, not typed in capitals) and
    that no document uses, each with the document words it is most likely a typo of
    (`domain.spelling`), or, typed without vowels, a shortening of ("kntr" → "kantor"); the
    `MAX_CORRECTED` longest such words. Then words no document
    uses in any form, each with the document words of the same meaning
    (`domain.related_words`). They are searched beside the typed word, never instead of
    it."""
    found: dict[str, list[str]] = {}
    for word in sorted(words, key=lambda w: (-len(w), w)):
        if len(found) >= MAX_CORRECTED:
            break
        if word in acronyms or word in vocabulary:
            continue
        # Typed without vowels ("kntr", "brgkt": four consonants or more), else a typo.
        targets = vocabulary.shortened_from(word)
        if not targets and _may_be_misspelt(word, MIN_TYPED):
            targets = vocabulary.corrections(word)
        if targets:
            found[word] = targets
    # A word no document uses in any form that names what a document word names
    # ("tabrakan" where the guide says "kecelakaan"): searched beside it, read as found.
    widened = 0
    for word in words:
        if widened >= MAX_RELATED_WORDS:
            break
        if word in found or word in acronyms:
            continue
        if related := vocabulary.related_words(word):
            found[word] = related
            widened += 1
    return found


def _corrected_matches(
    matches: Sequence[str], corrected: dict[str, list[str]], words: Sequence[str]
) -> list[str]:
    """The search's "asked>found" pairs as if each corrected word had been found as its
    correction ("pesngon>pesangon", as the trigram look-up reports "percerain>perceraian"):
    the scope model reads a typo the documents answer as a known word, not as something
    they never mention. A correction's own pair is dropped unless the question typed it."""
    found = {}
    for pair in matches:
        asked, _, word = str(pair).rpartition(">")
        found[asked] = word
    out = []
    for word in words:
        match = found.get(word, "?")
        if match == "?":
            known = [c for c in corrected.get(word, []) if found.get(c, "?") != "?"]
            match = known[0] if known else "?"
        out.append(f"{word}>{match}")
    return out


def _worth_a_fuzzy_look_up(words: list[str], acronyms: frozenset[str] = frozenset()) -> list[bool]:
    """Which words get a fuzzy look-up: those that may be misspelt, the `MAX_FUZZY` longest
    (each costs a trigram look-up in the vocabulary; a Javanese story has a dozen words no
    dictionary knows, and the long ones are the likely typos). Not a word typed in capitals
    ("BPJS", "UGM"): an acronym is no typo of a document's word, and taking it for one
    would make a question about something else look answerable."""
    candidates = sorted(
        (i for i, w in enumerate(words) if _may_be_misspelt(w) and w not in acronyms),
        key=lambda i: (-len(words[i]), i),
    )[:MAX_FUZZY]
    return [i in candidates for i in range(len(words))]


def _may_be_misspelt(word: str, min_length: int = 4) -> bool:
    """Worth a fuzzy look-up: a topic word of 4 letters or more that is not itself a real
    word ("percerain" is a typo of "perceraian"; "cuaca" is a word the documents lack) and
    has a vowel (a word without one is an acronym, "npwp", or a shortening the chat
    normaliser does not know, "kntr", too far from any word for the look-up anyway)."""
    return (
        len(word) >= min_length
        and topic_weight(word) > 0
        and not is_dictionary_word(word)
        and any(vowel in word for vowel in "aiueo")
    )


_CAPITALS = re.compile(r"\b[A-Z][A-Z0-9]{1,9}\b")


# An acronym that names a thing: three letters or more, not one the chat reader spells out
# ("PA", "UMK"), not the office's own kind ("LBH") nor a unit or a medium ("WA", "WIB").
_IS_A_NAME = re.compile(
    rf"(?!(?:{'|'.join(w.lower() for w in (*ACRONYMS, *OFFICE_KINDS))}|wib|wita|wit|sms)$)"
    r"[a-z][a-z0-9]{2,9}"
)


_PLACE_BEFORE = "ke|di|dari|oleh|lewat|via|pada|kantor"


def acronyms_in(question: str) -> frozenset[str]:
    """The words typed in capitals ("UGM", "BPJS", "NIB"), lower-cased as search sees them."""
    return frozenset(word.lower() for word in _CAPITALS.findall(question))


def unknown_share(word: str) -> float:
    """How much of a word no chunk holds counts against the question being in scope: a real
    word the documents never use ("paspor", "kereta") says the question is about something
    else, however everyday it is; a word that is no dictionary word may be a typo, a chat
    form or a name the documents spell otherwise ("ngabarin", "malem")."""
    weight = topic_weight(word)
    if weight <= 0:
        return 0.0
    if is_dictionary_word(word):
        return UNKNOWN_REAL_WORD * max(weight, FAMILIAR_TOPIC)
    return UNKNOWN_OTHER_WORD * weight


def asked_words(question: str) -> frozenset[str] | None:
    """The content words of the sentence that asks (`chat_words.asked_clause`), or None when
    the question is one sentence."""
    clause = asked_clause(question)
    return None if clause is None else frozenset(content_words(clause))


def foreign_share(
    word: str, acronyms: frozenset[str] = frozenset(), asked: frozenset[str] | None = None
) -> float:
    """How much a word no chunk holds counts as naming something the documents never
    mention: a real word fully ("paspor") unless it is a verb form (`VERB_AS_FOREIGN`:
    "dituduh"); any other word (after the chat normaliser a name, brand or acronym, a
    regional word, or a typo the look-up missed) by `OTHER_WORD_AS_FOREIGN`, which is 0:
    such a word cannot tell which. Outside the sentence that asks (`asked`, None: the whole
    question asks), `CIRCUMSTANCE_AS_FOREIGN` of that."""
    if topic_weight(word) <= 0:
        return 0.0
    if word in acronyms:
        share = ACRONYM_AS_FOREIGN
    elif not is_dictionary_word(word):
        share = OTHER_WORD_AS_FOREIGN
    elif verb_root(word) is not None:
        share = VERB_AS_FOREIGN
    else:
        share = 1.0
    if asked is not None and word not in asked:
        share *= CIRCUMSTANCE_AS_FOREIGN
    return share


def in_scope(
    rows: Sequence[dict[str, Any]],
    acronyms: frozenset[str] = frozenset(),
    asked: frozenset[str] | None = None,
) -> bool:
    """The hand-set out-of-scope rule the scope model replaced (module docstring, "Out of
    scope"), kept for comparison in benchmarks/kb_scope_train.py; `acronyms`: the words
    the question typed in capitals (`acronyms_in`); `asked`: the words of the sentence that
    asks (`asked_words`; None: the question is one sentence)."""
    if not rows:
        return False
    first = rows[0]
    unknown = [pair.rpartition(">")[0] for pair in first["matches"] or [] if pair.endswith(">?")]
    absent = float(first["absent_weight"] or 0.0)
    topic = float(first["topic_weight"] or 0.0) + absent * sum(map(unknown_share, unknown))
    best = max(float(r["topic"] or 0.0) for r in rows)
    if topic <= 0 or best <= 0:
        return False
    tied = {r["document_id"] for r in rows if float(r["topic"] or 0.0) >= best * TIE}
    if len(tied) > SPREAD_DOCUMENTS:
        return False  # the words it matches are everywhere: they point at nothing
    held = max(float(r["topic_count"] or 0.0) for r in rows)
    foreign = int(sum(foreign_share(word, acronyms, asked) for word in unknown))
    if held < EVIDENCE_BESIDE_FOREIGN_WORDS[min(foreign, len(EVIDENCE_BESIDE_FOREIGN_WORDS) - 1)]:
        return False  # it names things the documents never mention; what they share is thin
    if held >= STRONG_MATCH:
        return True
    return best / topic >= MIN_COVERAGE


def evidence_of(question: str, rows: Sequence[dict[str, Any]]) -> Evidence:
    """The lexical search's rows as the scope model reads them (`domain.knowledge_scope`);
    benchmarks/kb_scope_train.py builds its training data with this same function."""
    first = rows[0] if rows else {}
    acronyms, asked = acronyms_in(question), asked_words(question)
    words = []
    for pair in first.get("matches") or []:
        word, _, found = str(pair).rpartition(">")
        known = found != "?"
        words.append(
            AskedWord(
                topic=topic_weight(word),
                known=known,
                foreign=0.0 if known else foreign_share(word, acronyms, asked),
                unknown_share=0.0 if known else unknown_share(word),
                forms=word_forms(word) | word_forms(found) if known else frozenset(),
            )
        )
    return Evidence(
        words=tuple(words),
        known_topic=float(first.get("topic_weight") or 0.0),
        absent_idf=float(first.get("absent_weight") or 0.0),
        candidates=tuple(
            Candidate(
                matched=float(r["matched"] or 0.0),
                topic=float(r["topic"] or 0.0),
                topic_count=float(r["topic_count"] or 0.0),
                rarest=float(r["rarest"] or 0.0),
                in_heading=float(r["in_heading"] or 0.0),
                heading_similarity=float(r["heading_similarity"] or 0.0),
                document_id=int(r["document_id"]),
            )
            for r in rows
        ),
        top_text=str(first.get("text") or ""),
        top_heading=str(first.get("section") or ""),
    )


def fuse(rankings: dict[str, list[int]]) -> list[tuple[int, float]]:
    """Reciprocal rank fusion: each ranking adds weight / (RRF_K + rank) to each id it holds."""
    scores: dict[int, float] = {}
    for name, ranked in rankings.items():
        weight = FUSION_WEIGHTS.get(name, 1.0)
        for rank, item in enumerate(ranked, start=1):
            scores[item] = scores.get(item, 0.0) + weight / (RRF_K + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


# The unit a figure is asked in is no topic: "bunganya jadi berapa persen?" after a
# disaster is not on the online-loan page because both say "persen".
_UNIT_WORDS = frozenset(
    {"persen", "rupiah", "ribu", "juta", "hari", "minggu", "bulan", "tahun", "jam", "kali",
     "gram", "ringgit", "dolar", "meter", "kilo", "kg"}
)  # fmt: skip


def _on_topic(
    passage: Passage,
    question: str,
    read_as: dict[str, list[str]],
    ranked_high: bool = False,
    known: Callable[[str], bool] | None = None,
) -> bool:
    """The passage (its section path and text) names at least half of the question's topic
    words, as typed or as the search read them: a passage ranked below the first ones holds
    a figure, but is it on what was asked? ("kartu kusuka brp lama jadi?" is not answered by
    the free-aid requirements' "diperiksa paling lama tiga hari kerja" beside "kartu")."""
    words = [
        w
        for w in dict.fromkeys(content_words(question))
        if topic_weight(w) >= 0.3
        and w not in _UNIT_WORDS
        # a word no document uses ("wktunya") no passage can name
        and (known is None or w in read_as or known(w))
    ]
    if not words:
        return True
    tokens = normalise(f"{passage.title} {passage.section} {passage.text}").split()
    named = sum(
        bool(
            named_at(tokens, frozenset().union(word_forms(w), *map(word_forms, read_as.get(w, []))))
        )
        for w in words
    )
    # One of the first five (the ranking's own choice) needs a third of them.
    return (3 if ranked_high else 2) * named >= len(words)


def _failed(source: str, error: SourceError) -> DocumentReport:
    log.info("knowledge.source_failed", source=source, error=str(error))
    return DocumentReport(source=source, status="failed", error=str(error))


def _title(explicit: str | None, document: ReadDocument, fallback: str) -> str:
    for candidate in (explicit, document.title):
        if candidate and candidate.strip() and not _JUNK_TITLE.search(candidate.strip()):
            return " ".join(candidate.split())[:200]
    return _pretty(fallback)


def _pretty(name: str) -> str:
    """ "sub/panduan_perceraian-2024.pdf" → "Panduan Perceraian 2024"."""
    words = re.sub(r"[_\-.]+", " ", PurePosixPath(name).stem).split()
    return " ".join(w if w.isupper() else w.capitalize() for w in words) or "Dokumen"


def _vocabulary(headings: list[str], bodies: list[str]) -> list[str]:
    words: set[str] = set()
    for text in (*headings, *bodies):
        words.update(w for w in text.split() if _WORD_SHAPE.match(w) and w not in STOPWORDS)
    return sorted(words)


def _vector_literal(vector: Sequence[float]) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in vector) + "]"


def _checked_hash(path: Path, max_bytes: int) -> str:
    """The file's hash, refused unread when it is over the size limit."""
    size = path.stat().st_size
    if size > max_bytes:
        raise SourceError(readers.too_large(size, max_bytes))
    return _file_hash(path)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _folder_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
