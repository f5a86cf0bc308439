"""Fixtures of the console tests: a seeded store, the console over it, a real browser.

The browser is Debian's ``chromium`` driven through ``chromedriver`` (installed by
``make browser`` / scripts/ensure-test-tools.sh); the browser tests skip, saying why,
only when those binaries are missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synaptic_s3 import S3Store, SessionManager
from synaptic_s3.console.server import ConsoleServer
from synaptic_s3.service.store_url import parse_store_url
from synaptic_s3.testing import Endpoint
from tests.console.seed import seed

CHROMIUM = os.environ.get("SYNAPTIC_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SYNAPTIC_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS_IMG = Path(__file__).parents[2] / "docs" / "img"
UPDATE_DOCS = os.environ.get("SYNAPTIC_UPDATE_DOCS_IMAGES") == "1"
"""``SYNAPTIC_UPDATE_DOCS_IMAGES=1`` (``make docs-images``): the browser tests also
write the README's screenshots into docs/img/."""


@pytest.fixture(scope="module")
def moto_console(moto_endpoint: Endpoint) -> Iterator[ConsoleServer]:
    """A read-only console over a seeded prefix of the moto S3 server."""
    prefix = f"console-{uuid.uuid4().hex[:12]}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ACCESS_KEY_ID", endpoint_key(moto_endpoint, "aws_access_key_id"))
        patch.setenv("AWS_SECRET_ACCESS_KEY",
                     endpoint_key(moto_endpoint, "aws_secret_access_key"))
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        asyncio.run(_seed_s3(moto_endpoint, prefix))
        spec = parse_store_url(f"s3://synaptic-tests/{prefix}?endpoint_url={moto_endpoint.url}"
                               f"&region={moto_endpoint.region}")
        server = ConsoleServer(spec).start()
        try:
            yield server
        finally:
            server.close()


def endpoint_key(endpoint: Endpoint, name: str) -> str:
    return endpoint.credentials[name]


async def _seed_s3(endpoint: Endpoint, prefix: str) -> None:
    async with S3Store("synaptic-tests", prefix=prefix, **endpoint.boto3_kwargs()) as store:
        await seed(SessionManager(store))


def browser_missing() -> str | None:
    """Why no browser test can run here, or ``None``."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (os.path.exists(path) and os.access(path, os.X_OK)):
            return (f"{path} is missing: run `make browser` (as root it installs Debian's "
                    "chromium and chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    reason = browser_missing()
    if reason is not None:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--hide-scrollbars", "--force-device-scale-factor=1",
                     f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, name: str, *, docs: str | None = None,
               full_page: bool = False) -> Path:
    """Save the viewport (or the whole page) as a test artifact; with
    ``SYNAPTIC_UPDATE_DOCS_IMAGES=1`` also as ``docs/img/<docs>``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if full_page or docs is not None:
        height = (driver.execute_script("return document.documentElement.scrollHeight")
                  if full_page else 1160)
        driver.set_window_size(1280, min(int(height) + 20, 6000))
    driver.save_screenshot(str(path))
    if full_page or docs is not None:
        driver.set_window_size(1280, 900)
    if docs is not None and UPDATE_DOCS:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / docs)
    return path
