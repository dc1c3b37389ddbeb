"""What every command module shares: settings, the event loop, opening the gateway, calling
the operator service as `operator:cli`, and printing. Command modules import this module and
never each other."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer

from wagate.pipeline.operator import InvalidReference, OperatorError

if TYPE_CHECKING:
    from wagate.pipeline.operator import OperatorService
    from wagate.pipeline.operator.tenants import TenantAdmin
    from wagate.settings import Settings
    from wagate.wiring import Gateway

T = TypeVar("T")


class _Selection:
    """The tenant the command acts for (`wagate --tenant T …`); None: the default tenant."""

    tenant: str | None = None


selection = _Selection()


def settings_or_exit(*, quiet: bool = False) -> Settings:
    """The settings, logging configured; a configuration error ends the command (exit 2).

    `quiet`: a one-shot command (not `serve` or `worker`) logs warnings and errors only,
    unless WAGATE_LOG_LEVEL is set: its output is its answer, not the database starting."""
    # Imported here, not at the top: `wagate --help` and `--version` need neither the
    # settings nor logging (with the privacy recognisers behind it), and start faster so.
    from wagate.observability.logs import configure_logging
    from wagate.settings import ConfigurationError, load_settings

    try:
        settings = load_settings()
    except ConfigurationError as exc:
        typer.echo(f"wagate: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    level = settings.wagate_log_level
    if quiet and "wagate_log_level" not in settings.model_fields_set:
        level = "WARNING"
    configure_logging(level, settings.wagate_log_format)
    return settings


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop

        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is installed with uvicorn[standard]
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        return runner.run(coro)


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"wagate: {message}", err=True)
    raise typer.Exit(code=code)


def with_gateway(
    action: Callable[[Gateway], Awaitable[T]],
    *,
    usage_errors: tuple[type[OperatorError], ...] = (InvalidReference,),
) -> T:
    """Open the gateway (database, keys; no web server, no worker), run `action`, close. A
    refusal becomes its message and exit 1 (exit 2 for `usage_errors`, which say the command
    was given wrongly)."""
    from wagate.runtime.sandbox_file import join_sandbox
    from wagate.wiring import open_gateway

    # Beside a sandbox gateway, its fake number is the provider (else `wagate send` is refused).
    settings = join_sandbox(settings_or_exit(quiet=True))

    async def run() -> T:
        gateway = await open_gateway(settings, pool_size=2, notices=False)
        try:
            return await action(gateway)
        finally:
            await gateway.close()

    try:
        return run_async(run())
    except OperatorError as exc:
        fail(str(exc), 2 if isinstance(exc, usage_errors) else 1)
    except ValueError as exc:  # a bad value given to a read-only command
        fail(str(exc))


def operate(
    call: Callable[[OperatorService], Awaitable[T]],
    *,
    usage_errors: tuple[type[OperatorError], ...] = (InvalidReference,),
) -> T:
    """An operator action for the selected tenant, through the service, as `operator:cli`."""
    return with_gateway(
        lambda gateway: call(gateway.services(selection.tenant).operator),
        usage_errors=usage_errors,
    )


def administer(
    call: Callable[[TenantAdmin], Awaitable[T]],
    *,
    usage_errors: tuple[type[OperatorError], ...] = (InvalidReference,),
) -> T:
    """A platform action on tenants, through the service, as `operator:cli`."""
    return with_gateway(lambda gateway: call(gateway.tenant_admin), usage_errors=usage_errors)


def show(value: Any) -> None:
    typer.echo(as_json_text(value))


def as_json_text(value: Any) -> str:
    """`value` as indented JSON; times in ISO 8601 (`2026-01-02T03:04:05+00:00`) as the API
    and the other commands print them, not Python's `str` with a space."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)
