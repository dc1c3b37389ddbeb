"""Operator users (issue 14, item 1) end to end: users added with `wagate users` (passwords on
standard input), their personal tokens used over real HTTP against a gateway on real
PostgreSQL. A viewer reads but may not change anything (403); staff may replay a dead letter
but not manage users; an admin user manages users; the audit trail names the person; a
disabled user's token is refused (401); sign-in is throttled after repeated failures; one
tenant's users are invisible to another's."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.harness import (
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    fresh_database,
    python_code,
    wait_until,
)
from tests.e2e.harness import wagate as wagate_cli
from wagate.fakes.payloads import meta_text
from wagate.storage.roles import DEFAULT_APP_ROLE

ADMIN = {"Authorization": f"Bearer {API_TOKEN}"}
PASSWORDS = {
    "Vera": "viewer-password-1",
    "Stan": "staff password two",
    "Lara": "lawyer's password 3",
    "Ada": "admin password four!",
}
ROLES = {"Vera": "viewer", "Stan": "staff", "Lara": "lawyer", "Ada": "admin"}


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="module")
def gateway(
    workdir: Path, database: str, fake_meta: FakePeer, fake_ai: FakePeer
) -> Iterator[Gateway]:
    running = Gateway(
        workdir,
        database_url=database,
        graph_url=f"{fake_meta.url}/v22.0",
        ai_url=f"{fake_ai.url}/v1",
        PAIR_INTERVAL_SECONDS="0",
    ).start()
    yield running
    running.stop()


def wagate(
    gateway: Gateway, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return wagate_cli(*args, env=gateway.env, stdin=stdin)


@pytest.fixture(scope="module")
def tokens(gateway: Gateway) -> dict[str, str]:
    """Each role's user, added through the CLI with the password on standard input, and a
    personal token for each."""
    issued = {}
    for name, role in ROLES.items():
        added = wagate(gateway, "users", "add", name, "--role", role, stdin=PASSWORDS[name] + "\n")
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["role"] == role
        token = wagate(gateway, "users", "token", name.lower(), "--label", "e2e")
        assert token.returncode == 0, token.stderr
        issued[name] = json.loads(token.stdout)["token"]
    return issued


def call(
    gateway: Gateway, token: str, method: str, path: str, body: Any = None, **headers: str
) -> httpx.Response:
    return gateway.http.request(
        method,
        path,
        json=body,
        headers={"Authorization": f"Bearer {token}", **headers},
    )


def audit_entries(gateway: Gateway, action: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = gateway.api("/api/audit", limit=1000)["items"]
    return [e for e in items if e["action"] == action]


def test_a_personal_token_acts_as_its_user_with_their_role(
    gateway: Gateway, tokens: dict[str, str]
) -> None:
    me = call(gateway, tokens["Vera"], "GET", "/api/me")
    assert me.status_code == 200, me.text
    assert me.json() == {
        "name": "Vera",
        "actor": "user:Vera:api",
        "role": "viewer",
        "permissions": ["read"],
        "tenant": "default",
        "platform": False,
    }
    lawyer = call(gateway, tokens["Lara"], "GET", "/api/me").json()
    assert lawyer["permissions"] == ["approve", "read", "take_over"]
    machine = call(gateway, API_TOKEN, "GET", "/api/me").json()
    assert machine["name"] is None and machine["role"] == "admin" and machine["platform"]


def test_a_viewer_reads_but_may_change_nothing(gateway: Gateway, tokens: dict[str, str]) -> None:
    viewer = tokens["Vera"]
    for path in ("/api/conversations", "/api/dead-letters", "/api/audit", "/api/kb", "/api/status"):
        assert call(gateway, viewer, "GET", path).status_code == 200, path
    refused = [
        ("POST", "/api/whatsapp/send", {"target": "6281200000001", "message": "halo"}),
        ("POST", "/api/accounts", {"username": "ani"}),
        ("POST", "/api/dead-letters/replay", {}),
        ("PUT", "/api/channels/meta/token", {"token": "x"}),
        ("POST", "/api/contacts/erase", {"phone": "6281200000001"}),
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"name": "eve", "role": "admin", "password": "x" * 12}),
    ]
    before = len(gateway.api("/api/audit", limit=1000)["items"])
    for method, path, body in refused:
        answer = call(gateway, viewer, method, path, body)
        assert answer.status_code == 403, (path, answer.text)
        assert "viewer may not" in answer.json()["detail"]
    assert len(gateway.api("/api/audit", limit=1000)["items"]) == before


def test_staff_may_replay_a_dead_letter_but_not_manage_users(
    gateway: Gateway, tokens: dict[str, str], fake_meta: FakePeer, sender: str
) -> None:
    opened = gateway.post_meta(
        meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo")
    )
    assert opened.status_code == 200  # opens the window
    wait_until(lambda: [r for r in fake_meta.requests("send") if r["body"].get("to") == sender])
    fake_meta.fail(kind="send", code=131026, times=1)  # undeliverable: permanent
    sent = call(
        gateway, tokens["Stan"], "POST", "/api/whatsapp/send", {"target": sender, "message": "Siap"}
    )
    assert sent.status_code == 202, sent.text

    def dead() -> list[dict[str, Any]]:
        items = call(gateway, tokens["Stan"], "GET", "/api/dead-letters").json()["items"]
        return [d for d in items if d["errorCode"] == "131026"]

    [letter] = wait_until(dead, timeout=30)
    replayed = call(gateway, tokens["Stan"], "POST", f"/api/dead-letters/{letter['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    for method, path, body in (
        ("GET", "/api/users", None),
        ("POST", "/api/users", {"name": "eve", "role": "admin", "password": "x" * 12}),
        ("POST", "/api/users/Vera/disable", None),
        ("POST", "/api/users/Vera/tokens", {"label": "mine now"}),
        ("PUT", "/api/channels/meta/token", {"token": "x"}),
    ):
        answer = call(gateway, tokens["Stan"], method, path, body)
        assert answer.status_code == 403, (path, answer.text)
    # The audit trail names the person, for the send and for the replay.
    [send] = [e for e in audit_entries(gateway, "operator.send") if e["actor"] == "user:Stan:api"]
    [replay] = audit_entries(gateway, "dead_letter.replayed")
    assert replay["actor"] == "user:Stan:api" and replay["subject"] == f"outbound:{letter['id']}"
    assert send["subject"].startswith("conversation:")


def test_an_admin_user_manages_users_and_is_named_in_the_trail(
    gateway: Gateway, tokens: dict[str, str]
) -> None:
    admin = tokens["Ada"]
    created = call(
        gateway,
        admin,
        "POST",
        "/api/users",
        {"name": "Rudi", "role": "staff", "password": "r" * 12},
    )
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "staff"
    again = call(
        gateway,
        admin,
        "POST",
        "/api/users",
        {"name": "RUDI", "role": "staff", "password": "r" * 12},
    )
    assert again.status_code == 409
    short = call(
        gateway, admin, "POST", "/api/users", {"name": "x", "role": "staff", "password": "s"}
    )
    assert short.status_code == 422
    assert (
        call(gateway, admin, "POST", "/api/users/Rudi/role", {"role": "lawyer"}).json()["role"]
        == "lawyer"
    )
    listed = {u["name"]: u for u in call(gateway, admin, "GET", "/api/users").json()["items"]}
    assert set(listed) == {*ROLES, "Rudi"}
    assert not any("hash" in key.lower() for user in listed.values() for key in user)
    issued = call(gateway, admin, "POST", "/api/users/Rudi/tokens", {"label": "tablet"})
    assert issued.status_code == 201
    assert call(gateway, issued.json()["token"], "GET", "/api/me").json()["role"] == "lawyer"
    # An admin cannot lock themselves out.
    assert call(gateway, admin, "POST", "/api/users/ada/disable").status_code == 422
    by_subject = {e["subject"]: e for e in audit_entries(gateway, "user.added")}
    assert by_subject[f"user:{created.json()['id']}"]["actor"] == "user:Ada:api"
    assert by_subject[f"user:{listed['Vera']['id']}"]["actor"] == "operator:cli"
    [changed] = audit_entries(gateway, "user.role_changed")
    assert changed["details"] == {"role": "lawyer", "was": "staff"}
    assert changed["actor"] == "user:Ada:api"


def test_a_disabled_users_token_is_refused_until_enabled_and_a_revoked_one_for_good(
    gateway: Gateway, tokens: dict[str, str]
) -> None:
    viewer = tokens["Vera"]
    assert wagate(gateway, "users", "disable", "vera").returncode == 0
    assert call(gateway, viewer, "GET", "/api/me").status_code == 401
    assert call(gateway, viewer, "GET", "/api/conversations").status_code == 401
    assert wagate(gateway, "users", "enable", "Vera").returncode == 0
    assert call(gateway, viewer, "GET", "/api/me").status_code == 200
    listed = json.loads(wagate(gateway, "users", "tokens", "Vera").stdout)
    assert [t["revoked"] for t in listed] == [False]
    revoked = wagate(gateway, "users", "revoke-token", str(listed[0]["id"]))
    assert revoked.returncode == 0, revoked.stderr
    assert call(gateway, viewer, "GET", "/api/me").status_code == 401
    # Revoking again, or a token that is not a user's, is a clear refusal (exit 1).
    again = wagate(gateway, "users", "revoke-token", str(listed[0]["id"]))
    assert again.returncode == 1 and "no live personal token" in again.stderr
    tokens["Vera"] = json.loads(wagate(gateway, "users", "token", "Vera").stdout)["token"]


def test_the_cli_lists_users_and_refuses_bad_input_clearly(gateway: Gateway) -> None:
    table = wagate(gateway, "users", "list")
    assert table.returncode == 0 and "Stan" in table.stdout and "staff" in table.stdout
    as_json = json.loads(wagate(gateway, "users", "list", "--json").stdout)
    assert {u["name"]: u["role"] for u in as_json}.items() >= ROLES.items()
    short = wagate(gateway, "users", "add", "pendek", "--role", "staff", stdin="short\n")
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    no_password = wagate(gateway, "users", "add", "kosong", "--role", "staff", stdin="")
    assert no_password.returncode == 2 and "standard input" in no_password.stderr
    bad_role = wagate(gateway, "users", "add", "x", "--role", "boss", stdin="long password\n")
    assert bad_role.returncode == 2
    taken = wagate(gateway, "users", "add", "stan", "--role", "staff", stdin="long password\n")
    assert taken.returncode == 1 and "exists" in taken.stderr
    missing = wagate(gateway, "users", "disable", "nobody")
    assert missing.returncode == 1 and "no user" in missing.stderr
    assert "Traceback" not in short.stderr + no_password.stderr + taken.stderr + missing.stderr


_SIGN_IN = """
import asyncio, json, sys
from wagate.settings import load_settings
from wagate.wiring import open_gateway

async def main(name, attempts):
    gateway = await open_gateway(load_settings(), pool_size=2)
    users = gateway.operator.users
    outcomes = []
    try:
        for password in attempts:
            result = await users.sign_in(name, password, via="console")
            outcomes.append(result.refusal.value if result.refusal else "ok")
    finally:
        await gateway.close()
    print(json.dumps(outcomes))

asyncio.run(main(sys.argv[1], json.loads(sys.argv[2])))
"""


def sign_in(gateway: Gateway, name: str, *attempts: str) -> list[str]:
    done = python_code(_SIGN_IN, name, json.dumps(attempts), env=gateway.env)
    assert done.returncode == 0, done.stderr
    outcomes: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return outcomes


def test_sign_in_checks_the_password_from_stdin_and_is_throttled_after_failures(
    gateway: Gateway, tokens: dict[str, str]
) -> None:
    assert sign_in(gateway, "lara", PASSWORDS["Lara"]) == ["ok"]
    wrong = ["wrong password"] * 5
    assert sign_in(gateway, "Lara", *wrong, PASSWORDS["Lara"]) == ["wrong"] * 5 + ["throttled"]
    assert sign_in(gateway, "nobody", "whatever it is") == ["wrong"]
    # An administrator's new password (`wagate users passwd`, from stdin) lifts the lock.
    changed = wagate(gateway, "users", "passwd", "Lara", stdin="a brand new password\n")
    assert changed.returncode == 0, changed.stderr
    assert sign_in(gateway, "Lara", PASSWORDS["Lara"], "a brand new password") == ["wrong", "ok"]
    lara = next(
        u
        for u in json.loads(wagate(gateway, "users", "list", "--json").stdout)
        if u["name"] == "Lara"
    )
    failed = audit_entries(gateway, "user.sign_in_failed")
    assert [e["subject"] for e in failed] == [f"user:{lara['id']}"] * 6
    signed = audit_entries(gateway, "user.signed_in")
    assert {e["actor"] for e in signed} == {"user:Lara:console"}


def test_one_tenants_users_are_invisible_to_another(
    gateway: Gateway, database: str, tokens: dict[str, str]
) -> None:
    for tenant in ("firm-a", "firm-b"):
        created = gateway.http.post("/api/tenants", json={"id": tenant}, headers=ADMIN)
        assert created.status_code == 201, created.text
    rani = wagate(
        gateway,
        "--tenant",
        "firm-a",
        "users",
        "add",
        "Rani",
        "--role",
        "admin",
        stdin="firm a password\n",
    )
    assert rani.returncode == 0, rani.stderr
    # The same name is free in another tenant.
    other = wagate(
        gateway,
        "--tenant",
        "firm-b",
        "users",
        "add",
        "Rani",
        "--role",
        "viewer",
        stdin="firm b password\n",
    )
    assert other.returncode == 0, other.stderr
    firm_b = json.loads(wagate(gateway, "--tenant", "firm-b", "users", "list", "--json").stdout)
    assert [(u["name"], u["role"], u["tenant"]) for u in firm_b] == [("Rani", "viewer", "firm-b")]
    default = json.loads(wagate(gateway, "users", "list", "--json").stdout)
    assert "Rani" not in {u["name"] for u in default}
    token_a = json.loads(wagate(gateway, "--tenant", "firm-a", "users", "token", "Rani").stdout)[
        "token"
    ]
    me = call(gateway, token_a, "GET", "/api/me").json()
    assert (me["name"], me["role"], me["tenant"]) == ("Rani", "admin", "firm-a")
    listed = call(gateway, token_a, "GET", "/api/users").json()["items"]
    assert [(u["name"], u["tenant"]) for u in listed] == [("Rani", "firm-a")]
    # Firm A's admin can neither reach firm B nor the default tenant's users.
    crossed = call(gateway, token_a, "GET", "/api/users", **{"X-Wagate-Tenant": "firm-b"})
    assert crossed.status_code == 403
    assert call(gateway, token_a, "GET", "/api/users/Stan").status_code == 404
    assert call(gateway, token_a, "POST", "/api/tenants", {"id": "firm-c"}).status_code == 403
    # And the database itself shows the gateway's role only the tenant it is scoped to.
    with psycopg.connect(database) as conn:
        conn.execute(f"SET ROLE {DEFAULT_APP_ROLE}")
        assert conn.execute("SELECT count(*) FROM operator_users").fetchone() == (0,)
        conn.execute("SELECT set_config('wagate.tenant', 'firm-b', true)")
        seen = conn.execute("SELECT tenant, name FROM operator_users").fetchall()
    assert seen == [("firm-b", "Rani")]
