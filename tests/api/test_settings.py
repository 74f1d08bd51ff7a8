"""Settings come from XHSZ_* variables with safe defaults; production refuses unsafe ones."""

import datetime as dt
import os
from pathlib import Path

import pytest

from config.limits import QueryLimits
from config.settings import Settings, SettingsError, development_secret

SECRET = "s" * 40


def test_defaults_are_the_embedded_development_setup() -> None:
    settings = Settings.from_env({"XHSZ_SECRET_KEY": SECRET})
    assert settings.database_url == "sqlite+aiosqlite:///./var/xhsz.db"
    assert settings.storage_dir == Path("var/attachments")
    assert settings.env == "development"
    assert settings.graphiql
    assert settings.introspection
    assert settings.max_file_bytes == 4_194_304
    assert settings.max_pdf_bytes == 307_200
    assert settings.max_json_bytes == 1_048_576
    assert settings.max_multipart_bytes == 4_194_304 + 65_536
    assert settings.request_body_timeout == dt.timedelta(seconds=30)
    assert settings.download_url_ttl == dt.timedelta(minutes=5)
    assert settings.login_limits.max_failures_per_username == 5
    assert settings.login_limits.lockout == dt.timedelta(minutes=15)
    assert settings.query_limits == QueryLimits(
        max_depth=10,
        max_aliases=15,
        max_tokens=2000,
        max_directives=50,
        max_cost=10_000,
        max_repeated_fields=10,
    )
    assert settings.max_batch_operations == 0, "batching is off"
    assert settings.graphql_get
    assert settings.database_pool_timeout == 30
    assert settings.compiled_executor
    assert settings.database_replica_url == "", "no replica"
    assert settings.replica_max_lag_seconds == 30


def test_query_limits_batching_get_and_executor_are_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "XHSZ_SECRET_KEY": SECRET,
            "XHSZ_MAX_QUERY_DEPTH": "7",
            "XHSZ_MAX_QUERY_ALIASES": "5",
            "XHSZ_MAX_QUERY_TOKENS": "1000",
            "XHSZ_MAX_QUERY_DIRECTIVES": "20",
            "XHSZ_MAX_QUERY_COST": "5000",
            "XHSZ_MAX_QUERY_REPEATED_FIELDS": "3",
            "XHSZ_MAX_BATCH_OPERATIONS": "4",
            "XHSZ_GRAPHQL_GET": "false",
            "XHSZ_COMPILED_EXECUTOR": "off",
        }
    )
    assert settings.query_limits == QueryLimits(
        max_depth=7,
        max_aliases=5,
        max_tokens=1000,
        max_directives=20,
        max_cost=5000,
        max_repeated_fields=3,
    )
    assert settings.max_batch_operations == 4
    assert not settings.graphql_get
    assert not settings.compiled_executor


def test_every_setting_is_read_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "XHSZ_DATABASE_URL": "postgresql+asyncpg://postgres@db/xhsz",
            "XHSZ_STORAGE_DIR": "/srv/files",
            "XHSZ_SECRET_KEY": SECRET,
            "XHSZ_ENV": "production",
            "XHSZ_TOKEN_TTL_SECONDS": "60",
            "XHSZ_MAX_FILE_BYTES": "1000",
            "XHSZ_MAX_PDF_BYTES": "500",
            "XHSZ_MAX_JSON_BYTES": "2000",
            "XHSZ_MULTIPART_MARGIN_BYTES": "300",
            "XHSZ_REQUEST_BODY_TIMEOUT_SECONDS": "7",
            "XHSZ_DOWNLOAD_URL_TTL_SECONDS": "90",
            "XHSZ_LOGIN_MAX_FAILURES": "3",
            "XHSZ_LOGIN_LOCKOUT_SECONDS": "30",
            "XHSZ_GRAPHIQL": "true",
            "XHSZ_DATABASE_POOL_TIMEOUT_SECONDS": "3",
            "XHSZ_DATABASE_REPLICA_URL": "postgresql+asyncpg://postgres@replica/xhsz",
            "XHSZ_REPLICA_MAX_LAG_SECONDS": "5",
        }
    )
    assert settings.database_url == "postgresql+asyncpg://postgres@db/xhsz"
    assert settings.database_replica_url == "postgresql+asyncpg://postgres@replica/xhsz"
    assert settings.replica_max_lag_seconds == 5
    assert settings.database_pool_timeout == 3
    assert settings.storage_dir == Path("/srv/files")
    assert settings.is_production
    assert settings.token_ttl == dt.timedelta(seconds=60)
    assert (settings.max_file_bytes, settings.max_pdf_bytes) == (1000, 500)
    assert settings.max_json_bytes == 2000
    assert settings.max_multipart_bytes == 1300, "the file limit plus the margin"
    assert settings.request_body_timeout == dt.timedelta(seconds=7)
    assert settings.download_url_ttl == dt.timedelta(seconds=90)
    assert settings.login_limits.max_failures_per_username == 3
    assert settings.login_limits.lockout == dt.timedelta(seconds=30)
    assert settings.graphiql is True
    assert settings.introspection is False, "off by default in production"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"XHSZ_ENV": "production"}, "XHSZ_SECRET_KEY is required"),
        ({"XHSZ_ENV": "staging", "XHSZ_SECRET_KEY": SECRET}, "XHSZ_ENV"),
        ({"XHSZ_SECRET_KEY": "short"}, "at least 32"),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_MAX_FILE_BYTES": "4M"}, "whole number"),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_MAX_FILE_BYTES": "0"}, "positive"),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_GRAPHIQL": "maybe"}, "true or false"),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_MAX_QUERY_DEPTH": "0"}, "positive"),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_REQUEST_BODY_TIMEOUT_SECONDS": "0"}, "positive"),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_MAX_BATCH_OPERATIONS": "-1"}, "at least 0"),
        (  # a replica of an SQLite file is not a thing
            {"XHSZ_SECRET_KEY": SECRET, "XHSZ_DATABASE_REPLICA_URL": "postgresql+asyncpg://r/x"},
            "needs PostgreSQL",
        ),
        (
            {
                "XHSZ_SECRET_KEY": SECRET,
                "XHSZ_DATABASE_URL": "postgresql+asyncpg://db/x",
                "XHSZ_DATABASE_REPLICA_URL": "sqlite+aiosqlite:///copy.db",
            },
            "needs PostgreSQL",
        ),
        (
            {
                "XHSZ_SECRET_KEY": SECRET,
                "XHSZ_DATABASE_URL": "postgresql+asyncpg://db/x",
                "XHSZ_DATABASE_REPLICA_URL": "not a url",
            },
            "not a database URL",
        ),
        ({"XHSZ_SECRET_KEY": SECRET, "XHSZ_REPLICA_MAX_LAG_SECONDS": "0"}, "positive"),
    ],
)
def test_bad_settings_are_refused_with_the_reason(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(environ)


def test_development_secret_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "var" / "secret_key"
    first = development_secret(path)
    assert len(first) >= 32
    assert development_secret(path) == first
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]


def test_the_public_url_is_read_without_its_trailing_slash() -> None:
    assert Settings.from_env({"XHSZ_SECRET_KEY": SECRET}).public_url == ""
    settings = Settings.from_env(
        {"XHSZ_SECRET_KEY": SECRET, "XHSZ_PUBLIC_URL": "https://xhsz.example.gov.cn/api/"}
    )
    assert settings.public_url == "https://xhsz.example.gov.cn/api"
    plain = Settings.from_env(
        {"XHSZ_SECRET_KEY": SECRET, "XHSZ_PUBLIC_URL": "http://10.0.0.5:8000"}
    )
    assert plain.public_url == "http://10.0.0.5:8000"


@pytest.mark.parametrize(
    "value",
    [
        "xhsz.example.gov.cn",
        "/api",
        "ftp://xhsz.example.gov.cn",
        "javascript:alert(1)",
        "https://",
        "https://xhsz.example.gov.cn/api?x=1",
        "https://xhsz.example.gov.cn/api#top",
        "https://user:secret@xhsz.example.gov.cn",
        "https://xhsz.example.gov.cn:99999",
        "https://xhsz.example.gov.cn/a b",
    ],
)
def test_a_public_url_that_is_not_an_absolute_http_url_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="XHSZ_PUBLIC_URL"):
        Settings.from_env({"XHSZ_SECRET_KEY": SECRET, "XHSZ_PUBLIC_URL": value})
