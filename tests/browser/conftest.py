"""Debian's Chromium driven by Playwright (which downloads no browser of its own)."""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def new_page():
    """``new_page(locale=…, width=…, height=…, **context options)`` → a page in a fresh
    browser context; everything is closed after the test."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        contexts = []

        def open_page(locale: str = "vi-VN", width: int = 1100, height: int = 900, **options):
            context = browser.new_context(
                locale=locale, viewport={"width": width, "height": height}, **options
            )
            contexts.append(context)
            return context.new_page()

        yield open_page
        for context in contexts:
            context.close()
        browser.close()


@pytest.fixture
def page(new_page):
    """A Vietnamese-configured browser page."""
    return new_page()
