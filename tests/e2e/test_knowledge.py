"""The knowledge base through the gateway (AI3, AI4), end to end over real HTTP: the folder is
read at start; a question it covers is answered with its passages in the prompt and a
"Sumber:" line; one it does not cover is declined without calling the AI; without an AI
endpoint the offline assistant answers from the passages; `wagate kb` adds, lists, searches
(JSON) and refuses a broken file with a clear message, leaving the rest answering."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    fresh_database,
    wait_until,
)
from tests.e2e.harness import wagate as wagate_cli
from wagate.fakes.payloads import meta_text
from wagate.pipeline.conversation.knowledge import DEFAULT_DECLINE_TEXT
from wagate.sample_knowledge import sample_documents

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


def knowledge_folder(workdir: Path, name: str) -> Path:
    folder = workdir / name
    folder.mkdir(exist_ok=True)
    for document in sample_documents():
        shutil.copyfile(document, folder / document.name)
    return folder


def loaded(gateway: Gateway) -> bool:
    """Every sample document read: a question asked while the folder is still being read
    may rightly be declined (its document is not there yet)."""
    status = gateway.http.get("/api/whatsapp/status").json()
    return bool(status.get("knowledgeBaseLoaded")) and status["knowledgeBase"]["documents"] == len(
        sample_documents()
    )


@pytest.fixture(scope="module")
def kb_gateway(workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer) -> Iterator[Gateway]:
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
            KB_DIR=str(knowledge_folder(workdir, "kb-online")),
            PAIR_INTERVAL_SECONDS="0",
        ).start()
        try:
            wait_until(lambda: loaded(gateway), timeout=60)
            yield gateway
        finally:
            gateway.stop()


def replies(fake_meta: FakePeer, number: str) -> list[str]:
    return [
        r["body"]["text"]["body"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number and "text" in r["body"]
    ]


def ai_calls_with(fake_ai: FakePeer, words: str) -> list[dict[str, Any]]:
    return [
        r for r in fake_ai.requests("chat") if words in str(r["body"]["messages"][-1]["content"])
    ]


def test_a_covered_question_is_answered_from_the_passages_with_its_sources(
    kb_gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    # General information (green): a question about the person's own case would wait for a
    # lawyer, the default once a knowledge base is loaded (REVIEW_MODE unset).
    question = "cara gugat cerai gmn ya? syaratnya apa aja"
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=question)
    assert kb_gateway.post_meta(payload).status_code == 200
    [answer] = wait_until(lambda: replies(fake_meta, sender), timeout=30)
    assert "Sumber:" in answer and "Perceraian" in answer
    [call] = ai_calls_with(fake_ai, "syaratnya apa aja")
    system = str(call["body"]["messages"][0]["content"])
    assert "Pengadilan Agama" in system  # a passage of the divorce guide joined the prompt


def test_a_question_the_documents_do_not_cover_is_declined_without_the_ai(
    kb_gateway: Gateway, fake_meta: FakePeer, fake_ai: FakePeer, sender: str
) -> None:
    question = "resep rendang padang yang enak gimana"
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text=question)
    assert kb_gateway.post_meta(payload).status_code == 200
    [answer] = wait_until(lambda: replies(fake_meta, sender), timeout=30)
    assert DEFAULT_DECLINE_TEXT.split(",")[0] in answer
    assert ai_calls_with(fake_ai, "rendang") == []


def test_the_command_line_adds_lists_searches_and_refuses_a_broken_file(
    kb_gateway: Gateway, workdir: Path
) -> None:
    def wagate(*args: str) -> subprocess.CompletedProcess[str]:
        return wagate_cli("kb", *args, env=kb_gateway.env)

    found = wagate("search", "pesangon sy brp kalo di phk", "--json", "--limit", "3")
    assert found.returncode == 0, found.stderr
    results = json.loads(found.stdout)
    assert results and set(results[0]) >= {"source", "title", "section", "score", "text"}
    assert results[0]["source"] == "pesangon.md"

    broken = workdir / "rusak.pdf"
    broken.write_bytes(b"%PDF-1.4\n this is not a pdf at all")
    refused = wagate("add", str(broken))
    assert refused.returncode == 1 and "rusak.pdf" in refused.stderr
    added_file = workdir / "jadwal.md"
    added_file.write_text(
        "# Jadwal Sidang Keliling\n\n## Lokasi\n\nSidang keliling diadakan di balai desa "
        "setiap Kamis pertama.\n",
        encoding="utf-8",
    )
    added = wagate("add", str(added_file), "--title", "Jadwal Sidang Keliling")
    assert added.returncode == 0, added.stderr
    listed = kb_gateway.http.get("/api/kb", headers=AUTH).json()
    titles = {d["title"] for d in listed["items"]}
    assert "Jadwal Sidang Keliling" in titles and "rusak.pdf" not in str(listed)
    again = wagate("search", "sidang keliling di balai desa kapan", "--json")
    assert json.loads(again.stdout)[0]["title"] == "Jadwal Sidang Keliling"
    # The refused file changed nothing: the rest still answers.
    assert json.loads(wagate("search", "jam buka kantor", "--json").stdout)

    queued = kb_gateway.http.post("/api/whatsapp/refresh-kb", headers=AUTH)
    assert queued.status_code == 202, queued.text


def test_without_an_ai_endpoint_the_offline_assistant_answers_from_the_documents(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            KB_DIR=str(knowledge_folder(workdir, "kb-offline")),
        ).start()
        try:
            wait_until(lambda: loaded(gateway), timeout=60)
            payload = meta_text(
                phone_number_id=PHONE_NUMBER_ID, sender=sender, text="jam buka kantor kapan aja?"
            )
            assert gateway.post_meta(payload).status_code == 200
            [answer] = wait_until(lambda: replies(fake_meta, sender), timeout=30)
            assert "Sumber:" in answer and "belum dikonfigurasi" not in answer
            assert "Senin" in answer  # the office hours, from the document
        finally:
            gateway.stop()
