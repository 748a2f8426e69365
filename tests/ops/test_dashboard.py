"""The ops dashboard in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by
selenium): an operator logs in, sees the dead letter the test planted with why it failed, looks the order
up in the ledger, fixes the cause, replays it with confirmation — the count drops, and the audit log
says who replayed what. ``PRICING_EDGE_DASHBOARD_SCREENSHOT=path.png`` keeps a screenshot (the README's)."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

from pricing_edge.config import Settings
from tests.e2e.orders_system import OrderSystem, order_system
from tests.support.polling import wait_until

BUYER = 1
GHOST = "DASH-GHOST-1"


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(f"the dashboard test needs {' or '.join(names)}: apt-get install chromium chromium-driver "
                "(.ci/run installs them)")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1440,1300", f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=_binary("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def system(tmp_path: Path) -> Iterator[OrderSystem]:
    with order_system(Settings.from_env({}), tmp_path, register_hooks=False) as running:
        yield running


def text_of(driver: WebDriver, selector: str) -> str:
    try:
        return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, selector))
    except StaleElementReferenceException:  # the page re-rendered between find and read: read again
        return ""


def one(driver: WebDriver, selector: str) -> WebElement | None:
    found = driver.find_elements(By.CSS_SELECTOR, selector)
    return found[0] if found else None


def test_the_dashboard_shows_a_dead_letter_replays_it_and_audits_who_did(system: OrderSystem,
                                                                           browser: WebDriver) -> None:
    order = system.create_order(BUYER, [{"name": "Not in the ERP", "sku": GHOST, "quantity": 1,
                                        "price_ex_tax": "5.00", "price_inc_tax": "5.00"}])
    assert system.deliver("store/order/created", {"type": "order", "id": order["id"]}).status_code == 200
    letter = wait_until(lambda: system.ops("GET", "/ops/dlq").json()["items"], timeout=30, what="the dead letter")[0]
    row = f'#dlq tr[data-id="{letter["id"]}"]'

    browser.get(system.worker_url + "/ops/")
    wait_until(lambda: one(browser, "#login:not([hidden])"), what="the login form")
    browser.find_element(By.ID, "token").send_keys(system.settings.ops_token)
    browser.find_element(By.CSS_SELECTOR, "#login-form button").click()

    wait_until(lambda: one(browser, row), timeout=20, what="the planted dead letter on the page")
    assert GHOST in text_of(browser, row) and "needs-attention" in text_of(browser, row)  # why it failed
    assert text_of(browser, '#flows tr[data-flow="orders"] td[data-cell="dead_letters"]') == "1"
    assert text_of(browser, "#dlq-count") == "1"
    assert text_of(browser, "#operator") == "demo"

    browser.find_element(By.ID, "ledger-key").send_keys(system.reference(order["id"]))
    browser.find_element(By.CSS_SELECTOR, "#ledger-form button").click()
    wait_until(lambda: "dead-lettered" in text_of(browser, "#ledger"), what="the order's ledger entry")
    assert "store/order/created" in text_of(browser, "#ledger-history")
    price = "query P($id: Int!) { site { product(entityId: $id) { prices { price { value } } } } }"
    product = system.dataset.products[5]
    for _ in range(4):  # one miss, then hits: the edge's figures reach the worker's page
        answer = system.http.post(system.edge.base_url + "/graphql", json={"query": price, "variables": {"id": product.id}},
                                  headers={"authorization": f"Bearer {system.settings.storefront_token}"})
        assert answer.status_code == 200, answer.text
    wait_until(lambda: text_of(browser, '#edges td[data-cell="answers"]') == "75.0%", timeout=30,
               what="the edge's answer hit ratio on the page")
    assert "closed" in text_of(browser, "#edges tbody tr")  # both breakers
    wait_until(lambda: "login" in text_of(browser, "#audit"), what="the login in the audit log")
    screenshot = os.environ.get("PRICING_EDGE_DASHBOARD_SCREENSHOT")
    if screenshot:
        browser.save_screenshot(screenshot)

    system.erp_sim("/items", {"sku": GHOST, "price": "5.00"})  # the cause, fixed
    browser.find_element(By.CSS_SELECTOR, f"{row} button.replay").click()
    wait_until(lambda: one(browser, "dialog#confirm[open]"), what="the confirmation")
    assert letter["id"] in text_of(browser, "#confirm-text")
    browser.find_element(By.ID, "confirm-ok").click()

    wait_until(lambda: not one(browser, row) and text_of(browser, "#dlq-count") == "0", timeout=30,
               what="the dead letter gone from the page")
    wait_until(lambda: text_of(browser, '#flows tr[data-flow="orders"] td[data-cell="dead_letters"]') == "0",
               what="the flow's dead-letter count down to 0")
    audit = wait_until(lambda: "dlq.replay" in text_of(browser, "#audit") and text_of(browser, "#audit"),
                       what="the replay in the audit log")
    assert letter["id"] in audit and "demo" in audit and "dashboard" in audit
    (entry,) = [e for e in system.ops("GET", "/ops/audit").json()["entries"] if e["action"] == "dlq.replay"]
    assert (entry["operator"], entry["via"], entry["target"], entry["outcome"]) == (
        "demo", "dashboard", letter["id"], "ok")
    system.wait_synced(order["id"])  # and the replayed order reached the ERP
