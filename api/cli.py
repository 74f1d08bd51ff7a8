"""The ``xhsz`` command line: serve, migrate, demo data, users and tokens, schema export."""

import asyncio
import enum
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text
from sqlalchemy.ext.asyncio import AsyncSession

from api import demo, demo_requests
from api.settings import Settings, SettingsError
from api.tokens import Tokens
from db import identity, migrate
from db.clock import utcnow
from db.database import Database
from db.errors import DomainError
from db.status import Role
from schema import build_schema

app = typer.Typer(help="xhsz: the 享惠受阻协调申请 GraphQL service.", no_args_is_help=True)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
app.add_typer(user_app, name="user")

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
    with_demo: Annotated[
        bool, typer.Option("--demo", help="Seed demo data and print a ready token.")
    ] = False,
) -> None:
    """Migrate the database, then serve the API."""
    settings = _settings()
    _migrate(settings)
    if with_demo:
        _seed_demo(settings, host, port)
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
    )


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
    typer.echo(
        f"\nDemo data ready. Users {users} (enterprise) and {demo.CUSTOMS_USERNAME} (customs), "
        f"password {demo.DEMO_PASSWORD!r}.\n"
        f"GraphiQL: http://{host}:{port}/graphql\n"
        f"Header:   Authorization: Bearer {token}\n"
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


@app.command("export-schema")
def export_schema() -> None:
    """Print the GraphQL schema (SDL); ``schema.graphql`` is this output."""
    sys.stdout.write(build_schema().as_str() + "\n")


def main() -> None:
    app()
