"""The run report in a real browser: Debian's chromium, headless, driven by Selenium through the
system chromedriver (so no driver is downloaded). `make test` installs both where it can."""

import json
import math
from pathlib import Path

import pytest

import aekit

CHROMEDRIVER = Path("/usr/bin/chromedriver")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
if not CHROMEDRIVER.exists():
    pytest.skip(
        f"{CHROMEDRIVER} is missing: install Debian's chromium and chromium-driver "
        "(make test does, as root)",
        allow_module_level=True,
    )
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


def test_the_report_opens_cleanly_in_chromium(browser, tmp_path):
    run = tmp_path / "run"
    aekit.train("digits", out=run, code_size=3, hidden=[16], epochs=2, progress=False)
    browser.get((run / "report.html").resolve().as_uri())
    browser.execute_async_script(  # every image loaded (or failed) before looking
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))"
        ".then(() => done());"
    )
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    widths = browser.execute_script(
        "return Array.from(document.images).map(i => i.complete ? i.naturalWidth : 0)"
    )
    assert len(widths) == 5 and all(width > 0 for width in widths), widths

    saved = json.loads((run / "evaluation.json").read_text())["rows"]
    rows = browser.find_elements(By.CSS_SELECTOR, "table#evaluation tbody tr")
    assert len(rows) == len(set(saved["aekit"]) | set(saved["pca"]))
    for row in rows:
        cells = row.find_elements(By.TAG_NAME, "td")
        metric = cells[0].text
        for cell, column in zip(cells[1:3], ("aekit", "pca"), strict=True):
            shown, expected = cell.get_attribute("data-value"), saved[column].get(metric)
            if expected is None:
                assert shown is None, (metric, column)
            elif math.isnan(float(expected)):
                assert math.isnan(float(shown)), (metric, column)
            else:
                assert float(shown) == float(expected), (metric, column)

    screenshot = tmp_path / "report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == PNG_SIGNATURE and screenshot.stat().st_size > 10_000
