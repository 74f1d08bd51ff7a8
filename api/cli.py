"""The ``xhsz`` command line: serve, migrate, demo data, users and tokens, schema export."""

import asyncio
import datetime as dt
import enum
import json
import os
import shutil
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import quote, urlencode

import typer
import uvicorn
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession

from api import demo, demo_requests, maintenance, metrics
from api.observability import logging_config
from api.storage import LocalStorage
from api.tokens import Tokens
from config.settings import VAR_DIR, Settings, SettingsError
from db import identity, migrate
from db.certificate_import import ImportFileError, ImportSummary, Rejection, import_csv
from db.clock import utcnow
from db.database import Database
from db.errors import DomainError
from db.status import Role
from schema import build_schema

app = typer.Typer(
    help="xhsz: the 享惠受阻协调申请 GraphQL service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")
certificates_app = typer.Typer(help="The certificate registry.", no_args_is_help=True)
app.add_typer(certificates_app, name="certificates")
storage_app = typer.Typer(help="Attachment files.", no_args_is_help=True)
app.add_typer(storage_app, name="storage")

T = TypeVar("T")


class RoleOption(enum.StrEnum):
    enterprise = "enterprise"
    customs = "customs"


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None


def _tokens(settings: Settings) -> Tokens:
    return Tokens(
        secret=settings.secret_key,
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        ttl=settings.token_ttl,
    )


def _in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on a migrated database."""

    async def run() -> T:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            async with database.writer() as session, session.begin():
                return await work(session)
        finally:
            await database.dispose()

    try:
        return asyncio.run(run())
    except DomainError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None


def _on_database(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` against a migrated database (it opens its own transactions)."""

    async def run() -> T:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await work(database)
        finally:
            await database.dispose()

    return asyncio.run(run())


def _migrate(settings: Settings) -> None:
    async def run() -> None:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
        finally:
            await database.dispose()

    asyncio.run(run())


@app.command("migrate")
def migrate_command() -> None:
    """Apply the database migrations."""
    _migrate(_settings())
    typer.echo("database is up to date")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    timeout_keep_alive: Annotated[
        int,
        typer.Option(
            min=1,
            max=300,
            help="Seconds an idle keep-alive connection stays open (longer than a reverse "
            "proxy's upstream idle timeout, if the proxy keeps connections to us).",
        ),
    ] = 5,
    with_demo: Annotated[
        bool, typer.Option("--demo", help="Seed demo data and print a ready token.")
    ] = False,
) -> None:
    """Migrate the database, then serve the API (JSON logs on stderr, metrics at /metrics)."""
    settings = _settings()
    _migrate(settings)
    if with_demo:
        _seed_demo(settings, host, port)
    if workers > 1 and not os.environ.get(metrics.MULTIPROCESS_DIR):
        # Each worker process keeps its metrics in files here; a scrape of any worker sums them.
        folder = VAR_DIR / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ[metrics.MULTIPROCESS_DIR] = str(folder.resolve())
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # Idle connections between requests; a request body that stops arriving is timed out by
        # the app instead (XHSZ_REQUEST_BODY_TIMEOUT_SECONDS, api.limits).
        timeout_keep_alive=timeout_keep_alive,
        proxy_headers=True,
        server_header=False,
        access_log=False,  # api.observability writes one richer line per request
        log_config=logging_config(),
    )


DEMO_QUERY = """# Press Ctrl-Enter to run.
{
  viewer { username role enterprise { uscc name } }
  coordinations(first: 10) {
    totalCount
    nodes {
      __typename
      ... on Coordination { id coordinationNo status statusLabel certificateNo allowedActions }
    }
  }
}
"""


def _seed_demo(settings: Settings, host: str, port: int) -> None:
    async def work(session: AsyncSession) -> str:
        await demo.seed(session=session, now=utcnow())
        found = await identity.find_login(session=session, username=demo.ENTERPRISES[0].username)
        assert found is not None
        token, _ = _tokens(settings).issue(
            user_id=found.viewer.user_id, token_version=found.token_version, now=utcnow()
        )
        return token

    token = _in_transaction(settings, work)
    users = ", ".join(e.username for e in demo.ENTERPRISES)
    query = urlencode({"q": DEMO_QUERY}, quote_via=quote)
    headers = urlencode(
        {"headers": json.dumps({"Authorization": f"Bearer {token}"})}, quote_via=quote
    )
    typer.echo(
        f"\nDemo data ready. Users {users} (enterprise) and {demo.CUSTOMS_USERNAME} (customs), "
        f"password {demo.DEMO_PASSWORD!r}.\n"
        f"Open GraphiQL, ready to run (the token is in the URL's #fragment, never sent to the "
        f"server):\n  http://{host}:{port}/graphql?{query}#{headers}\n"
        f"Or send the header  Authorization: Bearer {token}\n"
    )


@app.command("demo")
def demo_command(
    requests: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also generate this many requests over two years, across many enterprises "
            f"({demo.ENTERPRISES[0].username}'s enterprise holding 10%); adds more on every run.",
        ),
    ] = 0,
) -> None:
    """Seed the demo enterprises, users and requests (idempotent), and generated requests."""
    settings = _settings()
    created = _in_transaction(settings, lambda session: demo.seed(session=session, now=utcnow()))
    typer.echo("demo data created" if created else "demo data already present")
    if requests:
        started = time.perf_counter()
        asyncio.run(_generate(settings, requests))
        elapsed = time.perf_counter() - started
        typer.echo(f"{requests:,} requests generated in {elapsed:.1f} s")


async def _generate(settings: Settings, count: int) -> None:
    database = Database(settings.database_url)
    try:
        async with database.reader() as session:
            found = await identity.find_login(
                session=session, username=demo.ENTERPRISES[0].username
            )
        assert found is not None
        assert found.viewer.enterprise_id is not None
        columns = (
            SpinnerColumn(),
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
        )
        with Progress(*columns) as progress:
            task = progress.add_task("requests", total=count)
            await demo_requests.seed_requests(
                database,
                count=count,
                big_enterprise_id=found.viewer.enterprise_id,
                big_user=(found.viewer.user_id, found.viewer.username),
                password_hash=identity.hash_password(demo.DEMO_PASSWORD),
                customs_username=demo.CUSTOMS_USERNAME,
                now=utcnow(),
                progress=lambda done: progress.advance(task, done),
            )
            progress.update(task, description="requests [dim](statistics updated)")
    finally:
        await database.dispose()


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:>9,.0f}/s", style="progress.data.speed")


@user_app.command("add")
def user_add(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    role: Annotated[RoleOption, typer.Option(case_sensitive=False)],
    uscc: Annotated[str | None, typer.Option(help="The enterprise's USCC.")] = None,
    enterprise_name: Annotated[str | None, typer.Option(help="The enterprise's name.")] = None,
) -> None:
    """Add a user: an enterprise user (with --uscc and --enterprise-name) or a customs user."""
    settings = _settings()
    if (role is RoleOption.enterprise) != bool(uscc and enterprise_name):
        typer.echo(
            "error: enterprise users need --uscc and --enterprise-name; customs users take neither",
            err=True,
        )
        raise typer.Exit(2)
    password_hash = identity.hash_password(password)

    async def work(session: AsyncSession) -> int:
        now = utcnow()
        enterprise_id = (
            await identity.ensure_enterprise(
                session=session, uscc=uscc or "", name=enterprise_name or "", now=now
            )
            if role is RoleOption.enterprise
            else None
        )
        return await identity.add_user(
            session=session,
            username=username,
            password_hash=password_hash,
            role=Role.ENTERPRISE if role is RoleOption.enterprise else Role.CUSTOMS,
            enterprise_id=enterprise_id,
            now=now,
        )

    _in_transaction(settings, work)
    typer.echo(f"user {username} added")


@user_app.command("password")
def user_password(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password; tokens issued before stop working."""
    password_hash = identity.hash_password(password)
    _change_user(
        username,
        lambda session: identity.change_password(
            session=session, username=username, password_hash=password_hash
        ),
        "password changed",
    )


@user_app.command("disable")
def user_disable(username: str) -> None:
    """Disable a user: no more logins, and every token of theirs stops working."""
    _change_user(
        username,
        lambda session: identity.set_active(session=session, username=username, active=False),
        "disabled",
    )


@user_app.command("enable")
def user_enable(username: str) -> None:
    """Enable a disabled user again (their old tokens stay revoked)."""
    _change_user(
        username,
        lambda session: identity.set_active(session=session, username=username, active=True),
        "enabled",
    )


def _change_user(
    username: str, change: Callable[[AsyncSession], Awaitable[bool]], done: str
) -> None:
    if not _in_transaction(_settings(), change):
        typer.echo(f"error: no user {username!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"user {username} {done}")


@app.command()
def token(username: str) -> None:
    """Print a bearer token for USERNAME (development convenience)."""
    settings = _settings()

    async def work(session: AsyncSession) -> identity.LoginSuccess | None:
        return await identity.find_login(session=session, username=username)

    found = _in_transaction(settings, work)
    if found is None:
        typer.echo(f"error: no active user {username!r}", err=True)
        raise typer.Exit(1)
    issued, _ = _tokens(settings).issue(
        user_id=found.viewer.user_id, token_version=found.token_version, now=utcnow()
    )
    typer.echo(issued)


@certificates_app.command("import")
def certificates_import(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import registry certificates from CSV (idempotent; bad rows are reported and skipped).

    Header: certificate_no,kind,agreement_code,enterprise_uscc,import_country,issued_on,
    export_declaration_nos (the last ';'-separated).
    """
    settings = _settings()
    errors = Console(stderr=True)

    def rejected(rejection: Rejection) -> None:
        errors.print(f"line {rejection.line}: {rejection.reason}", markup=False, highlight=False)

    async def run(progress: Progress, task: TaskID) -> ImportSummary:
        database = Database(settings.database_url)
        try:
            await migrate.upgrade(database)
            return await import_csv(
                database=database,
                path=path,
                rejected=rejected,
                progress=lambda position: progress.update(task, completed=position),
            )
        finally:
            await database.dispose()

    with Progress(
        *Progress.get_default_columns(), TransferSpeedColumn(), console=errors, transient=True
    ) as progress:
        task = progress.add_task("importing", total=path.stat().st_size)
        try:
            summary = asyncio.run(run(progress, task))
        except ImportFileError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
    typer.echo(
        f"{summary.rows} rows: {summary.created} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {len(summary.rejected)} rejected"
    )
    if summary.rejected:
        raise typer.Exit(1)


@storage_app.command("check")
def storage_check(
    repair: Annotated[
        bool, typer.Option("--repair", help="Remove files that no attachment names.")
    ] = False,
    grace_minutes: Annotated[
        int,
        typer.Option(
            min=0, help="With --repair, keep orphans younger than this (uploads in progress)."
        ),
    ] = 15,
) -> None:
    """Compare attachment rows with the stored files and list every difference.

    Exits 0 when they agree (after --repair, if given) and 1 otherwise.
    """
    settings = _settings()
    storage = LocalStorage(settings.storage_dir)
    report = _on_database(
        settings,
        lambda database: maintenance.check_storage(
            database=database,
            storage=storage,
            repair=repair,
            grace=dt.timedelta(minutes=grace_minutes),
            now=utcnow(),
        ),
    )
    for finding in report.findings:
        typer.echo(str(finding))
    unresolved = sum(not finding.repaired for finding in report.findings)
    summary = f"{report.rows} attachment rows, {report.files} files in {settings.storage_dir}"
    if unresolved:
        typer.echo(f"{summary}: {unresolved} problem{'s' if unresolved > 1 else ''}")
        raise typer.Exit(1)
    typer.echo(f"{summary}: rows and files agree")


@app.command()
def purge(
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            min=0,
            metavar="DAYS",
            help="Purge requests deleted at least this many days ago (0: every deleted one).",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be purged.")
    ] = False,
) -> None:
    """Remove deleted requests for good, with their history, attachments and files."""
    settings = _settings()
    cutoff = utcnow() - dt.timedelta(days=older_than)
    if dry_run:
        count = _on_database(
            settings,
            lambda database: maintenance.count_deleted(database=database, deleted_before=cutoff),
        )
        typer.echo(f"would purge {count} deleted requests")
        return
    storage = LocalStorage(settings.storage_dir)
    report = _on_database(
        settings,
        lambda database: maintenance.purge_deleted(
            database=database, storage=storage, deleted_before=cutoff
        ),
    )
    purged = report.purged
    typer.echo(
        f"purged {purged.requests} deleted requests, {purged.history} history entries, "
        f"{purged.attachments} attachments and {report.files_removed} files"
    )


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); ``schema.graphql`` is this output."""
    sys.stdout.write(build_schema().as_str() + "\n")


def main() -> None:
    app()
