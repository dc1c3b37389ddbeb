"""The JSON API's one naming style (issue 17, item 2): stored documents (the domain's
dataclasses, snake_case) are read out in camelCase."""

from __future__ import annotations

import pytest

from wagate.domain.json_keys import camel_case, camel_keys


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("contact_key", "contactKey"),
        ("user_id", "userId"),
        ("parent_user_id", "parentUserId"),
        ("type_name", "typeName"),
        ("accounts_removed", "accountsRemoved"),
        ("kind", "kind"),
        ("alreadyCamel", "alreadyCamel"),
        ("_private", "_private"),
    ],
)
def test_names(name: str, expected: str) -> None:
    assert camel_case(name) == expected


def test_every_key_at_every_depth_and_never_a_value() -> None:
    stored = {
        "sender": {"contact_key": "6281234567890", "user_id": None, "group_id": None},
        "content": {"kind": "media", "media_type": "image", "caption": "foto_ktp_saya"},
        "contacts": [{"shared_name": "Budi", "phones": ["0812_3"]}],
        "context": None,
        7: "a non-string key stays",
    }
    assert camel_keys(stored) == {
        "sender": {"contactKey": "6281234567890", "userId": None, "groupId": None},
        "content": {"kind": "media", "mediaType": "image", "caption": "foto_ktp_saya"},
        "contacts": [{"sharedName": "Budi", "phones": ["0812_3"]}],
        "context": None,
        7: "a non-string key stays",
    }
    assert camel_keys(None) is None
    assert camel_keys("snake_value") == "snake_value"
