"""The JSON API speaks camelCase (`contactKey`, `userId`), while stored documents are the
domain's dataclasses serialised as they are (`contact_key`, `user_id`). `camel_keys` turns a
stored document into the API's shape when it is read out, so the stored form (sealed, and
read back by the pipeline) never changes."""

from __future__ import annotations

from typing import Any


def camel_case(name: str) -> str:
    """`contact_key` → `contactKey`; a name without "_" (or only leading ones) is kept."""
    head, *rest = name.split("_")
    if not rest or not head:
        return name
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def camel_keys(value: Any) -> Any:
    """`value` with every mapping's string keys in camelCase, at any depth."""
    if isinstance(value, dict):
        return {
            (camel_case(key) if isinstance(key, str) else key): camel_keys(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [camel_keys(item) for item in value]
    return value
