"""Accessibility of the built website: axe-core's WCAG 2 A and AA rules.

Every page of the site (conftest.built_site) is opened in Debian's headless
Chromium, in the light and in the dark theme, with every hidden cell shown, and
axe-core (tests/vendor/axe.min.js) checks it against the rules tagged WCAG 2.0,
2.1 and 2.2, levels A and AA; colour contrast among them. Without Chromium the
tests are skipped, with the reason, as the other browser tests of test_site.py.
The findings are kept in _build/test-artifacts/axe-<theme>.json.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from test_notebooks import toc_files
from test_site import (
    ARTIFACTS,
    needs_chromium,
    open_page,
    pages,
    wait_for,
)

VENDOR = Path(__file__).resolve().parent / "vendor"
AXE = VENDOR / "axe.min.js"
AXE_VERSION = "4.14.1"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
THEMES = ("light", "dark")

# What axe finds in the HTML that the theme and myst-nb write, which no style
# sheet can change: (rule, CSS selector of the element, why). Nothing else may
# fail.
KNOWN = (
    ("label-content-name-mismatch", "button.search-button__button",
     ("pydata-sphinx-theme's search field is named 'Search' and also shows its "
      "keyboard shortcut, Ctrl+K")),
    ("label-content-name-mismatch", "button.theme-switch-button",
     ("pydata-sphinx-theme's colour mode button is named 'Color mode'; its "
      "icon's title reads 'Light', 'Dark' or 'System Settings'")),
)

# Runs in the page: axe on the whole document; returns its findings, each
# node marked with the reason when it is a known one.
RUN_AXE = """
const [tags, known, done] = arguments;
axe.run(document, {runOnly: {type: 'tag', values: tags},
                   resultTypes: ['violations'], elementRef: true})
  .then(results => done({
    version: axe.version,
    rules: results.violations.map(rule => ({
      id: rule.id, impact: rule.impact, help: rule.help, url: rule.helpUrl,
      nodes: rule.nodes.map(node => ({
        target: node.target.join(' '), html: node.html.slice(0, 300),
        summary: node.failureSummary,
        known: (known.find(([id, selector]) => id === rule.id
                           && node.element.matches(selector)) || [])[2] || null,
      })),
    })),
  }))
  .catch(error => done({error: String(error)}));
"""


def redirect(path: Path) -> bool:
    """Whether a page only sends the browser on to another (index.html)."""
    return re.search(r'<meta\s+http-equiv="refresh"',
                     path.read_text(encoding="utf-8"), re.IGNORECASE) is not None


@pytest.fixture(scope="module")
def site(built_site, site_url):
    """The served site's base URL and the names of its pages."""
    names = [str(path.relative_to(built_site)) for path in pages(built_site)
             if not redirect(path)]
    return site_url, names


def check(driver, url: str, theme: str) -> dict:
    """Open a page, show its hidden cells, run axe; return what axe found."""
    open_page(driver, url)
    wait_for(driver, f"return document.documentElement.dataset.theme === '{theme}'",
             f"the page is not in the {theme} theme")
    driver.execute_script(
        "document.querySelectorAll('details').forEach(d => d.open = true);")
    # Opened, a hidden cell fades in (myst-nb's style): axe must see it shown.
    wait_for(driver, "return document.getAnimations().every(a => a.playState "
             "!== 'running' || a.effect.getComputedTiming().endTime === Infinity)",
             "the page's animations do not end")
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(RUN_AXE, TAGS, [list(k) for k in KNOWN])
    assert "error" not in result, f"{url}: axe failed: {result['error']}"
    assert result["version"] == AXE_VERSION, result["version"]
    return result


def test_vendored_axe_is_the_release_named_in_its_readme():
    digest = hashlib.sha256(AXE.read_bytes()).hexdigest()
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert digest in readme, f"tests/vendor/axe.min.js has changed: {digest}"
    assert f"/*! axe v{AXE_VERSION}" in AXE.read_text(encoding="utf-8")[:100]


@needs_chromium
def test_axe_reports_what_it_should(site, browser):
    """axe, as run here, finds pale text and a button named other than it reads."""
    base, names = site
    open_page(browser, base + names[0])
    browser.execute_script(
        "document.querySelector('main').insertAdjacentHTML('afterbegin', "
        "'<p id=\"pale\" style=\"color:#0ff;background:#eee\">pale text</p>"
        "<button id=\"misnamed\" aria-label=\"Close\">Open</button>');")
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(RUN_AXE, TAGS, [])
    found = {(rule["id"], node["target"]) for rule in result["rules"]
             for node in rule["nodes"]}
    assert ("color-contrast", "#pale") in found, found
    assert ("label-content-name-mismatch", "#misnamed") in found, found


@needs_chromium
@pytest.mark.parametrize("theme", THEMES)
def test_every_page_passes_axe(site, browser, theme):
    base, names = site
    chapters = [f"{name}.html" for name in toc_files()]
    assert set(chapters) <= set(names), "pages of the toc missing from the site"
    # The theme's switch keeps the reader's choice here (pydata-sphinx-theme).
    browser.get(base + names[0])
    browser.execute_script(
        "localStorage.setItem('mode', arguments[0]);"
        "localStorage.setItem('theme', arguments[0]);", theme)
    report, failures, known = {}, [], {}
    for name in names:
        result = check(browser, base + name, theme)
        report[name] = result["rules"]
        for rule in result["rules"]:
            for node in rule["nodes"]:
                if node["known"]:
                    known[rule["id"], node["known"]] = known.get(
                        (rule["id"], node["known"]), 0) + 1
                else:
                    failures.append(f"{name}: {rule['id']} ({rule['impact']}): "
                                    f"{rule['help']}\n    {node['target']}\n    "
                                    f"{node['html'][:160]}\n    {rule['url']}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"axe-{theme}.json").write_text(json.dumps(report, indent=1))
    for (rule, why), count in sorted(known.items()):
        print(f"known, not the course's: {rule} x{count}: {why}")
    assert not failures, (f"{len(failures)} accessibility failures in the "
                          f"{theme} theme (axe {AXE_VERSION}, {', '.join(TAGS)}):\n"
                          + "\n".join(failures[:40]))
