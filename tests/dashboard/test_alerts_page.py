"""The alerts page in the browser: the signed-in user's rules through the API (list, create, mute, delete), their
events, and an alert created on the page firing live from the fake exchange's replay."""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from playwright.sync_api import expect

from apps.alerts.models import AlertEvent, AlertRule
from fakes.market import MINUTE_MS
from tests.alerts.factories import AlertRuleFactory, UserFactory
from tests.dashboard.conftest import REPLAY_START_MS, sign_in
from tests.market.factories import SymbolFactory


def open_alerts(page, live_server, user) -> None:
    sign_in(page, live_server.url, user)
    page.goto("/alerts/")
    expect(page.locator("#rules tbody")).to_have_attribute("data-loaded", re.compile(r"\d"))


def rows(page):
    return page.locator("#rules tbody tr")


def test_a_visitor_is_sent_to_sign_in_and_then_to_their_alerts(page, live_server):
    UserFactory(username="ada")

    page.goto("/alerts/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/alerts/$"))
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")

    expect(page).to_have_url(re.compile(r"/alerts/$"))
    expect(page.locator("#rules-status")).to_have_text("No alerts yet.")


def test_a_wrong_password_is_refused_and_signing_out_ends_the_session(page, live_server):
    user = UserFactory(username="ada")

    page.goto("/alerts/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.locator("main")).to_contain_text("Your username and password did not match.")

    open_alerts(page, live_server, user)
    page.click(".sign-out button")
    expect(page).to_have_url(re.compile(r"/$"))
    page.goto("/alerts/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/alerts/$"))


def test_the_page_lists_the_users_rules_and_nobody_elses(page, live_server):
    user = UserFactory()
    btc = SymbolFactory(symbol="BTCUSDT")
    AlertRuleFactory(owner=user, symbol=btc, name="Six figures", value=100000)
    AlertRuleFactory(symbol=btc, name="Someone else's", value=1)

    open_alerts(page, live_server, user)

    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("td").nth(0)).to_have_text("Six figures: price rises to or above 100000")
    expect(rows(page).first.locator("td").nth(1)).to_have_text("BTCUSDT")
    expect(page.locator("#rules-status")).to_have_text("1 alert")


def test_an_alert_created_on_the_page_is_saved_and_listed(page, live_server):
    user = UserFactory()
    SymbolFactory(symbol="BTCUSDT")
    open_alerts(page, live_server, user)

    page.fill("input[name=symbol]", "btcusdt")
    page.select_option("select[name=kind]", "price_below")
    page.fill("input[name=value]", "90000")
    page.click("#rule-form button[type=submit]")

    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("td").nth(0)).to_have_text("price falls to or below 90000")
    rule = AlertRule.objects.get(owner=user)
    assert (rule.symbol.symbol, rule.kind, rule.value) == ("BTCUSDT", "price_below", Decimal(90000))
    assert (rule.websocket, rule.telegram, rule.webhook_url, rule.cooldown_seconds) == (True, False, "", 300)


def test_an_indicator_alert_sends_the_fields_of_its_condition_only(page, live_server):
    user = UserFactory()
    SymbolFactory(symbol="ETHUSDT")
    open_alerts(page, live_server, user)

    page.select_option("select[name=kind]", "indicator")
    expect(page.locator("input[name=window_minutes]")).to_be_hidden()
    page.fill("input[name=symbol]", "ETHUSDT")
    page.fill("input[name=field]", "rsi_1h")
    page.select_option("select[name=operator]", "lt")
    page.fill("input[name=value]", "30")
    page.click("#rule-form button[type=submit]")

    expect(rows(page).first.locator("td").nth(0)).to_have_text("rsi_1h < 30")
    rule = AlertRule.objects.get(owner=user)
    assert (rule.field, rule.operator, rule.value, rule.window_minutes) == ("rsi_1h", "lt", Decimal(30), None)


def test_what_the_api_refuses_is_said_beside_its_field_and_nothing_is_saved(page, live_server):
    user = UserFactory()
    SymbolFactory(symbol="BTCUSDT")
    open_alerts(page, live_server, user)

    page.fill("input[name=symbol]", "BTCUSDT")
    page.fill("input[name=value]", "-5")
    page.click("#rule-form button[type=submit]")

    error = page.locator("label:has(input[name=value]) .field-error")
    expect(error).to_have_text("A price is above zero.")
    expect(page.locator("input[name=value]")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-error")).to_be_hidden()
    assert not AlertRule.objects.exists()


def test_mute_switches_a_rule_off_and_unmute_on_again(page, live_server):
    user = UserFactory()
    rule = AlertRuleFactory(owner=user)
    open_alerts(page, live_server, user)

    page.click("#rules button[data-action=mute]")
    expect(rows(page).first.locator("td.state")).to_have_text("muted")
    rule.refresh_from_db()
    assert not rule.is_active

    page.click("#rules button[data-action=mute]")
    expect(rows(page).first.locator("td.state")).to_have_text("on")
    rule.refresh_from_db()
    assert rule.is_active


def test_delete_removes_the_rule(page, live_server):
    user = UserFactory()
    AlertRuleFactory(owner=user, name="Going")
    kept = AlertRuleFactory(owner=user, name="Staying")
    open_alerts(page, live_server, user)
    expect(rows(page)).to_have_count(2)

    page.click("#rules tr:has-text('Going') button[data-action=delete]")

    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text("Staying")
    assert list(AlertRule.objects.all()) == [kept]


def test_past_events_are_listed_newest_first(page, live_server):
    user = UserFactory()
    rule = AlertRuleFactory(owner=user)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for minute, message in [(1, "newer"), (0, "older")]:  # ids in the other order than times
        AlertEvent.objects.create(rule=rule, user=user, symbol=rule.symbol, message=message,
                                  idempotency_key=message, created_at=start + timedelta(minutes=minute))  # fmt: skip

    open_alerts(page, live_server, user)

    expect(page.locator("#events li .message")).to_have_text(["newer", "older"])


def crossed_price(market, symbol: str, minutes: int) -> tuple[Decimal, int]:
    """A price the replay first reaches at some minute after the tenth and stays above for five more, and that
    minute: a rule on it fires however the streamer's flushes fall."""
    closes = [Decimal(market.candle_at(symbol, REPLAY_START_MS + minute * MINUTE_MS)[4]) for minute in range(minutes)]
    for minute in range(10, minutes - 6):
        below, above = max(closes[:minute]), min(closes[minute : minute + 6])
        if above > below:
            return ((below + above) / 2).quantize(Decimal("0.01")), minute
    raise AssertionError(f"{symbol} makes no lasting new high in {minutes} minutes")


def test_an_alert_created_on_the_page_fires_live_from_the_replay(page, serve, replaying_exchange):
    UserFactory(username="ada")
    SymbolFactory(symbol="BTCUSDT")
    price, minute = crossed_price(replaying_exchange.market, "BTCUSDT", 60)
    url = serve()
    page.goto(f"{url}/alerts/")
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", "pw")
    page.click("button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-live", "connected")  # /ws/alerts/
    page.fill("input[name=symbol]", "BTCUSDT")
    page.fill("input[name=value]", str(price))
    page.check("input[name=one_time]")
    page.click("#rule-form button[type=submit]")
    expect(rows(page)).to_have_count(1)

    replaying_exchange.replay(start_ms=REPLAY_START_MS, minutes=minute + 10, minutes_per_second=10)

    event = page.locator("#events li.new")
    expect(event).to_have_count(1, timeout=15000)
    expect(event.locator(".message")).to_contain_text(f"BTCUSDT: price rises to or above {price.normalize():f}")
    expect(rows(page).first.locator("td.state")).to_have_text("muted")  # a one-time rule is off once it fired
