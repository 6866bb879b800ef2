"""The dashboard in a real browser: Playwright driving Debian's chromium against pytest-django's live server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tests.screener.conftest import screener  # noqa: F401  (autouse: a fresh screener table per test)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
VENDOR_CHART = Path(settings.BASE_DIR) / "static/vendor/lightweight-charts.standalone.production.js"

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser(django_db_setup, live_server) -> Iterator:
    """One chromium per module (after the test database and the live server exist); stopped with the module, so
    that Playwright's event loop, which makes Django refuse queries from this thread, never outlives its tests."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}: scripts/ensure_browser.sh installs it")
    with pytest.MonkeyPatch.context() as patch, playwright_sync.sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
    context.set_default_timeout(5000)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def chart_vendored() -> None:
    if not VENDOR_CHART.exists():
        pytest.fail(f"{VENDOR_CHART} is missing: `make vendor` fetches it")
