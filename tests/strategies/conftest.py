import importlib

import pytest
from django.apps import apps


@pytest.fixture
def built_in(db) -> None:
    """The built-in strategies as their data migration writes them: a transactional test elsewhere flushes the
    tables, and a reused test database is not migrated again."""
    migration = importlib.import_module("apps.strategies.migrations.0002_builtin_strategies")
    migration.create_built_in(apps, None)
