"""A link code to a number that has not written in 24 hours (issue 16 item 7): it goes as the
AUTHENTICATION template LINK_CODE_TEMPLATE names, the code in its body and in its copy-code
button, over real HTTP to the fake Graph API — and the code read off it still verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.harness import FakePeer, gateway_on_fresh_database, wait_until


def _templates_to(fake_meta: FakePeer, number: str) -> list[dict[str, Any]]:
    return [
        r["body"]["template"]
        for r in fake_meta.requests("send")
        if r["body"].get("to") == number and r["body"].get("type") == "template"
    ]


def test_a_link_code_outside_the_window_goes_as_the_authentication_template(
    workdir: Path, fake_meta: FakePeer, sender: str
) -> None:
    with gateway_on_fresh_database(
        workdir,
        fake_meta,
        LINK_CODE_TEMPLATE="kode_verifikasi",
        LINK_CODE_TEMPLATE_LANGUAGE="en_US",
    ) as (gateway, _url):
        assert gateway.api_post("/api/accounts", {"username": "siti"}).status_code == 201
        started = gateway.api_post("/api/accounts/siti/link", {"phone": sender})
        assert started.status_code == 202, started.text
        [template] = wait_until(lambda: _templates_to(fake_meta, sender), timeout=30)
        assert template["name"] == "kode_verifikasi"
        assert template["language"] == {"policy": "deterministic", "code": "en_US"}
        body, button = template["components"]
        [code] = [p["text"] for p in body["parameters"]]
        assert code.isdigit() and len(code) == 6
        assert button == {
            "type": "button",
            "sub_type": "url",
            "index": "0",
            "parameters": [{"type": "text", "text": code}],
        }
        verified = gateway.api_post("/api/accounts/siti/verify", {"code": code})
        assert verified.status_code == 200 and verified.json()["linked"] is True
