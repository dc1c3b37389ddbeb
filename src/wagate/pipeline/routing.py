"""How an outbound message may go (CP5, OU8): as free-form text, as the out-of-window template,
or not at all — decided before sending, from the provider's capabilities and the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wagate.domain.provider_port import MessagingProvider
from wagate.domain.window import OUT_OF_WINDOW, TemplateSet, as_template_value, window_open
from wagate.pipeline.ports import OutboundMessage


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeForm:
    """Plain text (inside the 24-hour window, or a provider without one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AsTemplate:
    name: str
    language: str
    values: list[str]


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowClosed:
    """Outside the window with no usable out_of_window template: it may not go."""


Route = FreeForm | AsTemplate | WindowClosed


def route(
    message: OutboundMessage, provider: MessagingProvider, templates: TemplateSet, now: datetime
) -> Route:
    """An operator's template goes as itself; a message marked `window_template` (rerouted
    after a 131047) or outside the provider's window goes as the out_of_window template, whose
    one parameter (if it has one) carries the text, its paragraphs on one line."""
    if message.template:
        t = message.template
        return AsTemplate(
            name=str(t["name"]),
            language=str(t["language"]),
            values=[str(v) for v in t["parameters"]],
        )
    needs_template = message.kind == "window_template" or (
        provider.capabilities.window_24h and not window_open(message.last_inbound_at, now=now)
    )
    if not needs_template:
        return FreeForm()
    fallback = templates.for_purpose(OUT_OF_WINDOW)
    if fallback is None or len(fallback.parameters) > 1:
        return WindowClosed()
    return AsTemplate(
        name=fallback.name,
        language=fallback.language,
        values=[as_template_value(message.text)][: len(fallback.parameters)],
    )
