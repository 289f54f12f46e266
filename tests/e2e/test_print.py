"""The payer packet and the review report as they print: headless Chromium to PDF, read back by poppler.

Each document is printed to letter pages with `chromium --print-to-pdf` and read
with `pdftotext` (`-layout` for the text, `-bbox` for where each word sits). A line
cut at the margin shows as a word whose box runs past the printable area (Chromium
clips it there); every page carries the running header and its number; the back
episode's payer packet stays under 40 pages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from domain.demo import demo_episode_ids
from tests.e2e.conftest import careledger, demo_store

MM = 72 / 25.4
RIGHT_MARGIN = 12 * MM  # the stylesheet's @page margin: 14mm 12mm
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>')
PAGE = re.compile(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', re.S)


def _tools() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    reader = shutil.which("pdftotext")
    if browser is None or reader is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but Chromium or pdftotext is missing: .ci/run installs both")
        pytest.skip(
            "Chromium and poppler's pdftotext are needed to print (apt-get install chromium poppler-utils)"
        )
    return browser, reader


def print_pdf(html: Path) -> Path:
    """Print an HTML file to PDF with headless Chromium (no browser header or footer of its own)."""
    browser, _ = _tools()
    pdf = html.with_suffix(".pdf")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    return pdf


def pages_text(pdf: Path) -> list[str]:
    """Return the text of each page as `pdftotext -layout` lays it out."""
    _, reader = _tools()
    out = subprocess.run([reader, "-layout", str(pdf), "-"], capture_output=True, check=True, timeout=60)
    return out.stdout.decode().split("\f")[:-1]


def cut_words(pdf: Path) -> list[str]:
    """Return the words that run past the right margin of their page (cut there when printed)."""
    _, reader = _tools()
    out = subprocess.run([reader, "-bbox", str(pdf), "-"], capture_output=True, check=True, timeout=60)
    cut = []
    for number, (width, body) in enumerate(PAGE.findall(out.stdout.decode()), start=1):
        edge = float(width) - RIGHT_MARGIN
        cut += [f"page {number}: {w[2]}" for w in WORD.findall(body) if float(w[1]) > edge + 0.5]
    return cut


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_store(tmp_path_factory, "print")


@pytest.mark.slow
def test_the_cut_check_sees_a_table_that_runs_past_the_margin(tmp_path: Path) -> None:
    cells = "".join(f'<td style="white-space:nowrap">evidence-column-{i}-abcdefghijkl</td>' for i in range(8))
    page = tmp_path / "wide.html"
    page.write_text(
        f"<html><head><style>@page {{ size: letter; margin: 14mm 12mm; }}</style></head>"
        f"<body><table><tr>{cells}</tr></table></body></html>",
        encoding="utf-8",
    )
    assert cut_words(print_pdf(page))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["back", "knee"])
def test_the_payer_packet_and_the_review_print_with_no_line_cut_and_every_page_numbered(
    demo_db: Path, tmp_path: Path, name: str
) -> None:
    episode = str(demo_episode_ids()[name])
    packet, report = tmp_path / f"{name}-packet.html", tmp_path / f"{name}-review.html"
    assert careledger("packet", episode, "--db", str(demo_db), "--out", str(packet)).returncode == 0
    assert careledger("review", episode, "--db", str(demo_db), "--out", str(report)).returncode == 0
    for html in (packet, report):
        pdf = print_pdf(html)
        assert cut_words(pdf) == [], html.name
        pages = pages_text(pdf)
        for number, text in enumerate(pages, start=1):
            assert f"Page {number} of {len(pages)}" in text, (html.name, number)
            assert f"episode {episode[:8]}" in text, (html.name, number)  # the running header
        if html is packet:
            assert "Contents" in pages[0] and "Visit notes and the units billed" in pages[0]
            assert "T17:30" not in "".join(pages)  # human times, not ISO stamps
            if name == "back":
                assert len(pages) < 40, len(pages)
