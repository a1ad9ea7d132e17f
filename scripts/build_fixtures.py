"""Rebuild tests/fixtures/ from ../shared/corpus/raw and raw_extra: a few real rows of every layout.

CSV and JSON-lines excerpts keep the raw bytes (header and the first records, multi-line quoted
fields intact, the file's own encoding). xlsx excerpts copy cell values row for row into a new
workbook, chosen to include the hard cases: Lagou HTML, Zhilian '...' truncation, JobOnline ';' line
breaks, Liepin day rates, _x000d_. HTML detail pages are copied whole. raw_extra excerpts go to
tests/fixtures/raw_extra/ under the file's own name.

Usage: python scripts/build_fixtures.py [--shared PATH]
"""

from __future__ import annotations

import argparse
import io
import shutil
import zipfile
from pathlib import Path

import openpyxl

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "raw"
EXTRA_FIXTURES = REPO / "tests" / "fixtures" / "raw_extra"


def csv_records(source: Path, encoding: str = "utf-8") -> list[str]:
    """The file's records as raw text, a record complete when its quotes balance."""
    lines = source.read_bytes().decode(encoding).splitlines(keepends=True)
    taken, buffer = [], ""
    for line in lines:
        buffer += line
        if buffer.count('"') % 2 == 0:
            taken.append(buffer)
            buffer = ""
    return taken


def csv_head(source: Path, target: Path, records: int, encoding: str = "utf-8", header: bool = True) -> None:
    """The header and the first `records` records, byte for byte."""
    taken = csv_records(source, encoding)[: records + header]
    target.write_bytes("".join(taken).encode(encoding))


def csv_around_repeated_header(source: Path, target: Path) -> None:
    """The first records, then the records around the first header line repeated inside the data."""
    records = csv_records(source, "utf-8")
    again = next(i for i, r in enumerate(records[1:], 1) if r.strip().lstrip("\ufeff") == records[0].strip().lstrip("\ufeff"))
    target.write_bytes("".join(records[:5] + records[again - 2 : again + 3]).encode("utf-8"))


def lines_head(source: Path, target: Path, lines: int) -> None:
    target.write_bytes(b"".join(source.read_bytes().splitlines(keepends=True)[:lines]))


def xlsx_head(source: Path, target: Path, rows: int) -> None:
    """Every sheet's first `rows` data rows, values copied as they are."""
    workbook = openpyxl.load_workbook(source, read_only=True)
    out = openpyxl.Workbook()
    out.remove(out.active)
    for sheet in workbook.worksheets:
        copy = out.create_sheet(sheet.title)
        for row in list(sheet.iter_rows(values_only=True))[: rows + 1]:
            copy.append(list(row))
    out.save(target)


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
    extra_fixtures(args.shared / "corpus" / "raw_extra", EXTRA_FIXTURES)
    for p in sorted(FIXTURES.parent.rglob("*")):
        if p.is_file():
            print(f"{p.relative_to(FIXTURES.parent)}: {p.stat().st_size:,} bytes")


# Pages of the 2015 board: a plain one, one with zero-width characters in its description, one whose
# description block is empty (its sidebar must not stand in for it).
PAGES_1DAGONG = [
    "gongzuoku/xiaoshou_shichang/dakehujingli/041336232015.html",
    "gongzuoku/cangchu_wuliu/cangkuguanliyuan/032615S2015.php",
    "gongzuoku/qita/qita/032619152015.html",
]


def extra_fixtures(extra: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    csv_head(extra / "aruis__bilibilijob/doc/result.csv", target / "bilibili_result.csv", 6, header=False)
    csv_head(extra / "Bolonzhang__horti_job/boss_jobs.csv", target / "boss_jobs.csv", 5)
    csv_head(extra / "Bolonzhang__horti_job/lagou_jobs.csv", target / "lagou_jobs.csv", 5)
    csv_head(extra / "Mcliuyi__JobSpider/智联.csv", target / "智联.csv", 5)
    csv_head(extra / "demanlover9-sys__wangyi-recruit-spider/scrapy_wangyi_recruit/scrapy_wangyi_recruit/spiders/recruit_post.csv", target / "recruit_post.csv", 4)
    csv_head(extra / "yujunxiong20010304__51job-Reptile-data-analysis/上海数据分析师.csv", target / "上海数据分析师.csv", 6)
    csv_around_repeated_header(extra / "not-quality__python-project/job_information.csv", target / "job_information.csv")
    lines_head(extra / "SUAimee__Tencnetjob_spider/tencent.json", target / "tencent_gb18030.json", 5)
    lines_head(extra / "LearnInLife__scrapy_tencentrecuitment_spider/tencent.json", target / "tencent.json", 5)
    for name in ("meituan_campus_jobs.xlsx", "tencent_campus_jobs.xlsx", "mihoyo_campus_jobs_full.xlsx"):
        xlsx_head(extra / "hunhunzhang__Mihoyo-Campus-Jobs-Scraper" / name, target / name, 5)
    xlsx_head(extra / "sakaaanaYu__JobDataMining/data/jobdata_whuhan.xlsx", target / "jobdata_whuhan.xlsx", 5)
    pages = target / "1dagong"
    pages.mkdir(exist_ok=True)
    for page in PAGES_1DAGONG:
        shutil.copyfile(extra / "fengmeifeng__74cms_1dagong" / page, pages / Path(page).name)


if __name__ == "__main__":
    main()
