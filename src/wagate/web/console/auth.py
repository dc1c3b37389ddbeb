"""Who is using the console, and whether a form really came from it (OB4, OB8).

* The session cookie (`wagate_console`) holds a random token; `ConsoleSessions` knows what it
  stands for. It is HttpOnly (no script reads it), SameSite=Lax, scoped to `/console`, and
  Secure when the request came over HTTPS (or always, with CONSOLE_SECURE_COOKIE).
* Every request re-reads the user: a disabled user is signed out at their next click, a
  changed role applies at once, and a session opened before the user's password was last
  set ends (an admin's reset shuts out whoever holds an old cookie).
* A page's background refresh (htmx polling, marked with the `X-Console-Poll` header the
  polling elements send) does not count as use: a screen left open still times out.
* Every state-changing request carries the session's CSRF token: the `csrf` form field, or
  the `X-CSRF-Token` header htmx sends (set once on `<body>`). The sign-in form, which has no
  session yet, uses a double-submit cookie (`wagate_csrf`). A request another site's page
  started (`Sec-Fetch-Site: cross-site`, or a foreign `Origin`) is refused before any of that.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from fastapi import Request
from starlette.responses import Response

from wagate.domain.console import ConsoleSession
from wagate.edge_services import ConsoleServices, TenantServices
from wagate.pipeline.console_sessions import csrf_matches, csrf_token
from wagate.pipeline.operator import Actor, OperatorService
from wagate.pipeline.tenancy import TenantRuntimes

SESSION_COOKIE = "wagate_console"
FORM_COOKIE = "wagate_csrf"  # the sign-in form's double-submit token
LANGUAGE_COOKIE = "wagate_lang"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
POLL_HEADER = "X-Console-Poll"  # sent by the elements that refresh themselves (`every Ns`)
COOKIE_PATH = "/console"
VIA = "console"


class SignInFirst(Exception):
    """No live session: the page sends the browser to the sign-in form."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("sign in first")
        self.expired = expired


class ForgedRequest(Exception):
    """A state-changing request without this session's CSRF token, or from another site."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignedIn:
    """A request of a signed-in user: their tenant's services, who they act as, their
    session, the CSRF token their forms carry and the language they read."""

    services: TenantServices
    actor: Actor
    session: ConsoleSession
    csrf: str
    language: str

    @property
    def operator(self) -> OperatorService:
        return self.services.operator

    @property
    def tenant(self) -> str:
        return self.services.tenant.id


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(
    response: Response,
    request: Request,
    console: ConsoleServices,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    same_site: str = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite=same_site,  # type: ignore[arg-type]
        secure=console.secure_cookie or is_https(request),
    )


def clear_cookie(response: Response, request: Request, console: ConsoleServices) -> None:
    response.delete_cookie(
        SESSION_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=console.secure_cookie or is_https(request),
    )


def form_token(request: Request) -> str:
    """The sign-in form's token: the one already in the browser's cookie, else a new one."""
    current = request.cookies.get(FORM_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(24)


def same_site_request(request: Request) -> bool:
    """False for a request a page of another site made the browser send."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None
    host = request.headers.get("host", "")
    return urlsplit(origin).netloc == host


async def offered_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Doorman:
    """Turns a request into a `SignedIn` (or refuses it)."""

    console: ConsoleServices
    tenants: TenantRuntimes[TenantServices]

    def language(self, request: Request) -> str:
        chosen = request.cookies.get(LANGUAGE_COOKIE)
        return chosen if chosen in ("id", "en") else self.console.language

    async def signed_in(self, request: Request) -> SignedIn:
        token = request.cookies.get(SESSION_COOKIE)
        polled = request.headers.get(POLL_HEADER) == "1"
        session = await self.console.sessions.resolve(token, used=not polled)
        if token is None:
            raise SignInFirst()
        if session is None:
            raise SignInFirst(expired=True)
        await self.tenants.refresh()
        services = self.tenants.get(session.tenant)
        if services is None:  # the tenant was disabled or erased since
            raise SignInFirst(expired=True)
        actor = await services.operator.users.actor_for_id(
            session.user_id, via=VIA, signed_in_at=session.created_at
        )
        if actor is None:  # the user was disabled or removed, or their password set, since
            await self.console.sessions.close(session)
            raise SignInFirst(expired=True)
        assert token is not None
        return SignedIn(
            services=services,
            actor=actor,
            session=session,
            csrf=csrf_token(token),
            language=self.language(request),
        )

    async def acting(self, request: Request) -> SignedIn:
        """`signed_in`, for a request that changes something: CSRF-checked first."""
        if not same_site_request(request):
            raise ForgedRequest()
        who = await self.signed_in(request)
        token = request.cookies.get(SESSION_COOKIE, "")
        if not csrf_matches(token, await offered_csrf(request)):
            raise ForgedRequest()
        return who
