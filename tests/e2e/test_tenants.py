"""Many firms on one gateway (MT1, MT2, IN8), end to end over real HTTP: two tenants with their
own Meta numbers and tokens on the fake Graph API (and one with a Fonnte device), each answered
with its own prompt and sent with its own token; neither sees the other's data; one tenant's
expired token pauses only that tenant; a disabled tenant stores but does not answer; an erased
tenant's rows stay, unreadable, and the others are untouched."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.harness import (
    API_TOKEN,
    FakePeer,
    Gateway,
    fresh_database,
    tag,
    wait_until,
)
from tests.e2e.harness import wagate as wagate_cli
from wagate.fakes.payloads import fonnte_text, meta_text

NUMBER_A = "300000000000001"
NUMBER_B = "300000000000002"
NUMBER_C = "300000000000003"
TOKEN_A = "token-firm-a"
TOKEN_B = "token-firm-b"
DEVICE_B = "6281100000002"
FONNTE_SECRET_B = "firm-b-device-secret-0123456789"
FONNTE_TOKEN_B = "fonnte-token-firm-b"

ADMIN = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture(scope="module")
def peers(workdir: Path) -> Iterator[tuple[FakePeer, FakePeer, FakePeer]]:
    meta = FakePeer("meta", workdir, "--access-token", "e2e-access-token")
    fonnte = FakePeer("fonnte", workdir)
    ai = FakePeer("openai", workdir)
    yield meta, fonnte, ai
    for peer in (meta, fonnte, ai):
        peer.stop()


@pytest.fixture(scope="module")
def database(workdir: Path) -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def platform(
    workdir: Path, database: str, peers: tuple[FakePeer, FakePeer, FakePeer]
) -> Iterator[Gateway]:
    meta, fonnte, ai = peers
    for number, token in ((NUMBER_A, TOKEN_A), (NUMBER_B, TOKEN_B), (NUMBER_C, "token-c")):
        httpx.post(
            f"{meta.url}/_fake/token", json={"access_token": token, "phone_number_id": number}
        ).raise_for_status()
    gateway = Gateway(
        workdir,
        database_url=database,
        graph_url=f"{meta.url}/v22.0",
        fonnte_url=f"{fonnte.url}/send",
        ai_url=f"{ai.url}/v1",
        PAIR_INTERVAL_SECONDS="0",
        DEGRADED_PROBE_SECONDS="1",
        BREAKER_FAILURES="50",
    ).start()
    admin = gateway.http
    for tenant, prompt in (("firm-a", "PROMPT-FIRM-A"), ("firm-b", "PROMPT-FIRM-B")):
        created = admin.post(
            "/api/tenants",
            json={"id": tenant, "name": tenant.upper(), "settings": {"system_prompt": prompt}},
            headers=ADMIN,
        )
        assert created.status_code == 201, created.text
    channels = [
        ("firm-a", {"provider": "meta", "channel": NUMBER_A, "token": TOKEN_A, "account": "1"}),
        ("firm-b", {"provider": "meta", "channel": NUMBER_B, "token": TOKEN_B}),
        (
            "firm-b",
            {
                "provider": "fonnte",
                "channel": DEVICE_B,
                "token": FONNTE_TOKEN_B,
                "webhookSecret": FONNTE_SECRET_B,
            },
        ),
    ]
    for tenant, channel in channels:
        added = admin.post(f"/api/tenants/{tenant}/channels", json=channel, headers=ADMIN)
        assert added.status_code == 201, added.text
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def tokens(platform: Gateway) -> dict[str, str]:
    issued = {}
    for tenant in ("firm-a", "firm-b"):
        response = platform.http.post(
            f"/api/tenants/{tenant}/tokens", json={"name": "e2e"}, headers=ADMIN
        )
        assert response.status_code == 201, response.text
        issued[tenant] = response.json()["token"]
    return issued


def as_tenant(gateway: Gateway, token: str, path: str, **params: Any) -> httpx.Response:
    return gateway.http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def sender(index: int) -> str:
    return f"62813{int(time.time() * 1000) % 10**6:06d}{index:02d}"


def meta_sends(meta: FakePeer, number: str, to: str) -> list[dict[str, Any]]:
    return [
        r
        for r in meta.requests("send")
        if r["phone_number_id"] == number and r["body"].get("to") == to
    ]


def system_prompt_for(ai: FakePeer, marker: str) -> str | None:
    for request in ai.requests("chat"):
        messages = request["body"]["messages"]
        if marker in str(messages[-1]["content"]):
            return str(messages[0]["content"])
    return None


def test_each_tenant_answers_with_its_own_prompt_and_sends_with_its_own_token(
    platform: Gateway, peers: tuple[FakePeer, FakePeer, FakePeer]
) -> None:
    meta, fonnte, ai = peers
    a, b, c = sender(1), sender(2), sender(3)
    for number, who in ((NUMBER_A, a), (NUMBER_B, b)):
        payload = meta_text(phone_number_id=number, sender=who, text=f"halo {tag(who)}")
        assert platform.post_meta(payload).status_code == 200
    fields = fonnte_text(device=DEVICE_B, sender=c, text=f"halo {tag(c)}")
    assert platform.post_fonnte(fields, secret=FONNTE_SECRET_B).status_code == 200

    sent_a = wait_until(lambda: meta_sends(meta, NUMBER_A, a), timeout=30)
    sent_b = wait_until(lambda: meta_sends(meta, NUMBER_B, b), timeout=30)
    assert len(sent_a) == 1 and sent_a[0]["token"] == TOKEN_A and sent_a[0]["authorized"]
    assert len(sent_b) == 1 and sent_b[0]["token"] == TOKEN_B and sent_b[0]["authorized"]
    fonnte_sent = wait_until(
        lambda: [r for r in fonnte.requests("send") if r["fields"].get("target") == c],
        timeout=30,
    )
    assert [r["token"] for r in fonnte_sent] == [FONNTE_TOKEN_B]

    assert "PROMPT-FIRM-A" in (system_prompt_for(ai, tag(a)) or "")
    assert "PROMPT-FIRM-B" in (system_prompt_for(ai, tag(b)) or "")
    assert "PROMPT-FIRM-B" in (system_prompt_for(ai, tag(c)) or "")
    # Each first job ran as its tenant at once (a job that named no tenant would have failed
    # as the default tenant's and been retried).
    assert "converse.failed" not in platform.log()


def test_a_number_no_tenant_owns_is_stored_flagged_and_never_answered(
    platform: Gateway, peers: tuple[FakePeer, FakePeer, FakePeer], database: str
) -> None:
    meta, _, _ = peers
    who = sender(4)
    payload = meta_text(phone_number_id="399999999999999", sender=who, text="siapa?")
    assert platform.post_meta(payload).status_code == 200
    with psycopg.connect(database) as conn:
        flagged = conn.execute(
            "SELECT tenant FROM provider_events WHERE field_name = 'unknown_channel_message' "
            "AND channel_id = '399999999999999'"
        ).fetchall()
    assert flagged == [("default",)]
    time.sleep(2)
    assert not [r for r in meta.requests("send") if r["body"].get("to") == who]


def test_neither_tenant_sees_the_others_data(
    platform: Gateway, tokens: dict[str, str], peers: tuple[FakePeer, FakePeer, FakePeer]
) -> None:
    meta, _, _ = peers
    who = sender(5)
    payload = meta_text(phone_number_id=NUMBER_B, sender=who, text=f"rahasia {tag(who)}")
    assert platform.post_meta(payload).status_code == 200
    wait_until(lambda: meta_sends(meta, NUMBER_B, who), timeout=30)

    b_list = as_tenant(platform, tokens["firm-b"], "/api/conversations", limit=1000).json()
    theirs = [c for c in b_list["items"] if c["contact"]["key"] == who]
    assert len(theirs) == 1
    conversation_id = theirs[0]["id"]

    a_list = as_tenant(platform, tokens["firm-a"], "/api/conversations", limit=1000).json()
    assert who not in {c["contact"]["key"] for c in a_list["items"]}
    stolen = as_tenant(platform, tokens["firm-a"], f"/api/conversations/{conversation_id}/messages")
    assert stolen.status_code == 404
    own = as_tenant(platform, tokens["firm-b"], f"/api/conversations/{conversation_id}/messages")
    assert own.status_code == 200 and any(tag(who) in str(m) for m in own.json()["items"])

    # An account made for B is not A's to see or change.
    account = platform.http.post(
        "/api/accounts",
        json={"username": f"b-{who}", "approved": True},
        headers={"Authorization": f"Bearer {tokens['firm-b']}"},
    )
    assert account.status_code == 201, account.text
    account_id = account.json()["id"]
    a_accounts = as_tenant(platform, tokens["firm-a"], "/api/accounts").json()["items"]
    assert account_id not in {x["id"] for x in a_accounts}
    revoked = platform.http.post(
        f"/api/accounts/{account_id}/revoke",
        headers={"Authorization": f"Bearer {tokens['firm-a']}"},
    )
    assert revoked.status_code == 404

    # A's token cannot ask for B, nor manage tenants, nor read B's audit trail.
    crossing = platform.http.get(
        "/api/conversations",
        headers={"Authorization": f"Bearer {tokens['firm-a']}", "X-Wagate-Tenant": "firm-b"},
    )
    assert crossing.status_code == 403
    assert as_tenant(platform, tokens["firm-a"], "/api/tenants").status_code == 403
    trail = as_tenant(platform, tokens["firm-a"], "/api/audit", limit=1000).json()["items"]
    assert all("firm-b" not in str(entry.get("subject")) for entry in trail)

    # The platform admin may look at B, by name.
    admin_view = platform.http.get(
        "/api/conversations",
        params={"limit": 1000},
        headers={**ADMIN, "X-Wagate-Tenant": "firm-b"},
    ).json()
    assert who in {c["contact"]["key"] for c in admin_view["items"]}


def test_a_tenants_dead_letter_is_not_there_for_another_tenant(
    platform: Gateway, tokens: dict[str, str], peers: tuple[FakePeer, FakePeer, FakePeer]
) -> None:
    meta, _, _ = peers
    who = sender(11)
    payload = meta_text(phone_number_id=NUMBER_B, sender=who, text=f"halo {tag(who)}")
    assert platform.post_meta(payload).status_code == 200  # opens B's window with this person
    wait_until(lambda: meta_sends(meta, NUMBER_B, who), timeout=30)
    meta.fail(kind="send", code=131026, times=1)  # undeliverable: permanent
    b_auth = {"Authorization": f"Bearer {tokens['firm-b']}"}
    queued = platform.http.post(
        "/api/whatsapp/send", json={"target": who, "message": "Dokumen siap"}, headers=b_auth
    )
    assert queued.status_code == 202, queued.text

    def b_dead() -> list[dict[str, Any]]:
        items = as_tenant(platform, tokens["firm-b"], "/api/dead-letters").json()["items"]
        return [d for d in items if d["errorCode"] == "131026"]

    [letter] = wait_until(b_dead, timeout=30)
    assert as_tenant(platform, tokens["firm-b"], f"/api/dead-letters/{letter['id']}").is_success
    assert (
        as_tenant(platform, tokens["firm-a"], f"/api/dead-letters/{letter['id']}").status_code
        == 404
    )
    replay = platform.http.post(
        f"/api/dead-letters/{letter['id']}/replay",
        headers={"Authorization": f"Bearer {tokens['firm-a']}"},
    )
    assert replay.status_code == 404
    a_items = as_tenant(platform, tokens["firm-a"], "/api/dead-letters").json()["items"]
    assert letter["id"] not in {d["id"] for d in a_items}


def test_an_expired_token_pauses_only_its_tenant(
    platform: Gateway, tokens: dict[str, str], peers: tuple[FakePeer, FakePeer, FakePeer]
) -> None:
    meta, _, _ = peers
    httpx.post(
        f"{meta.url}/_fake/token",
        json={"access_token": "token-a-renewed", "phone_number_id": NUMBER_A},
    ).raise_for_status()
    a, b = sender(6), sender(7)
    assert (
        platform.post_meta(
            meta_text(phone_number_id=NUMBER_A, sender=a, text=f"halo {tag(a)}")
        ).status_code
        == 200
    )

    def a_degraded() -> bool:
        status = as_tenant(platform, tokens["firm-a"], "/api/status").json()
        return any(c["state"] == "degraded" for c in status["channels"])

    wait_until(a_degraded, timeout=30)
    assert (
        platform.post_meta(
            meta_text(phone_number_id=NUMBER_B, sender=b, text=f"halo {tag(b)}")
        ).status_code
        == 200
    )
    delivered_b = wait_until(
        lambda: [r for r in meta_sends(meta, NUMBER_B, b) if r["authorized"]], timeout=30
    )
    assert len(delivered_b) == 1
    b_status = as_tenant(platform, tokens["firm-b"], "/api/status").json()
    assert all(c["state"] == "closed" for c in b_status["channels"])
    assert not [r for r in meta_sends(meta, NUMBER_A, a) if r["authorized"]]

    # Firm A's operator replaces its token: its waiting answer goes out, with the new token.
    replaced = platform.http.put(
        "/api/channels/meta/token",
        json={"token": "token-a-renewed"},
        headers={"Authorization": f"Bearer {tokens['firm-a']}"},
    )
    assert replaced.status_code == 200, replaced.text
    resumed = wait_until(
        lambda: [r for r in meta_sends(meta, NUMBER_A, a) if r["authorized"]], timeout=40
    )
    assert len(resumed) == 1 and resumed[0]["token"] == "token-a-renewed"


def test_a_disabled_tenant_stores_but_does_not_answer_until_enabled(
    platform: Gateway, tokens: dict[str, str], peers: tuple[FakePeer, FakePeer, FakePeer]
) -> None:
    meta, _, _ = peers
    assert platform.http.post("/api/tenants/firm-b/disable", headers=ADMIN).status_code == 200
    who = sender(8)
    payload = meta_text(phone_number_id=NUMBER_B, sender=who, text=f"halo {tag(who)}")
    assert platform.post_meta(payload).status_code == 200

    def stored() -> bool:
        page = as_tenant(platform, tokens["firm-b"], "/api/conversations", limit=1000).json()
        return who in {c["contact"]["key"] for c in page["items"]}

    wait_until(stored, timeout=10)
    time.sleep(4)  # two sweeps, several job polls
    assert not meta_sends(meta, NUMBER_B, who)

    assert platform.http.post("/api/tenants/firm-b/enable", headers=ADMIN).status_code == 200
    answered = wait_until(lambda: meta_sends(meta, NUMBER_B, who), timeout=30)
    assert len(answered) == 1


def test_erasing_a_tenant_leaves_its_rows_unreadable_and_the_others_untouched(
    platform: Gateway,
    tokens: dict[str, str],
    peers: tuple[FakePeer, FakePeer, FakePeer],
    database: str,
) -> None:
    meta, _, _ = peers
    created = platform.http.post(
        "/api/tenants", json={"id": "firm-c", "settings": {"retention_days": 7}}, headers=ADMIN
    )
    assert created.status_code == 201, created.text
    added = platform.http.post(
        "/api/tenants/firm-c/channels",
        json={"provider": "meta", "channel": NUMBER_C, "token": "token-c"},
        headers=ADMIN,
    )
    assert added.status_code == 201, added.text
    who = sender(9)
    payload = meta_text(phone_number_id=NUMBER_C, sender=who, text=f"hapus {tag(who)}")
    assert platform.post_meta(payload).status_code == 200
    wait_until(lambda: meta_sends(meta, NUMBER_C, who), timeout=30)

    uploaded = platform.http.post(
        "/api/kb",
        files={
            "file": (
                "panduan.md",
                b"# Panduan C\n\n## Jam buka\n\nKantor C buka pukul 8.",
                "text/markdown",
            )
        },
        headers={**ADMIN, "X-Wagate-Tenant": "firm-c"},
    )
    assert uploaded.status_code in (200, 201), uploaded.text

    erased = platform.http.post("/api/tenants/firm-c/erase", headers=ADMIN)
    assert erased.status_code == 200, erased.text
    assert erased.json()["status"] == "erased" and erased.json()["channels"] == []

    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM inbound_messages WHERE tenant = 'firm-c'"
        ).fetchone()
        keys = conn.execute(
            "SELECT count(*) FILTER (WHERE wrapped IS NOT NULL) FROM tenant_keys "
            "WHERE tenant = 'firm-c'"
        ).fetchone()
        knowledge = conn.execute(
            "SELECT count(*) FROM knowledge_chunks WHERE tenant = 'firm-c'"
        ).fetchone()
    assert rows is not None and rows[0] >= 1  # the rows stay …
    assert keys == (0,)  # … but no key can open them any more
    assert knowledge == (0,)  # the knowledge base's plain text is deleted outright
    # Nothing of C can be read through the gateway either.
    read = platform.http.get("/api/conversations", headers={**ADMIN, "X-Wagate-Tenant": "firm-c"})
    assert read.status_code == 404

    # A's data is untouched, and every chain still verifies.
    a_list = as_tenant(platform, tokens["firm-a"], "/api/conversations", limit=1000)
    assert a_list.status_code == 200 and a_list.json()["items"]
    for tenant in ("default", "firm-a", "firm-b"):
        verified = platform.http.get(
            "/api/audit/verify", headers={**ADMIN, "X-Wagate-Tenant": tenant}
        ).json()
        assert verified["ok"], (tenant, verified)

    # C's number now belongs to nobody: stored under the platform, flagged, not answered.
    later = sender(10)
    payload = meta_text(phone_number_id=NUMBER_C, sender=later, text="masih ada?")
    assert platform.post_meta(payload).status_code == 200
    time.sleep(2)
    assert not meta_sends(meta, NUMBER_C, later)


def test_tenants_are_managed_from_the_command_line_too(platform: Gateway) -> None:
    def wagate(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return wagate_cli(*args, env=platform.env, stdin=stdin)

    added = wagate(
        "tenants", "add", "firm-d", "--name", "Firma D", "--set", "rate_limit_per_minute=3"
    )
    assert added.returncode == 0, added.stderr
    assert '"rate_limit_per_minute": 3' in added.stdout
    bad = wagate("tenants", "set", "firm-d", "--set", "rate_limit_per_minute=0")
    assert bad.returncode == 1 and "RATE_LIMIT_PER_MINUTE" in bad.stderr
    unknown = wagate("tenants", "set", "firm-d", "--set", "database_url=x")
    assert unknown.returncode == 1 and "DATABASE_URL" in unknown.stderr
    channel = wagate(
        "tenants",
        "channel-add",
        "firm-d",
        "--provider",
        "meta",
        "--channel",
        "300000000000009",
        stdin="token-d\n",
    )
    assert channel.returncode == 0, channel.stderr
    assert "token-d" not in channel.stdout  # secrets are never shown
    taken = wagate(
        "tenants",
        "channel-add",
        "firm-d",
        "--provider",
        "meta",
        "--channel",
        NUMBER_A,
        "--token",
        "x",
    )
    assert taken.returncode == 1 and "taken" in taken.stderr
    listed = wagate("tenants", "list")
    assert listed.returncode == 0 and "firm-d" in listed.stdout and "firm-a" in listed.stdout
    assert wagate("tenants", "disable", "firm-d").returncode == 0
    assert '"status": "disabled"' in wagate("tenants", "show", "firm-d").stdout
    issued = wagate("tenants", "token", "firm-d", "--name", "cli")
    assert issued.returncode == 0 and '"token": "wgt_' in issued.stdout
    # Any operator command acts for the tenant named before it, and only for it.
    account = wagate("--tenant", "firm-a", "accounts", "add", "cli-firm-a")
    assert account.returncode == 0, account.stderr
    firm_a_accounts = wagate("--tenant", "firm-a", "accounts", "list").stdout
    default_accounts = wagate("accounts", "list").stdout
    assert "cli-firm-a" in firm_a_accounts and "cli-firm-a" not in default_accounts
    nobody = wagate("--tenant", "nobody", "accounts", "list")
    assert nobody.returncode == 1 and "does not exist" in nobody.stderr
    refused = wagate("tenants", "erase", "firm-d")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert wagate("tenants", "erase", "default", "--yes").returncode == 1
