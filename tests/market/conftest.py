import uuid

import psycopg2
import pytest
from django.conf import settings


@pytest.fixture
def fresh_database() -> str:
    """The URL of an empty database of the test's own on the test server, dropped afterwards."""
    server = settings.DATABASES["default"]
    name = f"screener_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=server["HOST"], port=server["PORT"], user=server["USER"], dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgres://{server['USER']}@{server['HOST']}:{server['PORT']}/{name}"
    finally:
        admin.cursor().execute(f"DROP DATABASE {name} WITH (FORCE)")
        admin.close()
