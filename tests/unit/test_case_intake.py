"""Reading a Flow completion (FL1): the shipped Flow's answers, Meta's own example, and every
malformed shape kept with its problems instead of failing; the intake settings' texts and the
Flow message they make."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wagate.domain.case_intake import (
    MAX_RAW_CHARS,
    MAX_RESPONSE_CHARS,
    MAX_TEXT_CHARS,
    REQUIRED,
    IntakeFlow,
    parse_flow_reply,
)
from wagate.domain.flows import FlowError, FlowMessage, flow_token

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "payloads" / "meta-inbound-nfm-reply.json"
VALID_NIK = "3171011203850001"  # Jakarta Pusat, born 12 March 1985 (a structurally valid NIK)


def completion(**answers: object) -> str:
    """A completion of the shipped Flow, as WhatsApp sends its response_json."""
    base: dict[str, object] = {
        "flow_token": "wagate-intake-0123",
        "full_name": "Budi Santoso",
        "nik": VALID_NIK,
        "phone": "081200000001",
        "email": "",
        "case_type": "waris",
        "story": "Sengketa rumah warisan orang tua dengan saudara.",
        "documents": [
            {
                "file_name": "ktp.jpg",
                "mime_type": "image/jpeg",
                "sha256": "q9X+aA==",
                "id": "1234567890",
            }
        ],
        "privacy_consent": True,
    }
    base.update(answers)
    return json.dumps({k: v for k, v in base.items() if v is not None})


def test_a_complete_registration_is_read_with_its_answers_documents_and_token() -> None:
    parsed = parse_flow_reply(completion())
    assert parsed.complete and parsed.problems == ()
    assert parsed.answers["full_name"] == "Budi Santoso"
    assert parsed.answers["nik"] == VALID_NIK
    assert parsed.case_type == "waris"
    assert parsed.answers["privacy_consent"] is True
    assert "documents" not in parsed.answers and "flow_token" not in parsed.answers
    assert parsed.flow_token == "wagate-intake-0123"
    [document] = parsed.documents
    assert (document.media_id, document.file_name, document.mime_type) == (
        "1234567890",
        "ktp.jpg",
        "image/jpeg",
    )
    assert parsed.as_json()["documents"][0]["mediaId"] == "1234567890"


def test_media_named_media_id_and_an_empty_picker_are_both_understood() -> None:
    picked = parse_flow_reply(completion(documents=[{"media_id": "77", "file_name": "a.pdf"}]))
    assert [d.media_id for d in picked.documents] == ["77"]
    empty = parse_flow_reply(completion(documents=[]))
    assert empty.complete and empty.documents == () and "documents" not in empty.answers


def test_metas_own_example_is_kept_though_it_is_not_a_registration() -> None:
    message = json.loads(FIXTURE.read_text())["entry"][0]["changes"][0]["value"]["messages"][0]
    raw = message["interactive"]["nfm_reply"]["response_json"]
    parsed = parse_flow_reply(raw)
    assert parsed.flow_token == "FLOWTOKEN-0001"
    assert parsed.answers == {"full_name": "Budi Santoso", "rating": "4"}
    assert {f"missing:{name}" for name in REQUIRED if name != "full_name"} <= set(parsed.problems)
    assert not parsed.complete and parsed.raw == raw


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "missing_response"),
        ("", "not_json"),
        ("{not json", "not_json"),
        ('["a", "list"]', "not_an_object"),
        ('"just text"', "not_an_object"),
        ("[" * 100_000 + "]" * 100_000, "too_large"),
        ("9" * (MAX_RESPONSE_CHARS + 1), "too_large"),
    ],
)
def test_a_reply_that_cannot_be_read_is_kept_with_its_problem(
    raw: str | None, problem: str
) -> None:
    parsed = parse_flow_reply(raw)
    assert parsed.problems == (problem,)
    assert not parsed.complete and parsed.answers == {}
    assert len(parsed.raw) <= MAX_RAW_CHARS
    assert parsed.raw == (raw or "")[:MAX_RAW_CHARS]
    assert parsed.raw_truncated == (len(raw or "") > MAX_RAW_CHARS)


def test_deep_nesting_within_the_size_limit_does_not_crash() -> None:
    deep = '{"x": ' + "[" * 5000 + "]" * 5000 + "}"
    assert len(deep) < MAX_RESPONSE_CHARS
    parsed = parse_flow_reply(deep)
    assert not parsed.complete  # read or refused as not JSON: either way, kept


def test_missing_and_blank_required_answers_are_named() -> None:
    parsed = parse_flow_reply(completion(nik=None, story="   "))
    assert "missing:nik" in parsed.problems and "missing:story" in parsed.problems
    assert parsed.answers["full_name"] == "Budi Santoso"


def test_a_nik_of_the_wrong_shape_is_flagged_not_dropped() -> None:
    parsed = parse_flow_reply(completion(nik="1234"))
    assert parsed.problems == ("invalid_nik",)
    assert parsed.answers["nik"] == "1234"


def test_odd_values_are_cleaned_bounded_or_flagged() -> None:
    parsed = parse_flow_reply(
        completion(
            story="a\x00b" + "x" * (MAX_TEXT_CHARS + 10),
            extra={"nested": "object"},
            count=3,
            tags=["satu", 2],
        )
    )
    story = parsed.answers["story"]
    assert isinstance(story, str) and "\x00" not in story and len(story) == MAX_TEXT_CHARS
    assert "truncated:story" in parsed.problems
    assert "unreadable:extra" in parsed.problems and "extra" not in parsed.answers
    assert parsed.answers["count"] == "3" and parsed.answers["tags"] == ["satu", "2"]


def test_lone_surrogates_from_escapes_cannot_reach_the_database() -> None:
    parsed = parse_flow_reply('{"full_name": "Bud\\ud800i", "flow_token": "t\\udfff"}')
    name = parsed.answers["full_name"]
    assert isinstance(name, str) and name.encode("utf-8")
    assert parsed.flow_token is not None and parsed.flow_token.encode("utf-8")


def test_field_names_and_counts_are_bounded() -> None:
    many = {f"f{i}": "x" for i in range(200)}
    parsed = parse_flow_reply(json.dumps({"bad key!": "x", **many}))
    assert "bad_field_name" in parsed.problems and "too_many_fields" in parsed.problems
    assert len(parsed.answers) < 60


def test_the_keyword_is_recognised_loosely_and_nothing_else() -> None:
    flow = IntakeFlow(flow_id="1", keyword="DAFTAR")
    assert flow.asks_for_it("daftar") and flow.asks_for_it("  Daftar! ")
    assert not flow.asks_for_it("daftar perkara") and not flow.asks_for_it(None)
    assert not flow.asks_for_it("")


def test_the_invitation_is_a_valid_flow_message_with_a_stable_token() -> None:
    flow = IntakeFlow(flow_id="400000000000001")
    first, again = flow.invitation("run:1:2:intake_flow"), flow.invitation("run:1:2:intake_flow")
    assert first == again and first.flow_token == flow_token("run:1:2:intake_flow")
    assert first.flow_token.startswith("wagate-intake-") and "run" not in first.flow_token
    assert first.screen == "DATA_DIRI" and first.flow_id == "400000000000001"
    assert FlowMessage.from_json(first.as_json()) == first
    assert "DAFTAR" in flow.fallback_text()
    assert not IntakeFlow().enabled and flow.enabled


def test_the_confirmation_names_the_reference_and_leaves_other_braces_alone() -> None:
    flow = IntakeFlow(
        confirmation_text="Nomor {reference}, {nama}", problem_text="Kurang: {reference}"
    )
    assert flow.confirmation(42, complete=True) == "Nomor 42, {nama}"
    assert flow.confirmation(42, complete=False) == "Kurang: 42"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"cta": "x" * 21}, "button label"),
        ({"cta": "Isi 📝"}, "emoji"),
        ({"body": ""}, "message text"),
        ({"mode": "testing"}, "mode"),
        ({"flow_id": " "}, "Flow id"),
    ],
)
def test_a_flow_message_meta_would_refuse_is_refused_here(
    change: dict[str, str], problem: str
) -> None:
    fields = {
        "flow_id": "1",
        "flow_token": "t",
        "cta": "Isi formulir",
        "body": "Silakan isi",
        "screen": "DATA_DIRI",
    } | change
    with pytest.raises(FlowError, match=problem):
        FlowMessage(**fields)  # type: ignore[arg-type]


def test_a_stored_flow_of_another_shape_reads_as_none() -> None:
    assert FlowMessage.from_json(None) is None
    assert FlowMessage.from_json({"flowId": "1"}) is None
    assert (
        FlowMessage.from_json(
            {"flowId": "1", "flowToken": "t", "cta": "x" * 40, "body": "b", "screen": "S"}
        )
        is None
    )
