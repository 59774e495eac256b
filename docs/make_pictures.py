"""The README's pictures, made from the demo as a user would see it: a family's page in the web app (Chromium, as
the browser tests drive it) and the first page of the claim workbook's Claims sheet printed by LibreOffice.

    python docs/make_pictures.py [--work DIR]

Needs Debian's chromium, libreoffice-calc-nogui and poppler-utils (pdftoppm). Writes docs/pictures/*.png.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).parent
PICTURES = HERE / "pictures"
PASSWORD = "pictures only"


def pbr(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pbr.cli", *args], check=check, capture_output=True, text=True, env=env
    )


def family_page(folder: Path, database: str, as_of: str) -> None:
    """A claimed family's page, as a coordinator sees it."""
    from playwright.sync_api import sync_playwright

    account = ("users", "add", "coordinator", "--role", "coordinator")
    # check=False: the account is there already when the demo is reused
    pbr("--db", database, *account, check=False, env={**os.environ, "PBR_NEW_PASSWORD": PASSWORD})
    claimed = pbr("--db", database, "claim", "list").stdout
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "pbr.cli", "--db", database, "serve", "--port", str(port), "--as-of", as_of],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{base}/login")
            page.fill("input[name=name]", "coordinator")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            ref = next(line.split()[1] for line in claimed.splitlines() if line.startswith("│ 20"))
            page.goto(f"{base}/claims?ref={ref}&as_of={as_of}")
            family = page.locator("#claim table tbody tr td a").first.inner_text()
            page.goto(f"{base}/families/{family}?as_of={as_of}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(PICTURES / "family-page.png"), full_page=False)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


def claim_workbook(folder: Path) -> None:
    """The first page of the Claims sheet, as the claim workbook prints."""
    book = next((folder / "claims").glob("*.xlsx"))
    office = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run(
        [office, "--headless", "--convert-to", "pdf", "--outdir", str(folder / "pdf"), str(book)],
        check=True,
        capture_output=True,
    )
    pdf = folder / "pdf" / f"{book.stem}.pdf"
    # the Document and Summary sheets come first: the Claims sheet starts on page 3
    subprocess.run(
        ["pdftoppm", "-f", "3", "-l", "3", "-r", "80", "-png", "-singlefile", str(pdf), PICTURES / "claim-workbook"],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.mkdtemp(prefix="pbr-pictures-")))
    options = parser.parse_args()
    folder = options.work / "demo"
    PICTURES.mkdir(exist_ok=True)
    if not (folder / "pbr.db").exists():
        pbr("demo", "--folder", str(folder))
    family_page(folder, f"sqlite:///{folder / 'pbr.db'}", "2018-12-31")
    claim_workbook(folder)
    print(f"wrote {PICTURES / 'family-page.png'} and {PICTURES / 'claim-workbook.png'}")


if __name__ == "__main__":
    main()
