"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium through JupyterLab.

One flow, used against both the local ``make lab`` server and the container: the lab refuses a
visitor without the token (login page), the token logs in, ``train.ipynb`` opens on the project's
kernel, its first cells run (Shift+Enter), a probe cell shows ``fashion_lib`` importing, and a
screenshot is saved. Also plain-HTTP checks of the token (no browser needed).
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
KERNEL_DISPLAY_NAME = "Python (fashion-mnist)"
PROBE_CODE = "import fashion_lib\nfashion_lib.__file__"


class BrowserUnavailable(Exception):
    """Headless Chromium or its driver is missing; the message says what to install."""


def check_browser() -> None:
    try:
        import selenium  # noqa: F401
    except ImportError as error:
        raise BrowserUnavailable("selenium is not installed (pip install -r requirements-dev.txt)") from error
    chromium = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    driver = CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver")
    if not chromium or not driver:
        raise BrowserUnavailable("headless Chromium missing (apt-get install chromium chromium-driver)")


# --- plain HTTP ----------------------------------------------------------------------------------


def notification_defaults(base_url: str, token: str) -> dict:
    """JupyterLab's news and update-check defaults as the server serves them (overrides applied)."""
    import json

    status, _, body = http_get(base_url, "/lab/api/settings/@jupyterlab/apputils-extension:notification", token=token)
    assert status == 200, f"settings API answered {status}"
    properties = json.loads(body)["schema"]["properties"]
    return {key: properties[key].get("default") for key in ("fetchNews", "checkForUpdates")}


def http_get(base_url: str, path: str, token: str | None = None, timeout: float = 10) -> tuple[int, dict, bytes]:
    """GET without following redirects; returns (status, headers, body)."""
    url = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_for_server(base_url: str, timeout: float = 120, alive=lambda: True) -> float:
    """Wait until ``GET /api`` answers 200; ``alive()`` False aborts. Returns the seconds taken."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not alive():
            raise AssertionError(f"the server behind {base_url} exited before answering")
        try:
            if http_get(base_url, "/api", timeout=3)[0] == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{base_url} did not answer within {timeout:.0f} s")


def check_token_required(base_url: str, token: str) -> dict:
    """The lab refuses API calls and pages without the token and serves them with it."""
    status, _, _ = http_get(base_url, "/api/contents")
    assert status == 403, f"/api/contents without a token answered {status}, not 403"
    status, headers, _ = http_get(base_url, "/lab")
    assert status in (302, 303) and "/login" in headers.get("location", ""), (
        f"/lab without a token answered {status} -> {headers.get('location')}, not a redirect to /login"
    )
    status, _, _ = http_get(base_url, "/api/contents", token="wrong-" + token)
    assert status == 403, f"/api/contents with a wrong token answered {status}"
    status, _, body = http_get(base_url, "/api/contents", token=token)
    assert status == 200, f"/api/contents with the token answered {status}"
    names = {item["name"] for item in json.loads(body)["content"]}
    status, _, body = http_get(base_url, "/api/kernelspecs", token=token)
    assert status == 200
    kernelspecs = json.loads(body)
    return {"files": names, "kernelspecs": kernelspecs}


# --- the browser ---------------------------------------------------------------------------------


@dataclass
class LabRun:
    """What the browser saw, for the test to assert on and the report to show."""

    kernel_name: str = ""
    prompts: list[str] = field(default_factory=list)
    probe_output: str = ""
    errors: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    screenshot: Path | None = None


def make_driver(user_data_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    service = Service(str(CHROMEDRIVER if CHROMEDRIVER.exists() else shutil.which("chromedriver")))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    return driver


def _shift_enter(driver) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    ActionChains(driver).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(Keys.SHIFT).perform()


def _dismiss_kernel_dialog(driver) -> None:
    """A notebook without kernel metadata pops a kernel chooser that blocks clicks: accept it."""
    from selenium.webdriver.common.by import By

    for button in driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog .jp-mod-accept"):
        if button.is_displayed():
            button.click()


def lab_click_through(
    base_url: str,
    token: str,
    screenshot: Path,
    notebook: str = "train.ipynb",
    code_cells: int = 2,
    timeout: float = 180,
) -> LabRun:
    """Log in with the token, open the notebook, run its first code cells and a probe, screenshot."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    run = LabRun()
    started = time.monotonic()
    profile = tempfile.mkdtemp(prefix="fashion-chromium-")
    driver = make_driver(profile)
    wait = WebDriverWait(driver, timeout)
    try:
        # Without the token: the login page, not the lab.
        driver.get(f"{base_url}/lab")
        password = wait.until(EC.visibility_of_element_located((By.ID, "password_input")))
        assert "/login" in driver.current_url, f"no login page without the token: {driver.current_url}"
        assert not driver.find_elements(By.CSS_SELECTOR, ".jp-LabShell"), "lab shown without a token"
        # Log in with the token.
        password.send_keys(token)
        driver.find_element(By.ID, "login_submit").click()
        item = (By.XPATH, f"//li[contains(@class,'jp-DirListing-item')][.//span[text()='{notebook}']]")
        wait.until(EC.element_to_be_clickable(item))
        run.seconds["login"] = time.monotonic() - started
        # Open the notebook from the file browser.
        ActionChains(driver).double_click(driver.find_element(*item)).perform()
        panel = "//div[contains(@class,'jp-NotebookPanel') and not(contains(@class,'lm-mod-hidden'))]"
        wait.until(EC.presence_of_element_located((By.XPATH, panel + "//div[contains(@class,'jp-Cell')]")))
        _dismiss_kernel_dialog(driver)
        active = ".jp-NotebookPanel:not(.lm-mod-hidden)"
        idle = (By.CSS_SELECTOR, f"{active} .jp-Notebook-ExecutionIndicator[data-status='idle']")

        def kernel_ready(d):
            names = d.find_elements(By.CSS_SELECTOR, f"{active} .jp-KernelName")
            name = names[0].text.strip() if names else ""
            ready = name and name != "No Kernel" and d.find_elements(*idle)
            return name if ready else False

        run.kernel_name = wait.until(kernel_ready)
        run.seconds["notebook open, kernel idle"] = time.monotonic() - started

        # Run cells from the top, one at a time, until `code_cells` code cells have finished.
        cell_xpath = panel + "//div[contains(@class,'jp-Cell') and contains(@class,'jp-Notebook-cell')]"

        def select(cell) -> None:
            ActionChains(driver).click(cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt")).perform()
            ActionChains(driver).send_keys(Keys.ESCAPE).perform()  # command mode

        done = 0
        index = 0
        while done < code_cells and index < len(driver.find_elements(By.XPATH, cell_xpath)):
            cell = driver.find_elements(By.XPATH, cell_xpath)[index]
            select(cell)
            _shift_enter(driver)
            if "jp-CodeCell" in cell.get_attribute("class"):
                prompt = cell.find_element(By.CSS_SELECTOR, ".jp-InputPrompt")
                wait.until(lambda d: re.fullmatch(r"\[\d+\]:", prompt.text.strip()))
                done += 1
            index += 1
        # A probe cell after them: the project's library imports in the project's kernel.
        select(driver.find_elements(By.XPATH, cell_xpath)[max(index - 1, 0)])
        ActionChains(driver).send_keys("b").perform()  # insert a cell below, make it active
        editor = (By.CSS_SELECTOR, f"{active} .jp-Cell.jp-mod-active .jp-InputArea-editor")
        wait.until(EC.element_to_be_clickable(editor)).click()
        ActionChains(driver).send_keys(PROBE_CODE).perform()
        _shift_enter(driver)
        output = (By.XPATH, panel + "//div[contains(@class,'jp-OutputArea-output')][contains(., '__init__.py')]")
        probe = wait.until(EC.presence_of_element_located(output))
        run.probe_output = probe.text.strip()
        wait.until(EC.presence_of_element_located(idle))
        run.seconds["cells ran"] = time.monotonic() - started
        run.prompts = [
            p.text.strip() for p in driver.find_elements(By.CSS_SELECTOR, f"{active} .jp-CodeCell .jp-InputPrompt")
        ]
        run.errors = [
            o.text[:500]
            for o in driver.find_elements(By.CSS_SELECTOR, f"{active} .jp-OutputArea-output")
            if "Traceback" in o.text or "Error:" in o.text.split("\n")[0]
        ]
    finally:
        try:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(screenshot))
            run.screenshot = screenshot
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    return run
