"""How an outbound message may go (CP5, OU8): as free-form text, as the out-of-window template,
or not at all — decided before sending, from the provider's capabilities and the window."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from wagate.domain.provider_port import MessagingProvider
from wagate.domain.template_text import one_line
from wagate.domain.window import OUT_OF_WINDOW, TemplateSet, window_open
from wagate.pipeline.operator.conversations import HUMAN_REPLY_KIND
from wagate.pipeline.operator.sending import OPERATOR_KIND
from wagate.pipeline.ports import OutboundMessage

# Texts a person at the firm wrote (an operator's message, a human reply in a taken-over
# conversation): a link there was put on purpose and is shown with its preview. An AI answer's
# links are not: no one chose them, and a preview card would make them look endorsed.
OPERATOR_WRITTEN = frozenset({OPERATOR_KIND, HUMAN_REPLY_KIND})
# What WhatsApp previews: a link written out with its scheme.
_LINK = re.compile(r"https?://\S", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeForm:
    """Plain text (inside the 24-hour window, or a provider without one)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AsTemplate:
    name: str
    language: str
    values: list[str]
    # The template's parameter names when it is declared with named parameters ({{nama}}):
    # Meta then wants each value beside its name. None: positional ({{1}}, {{2}}).
    parameter_names: tuple[str, ...] | None = None
    # An AUTHENTICATION template's one-time code, carried again by its copy-code button.
    code_button: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WindowClosed:
    """Outside the window with no usable out_of_window template: it may not go."""


Route = FreeForm | AsTemplate | WindowClosed


def route(
    message: OutboundMessage, provider: MessagingProvider, templates: TemplateSet, now: datetime
) -> Route:
    """An operator's template goes as itself; a link code outside the window as the
    AUTHENTICATION template configured for it (LINK_CODE_TEMPLATE); any other message marked
    `window_template` (rerouted after a 131047) or outside the provider's window goes as the
    out_of_window template, whose
    one parameter (if it has one) carries the text fitted to Meta's rules: on one line, cut
    with a note when longer than the template leaves room for."""
    if message.template:
        t = message.template
        names = t.get("parameter_names")
        return AsTemplate(
            name=str(t["name"]),
            language=str(t["language"]),
            # One line again: a row queued before values were checked may hold line breaks.
            values=[one_line(str(v)) for v in t["parameters"]],
            parameter_names=tuple(str(n) for n in names) if names else None,
        )
    needs_template = message.kind == "window_template" or (
        provider.capabilities.window_24h and not window_open(message.last_inbound_at, now=now)
    )
    if not needs_template:
        return FreeForm()
    if message.code_template is not None:
        # A link code: Meta wants one-time codes in an AUTHENTICATION template, not carried
        # by the generic one (the code is its body's one parameter and its button's).
        t = message.code_template
        code = str(t["code"])
        return AsTemplate(
            name=str(t["name"]), language=str(t["language"]), values=[code], code_button=code
        )
    if message.rich is not None:
        # A document or buttons are never squeezed into the text template: refused.
        return WindowClosed()
    fallback = templates.for_purpose(OUT_OF_WINDOW)
    if fallback is None or len(fallback.parameters) > 1:
        return WindowClosed()
    return AsTemplate(
        name=fallback.name,
        language=fallback.language,
        values=fallback.carrying(message.text),
        parameter_names=fallback.parameter_names,
    )


def previews_link(message: OutboundMessage, provider: MessagingProvider) -> bool:
    """Ask for a link preview: a text an operator wrote that holds a link, through a provider
    that can show one."""
    return (
        provider.capabilities.link_previews
        and message.kind in OPERATOR_WRITTEN
        and _LINK.search(message.text) is not None
    )
