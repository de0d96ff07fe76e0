"""Checks of the built website (conftest.built_site): offline, linked, in a browser.

The browser tests drive Debian's headless Chromium with selenium against a local
HTTP server on 127.0.0.1; every other host name is made unresolvable, as on a lab
machine without internet. Without Chromium they are skipped, with the reason.
Their screenshots are kept in _build/test-artifacts/.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import CHROMEDRIVER, CHROMIUM, NO_CHROMIUM, ROOT
from test_notebooks import toc_files

EXTERNAL = re.compile(r"^(https?:)?//", re.IGNORECASE)
NOT_FILES = re.compile(r"^(mailto|javascript|data|tel):", re.IGNORECASE)
CSS_EXTERNAL = re.compile(r"(@import\s+(url\()?|url\()\s*['\"]?(https?:)?//",
                          re.IGNORECASE)
ARTIFACTS = ROOT / "_build" / "test-artifacts"
# CI installs Chromium and sets AE_BOOK_REQUIRE_BROWSER=1: there, no skipping.
needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER)
    and os.environ.get("AE_BOOK_REQUIRE_BROWSER") != "1",
    reason=NO_CHROMIUM,
)


class Page(HTMLParser):
    """The links, resources, ids and inline styles of one HTML page."""

    def __init__(self, path: Path):
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []  # (tag, rel, url)
        self.styles: list[str] = []
        self._in_style = False
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        for name in ("href", "src", "data"):
            if attrs.get(name):
                self.references.append((tag, attrs.get("rel") or "", attrs[name]))
        if attrs.get("style"):
            self.styles.append(attrs["style"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@functools.cache
def parse(path: Path) -> Page:
    return Page(path)


def pages(html: Path) -> list[Path]:
    """Return the site's pages (not the theme's HTML templates under _static)."""
    return sorted(path for path in html.rglob("*.html")
                  if path.relative_to(html).parts[0] not in ("_static", "_sources"))


def test_site_fetches_nothing_from_other_sites(built_site):
    html = built_site
    found = []
    for path in pages(html):
        page = parse(path)
        for tag, rel, url in page.references:
            # Links to other pages are fine; anything the browser loads is not.
            if EXTERNAL.match(url) and tag != "a":
                found.append(f"{path.relative_to(html)}: <{tag} rel={rel!r}> {url}")
        found += [f"{path.relative_to(html)}: style {style[:80]!r}"
                  for style in page.styles if CSS_EXTERNAL.search(style)]
    for path in html.rglob("*.css"):
        if CSS_EXTERNAL.search(path.read_text(encoding="utf-8", errors="replace")):
            found.append(f"{path.relative_to(html)}: @import or url() of another site")
    assert not found, "the site loads assets from other sites:\n" + "\n".join(found)


def test_mathjax_is_served_with_the_site(built_site):
    html = built_site
    chapter = next(name for name in toc_files() if name.startswith("notebooks/"))
    scripts = [url.split("?")[0] for tag, _, url in
               parse(html / f"{chapter}.html").references if tag == "script"]
    mathjax = [url for url in scripts if "mathjax" in url.lower()]
    assert mathjax == ["../_static/mathjax/tex-chtml.js"], mathjax
    assert (html / "_static" / "mathjax" / "tex-chtml.js").stat().st_size > 100_000
    fonts = html / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are not served with the site"


def test_internal_links_and_anchors_resolve(built_site):
    html = built_site
    broken = []
    for path in pages(html):
        for tag, _, url in parse(path).references:
            if EXTERNAL.match(url) or NOT_FILES.match(url) or url == "#":
                continue
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path \
                else path
            where = f"{path.relative_to(html)}: <{tag}> {url}"
            if not target.is_file() or html.resolve() not in target.parents:
                broken.append(f"{where}: no such file")
            elif parts.fragment and target.suffix == ".html" and \
                    unquote(parts.fragment) not in parse(target).ids:
                broken.append(f"{where}: no such anchor")
    assert not broken, "broken internal links:\n" + "\n".join(broken)


def test_chapter_pages_state_their_running_time(built_site):
    html = built_site
    chapters = [name for name in toc_files() if name.startswith("notebooks/")]
    for name in chapters:
        text = (html / f"{name}.html").read_text()
        assert "running-time admonition" in text, f"{name}: no running-time note"
        assert "Full mode:" in text and "Quick mode:" in text
    setup = (html / "book" / "setup.html").read_text()
    table = setup.split('class="running-times', 1)[1].split("</table>", 1)[0]
    for name in chapters:
        assert f'href="../{name}.html"' in table, f"{name} is not in Running times"


def test_timings_file_holds_only_measured_chapters():
    """book/timings.yml, which the lead fills in, names chapters and numbers."""
    import yaml

    data = yaml.safe_load((ROOT / "book" / "timings.yml").read_text())
    stems = {path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    for stem, entry in (data.get("chapters") or {}).items():
        assert stem in stems, f"book/timings.yml names no chapter: {stem}"
        for key, value in entry.items():
            assert key in {"full_seconds", "quick_seconds", "full_device",
                           "quick_device", "faster"}, f"{stem}: unknown key {key}"
            if key.endswith("_seconds"):
                assert isinstance(value, (int, float)) and value > 0, (stem, key)


def test_running_time_note_says_what_was_measured():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    import running_times

    assert [running_times.duration(s) for s in (None, 40, 200, 7200)] == [
        "not measured yet", "40 s", "3 min", "2.0 h"]
    note = running_times.chapter_note(
        {"full_seconds": 200, "full_device": "CPU (2 cores)", "quick_seconds": 40,
         "quick_device": "CPU (2 cores)", "faster": "lower `num_epochs`"},
        "notebooks/01_x").astext()
    assert "Full mode: 3 min on CPU (2 cores). Quick mode: 40 s on CPU" in note
    assert "For a faster run, lower num_epochs." in note
    assert "Full mode: not measured yet." in running_times.chapter_note(
        {}, "notebooks/01_x").astext()


# ------------------------------------------------------------------ in a browser


def wait_for(driver, script: str, what: str, timeout: float = 30):
    """Wait until a script returns something truthy; return it, or fail."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout).until(
            lambda d: d.execute_script(script))
    except TimeoutException:
        pytest.fail(f"{driver.current_url}: {what}")


def console_errors(driver) -> list[str]:
    """Return the console's errors since the last call.

    The browser asks every site for /favicon.ico by itself; the book has none,
    and that request is not the page's doing.
    """
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE" and "/favicon.ico " not in entry["message"]]


def open_page(driver, url: str) -> dict:
    """Open a page, wait for its images and formulas; return what the page shows."""
    driver.get(url)
    wait_for(driver, "return document.readyState === 'complete'", "did not load")
    wait_for(driver, "return Array.from(document.images).every(i => i.complete)",
             "images still loading")
    if driver.execute_script("return document.querySelectorAll('.math').length"):
        wait_for(driver, "return document.querySelectorAll('.math mjx-container')"
                 ".length > 0", "MathJax typeset nothing")
        wait_for(driver, "return Array.from(document.querySelectorAll('.math'))"
                 ".every(e => e.querySelector('mjx-container'))",
                 "some formulas were not typeset")
    return driver.execute_script("""
        return {
          title: document.title,
          images: document.images.length,
          broken_images: Array.from(document.images)
              .filter(i => !(i.naturalWidth > 0)).map(i => i.src),
          math: document.querySelectorAll('.math').length,
          typeset: document.querySelectorAll('mjx-container').length,
          math_errors: document.querySelectorAll('mjx-merror').length,
          resources: performance.getEntriesByType('resource').map(e => e.name),
        };""")


@needs_chromium
def test_pages_work_in_a_browser(built_site, site_url, browser):
    chapters = [name for name in toc_files() if name.startswith("notebooks/")]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # The home page and the first chapter are kept as screenshots.
    visits = [("index.html", "home")] + [
        (f"{name}.html", None if number else "chapter")
        for number, name in enumerate(chapters)]
    for page, screenshot in visits:
        shown = open_page(browser, site_url + page)
        where = f"{page} ({browser.current_url})"
        if page == "index.html":
            assert browser.current_url.endswith("book/intro.html"), where
        assert shown["title"], f"{where}: no title"
        assert not shown["broken_images"], f"{where}: broken images"
        if page.startswith("notebooks/"):
            assert shown["images"] > 0, f"{where}: a chapter without figures"
        assert shown["typeset"] >= shown["math"], f"{where}: formulas not typeset"
        assert shown["math_errors"] == 0, f"{where}: MathJax could not typeset"
        outside = [url for url in shown["resources"] if not url.startswith(site_url)]
        assert not outside, f"{where}: fetched from other sites: {outside}"
        errors = console_errors(browser)
        assert not errors, f"{where}: errors in the browser's console: {errors}"
        if screenshot:
            # Show typeset formulas in the picture, when the page has some.
            browser.execute_script(
                "const m = document.querySelector('div.math') || "
                "document.querySelector('.math'); "
                "if (m) m.scrollIntoView({block: 'center'});")
            path = ARTIFACTS / f"{screenshot}.png"
            browser.save_screenshot(str(path))
            print(f"screenshot of {browser.current_url}: {path}")


@needs_chromium
def test_search_finds_a_chapter_by_a_word_in_it(built_site, site_url, browser):
    html = built_site
    chapter = next(name for name in toc_files() if name.startswith("notebooks/"))
    title = re.search(r"<h1>(.*?)<", (html / f"{chapter}.html").read_text()).group(1)
    word = max(re.findall(r"[A-Za-z]+", title), key=len)
    browser.get(f"{site_url}search.html?q={word}")
    # The results appear one by one; wait for the chapter's.
    wait_for(browser, "return Array.from(document.querySelectorAll("
             "'#search-results li a')).some(a => a.pathname.endsWith("
             f"'/{chapter}.html'))", f"searching {word!r} did not find {chapter}")
    errors = console_errors(browser)
    assert not errors, f"errors in the browser's console: {errors}"
