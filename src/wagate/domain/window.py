"""The 24-hour customer-service window (CP5) and message templates (TP1). Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

WINDOW = timedelta(hours=24)
# Webhook latency can make a window look open when it has just closed: keep a margin.
SAFETY_MARGIN = timedelta(minutes=10)
# What a template can be configured for: carrying a message that missed the window.
OUT_OF_WINDOW = "out_of_window"


_LINE_BREAKS = re.compile(r"\s*[\r\n\t]+\s*")
_SPACES = re.compile(r" {4,}")


def as_template_value(text: str) -> str:
    """A message's text as a template's body parameter. Meta refuses a parameter holding a
    new line, a tab or more than four spaces in a row (error 132018), and every answer has
    paragraphs (the disclaimer is one): they are joined by " · " instead."""
    return _SPACES.sub("   ", _LINE_BREAKS.sub(" · ", text.strip()))


def window_open(last_inbound_at: datetime | None, *, now: datetime) -> bool:
    """Free-form messages only within 24 h (less a margin) of the user's last message."""
    return last_inbound_at is not None and now - last_inbound_at < WINDOW - SAFETY_MARGIN


class TemplateError(ValueError):
    """A template is configured or used wrongly; the message says how."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...] = ()  # names of the body parameters, in order
    purpose: str | None = None  # e.g. "out_of_window": carries a message that missed the window

    def values(self, given: Mapping[str, str] | Sequence[str]) -> list[str]:
        """Body parameter values in order, from a list or from a mapping by name."""
        if isinstance(given, Mapping):
            missing = [p for p in self.parameters if p not in given]
            if missing:
                raise TemplateError(f"template {self.name}: missing parameters {missing}")
            return [str(given[p]) for p in self.parameters]
        values = [str(v) for v in given]
        if len(values) != len(self.parameters):
            raise TemplateError(
                f"template {self.name} takes {len(self.parameters)} parameters, got {len(values)}"
            )
        return values


@dataclass(frozen=True, slots=True)
class TemplateSet:
    templates: tuple[Template, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[Mapping[str, Any]]) -> TemplateSet:
        templates = []
        for index, item in enumerate(items):
            name, language = item.get("name"), item.get("language", "id")
            if not isinstance(name, str) or not name or not isinstance(language, str):
                raise TemplateError(f"template #{index + 1} needs a name and a language")
            parameters = item.get("parameters", [])
            if not isinstance(parameters, list) or not all(isinstance(p, str) for p in parameters):
                raise TemplateError(f"template {name}: parameters must be a list of names")
            purpose = item.get("purpose")
            templates.append(
                Template(
                    name=name,
                    language=language,
                    parameters=tuple(parameters),
                    purpose=purpose if isinstance(purpose, str) else None,
                )
            )
        return cls(tuple(templates))

    def named(self, name: str) -> Template | None:
        return next((t for t in self.templates if t.name == name), None)

    def for_purpose(self, purpose: str) -> Template | None:
        return next((t for t in self.templates if t.purpose == purpose), None)
