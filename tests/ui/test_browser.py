"""The web UI in a real headless browser (Debian's chromium through chromedriver, driven by
selenium; no internet): the research team's demo journal, as `make demo` writes it, served by
a real ``actorflow ui`` process. The test opens the conversation from the list, reads its tree,
opens its timeline, clicks through to a step, and takes the screenshots docs/ui.md shows: into
the test's temporary directory, and into docs/ when ACTORFLOW_UPDATE_SCREENSHOTS=1 (`make
screenshots`), so a test run leaves the work tree as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
UPDATE_SCREENSHOTS = os.environ.get("ACTORFLOW_UPDATE_SCREENSHOTS") == "1"
WAIT = 20.0
"""Seconds a page may take to show what the test waits for."""

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def demo_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The research team's journal, written the way `make demo` writes it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    subprocess.run(
        [sys.executable, "-m", "actorflow", "run", "examples.research_team:main", "--journal",
         str(path)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def ui_address(demo_journal: Path) -> Iterator[str]:
    """A real ``actorflow ui`` process on the demo journal; its address."""
    process = subprocess.Popen(
        [sys.executable, "-m", "actorflow", "ui", "--journal", str(demo_journal), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # printed once it answers
        assert line.startswith("actorflow ui: serving "), line
        yield line.split(" at ", 1)[1].split(" ", 1)[0].rstrip("/")
    finally:
        process.terminate()
        process.communicate(timeout=20)


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    chromium = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    assert chromium, "chromium is needed: run make browser-deps"
    assert driver, "chromedriver is needed: run make browser-deps"
    options = Options()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,860",
                     "--hide-scrollbars", "--force-device-scale-factor=1"):  # fmt: skip
        options.add_argument(argument)
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium manager must not look online
    chrome = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def wait_for(browser: WebDriver, css: str) -> None:
    WebDriverWait(browser, WAIT).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def screenshot(browser: WebDriver, shots: Path, name: str) -> None:
    """Save what the browser shows as `name` in `shots`, and in docs/ when updating them."""
    path = shots / name
    assert browser.save_screenshot(str(path)), name
    assert path.stat().st_size > 10_000, f"{name}: {path.stat().st_size} bytes, no picture"
    if UPDATE_SCREENSHOTS:
        shutil.copyfile(path, DOCS / name)


def test_from_the_list_to_a_step_through_the_conversation(
    browser: WebDriver, ui_address: str, tmp_path: Path
) -> None:
    shots = tmp_path
    browser.get(ui_address + "/")
    wait_for(browser, "#conversations")
    assert "Conversations" in browser.title
    browser.find_element(By.LINK_TEXT, "task-1").click()

    wait_for(browser, "#tree")
    assert browser.title.startswith("Conversation task-1")
    tree = browser.find_element(By.ID, "tree").text
    in_tree = len(browser.find_elements(By.CSS_SELECTOR, "#tree tbody tr"))
    assert in_tree >= 7  # the task, two questions, two searches, two findings
    for shown in ("team.Task", "team.Research", "team.Finding", "planner", "worker-1", "search"):
        assert shown in tree, shown
    screenshot(browser, shots, "ui-conversation.png")

    browser.find_element(By.LINK_TEXT, "Timeline").click()
    wait_for(browser, "#timeline")
    bars = browser.find_elements(By.CSS_SELECTOR, "#timeline svg.track")
    messages = browser.find_elements(By.CSS_SELECTOR, "#timeline tr.row-message")
    steps = browser.find_elements(By.CSS_SELECTOR, "#timeline tr.row-step a.label")
    assert len(messages) == in_tree
    assert len(bars) == len(messages) + len(steps)
    assert {s.text for s in steps} >= {"llm", "search"}
    screenshot(browser, shots, "ui-timeline.png")

    step = next(s for s in steps if s.text == "llm")
    step.click()
    wait_for(browser, "#steps")
    assert browser.title.startswith("Message ")
    target = browser.find_element(By.CSS_SELECTOR, "tr.step-target")  # the step clicked
    assert target.get_attribute("id") == "step-llm"
    assert "llm" in target.text
    steps_table = browser.find_element(By.ID, "steps").text
    assert "team.Research" in browser.find_element(By.TAG_NAME, "dl").text
    assert "[" in steps_table  # the fake model's answer ends in [digest]: a decoded result
    screenshot(browser, shots, "ui-message.png")


def test_the_list_shows_a_new_conversation_by_itself(
    browser: WebDriver, ui_address: str, demo_journal: Path
) -> None:
    """U1: the list refreshes live; a message sent from another process appears unasked."""
    browser.get(ui_address + "/")
    wait_for(browser, "#conversations")
    assert "live-task" not in browser.find_element(By.ID, "conversations").text
    subprocess.run(
        [sys.executable, "-m", "actorflow", "send", "planner", "team.Task",
         '{"topic": "live pages"}', "--id", "live-task", "--journal", str(demo_journal)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    WebDriverWait(browser, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: "live-task" in b.find_element(By.ID, "conversations").text
    )  # the list is swapped for a new one when it changes
    assert "1 pending" in browser.find_element(By.ID, "conversations").text
