"""The knowledge base's vocabulary for spelling corrections (storage/knowledge.py): read once
for searches that arrive together, kept when a check fails, never trusted across a write; and
the domain's caps on what it indexes and on the words it corrects (review of branch kb10)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from wagate.domain import spelling
from wagate.domain.spelling import Vocabulary
from wagate.storage.knowledge import KnowledgeBase


class _Cursor:
    def __init__(self, db: _Database, sql: str) -> None:
        self._db, self._sql = db, sql

    async def fetchone(self) -> dict[str, Any]:
        self._db.stamp_reads += 1
        await asyncio.sleep(0.01)
        if self._db.failing:
            raise OSError("the database went away")
        return {"documents": 1, "chunks": 1, "updated": self._db.stamp}

    async def fetchall(self) -> list[dict[str, Any]]:
        if "knowledge_vocabulary" not in self._sql:
            if self._db.topics_failing:
                raise RuntimeError("the documents could not be read")
            return []  # the documents whose matters are read (`legal_topics`): none here
        self._db.word_reads += 1
        await asyncio.sleep(0.01)
        return [{"word": w, "documents": 1} for w in self._db.words]


class _Connection:
    def __init__(self, db: _Database) -> None:
        self._db = db

    async def execute(self, sql: str, params: Any = None) -> _Cursor:
        return _Cursor(self._db, sql)


class _Database:
    """Only what `KnowledgeBase._vocabulary` uses: a tenant connection's reads (the stamp,
    the words, and the documents whose matters are read with them)."""

    def __init__(self) -> None:
        self.words = ["pesangon"]
        self.stamp = 1
        self.failing = False
        self.topics_failing = False
        self.stamp_reads = 0
        self.word_reads = 0

    @contextlib.asynccontextmanager
    async def tenant_connection(self, tenant: str) -> AsyncIterator[_Connection]:
        yield _Connection(self)


def _base(db: _Database) -> KnowledgeBase:
    return KnowledgeBase(db, "t1")  # type: ignore[arg-type]


def test_searches_arriving_together_read_the_words_once() -> None:
    db = _Database()
    base = _base(db)

    async def go() -> list[Vocabulary]:
        return await asyncio.gather(*(base._vocabulary() for _ in range(20)))

    found = asyncio.run(go())
    assert db.word_reads == 1 and db.stamp_reads == 1
    assert all("pesangon" in v for v in found)


def test_a_failed_check_keeps_the_words_it_had_and_the_search_goes_on() -> None:
    db = _Database()
    base = _base(db)

    async def go() -> tuple[Vocabulary, Vocabulary]:
        first = await base._vocabulary()
        base._words_changed()  # a write: the next search checks again
        db.failing = True
        return first, await base._vocabulary()

    first, after_failure = asyncio.run(go())
    assert "pesangon" in first and "pesangon" in after_failure


def test_a_failing_first_check_gives_no_corrections_not_an_error() -> None:
    db = _Database()
    db.failing = True
    vocabulary = asyncio.run(_base(db)._vocabulary())
    assert len(vocabulary) == 0


def test_a_check_under_way_during_a_write_is_not_trusted_afterwards() -> None:
    db = _Database()
    base = _base(db)

    async def go() -> Vocabulary:
        checking = asyncio.create_task(base._vocabulary())
        await asyncio.sleep(0.005)  # the check has read the old stamp's words
        db.words, db.stamp = ["pesangon", "warisan"], 2
        base._words_changed()  # the write commits while the check is under way
        await checking
        return await base._vocabulary()  # must read again, not keep the old words 5 s

    assert "warisan" in asyncio.run(go())


def test_a_typed_word_longer_than_any_document_word_is_not_corrected() -> None:
    word = "a" * 20 + "pesangon" + "b" * 12  # 40 letters: the longest a vocabulary keeps
    vocabulary = Vocabulary.of({word: 3})
    assert vocabulary.corrections(word[:-1]) == [word]  # one letter short: a typo of it
    assert vocabulary.corrections(word + "c") == []  # 41 letters: longer than any word


def test_a_very_large_vocabulary_keeps_its_most_used_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spelling, "MAX_WORDS", 3)
    vocabulary = Vocabulary.of({"warisan": 9, "pesangon": 7, "perceraian": 5, "kontrak": 1})
    assert len(vocabulary) == 3 and "kontrak" not in vocabulary
    assert vocabulary.corrections("pesngon") == ["pesangon"]


def test_a_failed_read_of_the_documents_matters_keeps_the_words_and_declines_nothing() -> None:
    db = _Database()
    db.topics_failing = True
    base = _base(db)
    assert "pesangon" in asyncio.run(base._vocabulary())
    assert base._written is None  # unknown: no question is declined for a matter
    db.topics_failing, db.stamp = False, 2  # the documents changed: read again
    base._spelling_checked = float("-inf")
    asyncio.run(base._vocabulary())
    assert base._written == frozenset()
