"""Every console route is guarded (issue 15, security review): a route that changes something
depends on `Doorman.acting` (session, CSRF token, same-site origin), every other one on
`Doorman.signed_in`, except the few doors that exist before a session does. A new page whose
POST forgets the CSRF check fails here, before any browser test."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi.routing import APIRoute

from wagate.web.console import PAGES
from wagate.web.console.auth import Doorman
from wagate.web.console.kit import Console

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
