"""Signing in and out, the console's front door, and the language switch.

Sign-in goes through `OperatorService.users.sign_in`: argon2id, the same answer for an unknown
name and a wrong password, a lock-out after repeated failures (shown with the time it ends),
every outcome audited. In front of it, the door's own window per name
(domain/sign_in_throttle.py): a name nobody has is locked out like a real one, so the answers
never tell which names exist. A success opens a session (a new token: a session cookie planted
before sign-in is never adopted) and sends the browser where it was going.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from wagate.domain.operator_users import SignInPolicy
from wagate.domain.sign_in_throttle import FailureWindow
from wagate.pipeline.operator.users import Refusal
from wagate.web.console.auth import (
    CSRF_FIELD,
    FORM_COOKIE,
    LANGUAGE_COOKIE,
    SESSION_COOKIE,
    VIA,
    ForgedRequest,
    SignedIn,
    SignInFirst,
    clear_cookie,
    form_token,
    same_site_request,
    set_cookie,
)
from wagate.web.console.i18n import LANGUAGES, translator
from wagate.web.console.kit import Console

MAX_FIELD = 1024


def safe_next(target: str | None, default: str = "/console") -> str:
    """Only a console path: never another site (`//evil`, `https://…`) or a header break."""
    if not target or not target.startswith("/console") or any(c in target for c in "\r\n\\"):
        return default
    return target[:2000]


def routes(console: Console) -> APIRouter:
    router = console.router()
    services = console.services
    policy = SignInPolicy()
    throttle = FailureWindow(limit=policy.max_failures, span=policy.lockout)

    def start_page() -> str:
        return "/console/sandbox" if console.sandbox else "/console/home"

    async def current(request: Request) -> SignedIn | None:
        try:
            return await console.doorman.signed_in(request)
        except SignInFirst:
            return None

    def form(
        request: Request,
        *,
        status_code: int = 200,
        message: str = "",
        name: str = "",
        tenant: str = "",
        next_path: str = "",
    ) -> Response:
        token = form_token(request)
        response = console.render(
            request,
            None,
            "sign_in.html",
            status_code=status_code,
            csrf=token,
            message=message,
            name=name,
            tenant=tenant,
            default_tenant=console.tenants.default_id,
            next_path=safe_next(next_path, start_page()),
            expired=request.query_params.get("expired") == "1",
        )
        set_cookie(response, request, services, FORM_COOKIE, token, same_site="strict")
        return response

    @router.get("/console")
    async def front(request: Request) -> Response:
        if await current(request) is None:
            return RedirectResponse("/console/sign-in", status_code=303)
        return RedirectResponse(start_page(), status_code=303)

    @router.get("/console/home")
    async def home(request: Request, who: SignedIn = console.signed_in) -> Response:
        return console.render(request, who, "home.html")

    @router.get("/console/sign-in")
    async def sign_in_form(request: Request) -> Response:
        next_path = request.query_params.get("next", "")
        if await current(request) is not None:
            return RedirectResponse(safe_next(next_path, start_page()), status_code=303)
        return form(request, next_path=next_path)

    @router.post("/console/sign-in")
    async def sign_in(request: Request) -> Response:
        fields: dict[str, Any] = dict(await request.form())
        values = {k: v[:MAX_FIELD] if isinstance(v, str) else "" for k, v in fields.items()}
        cookie = request.cookies.get(FORM_COOKIE, "")
        if not same_site_request(request) or not cookie or values.get(CSRF_FIELD) != cookie:
            raise ForgedRequest()
        _ = translator(console.doorman.language(request))
        name = values.get("name", "").strip()
        tenant_id = values.get("tenant", "").strip() or console.tenants.default_id
        next_path = values.get("next", "")
        await console.tenants.refresh()
        tenant = console.tenants.get(tenant_id)
        wrong = _("Wrong name or password.")
        now = datetime.now(UTC)
        name_key = f"{tenant_id}\x00{name.casefold()}"

        def throttled(until: datetime | None) -> Response:
            shown = until.strftime("%H:%M UTC") if until else ""
            return form(
                request,
                status_code=429,
                message=_("Too many failed attempts. Try again after") + f" {shown}.",
                name=name,
                tenant=tenant_id,
                next_path=next_path,
            )

        blocked = throttle.blocked_until(name_key, now)
        if blocked is not None:
            return throttled(blocked)
        if tenant is None:
            # The same answer as a wrong password: the form does not list tenants.
            await console.tenants.default.operator.users.passwords.verify(
                None, values.get("password", "")
            )
            throttle.failed(name_key, now)
            return form(
                request,
                status_code=401,
                message=wrong,
                name=name,
                tenant=tenant_id,
                next_path=next_path,
            )
        outcome = await tenant.operator.users.sign_in(name, values.get("password", ""), via=VIA)
        if outcome.user is None:
            if outcome.refusal is Refusal.THROTTLED:
                return throttled(outcome.retry_at)
            throttle.failed(name_key, now)
            if outcome.refusal is Refusal.DISABLED:
                message = _("This user is disabled. Ask an administrator.")
                status = 403
            else:
                message, status = wrong, 401
            return form(
                request,
                status_code=status,
                message=message,
                name=name,
                tenant=tenant_id,
                next_path=next_path,
            )
        throttle.forget(name_key)
        token = await services.sessions.open(tenant=tenant.tenant.id, user_id=outcome.user.id)
        response = RedirectResponse(safe_next(next_path, start_page()), status_code=303)
        set_cookie(response, request, services, SESSION_COOKIE, token)
        response.delete_cookie(FORM_COOKIE, path="/console")
        return response

    @router.post("/console/sign-out")
    async def sign_out(request: Request, who: SignedIn = console.acting) -> Response:
        await services.sessions.close(who.session)
        await who.operator.users.signed_out(who.session.user_id, by=who.actor)
        response = RedirectResponse("/console/sign-in", status_code=303)
        clear_cookie(response, request, services)
        return response

    @router.get("/console/language")
    async def language(request: Request) -> Response:
        chosen = request.query_params.get("to", "")
        target = safe_next(request.query_params.get("next"))
        response = RedirectResponse(target, status_code=303)
        if chosen in LANGUAGES:
            set_cookie(response, request, services, LANGUAGE_COOKIE, chosen, max_age=365 * 86400)
        return response

    return router
