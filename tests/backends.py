"""The storage backends the suites run over: SQLite always, PostgreSQL when one is given.

Set HUITAINE_TEST_POSTGRES_DSN (e.g. `postgresql://huitaine@/huitaine_test?host=/tmp/pg`,
as `.ci/postgres start` prints) to run the PostgreSQL half; without it that half is skipped,
so a plain `pytest` on a fresh machine needs no server. Each test gets a schema of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest

DSN_ENV = "HUITAINE_TEST_POSTGRES_DSN"
REQUIRE_ENV = "HUITAINE_TEST_REQUIRE_POSTGRES"  # CI: a missing server fails, never skips
BACKENDS = ["sqlite", "postgresql"]


def postgres_dsn() -> str:
    """The test server's address; skips the test when none is configured."""
    dsn = os.environ.get(DSN_ENV, "")
    if not dsn and os.environ.get(REQUIRE_ENV):
        pytest.fail(f"{REQUIRE_ENV} is set but {DSN_ENV} is not: no server to test against")
    if not dsn:
        pytest.skip(f"{DSN_ENV} is not set: no PostgreSQL server to test against")
    return dsn


@contextmanager
def fresh_schema() -> Iterator[str]:
    """A connection string whose tables live in a new, empty schema, dropped afterwards."""
    import psycopg

    base = postgres_dsn()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    joiner = "&" if "?" in base else "?"
    try:
        yield f"{base}{joiner}options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(base, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str | Path]:
    """Where a test's store lives on `backend`: a SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        yield tmp_path / "huitaine.db"
        return
    with fresh_schema() as dsn:
        yield dsn
