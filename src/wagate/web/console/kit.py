"""What every console page module is handed: `Console`.

A page module has one function, `routes(console) -> APIRouter`, and uses:

* `console.router()` — an APIRouter whose errors become pages (see `render.console_route`);
* `console.signed_in` / `console.acting` — dependencies giving a `SignedIn` (the second also
  checks the CSRF token and the request's origin: use it on every POST);
* `console.render(request, who, "x.html", **context)` — a page (or its `content` block for
  htmx);
* `console.done(who, back, notice)` — after a form without JavaScript: back to the
  page it came from (303) with a short notice; for htmx, the page at `back` re-rendered by
  the caller instead.

Every action goes through `who.operator` (the operator service), which checks the role and
writes the audit record naming the user (`user:NAME:console`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from wagate.edge_services import ConsoleServices, TenantServices
from wagate.pipeline.console_sessions import notice_seal
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.web.console.auth import Doorman, SignedIn
from wagate.web.console.render import (
    MAX_NOTICE_CHARS,
    NOTICE_PARAM,
    SEAL_PARAM,
    console_route,
    page,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Console:
    services: ConsoleServices
    tenants: TenantRuntimes[TenantServices]
    doorman: Doorman

    @property
    def sandbox(self) -> bool:
        return self.services.sandbox is not None

    def platform(self, who: SignedIn | None) -> bool:
        """Whether `who` is of the platform's own tenant (the default one), whose settings
        are the gateway's."""
        return who is not None and who.tenant == self.tenants.default_id

    def router(self) -> APIRouter:
        return APIRouter(route_class=console_route(self.doorman.language), include_in_schema=False)

    @property
    def signed_in(self) -> Any:
        return Depends(self.doorman.signed_in)

    @property
    def acting(self) -> Any:
        return Depends(self.doorman.acting)

    def render(
        self,
        request: Request,
        who: SignedIn | None,
        template: str,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        return page(
            request,
            who,
            template,
            status_code=status_code,
            sandbox=self.sandbox,
            platform=self.platform(who),
            language=self.doorman.language(request),
            **context,
        )

    @staticmethod
    def done(who: SignedIn, back: str, notice: str = "") -> RedirectResponse:
        """Post/redirect/get: `back` must be a console path. The notice travels sealed with
        the session's key (see `notice_seal`): the page shows only a notice this session's
        own action wrote, never one a link from elsewhere made up."""
        if not back.startswith("/console") or back.startswith("//"):
            back = "/console"
        if notice:
            notice = notice[:MAX_NOTICE_CHARS]
            back += ("&" if "?" in back else "?") + urlencode(
                {NOTICE_PARAM: notice, SEAL_PARAM: notice_seal(who.csrf, notice)}
            )
        return RedirectResponse(back, status_code=303)
