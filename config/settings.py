"""Settings, read once from ``XHSZ_*`` environment variables (the README lists every one)."""

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.limits import FileLimits, LoginLimits, QueryLimits, SubscriptionLimits

VAR_DIR = Path("var")
DEVELOPMENT, PRODUCTION = "development", "production"


class SettingsError(ValueError):
    """A setting is missing or malformed; the service refuses to start."""


@dataclass(frozen=True)
class Settings:
    database_url: str = f"sqlite+aiosqlite:///./{VAR_DIR}/xhsz.db"
    storage_dir: Path = VAR_DIR / "attachments"
    secret_key: str = field(default="", repr=False)
    env: str = DEVELOPMENT
    token_ttl: dt.timedelta = dt.timedelta(hours=8)
    token_issuer: str = "xhsz"  # noqa: S105 (a name, not a secret)
    token_audience: str = "xhsz-api"  # noqa: S105
    database_pool_size: int = 10
    database_pool_timeout: int = 30  # seconds a request waits for a pooled connection (PostgreSQL)
    max_file_bytes: int = 4 * 1024 * 1024
    max_pdf_bytes: int = 300 * 1024
    max_json_bytes: int = 1024 * 1024
    multipart_margin_bytes: int = 64 * 1024
    request_body_timeout: dt.timedelta = dt.timedelta(seconds=30)
    download_url_ttl: dt.timedelta = dt.timedelta(minutes=5)
    public_url: str = ""
    """Where clients reach the service (``https://host/prefix``), for the links it hands out;
    empty: links are paths (``/attachments/…``) on whatever host the client used."""
    login_limits: LoginLimits = field(default_factory=LoginLimits)
    graphiql: bool = True
    introspection: bool = True
    graphql_get: bool = True
    query_limits: QueryLimits = field(default_factory=QueryLimits)
    max_batch_operations: int = 0
    principal_cache_seconds: float = 5.0
    """How long a worker trusts what it read of a token's user (the bound on revocation)."""
    compiled_executor: bool = True
    database_replica_url: str = ""
    """A PostgreSQL streaming replica that queries read from (SPEC §11); empty: none."""
    replica_max_lag_seconds: int = 30
    """Beyond this lag (or while it cannot be reached) the replica is left out and reads go to the
    primary."""
    subscription_limits: SubscriptionLimits = field(default_factory=SubscriptionLimits)
    cors_origins: tuple[str, ...] = ()
    """Exact origins (``https://portal.example.gov.cn``) whose pages may call the API."""
    trusted_documents: Path | None = None
    """A JSON manifest ``{"<sha256>": "<document>"}`` of the operations front ends ship."""
    trusted_documents_only: bool = False
    """Run only the manifest's operations (and register no automatic persisted queries)."""

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @property
    def file_limits(self) -> FileLimits:
        return FileLimits(max_bytes=self.max_file_bytes, max_pdf_bytes=self.max_pdf_bytes)

    @property
    def max_multipart_bytes(self) -> int:
        """The largest upload request: one file at the limit, plus the form around it."""
        return self.max_file_bytes + self.multipart_margin_bytes

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        reader = _Reader(env)
        mode = reader.text("XHSZ_ENV", DEVELOPMENT)
        if mode not in (DEVELOPMENT, PRODUCTION):
            raise SettingsError(f"XHSZ_ENV must be {DEVELOPMENT} or {PRODUCTION}, not {mode!r}")
        production = mode == PRODUCTION
        secret = reader.text("XHSZ_SECRET_KEY", "")
        if not secret:
            if production:
                raise SettingsError("XHSZ_SECRET_KEY is required when XHSZ_ENV=production")
            secret = development_secret(VAR_DIR / "secret_key")
        if len(secret) < 32:
            raise SettingsError("XHSZ_SECRET_KEY must be at least 32 characters")
        limits = LoginLimits(
            max_failures_per_username=reader.integer("XHSZ_LOGIN_MAX_FAILURES", 5),
            max_failures_per_client=reader.integer("XHSZ_LOGIN_MAX_FAILURES_PER_CLIENT", 20),
            window=dt.timedelta(seconds=reader.integer("XHSZ_LOGIN_WINDOW_SECONDS", 900)),
            lockout=dt.timedelta(seconds=reader.integer("XHSZ_LOGIN_LOCKOUT_SECONDS", 900)),
        )
        documents = reader.text("XHSZ_TRUSTED_DOCUMENTS", "")
        only_trusted = reader.flag("XHSZ_TRUSTED_DOCUMENTS_ONLY", False)
        if only_trusted and not documents:
            raise SettingsError(
                "XHSZ_TRUSTED_DOCUMENTS_ONLY=true needs XHSZ_TRUSTED_DOCUMENTS=FILE"
            )
        defaults = QueryLimits()
        query_limits = QueryLimits(
            max_depth=reader.integer("XHSZ_MAX_QUERY_DEPTH", defaults.max_depth),
            max_aliases=reader.integer("XHSZ_MAX_QUERY_ALIASES", defaults.max_aliases),
            max_tokens=reader.integer("XHSZ_MAX_QUERY_TOKENS", defaults.max_tokens),
            max_directives=reader.integer("XHSZ_MAX_QUERY_DIRECTIVES", defaults.max_directives),
            max_cost=reader.integer("XHSZ_MAX_QUERY_COST", defaults.max_cost),
            max_repeated_fields=reader.integer(
                "XHSZ_MAX_QUERY_REPEATED_FIELDS", defaults.max_repeated_fields
            ),
        )
        database_url = reader.text("XHSZ_DATABASE_URL", cls.database_url)
        return cls(
            database_url=database_url,
            storage_dir=Path(reader.text("XHSZ_STORAGE_DIR", str(cls.storage_dir))),
            secret_key=secret,
            env=mode,
            token_ttl=dt.timedelta(seconds=reader.integer("XHSZ_TOKEN_TTL_SECONDS", 8 * 3600)),
            database_pool_size=reader.integer("XHSZ_DATABASE_POOL_SIZE", 10),
            database_pool_timeout=reader.integer(
                "XHSZ_DATABASE_POOL_TIMEOUT_SECONDS", cls.database_pool_timeout
            ),
            max_file_bytes=reader.integer("XHSZ_MAX_FILE_BYTES", cls.max_file_bytes),
            max_pdf_bytes=reader.integer("XHSZ_MAX_PDF_BYTES", cls.max_pdf_bytes),
            max_json_bytes=reader.integer("XHSZ_MAX_JSON_BYTES", cls.max_json_bytes),
            multipart_margin_bytes=reader.integer(
                "XHSZ_MULTIPART_MARGIN_BYTES", cls.multipart_margin_bytes
            ),
            request_body_timeout=dt.timedelta(
                seconds=reader.integer("XHSZ_REQUEST_BODY_TIMEOUT_SECONDS", 30)
            ),
            download_url_ttl=dt.timedelta(
                seconds=reader.integer("XHSZ_DOWNLOAD_URL_TTL_SECONDS", 300)
            ),
            public_url=public_url(reader.text("XHSZ_PUBLIC_URL", "")),
            login_limits=limits,
            graphiql=reader.flag("XHSZ_GRAPHIQL", not production),
            introspection=reader.flag("XHSZ_INTROSPECTION", not production),
            graphql_get=reader.flag("XHSZ_GRAPHQL_GET", True),
            query_limits=query_limits,
            max_batch_operations=reader.integer("XHSZ_MAX_BATCH_OPERATIONS", 0, minimum=0),
            principal_cache_seconds=reader.integer("XHSZ_PRINCIPAL_CACHE_SECONDS", 5, minimum=0),
            compiled_executor=reader.flag("XHSZ_COMPILED_EXECUTOR", True),
            database_replica_url=replica_url(
                reader.text("XHSZ_DATABASE_REPLICA_URL", ""), database_url
            ),
            replica_max_lag_seconds=reader.integer("XHSZ_REPLICA_MAX_LAG_SECONDS", 30),
            subscription_limits=SubscriptionLimits(
                subscriptions_per_connection=reader.integer(
                    "XHSZ_SUBSCRIPTIONS_PER_CONNECTION", 10
                ),
                connections_per_user=reader.integer("XHSZ_SUBSCRIPTION_CONNECTIONS_PER_USER", 5),
                queue_size=reader.integer("XHSZ_SUBSCRIPTION_QUEUE_SIZE", 256),
                ping_seconds=reader.integer("XHSZ_SUBSCRIPTION_PING_SECONDS", 15),
                recheck_seconds=reader.integer("XHSZ_SUBSCRIPTION_RECHECK_SECONDS", 2),
            ),
            cors_origins=cors_origins(reader.text("XHSZ_CORS_ORIGINS", "")),
            trusted_documents=Path(documents) if documents else None,
            trusted_documents_only=only_trusted,
        )


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def text(self, name: str, default: str) -> str:
        return self.environ.get(name, "").strip() or default

    def integer(self, name: str, default: int, *, minimum: int = 1) -> int:
        raw = self.environ.get(name, "").strip()
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
        if value < minimum:
            raise SettingsError(
                f"{name} must be positive" if minimum == 1 else f"{name} must be at least {minimum}"
            )
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw in ("1", "true", "yes", "on"):
            return True
        if raw in ("0", "false", "no", "off"):
            return False
        raise SettingsError(f"{name} must be true or false, not {raw!r}")


def replica_url(value: str, database_url: str) -> str:
    """``XHSZ_DATABASE_REPLICA_URL``: empty, or a PostgreSQL URL beside a PostgreSQL primary."""
    if not value:
        return ""
    try:
        replica, primary = make_url(value), make_url(database_url)
    except ArgumentError:
        raise SettingsError("XHSZ_DATABASE_REPLICA_URL is not a database URL") from None
    if replica.get_backend_name() != "postgresql" or primary.get_backend_name() != "postgresql":
        raise SettingsError(
            "XHSZ_DATABASE_REPLICA_URL needs PostgreSQL: a postgresql+asyncpg:// URL of a "
            "streaming replica of the XHSZ_DATABASE_URL server"
        )
    return value


def public_url(value: str) -> str:
    """``XHSZ_PUBLIC_URL`` without its trailing slash: empty, or an absolute http(s) URL with a
    host and no credentials, query or fragment (links are built by appending a path to it)."""
    if not value:
        return ""
    problem = "XHSZ_PUBLIC_URL must be an absolute http(s) URL such as https://host/prefix"
    if any(char in value for char in "?#") or not value.isprintable() or " " in value:
        raise SettingsError(f"{problem}, without a query or fragment, not {value!r}")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises for a port out of range)
    except ValueError:
        raise SettingsError(f"{problem}, not {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise SettingsError(f"{problem}, with a host and no user name, not {value!r}")
    return value.rstrip("/")


def cors_origins(value: str) -> tuple[str, ...]:
    """``XHSZ_CORS_ORIGINS``: comma-separated exact origins, each ``scheme://host[:port]`` as a
    browser sends it in ``Origin`` (lower case, no path, no trailing slash); no wildcards."""
    origins = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    for origin in origins:
        parts = urlsplit(origin)
        try:
            parts.port  # noqa: B018 (raises for a port out of range)
        except ValueError:
            parts = parts._replace(scheme="")
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or origin != f"{parts.scheme}://{parts.netloc}"
            or origin != origin.lower()
            or "@" in parts.netloc
            or "*" in origin
        ):
            raise SettingsError(
                "XHSZ_CORS_ORIGINS must list exact origins such as https://portal.example.gov.cn "
                f"(lower case, no path, no trailing slash, no wildcard), not {origin!r}"
            )
    return origins


def development_secret(path: Path) -> str:
    """A random secret made once and kept in ``path``, shared by every local worker.

    Written to a temporary file and hard-linked into place, so that a worker starting at the same
    moment either creates the file whole or reads the one another worker created.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()
