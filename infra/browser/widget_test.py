"""The widget in a real browser: headless Chromium (Debian's package)
driven by Selenium through Debian's chromedriver, against the dev server.

A visitor loads the demo page (on the origin the widget allows), opens the
widget with the keyboard, asks a question and watches the grounded answer
stream in, reloads and finds the conversation again; the same page on the
API's own origin, which the settings do not allow, shows no widget. The
dev server's API reference (/api/docs) renders every operation from files
it serves itself. Screenshots go to SCREENSHOT_DIR.
"""

import json
import os
import sys
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

STACK = json.load(open(os.environ.get("STACK_FILE", ".dev/stack.json")))
SEED = json.load(open(os.environ.get("SEED_FILE", ".dev/seed.json")))
SHOTS = os.environ.get("SCREENSHOT_DIR", ".dev/screenshots")
QUESTION = "How long do refunds take?"
GROUNDED = "five business days"

checks = []


def check(name, condition, detail=""):
    checks.append((name, bool(condition)))
    print(("ok   " if condition else "FAIL ") + name + (f" ({detail})" if detail and not condition else ""))
    if not condition:
        raise AssertionError(name)


def wait_for(what, probe, timeout=20.0, every=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def api(method, path, body=None):
    """A call to the API as the demo workspace's owner."""
    request = urllib.request.Request(
        STACK["apiBaseUrl"] + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + SEED["keys"]["owner"], "Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(request))


def demo_document_indexed():
    """The FAQ the answers come from is ingested a few seconds after start."""
    base, ws, owner = STACK["apiBaseUrl"], SEED["workspaceId"], SEED["keys"]["owner"]
    request = urllib.request.Request(
        f"{base}/api/workspaces/{ws}/projects?limit=100", headers={"Authorization": f"Bearer {owner}"})
    projects = json.load(urllib.request.urlopen(request))["data"]
    faq = next(p for p in projects if p["name"] == "Acme FAQ")
    request = urllib.request.Request(
        f"{base}/api/workspaces/{ws}/projects/{faq['id']}/documents",
        headers={"Authorization": f"Bearer {owner}"})
    documents = json.load(urllib.request.urlopen(request))["data"]
    return documents and all(d["status"] == "completed" for d in documents)


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,900",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='widget-test-')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
    return webdriver.Chrome(service=service, options=options)


# Everything the test reads inside the widget goes through its shadow root.
WIDGET = "var root = document.getElementById('illumichat-widget'); root = root && root.shadowRoot;"


def widget(driver, expression):
    return driver.execute_script(WIDGET + "return root ? (" + expression + ") : null;")


def messages(driver):
    return widget(driver, "Array.from(root.querySelectorAll('.msg')).map(function (m) {"
                          " return {role: m.classList.contains('user') ? 'user' : 'assistant',"
                          " text: m.querySelector('span').textContent, id: m.getAttribute('data-message-id')}; })") or []


def focused(driver):
    return widget(driver, "root.activeElement ? (root.activeElement.id || root.activeElement.className) : ''")


def press(driver, keys):
    """Keys to whatever has the focus, as a person typing would."""
    ActionChains(driver).send_keys(keys).perform()


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, name + ".png")
    driver.save_screenshot(path)
    print(f"     screenshot {path}")


def main():
    wait_for("the demo FAQ to be indexed", demo_document_indexed, timeout=60, every=0.5)
    driver = browser()
    try:
        driver.get(STACK["widgetDemoUrl"])
        wait_for("the launcher", lambda: widget(driver, "root.querySelector('.launcher')"))
        shot(driver, "1-launcher")
        check("the page's own CSS does not reach the widget",
              widget(driver, "getComputedStyle(root.querySelector('.launcher')).backgroundColor")
              == "rgb(37, 99, 235)")
        label = widget(driver, "root.querySelector('.launcher').getAttribute('aria-label')")
        check("the launcher is labelled for a screen reader", label == "Open chat: Acme Help", label)
        check("the panel starts closed",
              widget(driver, "root.querySelector('.panel').hidden") is True)

        # Keyboard only: focus the launcher, press Enter.
        driver.execute_script(WIDGET + "root.querySelector('.launcher').focus();")
        press(driver, Keys.ENTER)
        wait_for("the panel", lambda: widget(driver, "!root.querySelector('.panel').hidden"))
        check("opening moves the focus to the message box", focused(driver) == "ic-input", focused(driver))
        check("the launcher says the panel is open",
              widget(driver, "root.querySelector('.launcher').getAttribute('aria-expanded')") == "true")
        check("the panel is a labelled dialog with a live conversation log",
              widget(driver, "root.querySelector('[role=dialog]').getAttribute('aria-labelledby') === 'ic-title'"
                             " && root.querySelector('[role=log]').getAttribute('aria-live') === 'polite'"
                             " && !!root.querySelector('label[for=ic-input]')"))
        welcome = wait_for("the welcome message", lambda: [m for m in messages(driver) if m["role"] == "assistant"])
        check("the welcome message is shown", "Acme's assistant" in welcome[0]["text"], welcome)

        press(driver, QUESTION + Keys.ENTER)
        lengths = []

        def answered():
            found = messages(driver)
            answer = [m for m in found[2:] if m["role"] == "assistant"]
            if answer:
                lengths.append(len(answer[-1]["text"]))
                if answer[-1]["id"]:
                    return answer[-1]
            return None

        answer = wait_for("the answer", answered, timeout=30, every=0.03)
        shot(driver, "2-answered")
        check("the answer is grounded in the FAQ", GROUNDED in answer["text"], answer["text"])
        distinct = sorted(set(lengths))
        check("the answer streamed in, in several steps", len(distinct) >= 3, distinct)
        check("the question is shown as the visitor's", messages(driver)[1]["text"] == QUESTION)
        check("the answer can be rated",
              widget(driver, "root.querySelectorAll('.msg.assistant:last-child .rate button').length") == 2)
        widget(driver, "root.querySelector('.msg.assistant:last-child .rate button').click()")
        check("rating an answer records it",
              wait_for("the rating", lambda: widget(
                  driver, "root.querySelector('.msg.assistant:last-child .rate button')"
                          ".getAttribute('aria-pressed') === 'true'")))
        session = driver.execute_script(
            "return Object.keys(localStorage).filter(function (k) { return k.indexOf('illumichat:') === 0; })"
            ".map(function (k) { return localStorage.getItem(k); })")
        check("the session is kept in localStorage", session and session[0].startswith("wss_"), session)

        press(driver, Keys.ESCAPE)
        check("Escape closes the panel and gives the focus back to the launcher",
              widget(driver, "root.querySelector('.panel').hidden") is True
              and "launcher" in focused(driver), focused(driver))

        driver.refresh()
        wait_for("the launcher after a reload", lambda: widget(driver, "root.querySelector('.launcher')"))
        widget(driver, "root.querySelector('.launcher').click()")
        history = wait_for("the history", lambda: len(messages(driver)) >= 3 and messages(driver))
        shot(driver, "3-after-reload")
        check("after a reload the conversation is there",
              [m["text"] for m in history[1:3]] == [QUESTION, answer["text"]], history)
        kept = driver.execute_script(
            "return Object.keys(localStorage).filter(function (k) { return k.indexOf('illumichat:') === 0; })"
            ".map(function (k) { return localStorage.getItem(k); })")
        check("the same session was resumed", kept == session, kept)
        check("the rating is still there after the reload",
              widget(driver, "root.querySelector('.msg.assistant:last-child .rate button')"
                             ".getAttribute('aria-pressed')") == "true")
        check("the welcome message is not offered for rating",
              widget(driver, "root.querySelector('.msg').querySelector('.rate')") is None)

        # The owner lowers the hourly limit below what this session has sent.
        settings_path = f"/api/workspaces/{SEED['workspaceId']}/assistants/{STACK['widgetAssistantId']}/widget"
        settings = api("GET", settings_path)
        api("PUT", settings_path, {"allowedOrigins": settings["allowedOrigins"], "title": settings["title"],
                                   "limits": {"messagesPerSessionPerHour": 1}})
        press(driver, "And shipping?" + Keys.ENTER)
        notice = wait_for("the limit message", lambda: widget(driver, "root.querySelector('.notice').textContent"))
        shot(driver, "4-limit-reached")
        check("a reached limit is shown in the visitor's words", "as many messages" in notice, notice)
        check("the refused question stays in the box to send later",
              widget(driver, "root.querySelector('textarea').value") == "And shipping?")
        api("PUT", settings_path, {"allowedOrigins": settings["allowedOrigins"], "title": settings["title"]})

        driver.get(STACK["widgetDisallowedUrl"])
        time.sleep(2)
        shot(driver, "5-disallowed-origin")
        check("a page on an origin the settings do not list gets no widget",
              driver.execute_script("return document.getElementById('illumichat-widget')") is None)
        logs = [entry["message"] for entry in driver.get_log("browser")]
        check("the browser says why", any("widget not shown" in m for m in logs), logs)

        # The API reference, offline: every file from the dev server itself.
        driver.get(STACK["apiBaseUrl"] + "/api/docs")
        operations = wait_for("the API reference's operations", lambda: driver.execute_script(
            "return document.querySelectorAll('.opblock').length"), timeout=30)
        shot(driver, "6-api-reference")
        check("the API reference lists every operation", operations >= 80, operations)
        title = driver.execute_script("return (document.querySelector('.info .title') || {}).textContent || ''")
        check("the API reference is the OpenAPI document's", "IllumiChat" in title, title)
        origins = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin)")
        here = STACK["apiBaseUrl"].rstrip("/")
        check("the API reference loads nothing from elsewhere", origins and all(o == here for o in origins), origins)
    finally:
        driver.quit()
    print(f"browser test: {sum(ok for _, ok in checks)} checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as failure:
        print(f"browser test failed: {failure}", file=sys.stderr)
        sys.exit(1)
