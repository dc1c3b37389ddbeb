"""Accounts and the numbers linked to them (issue 15): a list (50 a page), and for roles that
may OPERATE, linking a number directly (the operator vouches for it) and unlinking it. Both
go through the operator service's accounts group, which checks the role and audits."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from wagate.domain.operators import Permission
from wagate.web.console.auth import SignedIn
from wagate.web.console.i18n import translator
from wagate.web.console.kit import Console

PAGE_ROWS = 50
MAX_FIELD = 200


def page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    return max(1, int(raw)) if raw.isdigit() and len(raw) < 6 else 1


def _short_date(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else ""


def _matches(account: dict[str, Any], query: str) -> bool:
    wanted = query.casefold()
    fields = ("username", "name", "email", "phone", "linkedPhone")
    return any(wanted in str(account.get(f) or "").casefold() for f in fields) or (
        query.isdigit() and str(account["id"]) == query
    )


async def _fields(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    values = {}
    for name in names:
        value = form.get(name)
        values[name] = value.strip()[:MAX_FIELD] if isinstance(value, str) else ""
    return values


def routes(console: Console) -> Any:
    router = console.router()

    @router.get("/console/accounts")
    async def show(request: Request, who: SignedIn = console.signed_in) -> Response:
        query = request.query_params.get("q", "").strip()[:MAX_FIELD]
        everyone = [a.as_json() for a in await who.operator.accounts.list(by=who.actor)]
        # Newest first; the filter is done here because usernames and numbers are stored
        # sealed (the database cannot search them).
        accounts = sorted(
            (a for a in everyone if not query or _matches(a, query)), key=lambda a: -a["id"]
        )
        pages = max(1, -(-len(accounts) // PAGE_ROWS))
        number = min(page_number(request), pages)
        shown = accounts[(number - 1) * PAGE_ROWS : number * PAGE_ROWS]
        return console.render(
            request,
            who,
            "accounts.html",
            accounts=[{**a, "linked": _short_date(a.get("linkedAt"))} for a in shown],
            total=len(accounts),
            query=query,
            page_number=number,
            pages=pages,
            operate=who.actor.may(Permission.OPERATE),
        )

    @router.post("/console/accounts/link")
    async def link(request: Request, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        fields = await _fields(request, "account", "phone")
        linked = await who.operator.accounts.link(fields["account"], fields["phone"], by=who.actor)
        return console.done(
            who, "/console/accounts", _("Number linked to account") + f" {linked.id}"
        )

    @router.post("/console/accounts/{account_id}/unlink")
    async def unlink(account_id: int, who: SignedIn = console.acting) -> Response:
        _ = translator(who.language)
        await who.operator.accounts.unlink(str(account_id), by=who.actor)
        notice = _("Number unlinked from account") + f" {account_id}"
        return console.done(who, "/console/accounts", notice)

    return router
