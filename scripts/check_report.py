"""The report as a reader meets it: run `tobroles run`, open report.html in headless Chromium at 1,400 px,
take screenshots, and check what a reader would trip over; then the xlsx and the CLI's rough edges.

Checks: no `<NA>` anywhere; the study's table fits the window (no horizontal overflow); the role chart
has a legend and an axis; every board is in the heatmap (or the page says "top N of M"); report.xlsx
has percent formats and bold frozen headers; `classify --bom` writes a BOM; `tobroles --version`
works; `tobroles inspect FILE > out` is not empty; experience and education have at most 8 buckets.
Prints one line per check and exits 1 if any fails. Needs Debian's chromium and the test extras
(playwright).

Usage: python scripts/check_report.py [--out FOLDER] [SOURCE...]   (default: the bundled corpus)
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WIDTH = 1400
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def tobroles(*args: str, stdout=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=REPO, stdout=stdout or subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sources", nargs="*")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="tobroles-report-check-")))
    args = parser.parse_args()
    results: list[tuple[str, bool, str]] = []

    def check(name: str, ok: bool, detail: str = "") -> None:
        results.append((name, bool(ok), detail))

    run = tobroles("run", *args.sources, "-o", str(args.out))
    if run.returncode != 0:
        print(run.stderr[-2000:])
        return 1
    html_path = args.out / "report.html"
    html = html_path.read_text(encoding="utf-8")
    check("no <NA> in report.html", "&lt;NA&gt;" not in html and "<NA>" not in html)

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        check("headless Chromium", False, "apt-get install chromium fonts-wqy-zenhei")
    else:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path=browser, args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": WIDTH, "height": 1000})
            page.goto(html_path.as_uri())
            right = page.evaluate("document.querySelector('#summary-table').getBoundingClientRect().right")
            check(f"the study's table fits {WIDTH} px", right <= WIDTH, f"right edge at {right:.0f} px")
            check("the page does not scroll sideways", page.evaluate("document.documentElement.scrollWidth") <= WIDTH)
            legend = page.locator("#chart-roles .legend").text_content() or ""
            check("the role chart has a legend", "90% interval" in legend or "postings" in legend, legend[:80])
            check("the role chart has an axis", page.locator("#chart-roles .axis text").count() >= 3)
            boards = page.locator("#chart-heatmap text.board").count()
            note = page.locator("text=/All \\d+ boards|top \\d+ of \\d+/").count()
            check("every board is in the heatmap, and the page says so", boards > 0 and note > 0, f"{boards} boards")
            for name, y in (("top", 0), ("boards", None)):
                if y is None:
                    page.locator("#chart-heatmap").scroll_into_view_if_needed()
                page.screenshot(path=str(args.out / f"screenshot-{name}.png"))
            page.screenshot(path=str(args.out / "screenshot-full.png"), full_page=True)
            chromium.close()

    import openpyxl

    workbook = openpyxl.load_workbook(args.out / "report.xlsx")
    summary = workbook["summary"]
    header = [c.value for c in summary[1]]
    share = summary.cell(2, header.index("share_of_to_b") + 1)
    check("report.xlsx: shares in percent format", share.number_format.endswith("%"), share.number_format)
    check("report.xlsx: bold frozen headers", summary.freeze_panes == "A2" and bool(summary.cell(1, 1).font.b))
    check("report.xlsx: a contents sheet first", workbook.sheetnames[0] == "contents")
    for sheet, most in (("experience_by_role", 8), ("education_by_role", 8)):
        columns = [c.value for c in workbook[sheet][1]][2:]  # after role and role_name
        check(f"{sheet}: at most {most} buckets", len(columns) <= most, ", ".join(map(str, columns)))

    sample = REPO / "tests" / "fixtures" / "raw" / "liepin_cleaned.csv"
    bom = args.out / "bom.csv"
    tobroles("classify", str(sample), "-o", str(bom), "--bom")
    check("classify --bom writes a byte order mark", bom.read_bytes().startswith(b"\xef\xbb\xbf"))
    version = tobroles("--version")
    check("tobroles --version", version.returncode == 0 and version.stdout.startswith("tobroles "), version.stdout.strip())
    inspected = args.out / "inspect.txt"
    with open(inspected, "w", encoding="utf-8") as out:
        tobroles("inspect", str(sample), stdout=out)
    check("tobroles inspect FILE > out is not empty", inspected.stat().st_size > 0, f"{inspected.stat().st_size} bytes")

    for name, ok, detail in results:
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"  ({detail})" if detail else ""))
    print(f"screenshots and reports in {args.out}")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
