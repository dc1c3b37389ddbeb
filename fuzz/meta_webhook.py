"""Fuzz target: a Meta webhook body → decode → parse → rows. Run: python -m fuzz.meta_webhook"""

from __future__ import annotations

import sys

import orjson

from fuzz._harness import NOW, run, storable
from wagate.providers.meta.webhook import parse_payload
from wagate.providers.payload import PayloadRejected, decode_json


def target(data: bytes) -> None:
    try:
        payload = decode_json(data)
    except (orjson.JSONDecodeError, PayloadRejected):
        return  # a 400: refused with a reason, which is allowed
    storable(parse_payload(payload, now=NOW))


if __name__ == "__main__":
    run(target, ("meta", "pywa"), sys.argv)
