"""The shipped case-intake Flow (FL1): valid Flow JSON by the structural check, and in step with
what the gateway reads from its completion; the check itself refuses each kind of broken Flow."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from wagate.domain.case_intake import CASE_TYPES, FIELDS, FIRST_SCREEN, REQUIRED
from wagate.domain.flow_json import complete_payloads, first_screen, flow_json_problems
from wagate.flows import case_intake_flow, case_intake_flow_text


def screen(flow: dict[str, Any], sid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in flow["screens"] if s["id"] == sid)
    return found


def component(flow: dict[str, Any], sid: str, kind: str) -> dict[str, Any]:
    children = screen(flow, sid)["layout"]["children"]
    found: dict[str, Any] = next(c for c in children if c["type"] == kind)
    return found


def test_the_shipped_flow_passes_the_check() -> None:
    flow = case_intake_flow()
    assert flow_json_problems(flow) == []
    assert case_intake_flow_text().startswith("{")


def test_the_shipped_flow_is_what_the_gateway_expects() -> None:
    flow = case_intake_flow()
    assert first_screen(flow) == FIRST_SCREEN
    [payload] = complete_payloads(flow)
    assert tuple(payload) == FIELDS  # every answer the intake reads, in the same order
    dropdown = component(flow, "PERKARA", "Dropdown")
    assert [o["id"] for o in dropdown["data-source"]] == list(CASE_TYPES)
    assert [o["title"] for o in dropdown["data-source"]] == list(CASE_TYPES.values())
    fields = {c["name"]: c for s in flow["screens"] for c in s["layout"]["children"] if "name" in c}
    assert all(fields[name].get("required") is True for name in REQUIRED)
    assert fields["nik"]["min-chars"] == fields["nik"]["max-chars"] == 16
    picker = fields["documents"]
    assert picker["type"] == "DocumentPicker" and picker["max-uploaded-documents"] <= 30
    assert fields["privacy_consent"]["type"] == "OptIn"


def broken(change: Any) -> list[str]:
    flow = copy.deepcopy(case_intake_flow())
    change(flow)
    return flow_json_problems(flow)


def _navigate(flow: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = component(flow, "DATA_DIRI", "Footer")["on-click-action"]
    return action


def _complete(flow: dict[str, Any]) -> dict[str, Any]:
    action: dict[str, Any] = component(flow, "PERKARA", "Footer")["on-click-action"]
    return action


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda f: _navigate(f)["next"].update(name="NOWHERE"), "no screen 'NOWHERE'"),
        (
            lambda f: _complete(f).update(
                name="navigate", next={"type": "screen", "name": "DATA_DIRI"}
            ),
            "terminal screen needs a Footer whose action is complete",
        ),
        (
            lambda f: _complete(f)["payload"].update(extra="${form.not_here}"),
            "${form.not_here}, not on this screen",
        ),
        (
            lambda f: _complete(f)["payload"].update(extra="${data.unknown}"),
            "${data.unknown}, not declared",
        ),
        (
            lambda f: component(f, "DATA_DIRI", "TextInput").update(label="x" * 21),
            "label is longer than 20",
        ),
        (lambda f: f.update(version="3.1"), "media pickers need Flow JSON 4.0"),
        (lambda f: f.update(version="six"), "version"),
        (lambda f: screen(f, "PERKARA").update(id="DATA_DIRI"), "id is used twice"),
        (lambda f: screen(f, "PERKARA").pop("terminal"), "no screen is terminal"),
        (
            lambda f: component(f, "PERKARA", "Dropdown").update(**{"data-source": []}),
            "at least one option",
        ),
        (
            lambda f: component(f, "DATA_DIRI", "TextInput").update(**{"input-type": "url"}),
            "input-type",
        ),
        (
            lambda f: screen(f, "DATA_DIRI")["layout"].update(type="TwoColumns"),
            "SingleColumnLayout",
        ),
        (
            lambda f: component(f, "DATA_DIRI", "TextInput").update(type="Slider"),
            "unknown component",
        ),
        (lambda f: screen(f, "PERKARA").update(id="SUCCESS"), "SUCCESS is Meta's own"),
    ],
)
def test_each_kind_of_broken_flow_is_named(change: Any, expected: str) -> None:
    problems = broken(change)
    assert any(expected in p for p in problems), problems


def test_a_media_picker_cannot_travel_through_navigate() -> None:
    def move_picker(flow: dict[str, Any]) -> None:
        picker = component(flow, "PERKARA", "DocumentPicker")
        screen(flow, "PERKARA")["layout"]["children"].remove(picker)
        first = screen(flow, "DATA_DIRI")["layout"]["children"]
        first.insert(0, picker)
        _navigate(flow)["payload"]["documents"] = "${form.documents}"
        _complete(flow)["payload"].pop("documents")

    assert any("may only go in a completion" in p for p in broken(move_picker))


def test_what_is_not_flow_json_at_all_is_said_plainly() -> None:
    assert flow_json_problems([]) == ["the Flow JSON is not an object"]
    assert flow_json_problems({"version": "6.0"}) == ["screens: a non-empty list is required"]
