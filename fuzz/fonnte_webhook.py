"""Fuzz target: a Fonnte webhook body, as JSON and as form fields → parse → rows.
Run: python -m fuzz.fonnte_webhook"""

from __future__ import annotations

import sys

import orjson

from fuzz._harness import NOW, as_fields, run, storable
from wagate.providers.fonnte.webhook import parse_payload
from wagate.providers.payload import PayloadRejected, decode_json


def target(data: bytes) -> None:
    try:
        payload = decode_json(data)
    except (orjson.JSONDecodeError, PayloadRejected):
        payload = None
    if isinstance(payload, dict):
        storable(parse_payload(payload, now=NOW))
    fields = as_fields(data)
    if fields:
        storable(parse_payload(fields, now=NOW))


if __name__ == "__main__":
    run(target, ("fonnte",), sys.argv)
