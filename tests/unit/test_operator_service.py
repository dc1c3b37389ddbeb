"""The operator service on in-memory ports: each action validates, acts and writes one audit
record, the same for every door; refusals are NotFound / Rejected / Conflict and record nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tests.unit.operator_fakes import World
from wagate.domain.identity import LinkCheck
from wagate.domain.messages import Provider
from wagate.domain.operators import Role
from wagate.pipeline.operator import (
    API,
    CLI,
    Actor,
    Conflict,
    InvalidReference,
    NotFound,
    OperatorService,
    Rejected,
)

NUMBER = "6281200000001"
Step = Callable[[OperatorService, Actor], Coroutine[Any, Any, Any]]

CSV = "username,name,role,email,phone,approved\nbudi,Budi,lawyer,,081200000009,yes\nsiti,,,,,no\n"

# Every audited action, once, in an order that makes each one succeed.
SCRIPT: list[tuple[str, Step]] = [
    ("create", lambda op, by: op.accounts.create(username="siti", by=by, phone="0812 0000 0002")),
    ("approve", lambda op, by: op.accounts.approve("siti", by=by)),
    ("revoke", lambda op, by: op.accounts.approve("1", by=by, approved=False)),
    ("link", lambda op, by: op.accounts.link("siti", "+62 812-0000-0002", by=by)),
    ("unlink", lambda op, by: op.accounts.unlink("siti", by=by)),
    ("send code", lambda op, by: op.accounts.send_link_code("siti", NUMBER, by=by)),
    ("verify", lambda op, by: op.accounts.verify("siti", "123456", by=by)),
    ("import", lambda op, by: op.accounts.import_csv(CSV, by=by)),
    ("send", lambda op, by: op.sending.send(NUMBER, "Berkas siap", by=by, key="k1")),
    ("template", lambda op, by: op.sending.send_template(NUMBER, "jadwal", ["Senin"], by=by)),
    ("replay", lambda op, by: op.dead_letters.replay("7", by=by)),
    ("replay all", lambda op, by: op.dead_letters.replay_all(by=by)),
    ("take", lambda op, by: op.conversations.take(1, by=by)),
    ("reply", lambda op, by: op.conversations.reply(1, "Berkas siap", by=by, key="h1")),
    ("release", lambda op, by: op.conversations.release(1, by=by)),
    ("set token", lambda op, by: op.channels.set_token(Provider.META, "new-token", by=by)),
    ("export", lambda op, by: op.contacts.export("0812 0000 0001", by=by)),
    ("erase", lambda op, by: op.contacts.erase(NUMBER, by=by)),
    ("rotate", lambda op, by: op.keys.rotate(by=by)),
    ("reseal", lambda op, by: op.keys.reseal(by=by)),
    ("rotate data key", lambda op, by: op.keys.rotate_data_key("default", by=by)),
    ("shred", lambda op, by: op.keys.shred("default", by=by)),
    ("audit export", lambda op, by: op.trail.export(lambda _: None, by=by, fmt="jsonl")),
]
ACTIONS = [
    "account.created",
    "account.approved",
    "account.revoked",
    "account.linked",
    "account.unlinked",
    "account.link_code_sent",
    "account.link_verified",
    "accounts.imported",
    "operator.send",
    "operator.send_template",
    "dead_letter.replayed",
    "dead_letter.replayed",
    "conversation.taken",
    "conversation.replied",
    "conversation.released",
    "credentials.replaced",
    "contact.exported",
    "contact.erased",
    "keys.rotated",
    "keys.resealed",
    "keys.data_key_rotated",
    "keys.shredded",
    "audit.exported",
]


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def world() -> World:
    fresh = World()
    fresh.dead_letters.failed = {7, 8}
    fresh.rights.held = {NUMBER: 2}
    return fresh


def play(by: Actor) -> World:
    w = world()
    service = w.service()

    async def all_steps() -> None:
        for name, step in SCRIPT:
            before = len(w.audit.events)
            await step(service, by)
            assert len(w.audit.events) == before + 1, f"{name}: one audit record"

    run(all_steps())
    return w


def test_every_action_writes_one_record_the_same_through_every_door() -> None:
    through_api, through_cli = play(API), play(CLI)
    assert [e.action for e in through_api.audit.events] == ACTIONS
    assert {e.actor for e in through_api.audit.events} == {"operator:api"}
    assert {e.actor for e in through_cli.audit.events} == {"operator:cli"}
    same = [(e.action, e.subject, dict(e.details)) for e in through_api.audit.events]
    assert same == [(e.action, e.subject, dict(e.details)) for e in through_cli.audit.events]
    subjects = {e.action: e.subject for e in through_api.audit.events}
    assert subjects["account.created"] == "account:1"
    assert subjects["operator.send"] == "conversation:1"
    assert subjects["credentials.replaced"] == "channel:meta"
    # Facts only: no token, no number, no text in any record.
    flat = repr([(e.subject, e.details) for e in through_api.audit.events])
    for secret in ("new-token", NUMBER, "Berkas siap", "123456", "Senin"):
        assert secret not in flat


def test_a_console_user_is_recorded_as_who_did_it() -> None:
    w = world()
    run(w.service().accounts.create(username="ani", by=Actor(via="console", user="7")))
    assert w.audit.events[0].actor == "user:7:console"
    with pytest.raises(ValueError):
        Actor(via="a:b")


@pytest.mark.parametrize(
    ("step", "error"),
    [
        (lambda op: op.accounts.approve("nobody", by=API), NotFound),
        (lambda op: op.accounts.create(username="  ", by=API), Rejected),
        (lambda op: op.accounts.create(username="x", by=API, phone="12"), Rejected),
        (lambda op: op.accounts.send_link_code("nobody", NUMBER, by=API), NotFound),
        (lambda op: op.sending.send("abc", "halo", by=API), Rejected),
        (lambda op: op.sending.send(NUMBER, "   ", by=API), Rejected),
        (lambda op: op.sending.send_template(NUMBER, "unknown", [], by=API), Rejected),
        (lambda op: op.sending.send_template(NUMBER, "jadwal", [], by=API), Rejected),
        (lambda op: op.dead_letters.replay("abc", by=API), InvalidReference),
        (lambda op: op.dead_letters.replay("99", by=API), NotFound),
        (lambda op: op.dead_letters.show("99", by=API), NotFound),
        (lambda op: op.channels.set_token(Provider.META, "  ", by=API), Rejected),
        (lambda op: op.contacts.erase("not a number", by=API), Rejected),
    ],
)
def test_refusals_are_typed_and_record_nothing(
    step: Callable[[OperatorService], Coroutine[Any, Any, Any]], error: type[Exception]
) -> None:
    w = world()
    with pytest.raises(error):
        run(step(w.service()))
    assert w.audit.events == [] and w.outbox.queued == {}


def test_a_taken_username_and_a_number_linked_elsewhere_conflict() -> None:
    w = world()
    op = w.service()
    run(op.accounts.create(username="siti", by=CLI))
    run(op.accounts.create(username="budi", by=CLI))
    with pytest.raises(Conflict, match="exists already"):
        run(op.accounts.create(username="siti", by=CLI))
    run(op.accounts.link("siti", NUMBER, by=CLI))
    with pytest.raises(Conflict, match="another account"):
        run(op.accounts.link("budi", NUMBER, by=CLI))
    assert [e.action for e in w.audit.events] == ["account.created"] * 2 + ["account.linked"]


def test_an_unconfigured_provider_is_refused_for_sends_and_tokens() -> None:
    w = world()
    w.channels = {Provider.FONNTE: "fonnte"}
    op = w.service()
    with pytest.raises(Rejected, match="not configured"):
        run(op.sending.send(NUMBER, "halo", by=API, provider=Provider.META))
    with pytest.raises(Rejected, match="not configured"):
        run(op.channels.set_token(Provider.META, "t", by=API))
    with pytest.raises(Rejected, match="sends templates"):
        run(op.sending.send_template(NUMBER, "jadwal", ["Senin"], by=API))
    assert w.audit.events == [] and w.credentials.tokens == {}


def test_every_message_to_a_number_passes_the_recipient_check() -> None:
    """BERHENTI everywhere (issue 11): a refused number is a Conflict (409 / exit 1) on every
    path, nothing is queued, no link code is stored, and each refusal is audited without the
    number."""
    w = world()
    w.refused = {NUMBER}
    w.dead_letters.failed = {7}
    w.dead_letters.targets = {7: NUMBER}
    op = w.service()
    run(op.accounts.create(username="siti", by=API))
    for step in (
        op.sending.send(NUMBER, "halo", by=API),
        op.sending.send_template(NUMBER, "jadwal", ["Senin"], by=CLI),
        op.accounts.send_link_code("siti", NUMBER, by=API),
        op.dead_letters.replay("7", by=CLI),
    ):
        with pytest.raises(Conflict, match="opted out"):
            run(step)
    assert w.outbox.queued == {} and w.accounts.codes == {}
    assert w.dead_letters.failed == {7}  # still a dead letter
    refusals = w.audit.events[1:]
    assert [e.action for e in w.audit.events] == ["account.created"] + [
        "operator.refused_opted_out"
    ] * 4
    assert [e.details["path"] for e in refusals] == ["operator", "template", "link_code", "replay"]
    assert [e.actor for e in refusals] == [API.audit_name, CLI.audit_name] * 2
    assert refusals[0].details["channel"] == "fonnte" and refusals[1].details["channel"] == "100"
    assert all(NUMBER not in repr(e) for e in refusals)


def test_a_number_that_may_be_written_to_is_not_refused() -> None:
    w = world()
    w.refused = {"6281200000099"}
    w.dead_letters.failed = {7}
    w.dead_letters.targets = {7: NUMBER}
    op = w.service()
    run(op.sending.send(NUMBER, "halo", by=API))
    assert run(op.dead_letters.replay("7", by=API)) == [7]
    assert "operator.refused_opted_out" not in [e.action for e in w.audit.events]


def test_a_long_text_is_split_into_parts_keyed_on_the_doors_idempotency_key() -> None:
    w = world()
    op = w.service()
    receipt = run(op.sending.send("0812 0000 0001", "kata " * 1500, by=API, key="k"))
    assert receipt.target == NUMBER and receipt.provider is Provider.FONNTE  # first configured
    assert receipt.idempotency_keys == ("api:k:0", "api:k:1")
    assert receipt.queued == 2
    again = run(op.sending.send(NUMBER, "kata " * 1500, by=API, key="k"))
    assert again.queued == 0
    other_door = run(op.sending.send(NUMBER, "kata " * 1500, by=CLI, key="k"))
    assert other_door.queued == 2  # a CLI key never collides with an API one
    assert [dict(e.details) for e in w.audit.events] == [
        {"queued": 2, "parts": 2},
        {"queued": 0, "parts": 2},
        {"queued": 2, "parts": 2},
    ]


def test_templates_go_through_the_provider_that_declares_them() -> None:
    w = world()
    receipt = run(w.service().sending.send_template(NUMBER, "jadwal", {"tanggal": "1"}, by=API))
    assert receipt.provider is Provider.META  # Fonnte comes first but sends no templates
    [queued] = w.outbox.queued.values()
    # "tanggal" is a named parameter ({{tanggal}}): its name travels with the value.
    assert queued["template"] == {
        "name": "jadwal",
        "language": "id",
        "parameters": ["1"],
        "parameter_names": ["tanggal"],
    }


def test_the_link_code_goes_to_the_number_and_a_wrong_one_is_recorded() -> None:
    w = world()
    op = w.service()
    run(op.accounts.create(username="siti", by=API))
    sent = run(op.accounts.send_link_code("siti", "0812 0000 0001", by=API))
    assert (sent.phone, sent.expires_in_seconds) == (NUMBER, 600)
    [queued] = w.outbox.queued.values()
    assert (queued["text"], queued["kind"]) == ("Kode 123456, berlaku 10 menit", "link_code")
    result, _ = run(op.accounts.verify("siti", "000000", by=API))
    assert result is LinkCheck.WRONG
    result, account = run(op.accounts.verify("siti", "123456", by=API))
    assert result is LinkCheck.OK and account.linked_phone == NUMBER
    assert [dict(e.details) for e in w.audit.events[-2:]] == [
        {"result": "wrong"},
        {"result": "ok"},
    ]


def test_an_import_checks_every_row_before_storing_any() -> None:
    w = world()
    bad = "username,phone\nbudi,081200000009\nsiti,12\n"
    with pytest.raises(Rejected, match="csv:3"):
        run(w.service().accounts.import_csv(bad, by=CLI))
    assert w.accounts.rows == {} and w.audit.events == []


def test_keys_from_the_environment_cannot_be_rotated() -> None:
    w = world()
    w.keys.rotatable = False
    with pytest.raises(Rejected, match="WAGATE_ENCRYPTION_KEYS"):
        run(w.service().keys.rotate(by=CLI))
    assert w.audit.events == []


def test_a_master_rotation_rewraps_the_data_keys_and_records_how_many() -> None:
    w = world()
    rotation = run(w.service().keys.rotate(by=CLI))
    assert rotation.rewrapped == 1
    [event] = w.audit.events
    assert dict(event.details) == {"keys": 2, "rewrapped": 1}


def test_a_data_key_of_an_unknown_or_shredded_tenant_is_refused_and_not_recorded() -> None:
    w = world()
    keys = w.service().keys
    with pytest.raises(NotFound, match="gamma"):
        run(keys.rotate_data_key("gamma", by=CLI))
    assert run(keys.shred("default", by=CLI)) == 1
    with pytest.raises(Conflict, match="erased"):
        run(keys.rotate_data_key("default", by=CLI))
    assert [e.action for e in w.audit.events] == ["keys.shredded"]
    assert w.audit.events[0].subject == "default"


def test_a_code_verified_onto_a_number_linked_meanwhile_is_a_conflict() -> None:
    w = world()
    op = w.service()
    run(op.accounts.create(username="siti", by=API))
    run(op.accounts.create(username="budi", by=API))
    run(op.accounts.send_link_code("siti", NUMBER, by=API))
    run(op.accounts.link("budi", NUMBER, by=API))
    with pytest.raises(Conflict, match="another account"):
        run(op.accounts.verify("siti", "123456", by=API))


def test_the_trail_is_browsed_newest_first_filtered_and_recorded_not() -> None:
    w = play(Actor(via="console", user="rina"))
    service = w.service()
    everything = run(service.trail.browse(by=API, limit=1000))
    assert [e.seq for e in everything] == sorted((e.seq for e in everything), reverse=True)
    accounts = run(service.trail.browse(by=API, action_prefix=" account. ", limit=1000))
    assert accounts and all(e.action.startswith("account.") for e in accounts)
    older = run(service.trail.browse(by=API, before_seq=accounts[0].seq, action_prefix="account."))
    assert [e.seq for e in older] == [e.seq for e in accounts[1:]]
    assert run(service.trail.browse(by=API, actor="rina", limit=1000)) == everything
    assert run(service.trail.browse(by=API, actor="nobody")) == []
    assert len(run(service.trail.browse(by=API, limit=3))) == 3
    viewer = Actor(via="console", user="v", role=Role.VIEWER)
    before = len(w.audit.events)
    assert run(service.trail.browse(by=viewer, limit=1))  # reading is every role's
    assert len(w.audit.events) == before
