"""Operator users (issue 14, item 1) on in-memory ports with real argon2id: names, passwords and
roles are checked; managing users needs ADMINISTER; sign-in counts failures, throttles, refuses
disabled users and upgrades old hashes; every existing operator action refuses a role that
lacks its permission (Forbidden) and records nothing then."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher

from tests.unit.operator_fakes import CHEAP_PASSWORDS, NOW, FakeAuditLog, World
from tests.unit.test_operator_service import ACTIONS, SCRIPT, world
from wagate.domain.operator_users import (
    SignInPolicy,
    check_password,
    check_user_name,
    parse_role,
)
from wagate.domain.operators import Permission, Role
from wagate.pipeline.operator import CLI, Actor, Conflict, Forbidden, NotFound, Rejected
from wagate.pipeline.operator.recorder import Recorder
from wagate.pipeline.operator.users import Refusal, Users
from wagate.security.passwords import Argon2Passwords
from wagate.testing.users import MemoryUsers

PASSWORD = "kopi tubruk pagi"


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def as_role(role: Role, name: str = "someone") -> Actor:
    return Actor(via="api", user=name, role=role)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def desk(passwords: Argon2Passwords = CHEAP_PASSWORDS) -> tuple[Users, FakeAuditLog, Clock]:
    audit, clock = FakeAuditLog(), Clock()
    users = Users(
        store=MemoryUsers(), passwords=passwords, recorder=Recorder(audit=audit, clock=clock)
    )
    return users, audit, clock


# ---------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    "name",
    [
        *("", "   ", "x" * 65, "budi\x00", "bu\ndi", "bu\u200bdi", "a:b", "a/b", "token-7"),
        *("TOKEN-12", ".", "..", " .. "),
    ],
)
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_user_name(name)


def test_names_are_kept_as_written_without_surrounding_spaces() -> None:
    assert check_user_name("  Siti Rahma  ") == "Siti Rahma"
    assert check_user_name("x" * 64) == "x" * 64
    assert check_user_name("token-budi") == "token-budi"


@pytest.mark.parametrize("password", ["", "123456789", "x" * 1025, "abcdefghij\ud800"])
def test_bad_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValueError):
        check_password(password)


def test_roles_parse_in_any_case_and_name_the_choices_when_unknown() -> None:
    assert parse_role(" Lawyer ") is Role.LAWYER
    with pytest.raises(ValueError, match="admin, lawyer, staff, viewer"):
        parse_role("boss")


def test_the_lockout_lasts_from_the_last_failure() -> None:
    policy = SignInPolicy(max_failures=3, lockout=timedelta(minutes=10))
    assert not policy.locked(2, NOW, NOW)
    assert policy.locked(3, NOW, NOW + timedelta(minutes=9))
    assert not policy.locked(3, NOW, NOW + timedelta(minutes=10))


# ---------------------------------------------------------------- passwords


def test_argon2id_hashes_verify_and_refuse_the_wrong_password() -> None:
    stored = run(CHEAP_PASSWORDS.hash(PASSWORD))
    assert stored.startswith("$argon2id$")
    assert run(CHEAP_PASSWORDS.verify(stored, PASSWORD))
    assert not run(CHEAP_PASSWORDS.verify(stored, PASSWORD + "!"))
    assert not run(CHEAP_PASSWORDS.verify("not a hash", PASSWORD))
    assert run(CHEAP_PASSWORDS.hash(PASSWORD)) != stored  # salted


def test_an_unknown_user_is_checked_against_a_dummy_hash_of_the_same_cost() -> None:
    strong = Argon2Passwords(time_cost=2, memory_kib=16 * 1024, parallelism=1)
    stored = run(strong.hash(PASSWORD))
    assert not run(strong.verify(None, PASSWORD))
    # The dummy is made with today's parameters, so checking it costs what a real check does.
    assert strong._dummy is not None and not strong.needs_rehash(strong._dummy)

    # An unknown name runs a real argon2 verification against that dummy (the same work as a
    # known name's wrong password), not a shortcut: seen by recording what the hasher checks.
    checked: list[str] = []
    real = strong._hasher

    class Recording:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def verify(self, target: str, password: bytes) -> bool:
            checked.append(target)
            return real.verify(target, password)

    strong._hasher = Recording()  # type: ignore[assignment]
    assert not run(strong.verify(None, "wrong password"))
    assert not run(strong.verify(stored, "wrong password"))
    assert checked == [strong._dummy, stored]


def test_hashes_made_with_other_parameters_need_rehashing() -> None:
    cheap = run(CHEAP_PASSWORDS.hash(PASSWORD))
    default = Argon2Passwords()
    assert default.needs_rehash(cheap)
    assert not CHEAP_PASSWORDS.needs_rehash(cheap)
    assert default.needs_rehash("garbage")


# ---------------------------------------------------------------- managing users


def test_an_admin_adds_a_user_and_the_record_names_the_admin() -> None:
    users, audit, _ = desk()
    added = run(
        users.add(" Budi ", role="lawyer", password=PASSWORD, by=as_role(Role.ADMIN, "ani"))
    )
    assert (added.name, added.role, added.disabled) == ("Budi", Role.LAWYER, False)
    [event] = audit.events
    assert (event.action, event.actor, event.subject) == ("user.added", "user:ani:api", "user:1")
    assert PASSWORD not in repr(event)
    assert run(users.show("BUDI", by=CLI)).id == added.id
    with pytest.raises(Conflict):
        run(users.add("budi", role="staff", password=PASSWORD, by=CLI))


@pytest.mark.parametrize(
    ("name", "role", "password"),
    [("", "staff", PASSWORD), ("budi", "boss", PASSWORD), ("budi", "staff", "short")],
)
def test_bad_input_is_rejected_and_records_nothing(name: str, role: str, password: str) -> None:
    users, audit, _ = desk()
    with pytest.raises(Rejected):
        run(users.add(name, role=role, password=password, by=CLI))
    assert audit.events == []


@pytest.mark.parametrize("role", [Role.LAWYER, Role.STAFF, Role.VIEWER])
def test_only_administrators_manage_users(role: Role) -> None:
    users, audit, _ = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    token = run(users.issue_token("budi", by=CLI))
    audit.events.clear()
    by = as_role(role)
    for call in (
        users.list(by=by),
        users.show("budi", by=by),
        users.add("siti", role="viewer", password=PASSWORD, by=by),
        users.passwd("budi", password=PASSWORD, by=by),
        users.set_role("budi", "admin", by=by),
        users.disable("budi", by=by),
        users.enable("budi", by=by),
        users.issue_token("budi", by=by),
        users.tokens("budi", by=by),
        users.revoke_token(token["id"], by=by),
    ):
        with pytest.raises(Forbidden):
            run(call)
    assert audit.events == []


def test_role_password_disable_enable_and_tokens_are_each_audited() -> None:
    users, audit, _ = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    assert run(users.set_role("budi", "LAWYER", by=CLI)).role is Role.LAWYER
    run(users.passwd("budi", password="another long one", by=CLI))
    assert run(users.disable("budi", by=CLI)).disabled
    with pytest.raises(Conflict):  # no new token for a disabled user
        run(users.issue_token("budi", by=CLI))
    assert not run(users.enable("budi", by=CLI)).disabled
    issued = run(users.issue_token("budi", label="laptop", by=CLI))
    assert issued["token"].startswith("wgt_") and issued["label"] == "laptop"
    assert [t["revoked"] for t in run(users.tokens("budi", by=CLI))] == [False]
    run(users.revoke_token(issued["id"], by=CLI))
    assert [t["revoked"] for t in run(users.tokens("budi", by=CLI))] == [True]
    with pytest.raises(NotFound):
        run(users.revoke_token(issued["id"], by=CLI))
    assert [e.action for e in audit.events] == [
        "user.added",
        "user.role_changed",
        "user.password_changed",
        "user.disabled",
        "user.enabled",
        "user.token_issued",
        "user.token_revoked",
    ]
    assert issued["token"] not in repr(audit.events)


def test_an_admin_cannot_disable_or_demote_themselves() -> None:
    users, _, _ = desk()
    run(users.add("ani", role="admin", password=PASSWORD, by=CLI))
    ani = as_role(Role.ADMIN, "Ani")
    with pytest.raises(Rejected):
        run(users.disable("ani", by=ani))
    with pytest.raises(Rejected):
        run(users.set_role("ani", "viewer", by=ani))


def test_unknown_users_are_not_found() -> None:
    users, _, _ = desk()
    for call in (
        users.show("nobody", by=CLI),
        users.disable("nobody", by=CLI),
        users.issue_token("nobody", by=CLI),
        users.revoke_token(99, by=CLI),
    ):
        with pytest.raises(NotFound):
            run(call)


def test_the_actor_of_a_signed_in_user_follows_their_current_role_and_state() -> None:
    users, _, _ = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    actor = run(users.actor_for("BUDI", via="console"))
    assert actor == Actor(via="console", user="budi", role=Role.STAFF)
    run(users.set_role("budi", "viewer", by=CLI))
    assert run(users.actor_for("budi", via="console")).role is Role.VIEWER
    run(users.disable("budi", by=CLI))
    assert run(users.actor_for("budi", via="console")) is None


def test_a_session_from_before_the_password_was_set_is_over() -> None:
    users, _, clock = desk()
    budi = run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    clock.now += timedelta(minutes=1)
    signed_in_at = clock.now
    assert run(users.actor_for_id(budi.id, via="console", signed_in_at=signed_in_at))
    clock.now += timedelta(minutes=5)
    run(users.passwd("budi", password="kata sandi baru sekali", by=CLI))
    # The session opened before the reset is refused; one opened after it is not.
    assert run(users.actor_for_id(budi.id, via="console", signed_in_at=signed_in_at)) is None
    assert run(users.actor_for_id(budi.id, via="console", signed_in_at=clock.now))


# ---------------------------------------------------------------- signing in


def test_a_sign_in_succeeds_resets_failures_and_is_recorded_as_the_user() -> None:
    users, audit, _ = desk()
    run(users.add("budi", role="lawyer", password=PASSWORD, by=CLI))
    assert run(users.sign_in("budi", "wrong password", via="console")).refusal is Refusal.WRONG
    signed = run(users.sign_in(" Budi ", PASSWORD, via="console"))
    assert signed.ok and signed.user is not None
    assert signed.user.failed_sign_ins == 0 and signed.user.last_sign_in_at == NOW
    failed, succeeded = audit.events[1:]
    assert (failed.action, failed.actor) == ("user.sign_in_failed", "operator:console")
    assert (succeeded.action, succeeded.actor) == ("user.signed_in", "user:budi:console")


def test_an_unknown_name_is_refused_like_a_wrong_password_and_records_nothing() -> None:
    users, audit, _ = desk()
    refused = run(users.sign_in("nobody", PASSWORD, via="console"))
    assert refused.refusal is Refusal.WRONG and refused.user is None
    assert run(users.sign_in("", PASSWORD, via="console")).refusal is Refusal.WRONG
    assert audit.events == []


def test_too_many_failures_lock_the_user_out_until_the_lockout_has_passed() -> None:
    users, _, clock = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    for _ in range(users.policy.max_failures):
        assert run(users.sign_in("budi", "wrong password", via="console")).refusal is Refusal.WRONG
    throttled = run(users.sign_in("budi", PASSWORD, via="console"))
    assert throttled.refusal is Refusal.THROTTLED
    assert throttled.retry_at == NOW + users.policy.lockout
    clock.now = NOW + users.policy.lockout - timedelta(seconds=1)
    assert run(users.sign_in("budi", PASSWORD, via="console")).refusal is Refusal.THROTTLED
    clock.now = NOW + users.policy.lockout
    # One more wrong try after the lockout locks again at once …
    assert run(users.sign_in("budi", "wrong password", via="console")).refusal is Refusal.WRONG
    assert run(users.sign_in("budi", PASSWORD, via="console")).refusal is Refusal.THROTTLED
    # … and an administrator's new password lifts the lock.
    run(users.passwd("budi", password="a fresh password", by=CLI))
    assert run(users.sign_in("budi", "a fresh password", via="console")).ok


def test_hostile_input_at_sign_in_is_a_wrong_password_never_an_error() -> None:
    users, _, _ = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    for name, password in (
        ("budi", "\ud800 lone surrogate"),
        ("budi", "\x00" * 20),
        ("budi", "x" * 5000),
        ("bu\ud800di", PASSWORD),
        ("x" * 500, PASSWORD),
    ):
        assert run(users.sign_in(name, password, via="console")).refusal is Refusal.WRONG
    with pytest.raises(NotFound):
        run(users.show("bu\x00di", by=CLI))
    with pytest.raises(Rejected):
        run(users.issue_token("budi", label="lap\ud800top", by=CLI))


def test_a_disabled_user_cannot_sign_in_and_learns_why_only_with_the_right_password() -> None:
    users, audit, _ = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    run(users.disable("budi", by=CLI))
    assert run(users.sign_in("budi", "wrong password", via="console")).refusal is Refusal.WRONG
    assert run(users.sign_in("budi", PASSWORD, via="console")).refusal is Refusal.DISABLED
    assert audit.events[-1].action == "user.sign_in_refused"


def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in() -> None:
    users, _, _ = desk()
    run(users.add("budi", role="staff", password=PASSWORD, by=CLI))
    store = users.store
    assert isinstance(store, MemoryUsers)
    old = store.hashes[1]
    stronger = Argon2Passwords(time_cost=2, memory_kib=1024, parallelism=1)
    upgraded = Users(store=store, passwords=stronger, recorder=users.recorder)
    assert run(upgraded.sign_in("budi", PASSWORD, via="console")).ok
    assert store.hashes[1] != old
    assert PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).verify(
        store.hashes[1], PASSWORD
    )
    assert not stronger.needs_rehash(store.hashes[1])


# ---------------------------------------------------------------- every operator action


# What each step of the operator service's script needs (test_operator_service.SCRIPT).
NEEDS = {
    "create": Permission.OPERATE,
    "approve": Permission.OPERATE,
    "revoke": Permission.OPERATE,
    "link": Permission.OPERATE,
    "unlink": Permission.OPERATE,
    "send code": Permission.OPERATE,
    "verify": Permission.OPERATE,
    "import": Permission.OPERATE,
    "send": Permission.OPERATE,
    "template": Permission.OPERATE,
    "replay": Permission.OPERATE,
    "replay all": Permission.OPERATE,
    "take": Permission.TAKE_OVER,
    "reply": Permission.TAKE_OVER,
    "release": Permission.TAKE_OVER,
    "set token": Permission.ADMINISTER,
    "export": Permission.OPERATE,
    "erase": Permission.ADMINISTER,
    "rotate": Permission.ADMINISTER,
    "reseal": Permission.ADMINISTER,
    "rotate data key": Permission.ADMINISTER,
    "shred": Permission.ADMINISTER,
    "audit export": Permission.READ,
}


def test_the_table_covers_every_audited_action() -> None:
    assert [name for name, _ in SCRIPT] == list(NEEDS)
    assert len(ACTIONS) == len(NEEDS)


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_do_exactly_what_its_permissions_allow(role: Role) -> None:
    by = as_role(role, "budi")
    w = world()
    service = w.service()

    async def script() -> None:
        for name, step in SCRIPT:
            before = len(w.audit.events)
            if by.may(NEEDS[name]):
                await step(service, by)
                assert [e.actor for e in w.audit.events[before:]] == ["user:budi:api"], name
                continue
            queued = dict(w.outbox.queued)
            with pytest.raises(Forbidden):
                await step(service, by)
            assert len(w.audit.events) == before, f"{name}: a refusal records nothing"
            assert w.outbox.queued == queued, f"{name}: a refusal sends nothing"
            await step(service, CLI)  # so that the next steps find what they need

    run(script())


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_read(role: Role) -> None:
    w: World = world()
    op = w.service()
    by = as_role(role)
    run(op.accounts.list(by=by))
    run(op.dead_letters.listing(by=by))
    run(op.trail.page(by=by))
    run(op.trail.verify(by=by))
    run(op.knowledge.documents(by=by))


def test_keys_status_is_for_administrators() -> None:
    op = world().service()
    with pytest.raises(Forbidden):
        run(op.keys.status(by=as_role(Role.STAFF)))
    run(op.keys.status(by=as_role(Role.ADMIN)))
