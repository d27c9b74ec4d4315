"""report.html in a real browser: headless Chromium through Selenium (installed by .ci/run)."""

import math
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.evaluation.report_run import make_run
from zoo.evaluation.scored_images import image_losses

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync")

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="chromium and chromedriver are not installed "
                                                                  "(apt-get install chromium chromium-driver)")


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    yield driver
    driver.quit()


def _shown_figures(driver) -> list[dict]:
    return driver.execute_script("""
        return Array.from(document.querySelectorAll("td[data-metric]")).map(function (cell) {
            return {report: cell.dataset.report, head: cell.dataset.head, metric: cell.dataset.metric,
                    text: cell.innerText, visible: cell.offsetParent !== null};
        });""")


def test_report_in_a_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By

    made = make_run(tmp_path)
    browser.get((tmp_path / "report.html").as_uri())

    # Every head's figures, as shown, equal each report CSV file's.
    shown = {(c["report"], c["head"], c["metric"]): c for c in _shown_figures(browser)}
    checked = 0
    for name in ("report_threshold_0.5.csv", "report_tuned_cross_fitted.csv", "report.csv"):
        frame = pd.read_csv(tmp_path / name)
        for _, row in frame[frame["class"] == "(all)"].iterrows():
            for metric, value in row.drop(["head", "class"]).dropna().items():
                cell = shown[(name, row["head"], metric)]
                assert cell["visible"]
                if metric == "samples":
                    assert cell["text"] == str(int(value))
                else:
                    assert math.isclose(float(cell["text"]), value, abs_tol=5e-5), (name, row["head"], metric)
                checked += 1
    assert checked > 30 and {head for _, head, _ in shown} == {"color", "tags"}

    # A per-class table sorts by the column whose header is clicked, and back.
    table = browser.find_element(By.CSS_SELECTOR, 'table.sortable[data-head="tags"]')
    headers = [th.text.strip("↕▲▼ ") for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    column = headers.index("threshold")

    def values():
        return [float(tr.find_elements(By.TAG_NAME, "td")[column].get_attribute("data-value"))
                for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]

    header = table.find_elements(By.CSS_SELECTOR, "thead th")[column]
    header.click()
    assert values() == sorted(values()) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert values() == sorted(values(), reverse=True) and header.get_attribute("aria-sort") == "descending"
    classes = browser.find_element(By.CSS_SELECTOR, 'table.sortable[data-head="color"]')
    classes.find_elements(By.CSS_SELECTOR, "thead th")[0].click()
    names = [tr.find_element(By.TAG_NAME, "td").text for tr in classes.find_elements(By.CSS_SELECTOR, "tbody tr")]
    assert names == sorted(names)

    # The gallery: the highest-loss images, highest first, every picture decoded.
    losses = image_losses(made["predictions"])
    cards = browser.find_elements(By.CSS_SELECTOR, "#gallery .card")
    shown_files = [Path(card.get_attribute("data-file")) for card in cards]
    expected = [Path(made["files"][i]).resolve() for i in np.argsort(-losses, kind="stable")[:len(cards)]]
    assert shown_files == expected and len(cards) == min(24, len(losses))
    assert browser.execute_script(
        "return Array.from(document.images).every(function (i) { return i.complete && i.naturalWidth > 0; })")

    severe = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert severe == []
    browser.execute_script("window.scrollTo(0, 0)")
    browser.set_window_size(1400, browser.execute_script("return document.body.scrollHeight"))
    screenshot = Path(os.environ.get("ZOO_SCREENSHOTS", tempfile.gettempdir())) / "report_html.png"
    assert browser.save_screenshot(str(screenshot))
