"""Rebuild tests/fixtures/ from ../shared/corpus/raw: a few real rows of every raw layout.

CSV excerpts keep the raw bytes (header and the first records, multi-line quoted fields intact). xlsx
excerpts copy cell values row for row into a new workbook inside a zip, chosen to include the hard
cases: Lagou HTML, Zhilian '...' truncation, JobOnline ';' line breaks, Liepin day rates, _x000d_.

Usage: python scripts/build_fixtures.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import openpyxl

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"


def csv_head(source: Path, target: Path, records: int) -> None:
    """The header and the first `records` records, byte for byte."""
    text = source.read_bytes().decode("utf-8")
    lines = text.splitlines(keepends=True)
    taken, buffer = [], ""
    for line in lines:
        buffer += line
        if buffer.count('"') % 2 == 0:  # a record is complete when its quotes balance
            taken.append(buffer)
            buffer = ""
            if len(taken) > records:
                break
    target.write_bytes("".join(taken).encode("utf-8"))


def xlsx_rows(source_zip: Path, member: str, pick) -> tuple[list, list[list]]:
    with zipfile.ZipFile(source_zip) as z:
        workbook = openpyxl.load_workbook(io.BytesIO(z.read(member)), read_only=True)
        rows = list(workbook.active.iter_rows(values_only=True))
    header, body = list(rows[0]), [list(r) for r in rows[1:]]
    return header, pick(header, body)


def write_xlsx_zip(target: Path, member: str, header: list, rows: list[list]) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member, buffer.getvalue())


def pick_jobs(header, body):
    col = {name: i for i, name in enumerate(header)}
    platform, desc, high = col["发布平台"], col["职位描述"], col["最高薪资"]
    chosen = []

    def take(test, n):
        found = [r for r in body if r not in chosen and test(r)][:n]
        chosen.extend(found)

    take(lambda r: r[platform] == "LAGOU" and "<br" in str(r[desc]), 2)
    take(lambda r: r[platform] == "ZHILIAN" and str(r[desc]).endswith("..."), 2)
    take(lambda r: r[platform] == "JOBONLINE" and ";" in str(r[desc]), 2)
    take(lambda r: r[platform] == "LIEPIN" and r[high] is not None and float(r[high]) <= 2000, 1)
    take(lambda r: r[platform] == "LIEPIN" and not r[desc], 1)
    take(lambda r: "_x000d_" in str(r[desc]), 2)
    take(lambda r: r[platform] == "GGFW_HRSS_GD", 2)
    take(lambda r: r[platform] == "BOSS", 2)
    take(lambda r: r[platform] == "51JOB", 2)
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    args = parser.parse_args()
    raw = args.shared / "corpus" / "raw"
    FIXTURES.mkdir(parents=True, exist_ok=True)
    csv_head(raw / "sprider-m2__jobs" / "运营.csv", FIXTURES / "neitui_运营.csv", 12)
    csv_head(raw / "lastlast667__liepin-analysis-visualization" / "cleaned.csv", FIXTURES / "liepin_cleaned.csv", 5)
    jobs = raw / "lastsunday__job-hunting-data"
    header, rows = xlsx_rows(jobs / "2025" / "02-21" / "job.zip", "job.xlsx", pick_jobs)
    write_xlsx_zip(FIXTURES / "jobhunting_2025-02-21_job.zip", "job.xlsx", header, rows)
    header, rows = xlsx_rows(jobs / "2024" / "12-24" / "job.zip", "job.xlsx", pick_jobs)
    write_xlsx_zip(FIXTURES / "jobhunting_2024-12-24_job.zip", "job.xlsx", header, rows)
    header, rows = xlsx_rows(jobs / "2024" / "10-10" / "job.zip", "job.xlsx", lambda h, b: b[:6])
    write_xlsx_zip(FIXTURES / "jobhunting_2024-10-10_job.zip", "job.xlsx", header, rows)
    header, rows = xlsx_rows(jobs / "2024" / "12-24" / "company.zip", "company.xlsx", lambda h, b: b[:5])
    write_xlsx_zip(FIXTURES / "jobhunting_2024-12-24_company.zip", "company.xlsx", header, rows)
    for p in sorted(FIXTURES.iterdir()):
        print(f"{p.name}: {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
