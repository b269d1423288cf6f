#!/usr/bin/env python3
"""Opens sockwarden's HTML pages in headless Chromium (Debian's chromium and chromium-driver,
driven by selenium) from file:// URLs with JavaScript on, and prints what the rendered DOM
shows as one JSON object; tests/it/html.rs asserts on it.

Usage: browser.py [--screenshot PNG] PAGE.html...

The first page is also opened with JavaScript off (`nojs` in the output): the graph and the
tables are there without the script.

For each page: the severity counts, the text of the findings and drift sections, the graph's
process nodes, a table's first column before and after clicking its header (once, twice),
whether the script ran (tables marked `js`) and the style applied, the elements and
attributes a hostile name could have injected, the console's messages (a blocked inline
block is reported there), and every URL the page requested (Chrome's performance log).
"""
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

os.environ.setdefault("SE_OFFLINE", "true")  # never let selenium fetch a driver

DOM = r"""
const q = (s) => document.querySelector(s);
const text = (s) => { const e = q(s); return e ? e.textContent : null; };
const counts = {};
for (const sev of ["critical", "high", "medium", "low", "info"]) {
  const e = q("#count-" + sev + " .n");
  if (e) counts[sev] = Number(e.textContent);
}
const onAttrs = [];
for (const el of document.querySelectorAll("*")) {
  for (const a of el.attributes) {
    if (a.name.toLowerCase().startsWith("on")) onAttrs.push(el.tagName + " " + a.name);
  }
}
const nodes = {};
for (const g of document.querySelectorAll("#graph-svg g.node.proc")) {
  nodes[g.getAttribute("data-pid")] = {
    text: g.querySelector("text").textContent,
    title: g.querySelector("title").textContent,
    cls: g.getAttribute("class"),
  };
}
return {
  title: document.title,
  host: text("#host"),
  counts: counts,
  findings: text("#findings"),
  drift: text("#drift"),
  changes: text("#changes"),
  nodes: nodes,
  peers: Array.from(document.querySelectorAll("#graph-svg g.node.peer")).map(
    (g) => g.getAttribute("data-peer")),
  js_tables: document.querySelectorAll("table.data.js").length,
  tables: document.querySelectorAll("table.data").length,
  filters: document.querySelectorAll("input.filter").length,
  header_bg: getComputedStyle(q("header")).backgroundColor,
  imgs: document.querySelectorAll("img").length,
  svgs: document.querySelectorAll("svg").length,
  scripts: document.querySelectorAll("script").length,
  b_in_title: document.querySelectorAll("title b, h1 b").length,
  on_attrs: onAttrs,
  pwned: typeof window.__pwned,
  body_text: document.body.innerText,
};
"""


def first_column(driver, table_id, col=0):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' tbody tr'))"
        ".filter((r) => !r.hidden).map((r) => r.cells[arguments[1]].textContent.trim());",
        table_id,
        col,
    )


def sort_check(driver, table_id, col):
    head = driver.find_element(By.CSS_SELECTOR, "#%s thead th:nth-child(%d)" % (table_id, col + 1))
    before = first_column(driver, table_id, col)
    head.click()
    asc = first_column(driver, table_id, col)
    asc_state = head.get_attribute("aria-sort")
    head.click()
    desc = first_column(driver, table_id, col)
    return {"before": before, "asc": asc, "asc_state": asc_state, "desc": desc,
            "desc_state": head.get_attribute("aria-sort")}


def filter_check(driver, table_id, query):
    box = driver.execute_script(
        "const t = document.getElementById(arguments[0]);"
        "let e = t.previousElementSibling;"
        "while (e && !(e.tagName === 'INPUT')) e = e.previousElementSibling;"
        "return e;",
        table_id,
    )
    if box is None:
        return None
    box.send_keys(query)
    shown = first_column(driver, table_id, 0)
    for _ in query:
        box.send_keys(Keys.BACKSPACE)
    return shown


def chrome(javascript=True):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1400,1900", "--hide-scrollbars", "--no-first-run",
              "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    if not javascript:
        opts.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


NOJS = """
const q = (s) => document.querySelectorAll(s).length;
return {
  tables: q("table.data"), js_tables: q("table.data.js"), filters: q("input.filter"),
  rows: q("table.data tbody tr"), nodes: q("#graph-svg g.node"), edges: q("#graph-svg path.edge"),
  critical: document.querySelector("#count-critical .n").textContent,
};
"""


def without_script(page):
    # WebDriver's own script still runs when the page's is off: it reads the DOM.
    driver = chrome(javascript=False)
    try:
        driver.get("file://" + os.path.abspath(page))
        return driver.execute_script(NOJS)
    finally:
        driver.quit()


def main():
    args = sys.argv[1:]
    shot = None
    if args and args[0] == "--screenshot":
        shot, args = args[1], args[2:]
    driver = chrome()
    out = {}
    try:
        for page in args:
            url = "file://" + os.path.abspath(page)
            driver.get_log("performance")  # drop what came before this page
            driver.get(url)
            res = driver.execute_script(DOM)
            res["url"] = url
            tables = driver.execute_script(
                "return Array.from(document.querySelectorAll('table.data')).map((t) => t.id);")
            res["table_ids"] = tables
            if shot and page == args[0]:
                height = driver.execute_script("return document.body.scrollHeight")
                driver.set_window_size(1400, min(height + 40, 2600))
                driver.save_screenshot(shot)
                driver.set_window_size(1400, 1900)
            if "table-talkers" in tables:
                res["sort_talkers_sockets"] = sort_check(driver, "table-talkers", 3)
                res["sort_talkers_process"] = sort_check(driver, "table-talkers", 0)
                res["filter_talkers"] = filter_check(driver, "table-talkers", "sshd")
            requests = []
            for entry in driver.get_log("performance"):
                msg = json.loads(entry["message"])["message"]
                if msg.get("method") == "Network.requestWillBeSent":
                    requests.append(msg["params"]["request"]["url"])
            res["requests"] = requests
            res["console"] = [e["message"] for e in driver.get_log("browser")]
            out[os.path.basename(page)] = res
    finally:
        driver.quit()
    out["nojs"] = without_script(args[0])
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
