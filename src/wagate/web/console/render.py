"""Rendering console pages: one Jinja2 environment (autoescaped), the context every page
shares, and the answers for errors.

A page template extends `base.html` (menu, who is signed in, language, sign-out); for an
htmx request (`HX-Request` header) the same template renders only its `content` block, so one
template serves the first load without JavaScript and the live updates with it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.responses import Response

from wagate import __version__
from wagate.pipeline.console_sessions import notice_sealed
from wagate.pipeline.operator import OperatorError
from wagate.web.admin_api import status_of
from wagate.web.console.auth import ForgedRequest, SignedIn, SignInFirst
from wagate.web.console.i18n import LANGUAGE_NAMES, translator
from wagate.web.console.nav import SECTIONS


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("wagate.web.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["version"] = __version__
    env.globals["language_names"] = LANGUAGE_NAMES
    return env


NOTICE_PARAM = "notice"
SEAL_PARAM = "seal"
MAX_NOTICE_CHARS = 300


def sealed_notice(request: Request, who: SignedIn | None) -> str:
    """The notice of the action that led here (`Console.done`), if this session sealed it;
    '' for a notice without its seal, or for nobody signed in: the console's own pages never
    repeat text a link from elsewhere put in their URL."""
    notice = request.query_params.get(NOTICE_PARAM, "")
    seal = request.query_params.get(SEAL_PARAM, "")
    if who is None or not notice or not notice_sealed(who.csrf, notice, seal):
        return ""
    return notice[:MAX_NOTICE_CHARS]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def page(
    request: Request,
    who: SignedIn | None,
    template: str,
    *,
    status_code: int = 200,
    language: str = "id",
    sandbox: bool = False,
    platform: bool = False,
    **context: Any,
) -> HTMLResponse:
    """A whole page, or its `content` block for htmx."""
    lang = who.language if who is not None else language
    shared: dict[str, Any] = {
        "_": translator(lang),
        "lang": lang,
        "who": who,
        "csrf": who.csrf if who is not None else context.pop("csrf", ""),
        "path": request.url.path,
        "here": request.url.path + (("?" + request.url.query) if request.url.query else ""),
        "htmx": is_htmx(request),
        "request_notice": sealed_notice(request, who),
        "sections": [
            s
            for s in SECTIONS
            if who is not None
            and who.actor.may(s.permission)
            and (sandbox or not s.sandbox_only)
            and (platform or not s.platform_only)
        ],
    }
    html = environment().get_template(template).render(**shared, **context)
    return HTMLResponse(html, status_code=status_code)


def sign_in_redirect(request: Request, *, expired: bool) -> Response:
    target = "/console/sign-in?next=" + quote(
        request.url.path + (("?" + request.url.query) if request.url.query else ""), safe=""
    )
    if expired:
        target += "&expired=1"
    if is_htmx(request):
        # htmx follows this header with a full page load instead of swapping a sign-in form
        # into a fragment.
        return Response(status_code=401, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def refusal(request: Request, status_code: int, message: str, *, language: str) -> Response:
    return page(
        request,
        None,
        "error.html",
        status_code=status_code,
        language=language,
        message=message,
        status=status_code,
    )


def console_route(language: Callable[[Request], str]) -> type[APIRoute]:
    """The route class of every console router: it answers the console's own exceptions and
    the operator service's errors with a page (or, for htmx, a fragment)."""

    class ConsoleRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def answer(request: Request) -> Response:
                try:
                    return await handler(request)
                except SignInFirst as exc:
                    return sign_in_redirect(request, expired=exc.expired)
                except ForgedRequest:
                    return refusal(
                        request,
                        403,
                        translator(language(request))(
                            "This form has expired or did not come from the console. "
                            "Reload the page and try again."
                        ),
                        language=language(request),
                    )
                except OperatorError as exc:
                    return refusal(request, status_of(exc), str(exc), language=language(request))

            return answer

    return ConsoleRoute
