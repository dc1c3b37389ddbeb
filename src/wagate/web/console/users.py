"""Operator users (issue 15; admins only): list, add, change a role, disable or enable, set a
new password. The operator service's users group checks ADMINISTER on every one (listing
included, so another role gets 403) and audits each change without the password."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from wagate.domain.operator_users import MAX_NAME_CHARS, MAX_PASSWORD_CHARS
from wagate.domain.operators import Role
from wagate.pipeline.console_sessions import csrf_token
from wagate.web.console.auth import SESSION_COOKIE, SignedIn, set_cookie
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console

PAGE_ROWS = 50


def _short_date(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 6 else 1


async def _field(request: Request, name: str, limit: int) -> str:
    value = (await request.form()).get(name)
    # One character over the limit keeps an over-long value over it: the service refuses it.
    return value[: limit + 1] if isinstance(value, str) else ""


def routes(console: Console) -> Any:
    router = console.router()

    @router.get("/console/users")
    async def show(request: Request, who: SignedIn = console.signed_in) -> Response:
        # Newest first: the user just added is on the first page.
        users = sorted(await who.operator.users.list(by=who.actor), key=lambda u: -u.id)
        pages = max(1, -(-len(users) // PAGE_ROWS))
        number = min(_page_number(request), pages)
        shown = users[(number - 1) * PAGE_ROWS : number * PAGE_ROWS]
        return console.render(
            request,
            who,
            "users.html",
            users=[
                {
                    "id": u.id,
                    "name": u.name,
                    "role": u.role.value,
                    "disabled": u.disabled,
                    "created": _short_date(u.created_at),
                    "last_sign_in": _short_date(u.last_sign_in_at),
                    "me": u.name == who.actor.user,
                }
                for u in shown
            ],
            roles=[r.value for r in Role],
            total=len(users),
            page_number=number,
            pages=pages,
            max_name=MAX_NAME_CHARS,
            max_password=MAX_PASSWORD_CHARS,
        )

    @router.post("/console/users")
    async def add(request: Request, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        name = (await _field(request, "name", MAX_NAME_CHARS)).strip()
        role = await _field(request, "role", 20)
        password = await _field(request, "password", MAX_PASSWORD_CHARS)
        user = await who.operator.users.add(name, role=role, password=password, by=who.actor)
        return console.done(who, "/console/users", _("User added:") + f" {user.name}")

    @router.post("/console/users/{name}/role")
    async def set_role(name: str, request: Request, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        role = await _field(request, "role", 20)
        user = await who.operator.users.set_role(name, role, by=who.actor)
        return console.done(who, "/console/users", _("Role changed:") + f" {user.name}")

    @router.post("/console/users/{name}/disable")
    async def disable(name: str, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        user = await who.operator.users.disable(name, by=who.actor)
        return console.done(who, "/console/users", _("User disabled:") + f" {user.name}")

    @router.post("/console/users/{name}/enable")
    async def enable(name: str, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        user = await who.operator.users.enable(name, by=who.actor)
        return console.done(who, "/console/users", _("User enabled:") + f" {user.name}")

    @router.post("/console/users/{name}/password")
    async def passwd(name: str, request: Request, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        password = await _field(request, "password", MAX_PASSWORD_CHARS)
        user = await who.operator.users.passwd(name, password=password, by=who.actor)
        if user.id != who.session.user_id:
            return console.done(who, "/console/users", _("Password set for") + f" {user.name}")
        # Their own password: every session opened before it ends (see `Doorman`), this one
        # included; the admin who set it goes on in a new session (a new cookie, a new CSRF
        # token) rather than being sent to the sign-in form.
        sessions = console.services.sessions
        await sessions.close(who.session)
        token = await sessions.open(tenant=who.tenant, user_id=user.id)
        renewed = replace(who, csrf=csrf_token(token))  # the notice is sealed for the new one
        response = console.done(renewed, "/console/users", _("Password set for") + f" {user.name}")
        set_cookie(response, request, console.services, SESSION_COOKIE, token)
        return response

    return router
