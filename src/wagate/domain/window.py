"""The 24-hour customer-service window (CP5) and message templates (TP1). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from wagate.domain.template_text import TEMPLATE_BODY_LIMIT, fit, length, one_line

WINDOW = timedelta(hours=24)
# Webhook latency can make a window look open when it has just closed: keep a margin.
SAFETY_MARGIN = timedelta(minutes=10)
# What a template can be configured for: carrying a message that missed the window.
OUT_OF_WINDOW = "out_of_window"


def window_open(last_inbound_at: datetime | None, *, now: datetime) -> bool:
    """Free-form messages only within 24 h (less a margin) of the user's last message."""
    return last_inbound_at is not None and now - last_inbound_at < WINDOW - SAFETY_MARGIN


class TemplateError(ValueError):
    """A template is configured or used wrongly; the message says how."""


class ParameterFormat(StrEnum):
    """How a template names its body parameters (Meta's `parameter_format`)."""

    POSITIONAL = "positional"  # {{1}}, {{2}}…: values travel in order
    NAMED = "named"  # {{nama}}: each value travels with its `parameter_name`


# Without the template's approved body text configured, this much of the body's 1,024 characters
# is kept for the template's own words; the values share the rest.
DEFAULT_FIXED_TEXT = 124
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...] = ()  # names of the body parameters, in order
    purpose: str | None = None  # e.g. "out_of_window": carries a message that missed the window
    # None: told by the names — all digits ("1", "2") is positional, anything else named.
    parameter_format: ParameterFormat | None = None
    body: str | None = None  # the approved body text, placeholders included: sizes `room`

    @property
    def has_named_parameters(self) -> bool:
        if self.parameter_format is not None:
            return self.parameter_format is ParameterFormat.NAMED
        return not all(p.isdigit() for p in self.parameters)

    @property
    def parameter_names(self) -> tuple[str, ...] | None:
        """The names sent beside the values (a named template); None for a positional one."""
        return self.parameters if self.has_named_parameters and self.parameters else None

    @property
    def room(self) -> int:
        """How long the values may be together: the body's limit less the template's own text
        (its configured body without the placeholders, or DEFAULT_FIXED_TEXT)."""
        fixed = DEFAULT_FIXED_TEXT if self.body is None else length(_PLACEHOLDER.sub("", self.body))
        return max(TEMPLATE_BODY_LIMIT - fixed, 0)

    def values(self, given: Mapping[str, str] | Sequence[str]) -> list[str]:
        """Body parameter values in order, from a list or from a mapping by name, each on one
        line (Meta refuses line breaks and tabs in a parameter); TemplateError when they are
        missing, too many, or together longer than the template leaves room for."""
        if isinstance(given, Mapping):
            missing = [p for p in self.parameters if p not in given]
            if missing:
                raise TemplateError(f"template {self.name}: missing parameters {missing}")
            raw = [str(given[p]) for p in self.parameters]
        else:
            raw = [str(v) for v in given]
            if len(raw) != len(self.parameters):
                raise TemplateError(
                    f"template {self.name} takes {len(self.parameters)} parameters, got {len(raw)}"
                )
        values = [one_line(v) for v in raw]
        total = sum(length(v) for v in values)
        if total > self.room:
            raise TemplateError(
                f"template {self.name}: the parameters take {total} characters, "
                f"the template leaves room for {self.room}"
            )
        return values

    def carrying(self, text: str) -> list[str]:
        """The values of an out_of_window template carrying `text`: its one parameter (if it
        has one) holds the text fitted to what Meta accepts (`template_text.fit`)."""
        return [fit(text, limit=self.room)][: len(self.parameters)]


@dataclass(frozen=True, slots=True)
class TemplateSet:
    templates: tuple[Template, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[Mapping[str, Any]]) -> TemplateSet:
        return cls(tuple(_parsed(index, item) for index, item in enumerate(items)))

    def named(self, name: str) -> Template | None:
        return next((t for t in self.templates if t.name == name), None)

    def for_purpose(self, purpose: str) -> Template | None:
        return next((t for t in self.templates if t.purpose == purpose), None)


def _parsed(index: int, item: Mapping[str, Any]) -> Template:
    """One WHATSAPP_TEMPLATES entry: {name, language, parameters, purpose, parameter_format,
    body}; TemplateError naming the template and what is wrong."""
    name, language = item.get("name"), item.get("language", "id")
    if not isinstance(name, str) or not name or not isinstance(language, str):
        raise TemplateError(f"template #{index + 1} needs a name and a language")
    parameters = item.get("parameters", [])
    if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
        raise TemplateError(f"template {name}: parameters must be a list of names")
    if len(set(parameters)) != len(parameters):
        raise TemplateError(f"template {name}: parameter names must differ")
    given_format = item.get("parameter_format")
    try:
        parameter_format = (
            None if given_format is None else ParameterFormat(str(given_format).lower())
        )
    except ValueError:
        raise TemplateError(
            f"template {name}: parameter_format must be 'named' or 'positional'"
        ) from None
    body = item.get("body")
    if body is not None and not isinstance(body, str):
        raise TemplateError(f"template {name}: body must be the template's text")
    template = Template(
        name=name,
        language=language,
        parameters=tuple(parameters),
        purpose=purpose if isinstance(purpose := item.get("purpose"), str) else None,
        parameter_format=parameter_format,
        body=body,
    )
    if template.parameters and template.room == 0:
        raise TemplateError(f"template {name}: its body leaves no room for parameters")
    return template
