"""Channel health (issue 15, OU5/OU7): each provider channel's breaker state, whether it is
degraded (its token refused), its failures in a row and the last failure's reason; for an
admin, a form to set a new token (the operator channels group stores it sealed and audits the
change, never the token)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from wagate.domain.messages import Provider
from wagate.domain.operators import Permission
from wagate.pipeline.operator import Rejected
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console

MAX_TOKEN_CHARS = 4096
# A breaker state as the page names it; "degraded" means the provider refused the token.
STATE_LABELS = {
    "closed": ("Healthy", "green"),
    "half_open": ("Probing", "yellow"),
    "open": ("Breaker open", "red"),
    "degraded": ("Degraded: token refused", "red"),
}


def _short_date(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else ""


def routes(console: Console) -> Any:
    router = console.router()

    @router.get("/console/channels")
    async def show(request: Request, who: SignedIn = console.signed_in) -> Response:
        # The states come from the status read model, not an operator action: checked here.
        who.actor.require(Permission.READ)
        states = await who.services.status.channel_states(with_ids=True)
        channels = [
            {
                **c,
                "label": STATE_LABELS.get(c["state"], (c["state"], ""))[0],
                "colour": STATE_LABELS.get(c["state"], (c["state"], ""))[1],
                "degraded": c["state"] == "degraded",
                "since_shown": _short_date(c.get("since")),
                "retry_shown": _short_date(c.get("retryAt")),
            }
            for c in states
        ]
        return console.render(
            request,
            who,
            "channels.html",
            channels=channels,
            providers=sorted(p for p in who.services.channels),
            admin=who.actor.may(Permission.ADMINISTER),
            max_token=MAX_TOKEN_CHARS,
        )

    @router.post("/console/channels/token")
    async def set_token(request: Request, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        form = await request.form()
        provider, token = form.get("provider"), form.get("token")
        if not isinstance(provider, str) or provider not in who.services.channels:
            raise Rejected("choose a channel configured on this gateway")
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            raise Rejected(f"a token has at most {MAX_TOKEN_CHARS} characters")
        version = await who.operator.channels.set_token(Provider(provider), token, by=who.actor)
        return console.done(
            who, "/console/channels", _("New token stored for") + f" {provider} (v{version})"
        )

    return router
