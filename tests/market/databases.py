"""Databases of a test's own on the test server, migrated and used by `manage.py` in a process of its own, as an
operator would: for migrations and commands that act on a whole database."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]


def manage(database_url: str, timescaledb: bool, *args: str, **settings_env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": database_url, "TIMESCALEDB": str(timescaledb).lower(),
                   "DJANGO_SETTINGS_MODULE": "config.settings.local", **settings_env}  # fmt: skip
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def query(database_url: str, sql: str, parameters: tuple = ()) -> list[tuple]:
    with psycopg2.connect(database_url) as database, database.cursor() as cursor:
        cursor.execute(sql, parameters or None)
        return cursor.fetchall() if cursor.description else []
