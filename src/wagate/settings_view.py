"""The settings as the console shows them (issue 15): every field of `Settings` by its
environment name, grouped by its first word, with every secret hidden.

Hidden: a `SecretStr`; any field whose name has a part meaning a secret (token, secret,
password, key …: `AI_API_KEY`, `WAGATE_ENCRYPTION_KEYS`); and a URL carrying credentials
(`user:pass@`) or a secret-looking query parameter (`?key=`). A hidden value shows only
whether it is set. Hiding too much is the safe error: `CONSENT_KEYWORD` is shown because
"keyword" is not a secret's name, but a name merely ending in "key" is hidden.
"""

from __future__ import annotations

from collections import Counter
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from pydantic import SecretStr

from wagate.settings import Settings

HIDDEN_SET = "••• (set)"
NOT_SET = "(not set)"
OTHER_GROUP = "OTHER"
MAX_SHOWN_CHARS = 300  # a long prompt is cut: the page stays small
_SECRET_WORDS = ("token", "secret", "password", "passwd", "credential")
_KEY_WORDS = ("key", "keys")


def secret_name(name: str) -> bool:
    """A field or query-parameter name that names a secret."""
    lowered = name.lower()
    if any(word in lowered for word in _SECRET_WORDS):
        return True
    parts = [p for p in lowered.replace("-", "_").split("_") if p]
    return any(p in _KEY_WORDS or p.endswith(_KEY_WORDS) for p in parts)


def url_with_credentials(value: str) -> bool:
    if "://" not in value:
        return False
    try:
        parts = urlsplit(value.strip())
        has_userinfo = "@" in parts.netloc
        query_names = [name for name, _ in parse_qsl(parts.query, keep_blank_values=True)]
    except ValueError:
        return True  # not a URL we can read: not shown
    return has_userinfo or any(secret_name(name) for name in query_names)


def _hidden(value: Any) -> str:
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    return HIDDEN_SET if value not in (None, "", ()) else NOT_SET


def shown_value(name: str, value: Any) -> str:
    """One setting's value as the page shows it."""
    if isinstance(value, SecretStr) or secret_name(name):
        return _hidden(value)
    if value is None:
        return NOT_SET
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple | list | frozenset | set):
        items = [str(v) for v in value]
        if any(url_with_credentials(v) for v in items):
            return HIDDEN_SET
        text = ", ".join(items) if items else "(none)"
    elif isinstance(value, Path):
        text = str(value)
    else:
        text = str(value)
        if url_with_credentials(text):
            return HIDDEN_SET
    return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "…"


def console_view(settings: Settings) -> dict[str, dict[str, str]]:
    """{group: {ENV_NAME: shown value}}: a group is a first word that two or more settings
    share (META, AI, KB …); the rest are in OTHER."""
    names = list(type(settings).model_fields)
    prefixes = Counter(name.split("_", 1)[0] for name in names)
    view: dict[str, dict[str, str]] = {}
    for name in names:
        prefix = name.split("_", 1)[0]
        group = prefix.upper() if prefixes[prefix] > 1 else OTHER_GROUP
        view.setdefault(group, {})[name.upper()] = shown_value(name, getattr(settings, name))
    return {group: dict(sorted(fields.items())) for group, fields in sorted(view.items())}
