"""The settings as the gateway runs with them (issue 15; admins of the platform's own, default
tenant only), read-only, every secret hidden. Wiring builds the view from the Settings object
(`settings_view.console_view`), so this page never sees a secret to hide: it shows what it is
handed, grouped and sorted."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from wagate.domain.operators import Permission
from wagate.pipeline.operator import Forbidden
from wagate.web.console.auth import SignedIn
from wagate.web.console.kit import Console


def routes(console: Console) -> Any:
    router = console.router()

    @router.get("/console/settings")
    async def show(request: Request, who: SignedIn = console.signed_in) -> Response:
        # No operator action reads the settings: the role is checked here (Forbidden: 403).
        who.actor.require(Permission.ADMINISTER)
        if not console.platform(who):
            # They are the platform's: the default tenant's prompt, channel ids and staff
            # addresses among them. Another firm's admin does not see them.
            raise Forbidden("the gateway's settings are for the platform's own administrators")
        view = console.services.settings_view or {}
        groups = [(group, sorted(dict(fields).items())) for group, fields in sorted(view.items())]
        return console.render(request, who, "settings.html", groups=groups)

    return router
