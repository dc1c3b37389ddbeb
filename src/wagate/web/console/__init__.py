"""The operator console (issue 15, OB4): server-rendered pages at `/console` for a firm's
staff, over the operator service. Jinja2 templates, htmx served from the package (no CDN, no
build step), Indonesian with English available, no inline script (see `headers`).

`mount_console` adds every page module's routes and the static files to the app. A new page
is a module with `routes(console)` (see `kit`), listed in `PAGES`.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from wagate.edge_services import ConsoleServices, TenantServices
from wagate.pipeline.tenancy import TenantRuntimes
from wagate.web.console import (
    accounts,
    audit,
    channels,
    conversations,
    dead_letters,
    intakes,
    knowledge,
    reviews,
    sandbox,
    settings,
    sign_in,
    users,
)
from wagate.web.console.auth import Doorman
from wagate.web.console.kit import Console

PAGES = (
    sign_in,
    sandbox,
    conversations,
    reviews,
    intakes,
    knowledge,
    dead_letters,
    audit,
    accounts,
    channels,
    users,
    settings,
)
STATIC_PATH = "/console/static"
# The knowledge page's upload takes files: the body limit is KB_MAX_UPLOAD_BYTES there.
CONSOLE_UPLOAD_PATH = "/console/knowledge/upload"


def mount_console(
    app: FastAPI, services: ConsoleServices, tenants: TenantRuntimes[TenantServices]
) -> Console:
    console = Console(
        services=services, tenants=tenants, doorman=Doorman(console=services, tenants=tenants)
    )
    for module in PAGES:
        app.include_router(module.routes(console))
    static = resources.files("wagate.web.console") / "static"
    app.mount(STATIC_PATH, StaticFiles(directory=str(static)), name="console-static")
    return console
