"""Every console route is guarded (issue 15, security review): a route that changes something
depends on `Doorman.acting` (session, CSRF token, same-site origin), every other one on
`Doorman.signed_in`, except the few doors that exist before a session does. A new page whose
POST forgets the CSRF check fails here, before any browser test. Also the pure pieces around
them: where a redirect may go, the sealed notice, the cookie's flags."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl

import pytest
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from wagate.pipeline.console_sessions import csrf_token, notice_sealed
from wagate.web.console import PAGES
from wagate.web.console.auth import SESSION_COOKIE, Doorman, SignedIn, set_cookie
from wagate.web.console.kit import Console
from wagate.web.console.sign_in import safe_next

CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# No session yet: the sign-in form (its own double-submit token), the front door that
# redirects, and the language switch (a cookie of no consequence, then a redirect).
OPEN_DOORS = {
    ("GET", "/console"),
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
    ("GET", "/console/language"),
}


def console() -> Console:
    services: Any = SimpleNamespace(sandbox=object(), language="id")
    tenants: Any = SimpleNamespace()
    return Console(
        services=services, tenants=tenants, doorman=Doorman(console=services, tenants=tenants)
    )


def routes(built: Console) -> list[tuple[str, str, set[Any]]]:
    """(method, path, the calls it depends on) of every console route."""
    found = []
    for module in PAGES:
        for route in module.routes(built).routes:
            assert isinstance(route, APIRoute)
            calls = {dependency.call for dependency in route.dependant.dependencies}
            found.extend((method, route.path, calls) for method in route.methods)
    return found


def test_every_state_changing_route_checks_the_csrf_token() -> None:
    built = console()
    doorman = built.doorman
    unguarded = [
        (method, path)
        for method, path, calls in routes(built)
        if method in CHANGING and (method, path) not in OPEN_DOORS and doorman.acting not in calls
    ]
    assert unguarded == []


def test_every_other_route_needs_a_session() -> None:
    built = console()
    doorman = built.doorman
    open_routes = {
        (method, path)
        for method, path, calls in routes(built)
        if not calls & {doorman.signed_in, doorman.acting}
    }
    assert open_routes == OPEN_DOORS


def test_the_sign_in_form_is_the_only_post_without_a_session() -> None:
    assert {(m, p) for m, p, _ in routes(console()) if m in CHANGING} & OPEN_DOORS == {
        ("POST", "/console/sign-in")
    }


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "//evil.example",
        "https://evil.example/console",
        "/\\evil.example",
        "/console\\@evil.example",
        "/console\r\nSet-Cookie: x=1",
        "javascript:alert(1)",
        "console/home",
    ],
)
def test_a_next_target_outside_the_console_is_replaced(target: str | None) -> None:
    assert safe_next(target, "/console/home") == "/console/home"


def test_a_console_target_is_kept() -> None:
    assert safe_next("/console/reviews?status=all") == "/console/reviews?status=all"


def signed_in(csrf: str) -> SignedIn:
    anything: Any = None
    return SignedIn(services=anything, actor=anything, session=anything, csrf=csrf, language="id")


@pytest.mark.parametrize("back", ["//evil.example/console", "https://evil.example", "/api/x"])
def test_after_a_form_the_browser_goes_back_only_into_the_console(back: str) -> None:
    assert Console.done(signed_in("c" * 64), back).headers["location"] == "/console"


def test_a_notice_after_a_form_is_sealed_for_the_session() -> None:
    who = signed_in(csrf_token("session-token"))
    location = Console.done(who, "/console/knowledge?job=7", "Refresh queued").headers["location"]
    path, _, query = location.partition("?")
    params = dict(parse_qsl(query))
    assert path == "/console/knowledge" and params["job"] == "7"
    assert params["notice"] == "Refresh queued"
    assert notice_sealed(who.csrf, "Refresh queued", params["seal"])


@pytest.mark.parametrize(
    ("scheme", "forced", "secure"),
    [("http", False, False), ("https", False, True), ("http", True, True)],
)
def test_the_session_cookie_is_secure_over_https_or_when_asked(
    scheme: str, forced: bool, secure: bool
) -> None:
    request = Request(
        {"type": "http", "scheme": scheme, "path": "/console", "headers": [(b"host", b"gw.id")]}
    )
    response = Response()
    services: Any = SimpleNamespace(secure_cookie=forced)
    set_cookie(response, request, services, SESSION_COOKIE, "token")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert ("Secure" in cookie) is secure
