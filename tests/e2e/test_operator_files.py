"""An operator sends a FILE, not a link (issue 16, item 3), over real HTTP, PostgreSQL and the
fake Graph API: by `POST /api/whatsapp/send-file` (multipart/form-data) and by
`wagate send TARGET --file PATH`. Each reaches the fake exactly once as an upload
(`POST /{phone-number-id}/media`) and one document message naming the id the upload returned;
the stored file is gone afterwards. A program renamed .pdf and an over-limit file are refused;
an upload the Graph API fails once is retried and the message still goes once."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.e2e.harness import (
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    gateway_on_fresh_database,
    wait_until,
)
from wagate.fakes.payloads import meta_text

PDF = (
    b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"
    + b"% padding past the API's 64 KiB body limit, which a file upload streams past\n" * 2000
    + b"trailer << /Root 1 0 R >>\n%%EOF\n"
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 4000


def _open_window(gateway: Gateway, fake_meta: FakePeer, sender: str) -> None:
    wrote = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
    assert gateway.post_meta(wrote).status_code == 200
    wait_until(lambda: _sends(fake_meta, sender, "text"), timeout=30)


def _sends(fake_meta: FakePeer, number: str, kind: str) -> list[dict[str, Any]]:
    return [
        r["body"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number and r["body"].get("type") == kind
    ]


def _uploads(fake_meta: FakePeer, digest: str) -> list[dict[str, Any]]:
    return [r for r in fake_meta.requests("upload") if r.get("sha256") == digest]


def _post_file(
    gateway: Gateway,
    fields: dict[str, str],
    data: bytes,
    name: str,
    mime: str = "application/pdf",
    **headers: str,
) -> httpx.Response:
    return gateway.http.post(
        "/api/whatsapp/send-file",
        data=fields,
        files={"file": (name, data, mime)},
        headers={"Authorization": f"Bearer {API_TOKEN}", **headers},
    )


def _file_rows(gateway: Gateway) -> int:
    with psycopg.connect(gateway.env["DATABASE_URL"]) as conn:
        row = conn.execute("SELECT count(*) FROM outbound_files").fetchone()
    assert row is not None
    return int(row[0])


def _stored_objects(gateway: Gateway) -> set[Path]:
    folder = gateway.data_dir / "media"
    return {p for p in folder.rglob("*") if p.is_file()} if folder.exists() else set()


def _one_document(fake_meta: FakePeer, sender: str, data: bytes) -> dict[str, Any]:
    """The file reached the fake as exactly one accepted upload and one document message
    naming the upload's id (waited for, then checked again after a pause: no duplicate)."""
    digest = hashlib.sha256(data).hexdigest()
    wait_until(lambda: _sends(fake_meta, sender, "document"), timeout=30)
    time.sleep(1.5)  # a duplicate would have arrived by now
    accepted = [u for u in _uploads(fake_meta, digest) if u.get("outcome") == "accepted"]
    [document] = _sends(fake_meta, sender, "document")
    assert len(accepted) == 1, accepted
    assert accepted[0]["fields"] == {"messaging_product": "whatsapp", "type": "application/pdf"}
    assert document["document"]["id"] == accepted[0]["media_id"]
    assert "link" not in document["document"]
    return document


def test_a_pdf_sent_through_the_api_goes_once_as_an_upload_and_a_document(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    _open_window(gateway, fake_meta, sender)
    before = _stored_objects(gateway)
    fields = {"target": sender, "caption": "Surat kuasa, mohon ditandatangani"}
    for _ in range(2):  # the same Idempotency-Key again: queued once
        answer = _post_file(
            gateway, fields, PDF, "surat kuasa.pdf", **{"Idempotency-Key": f"f1-{sender}"}
        )
        assert answer.status_code == 202, answer.text
    document = _one_document(fake_meta, sender, PDF)
    assert document["document"]["caption"] == fields["caption"]
    assert document["document"]["filename"] == "surat kuasa.pdf"
    # Delivered: the sealed copy is deleted (row and object).
    wait_until(lambda: _file_rows(gateway) == 0, timeout=20)
    assert _stored_objects(gateway) <= before


def test_a_pdf_sent_by_the_cli_goes_once_as_an_upload_and_a_document(
    gateway: Gateway, fake_meta: FakePeer, sender: str, tmp_path: Path
) -> None:
    _open_window(gateway, fake_meta, sender)
    data = PDF.replace(b"padding", b"cli pad")
    path = tmp_path / "putusan.pdf"
    path.write_bytes(data)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "wagate", "send", sender),
            *("--file", str(path), "--key", f"c1-{sender}", "--caption", "Salinan putusan"),
        ],
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    document = _one_document(fake_meta, sender, data)
    assert document["document"]["filename"] == "putusan.pdf"
    assert document["document"]["caption"] == "Salinan putusan"


def test_a_program_renamed_pdf_is_refused_by_the_api_and_the_cli(
    gateway: Gateway, fake_meta: FakePeer, sender: str, tmp_path: Path
) -> None:
    _open_window(gateway, fake_meta, sender)
    refused = _post_file(gateway, {"target": sender}, EXE, "surat.pdf")
    assert refused.status_code == 422 and "program" in refused.json()["detail"]
    path = tmp_path / "surat.pdf"
    path.write_bytes(EXE)
    done = subprocess.run(
        [sys.executable, "-m", "wagate", "send", sender, "--file", str(path)],
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "program" in done.stderr
    assert _uploads(fake_meta, hashlib.sha256(EXE).hexdigest()) == []
    assert _sends(fake_meta, sender, "document") == []
    # Without a file, or not as a form: a clear 4xx, nothing stored.
    missing = gateway.http.post(
        "/api/whatsapp/send-file",
        data={"target": sender},
        files={"other": ("x.txt", b"x")},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )
    assert missing.status_code == 422
    as_json = gateway.api_post("/api/whatsapp/send-file", {"target": sender})
    assert as_json.status_code == 415
    unsigned = gateway.http.post(
        "/api/whatsapp/send-file", data={"target": sender}, files={"file": ("a.pdf", PDF)}
    )
    assert unsigned.status_code == 401


def test_an_upload_the_graph_api_fails_once_is_retried_and_the_message_goes_once(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    _open_window(gateway, fake_meta, sender)
    data = PDF.replace(b"padding", b"retry pad")
    fake_meta.fail(kind="upload", http_status=500, times=1)
    answer = _post_file(gateway, {"target": sender}, data, "gugatan.pdf")
    assert answer.status_code == 202, answer.text
    _one_document(fake_meta, sender, data)
    tries = _uploads(fake_meta, hashlib.sha256(data).hexdigest())
    assert [t.get("outcome") for t in tries] == ["refused", "accepted"]


def test_an_over_limit_file_is_refused(workdir: Path, fake_meta: FakePeer, sender: str) -> None:
    """With small limits (photos 100 KB, documents 300 KB): a photo over its limit and a
    document over its limit are refused with the limit named (422); a body past the streamed
    limit is refused before it is read (413). Nothing reaches the Graph API."""
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        OUTBOUND_MAX_IMAGE_BYTES="100000",
        OUTBOUND_MAX_DOCUMENT_BYTES="300000",
    ) as (small, _):
        _open_window(small, fake_meta, sender)
        png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 150_000
        photo = _post_file(
            small, {"target": sender, "type": "image"}, png, "foto.png", mime="image/png"
        )
        assert photo.status_code == 422 and "limit for images" in photo.json()["detail"]
        document = _post_file(small, {"target": sender}, PDF + b" " * 160_000, "besar.pdf")
        assert document.status_code == 422 and "limit for documents" in document.json()["detail"]
        huge = _post_file(small, {"target": sender}, PDF + b" " * 500_000, "besar.pdf")
        assert huge.status_code == 413
        assert _file_rows(small) == 0
    assert _sends(fake_meta, sender, "document") == [] and _sends(fake_meta, sender, "image") == []


def test_a_file_whose_message_failed_is_kept_for_a_replay_and_purged_by_retention(
    gateway: Gateway, fake_meta: FakePeer, sender: str
) -> None:
    """Kept while the message is a dead letter: the replay sends it with the id uploaded the
    first time (no second upload). A file still failed after RETENTION_DAYS goes with its
    message: row, and object through the trash."""
    _open_window(gateway, fake_meta, sender)
    data = PDF.replace(b"padding", b"replay pa")
    before = _stored_objects(gateway)
    fake_meta.fail(code=131026, kind="send", times=1)  # undeliverable: a permanent failure
    assert _post_file(gateway, {"target": sender}, data, "akta.pdf").status_code == 202

    def dead() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = gateway.api("/api/dead-letters")["items"]
        return [
            d
            for d in items
            if d.get("errorCode") == "131026"
            and gateway.api(f"/api/dead-letters/{d['id']}").get("to") == sender
        ]

    [letter] = wait_until(dead, timeout=30)
    assert _file_rows(gateway) == 1 and len(_stored_objects(gateway) - before) == 1
    replayed = gateway.api_post(f"/api/dead-letters/{letter['id']}/replay", {})
    assert replayed.status_code == 200, replayed.text
    wait_until(lambda: [s for s in _sends(fake_meta, sender, "document")], timeout=30)
    time.sleep(1.5)
    documents = _sends(fake_meta, sender, "document")
    uploads = _uploads(fake_meta, hashlib.sha256(data).hexdigest())
    assert len(uploads) == 1  # the replay reused the uploaded copy
    assert [d["document"]["id"] for d in documents] == [uploads[0]["media_id"]] * 2
    delivered = [
        r
        for r in fake_meta.requests("send")
        if r["body"].get("type") == "document"
        and r["body"].get("to") == sender
        and r.get("delivered")
    ]
    assert len(delivered) == 1
    wait_until(lambda: _file_rows(gateway) == 0, timeout=20)

    # A second file fails for good and is left: retention removes it with its message.
    other = PDF.replace(b"padding", b"purged pa")
    fake_meta.fail(code=131026, kind="send", times=1)
    assert _post_file(gateway, {"target": sender}, other, "lama.pdf").status_code == 202
    wait_until(lambda: _file_rows(gateway) == 1 and dead(), timeout=30)
    wait_until(lambda: len(_stored_objects(gateway) - before) == 1, timeout=10)
    with psycopg.connect(gateway.env["DATABASE_URL"], autocommit=True) as owner:
        owner.execute(
            "UPDATE outbound_messages SET created_at = now() - interval '40 days' "
            "WHERE id IN (SELECT outbound_id FROM outbound_files)"
        )
    done = subprocess.run(
        [sys.executable, "-m", "wagate", "retention"],
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _file_rows(gateway) == 0
    assert _stored_objects(gateway) <= before
