"""The application factory: dependencies are passed in, so tests hand in a real local database."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from mission_control import __version__
from mission_control.catalog import Catalog, load_default_catalog
from mission_control.db.base import utcnow
from mission_control.db.database import Database
from mission_control.db.migrate import upgrade
from mission_control.db.read_cache import ReadCache
from mission_control.findings.account import Accounts
from mission_control.identity.login import PasswordChecks
from mission_control.identity.service import ensure_initial_admin
from mission_control.jobs.execution import JobContext
from mission_control.jobs.in_process import InProcessRunner
from mission_control.jobs.runner import Runner
from mission_control.jobs.service import AlreadyRunning, NotConfigured
from mission_control.notifications.channels import Channel, load_channels
from mission_control.observability.metrics import metrics_registry
from mission_control.progress.service import (
    InvalidInput,
    NotFound,
    VersionConflict,
    ensure_defaults,
)
from mission_control.settings import Settings, SettingsError
from mission_control.verification.aws import AwsClients, clients_for
from mission_control.verification.config import EnvironmentConfig, load_config
from mission_control.web.access_log import redact_access_log
from mission_control.web.auth import AuthenticationRequired, Forbidden
from mission_control.web.docs import install_docs
from mission_control.web.events import LiveEvents
from mission_control.web.headers import SecurityHeaders
from mission_control.web.limits import BodySizeLimit
from mission_control.web.templating import templates

STATIC = Path(__file__).with_name("static")
_ERROR_STATUS: dict[type[Exception], int] = {
    NotFound: 404,
    InvalidInput: 422,
    VersionConflict: 409,
    AlreadyRunning: 409,
    NotConfigured: 422,
    Forbidden: 403,
}


def prepare_database(database: Database, catalog: Catalog, environments: Iterable[str] = ()) -> str | None:
    """Migrate, create the defaults (and configured environments), and return a new admin's
    password if one had to be made."""
    upgrade(database)
    with database.transaction() as session:
        ensure_defaults(session=session, catalog=catalog, environments=environments)
        return ensure_initial_admin(session=session)


def channels_of(settings: Settings) -> dict[str, Channel]:
    """The configuration file's notification channels (none without a file)."""
    return load_channels(settings.config_path) if settings.config_path else {}


def job_runner(settings: Settings, context: JobContext) -> Runner:
    """The runner the settings ask for: the PostgreSQL queue's workers, or threads of this process."""
    if settings.job_runner == "queue":
        if context.database.is_sqlite:
            raise SettingsError("MC_JOBS=queue needs PostgreSQL (MC_DATABASE_URL=postgresql://...)")
        from mission_control.jobs.queue import QueueRunner

        return QueueRunner(
            context, tick_seconds=settings.tick_seconds, stalled_seconds=settings.worker_stalled_seconds
        )
    return InProcessRunner(context, tick_seconds=settings.tick_seconds)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    catalog: Catalog | None = None,
    configs: dict[str, EnvironmentConfig] | None = None,
    clients_factory: Callable[[EnvironmentConfig], AwsClients] = clients_for,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build the app; raises ConfigError when the configured verification file is invalid. `clock`
    is the time the cached pages judge evidence by."""
    settings = settings or Settings.from_env()
    database = database or Database(settings.database_url)
    catalog = catalog or load_default_catalog()
    if configs is None:
        configs = load_config(settings.config_path) if settings.config_path else {}
    live_events = LiveEvents(database, recheck_seconds=settings.live_recheck_seconds)
    context = JobContext(
        database=database, catalog=catalog, configs=configs, channels=channels_of(settings),
        public_url=settings.public_url, clients_factory=clients_factory,
    )  # fmt: skip
    runner = job_runner(settings, context)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        password = prepare_database(database, catalog, configs)
        if password:
            print(
                f"Created the first user: admin / {password}\n"
                "This password is shown once; sign in and keep it safe.",
                file=sys.stderr,
                flush=True,
            )
        await live_events.start()
        runner.start()
        yield
        runner.stop()
        await live_events.stop()

    app = FastAPI(
        title="Mission Control",
        version=__version__,
        description="Multi-region readiness, shared, verified and audited.",
        lifespan=lifespan,
        docs_url=None,  # served by web/docs.py from a package: no CDN
        redoc_url=None,  # /docs is the one API browser; it alone gets a relaxed CSP (web/headers.py)
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)  # on every response
    if settings.forwarded_allow_ips:  # outermost: the client's address and scheme, before anyone reads them
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.forwarded_allow_ips))
    redact_access_log()
    app.state.settings = settings
    app.state.database = database
    app.state.catalog = catalog
    app.state.live_events = live_events
    app.state.read_cache = ReadCache(database, clock=clock)
    app.state.metrics_registry = metrics_registry(database, catalog)
    app.state.password_checks = PasswordChecks()
    app.state.configs = configs
    app.state.runner = runner
    app.state.accounts = Accounts(clients_factory)  # whose findings each environment's ASFF names

    from mission_control.evidence.views import api as evidence_api
    from mission_control.evidence.views import pages as evidence_pages
    from mission_control.identity.sso import router as sso_router
    from mission_control.identity.views import router as identity_router
    from mission_control.notifications.views import api as notifications_api
    from mission_control.notifications.views import pages as notifications_pages
    from mission_control.observability.views import router as observability_router
    from mission_control.progress.views import api as progress_api
    from mission_control.progress.views import pages as progress_pages
    from mission_control.report.views import pages as report_pages
    from mission_control.verification.fleet_views import pages as fleet_pages
    from mission_control.verification.views import api as verification_api
    from mission_control.verification.views import pages as verification_pages

    app.include_router(identity_router)
    app.include_router(sso_router)
    app.include_router(progress_api)
    app.include_router(progress_pages)
    app.include_router(verification_api)
    app.include_router(verification_pages)
    app.include_router(fleet_pages)
    app.include_router(evidence_api)
    app.include_router(evidence_pages)
    app.include_router(observability_router)
    app.include_router(notifications_api)
    app.include_router(notifications_pages)
    app.include_router(report_pages)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    install_docs(app)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse("/static/favicon.svg", status_code=301)

    _install_error_handlers(app)
    return app


def _wants_html(request: Request) -> bool:
    machine_read = request.url.path.startswith("/api/") or request.url.path == "/metrics"
    return not machine_read and "application/json" not in request.headers.get("accept", "")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_html(request):
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )
    return JSONResponse({"detail": message}, status_code=status)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AuthenticationRequired)
    async def authentication_required(request: Request, _: AuthenticationRequired) -> Response:
        if _wants_html(request) and request.method == "GET":
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        response = JSONResponse({"detail": "authentication required: sign in or send a bearer token"}, 401)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    def reply_with(status: int) -> Callable[[Request, Exception], Awaitable[Response]]:
        async def handler(request: Request, error: Exception) -> Response:
            return _error(request, status, str(error))

        return handler

    for error_class, status in _ERROR_STATUS.items():
        app.add_exception_handler(error_class, reply_with(status))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = []
        for detail in error.errors():
            if detail.get("type") == "json_invalid":
                position = detail.get("loc", ("body", "?"))[-1]
                problems.append(f"the body is not valid JSON (problem at character {position})")
                continue
            where = ".".join(str(part) for part in detail.get("loc", ()) if part != "body") or "body"
            problems.append(f"{where}: {detail.get('msg', 'invalid')}")
        return _error(request, 422, "invalid request: " + "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        return _error(request, error.status_code, str(error.detail))
