"""Which column holds which field, read from the values as a person would read them.

Scrapers invent column names (工作简介, 职位描述（大概）, company_name holding job titles) or write none,
so names alone cannot be trusted. Every column of an unknown layout is scored against every canonical
field by its content: a description is long running text with duty/requirement cue words, a title is
short and made of job vocabulary, a company name ends in 有限公司/集团/科技, a city is a known place, pay
looks like 15-25K·13薪 or 面议, and so on. A header that names a field adds to its score, but a name
wins only when the content fits. Fields are then assigned one to one, best pair first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from ..script import simplified

SYNONYMS: dict[str, list[str]] = {
    "title": ["职位", "岗位", "职位名称", "岗位名称", "职务", "职务名称", "招聘职位", "招聘岗位", "职缺", "职缺名称", "工作名称", "positionname", "position", "jobtitle", "jobname", "title", "name", "post"],
    "description": [
        "职位描述", "岗位职责", "工作职责", "岗位描述", "职位详情", "工作内容", "职位职责", "工作描述", "职位介绍", "岗位介绍", "工作简介",
        "职位信息", "岗位说明", "jobdescription", "description", "summary", "jobdesc", "desc", "content", "detail", "duty", "workduty",
        "duties", "responsibility", "responsibilities", "jd",
    ],
    "requirements": ["任职要求", "岗位要求", "职位要求", "任职资格", "任职条件", "要求", "require", "requirement", "requirements", "workdemand", "demand", "qualification", "qualifications"],
    "company": ["公司", "公司名称", "公司名", "企业名称", "企业", "招聘公司", "招聘单位", "单位名称", "company", "companyname", "companyfullname", "employer", "fullname"],
    "city": ["城市", "工作城市", "工作地点", "工作地区", "地区", "地点", "所在地", "位置", "city", "location", "workplace", "worklocation", "area", "address", "place"],
    "salary": ["薪资", "薪水", "月薪", "薪酬", "工资", "待遇", "薪资待遇", "岗位薪资", "薪资范围", "salary", "pay", "wage", "wages"],
    "salary_min": ["最低薪资", "最低工资", "薪资下限", "minsalary", "salarymin", "minwages", "minwage", "payfrom"],
    "salary_max": ["最高薪资", "最高工资", "薪资上限", "maxsalary", "salarymax", "maxwages", "maxwage", "payto"],
    "posting_id": ["职位编号", "职位自编号", "岗位编号", "职缺编号", "工作编号", "编号", "postingid", "jobid", "positionid", "postid", "id", "key", "uid"],
    "source": ["来源", "发布平台", "平台", "招聘网站", "source", "platform", "board", "site"],
    "url": ["链接", "职位链接", "详情链接", "详情页", "详情url", "网址", "url", "link", "joburl", "href", "detaillink", "detailurl"],
    "posted_at": ["发布时间", "发布日期", "更新时间", "更新日期", "招聘信息更新时间", "时间", "日期", "postedat", "publishtime", "pubtime", "createtime", "posttime", "pushtime", "date", "time"],
    "experience": ["经验", "工作经验", "经验要求", "所需经验", "工作年限", "experience", "workyear", "explevel"],
    "education": ["学历", "学历要求", "最低学历", "education", "degree", "edulevel"],
    "industry": ["行业", "所属行业", "公司行业", "企业领域", "行业领域", "industry"],
}
# Fields a column may take only when its header names it: their content alone proves little.
NAME_ONLY = {"posting_id", "source", "industry", "salary_min", "salary_max"}
THRESHOLD = {
    "description": 0.35, "requirements": 0.35, "title": 0.3, "company": 0.3, "city": 0.4, "salary": 0.4,
    "salary_min": 0.5, "salary_max": 0.5, "experience": 0.4, "education": 0.4, "posted_at": 0.5, "url": 0.6,
    "posting_id": 0.5, "source": 0.0, "industry": 0.2,
}

JOB_WORDS = re.compile(
    r"工程师|经理|专员|运营|销售|助理|主管|总监|顾问|代表|客服|实习|文员|编辑|策划|设计|分析师|开发|架构师|讲师|培训师|司机|店长|督导|"
    r"会计|出纳|财务|行政|人事|招聘|HR|BD|商务|营销|推广|市场|采购|仓管|仓库|物流|配送|跟单|前台|教师|老师|导购|收银|主播|"
    r"文案|投放|产品|测试|技术支持|实施|售前|售后|管培生|储备|leader|manager|engineer|specialist|director|intern|sales",
    re.IGNORECASE,
)
COMPANY_WORDS = re.compile(r"有限公司|有限责任|股份|集团|公司|科技|工作室|事务所|银行|医院|学校|学院|中心|商行|门店|厂$|店$|网络|传媒|Ltd|Inc|Co\.", re.IGNORECASE)
_DUTY_CUES = re.compile(r"职责|负责|要求|任职|岗位|工作内容|熟悉|经验|能力|优先|协助|完成|具备|良好|沟通|以上学历")
# Duties say what the job does; requirements say who may apply. Career sites keep them apart.
_DOES = re.compile(r"负责|参与|协助|完成|制定|推动|跟进|维护|策划|执行|组织|开展|对接|管理|拓展|搭建|输出")
_NEEDS = re.compile(r"学历|以上|经验|熟悉|优先|具备|具有|专业|良好|善于|热爱|能力强|要求|年龄|掌握|了解")
# Ownership types (企业性质) name a kind of company, not a company.
_OWNERSHIP = re.compile(r"^(?:民营|民企|国企|国有|央企|外资|外企|合资|中外合资|外商独资|私营|上市公司|股份制|事业单位|政府机关|其他)(?:企业|公司|单位)?$")
_ADDRESS = re.compile(r"\d+号|路\d|[路街道巷]\S*\d|大厦|\d+楼|\d+室|园区")
_COMPANY_INTRO = re.compile(r"成立于|致力于|总部|注册资本|公司简介|旗下|是一家")
_SENTENCE = re.compile(r"[。；;！？\n]")
_SALARY = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*(?:[-~～至—]\s*\d+(?:\.\d+)?)?\s*(?:[kK千wW万]|元)|面议|薪资面议|\d{3,6}\s*[-~～至]\s*\d{3,6}\s*$)")
_EXPERIENCE = re.compile(r"经验|\d+\s*(?:[-~～至]\s*\d+\s*)?年|应届|在校|毕业生|^不限$|无需")
_EDUCATION = re.compile(r"本科|大专|专科|硕士|博士|研究生|高中|中专|中技|初中|学历不限|不限学历|^不限$")
_DATE = re.compile(r"^\s*(?:\d{4}[-/年.]\d{1,2}(?:[-/月.]\d{1,2})?|\d{1,2}月\d{1,2}日|\d{10}(?:\d{3})?$|今天|昨天|\d+\s*(?:天|小时|分钟)前)")
_URL = re.compile(r"^\s*(?:https?://|www\.)\S+$", re.IGNORECASE)
_ID = re.compile(r"^[A-Za-z0-9_\-:.]{4,64}$")
_NUMBER = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PROVINCES = "北京|上海|天津|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门"
_CITIES = (
    "广州|深圳|杭州|南京|苏州|成都|武汉|西安|长沙|郑州|青岛|济南|厦门|福州|合肥|宁波|无锡|东莞|佛山|珠海|中山|惠州|沈阳|大连|"
    "长春|哈尔滨|石家庄|太原|南昌|南宁|昆明|贵阳|兰州|西宁|银川|乌鲁木齐|呼和浩特|拉萨|海口|三亚|温州|绍兴|嘉兴|金华|台州|"
    "湖州|常州|南通|徐州|扬州|镇江|泰州|盐城|烟台|潍坊|临沂|淄博|济宁|威海|保定|唐山|廊坊|洛阳|襄阳|宜昌|株洲|湘潭|岳阳|"
    "芜湖|泉州|漳州|赣州|桂林|柳州|绵阳|遵义|江门|汕头|湛江|肇庆|清远|韶关|揭阳|茂名|全国|异地|远程|海外"
)
_CITY = re.compile(rf"^\s*(?:{_PROVINCES}|{_CITIES})|^[\u4e00-\u9fff]{{2,6}}(?:市|区|县|省)(?:$|[\s·\-/,，])")


def _norm_name(name: str) -> str:
    return re.sub(r"[\s_\-.()（）:：]", "", str(name)).lower()


_BY_NAME = {_norm_name(n): f for f, names in SYNONYMS.items() for n in names}
_PARTS = {f: [s for s in map(_norm_name, names) if len(s) >= 2] for f, names in SYNONYMS.items()}


def field_for_name(name: str) -> str | None:
    """The canonical field a header names exactly (after folding case, script, spaces and punctuation)."""
    return _BY_NAME.get(_norm_name(simplified(str(name))))


def _name_bonus(column: str, target: str) -> float:
    norm = _norm_name(column)
    if _BY_NAME.get(norm) == target:
        return 0.35
    if any(s in norm for s in _PARTS[target]):
        return 0.15
    return 0.0


def _fraction(values: pd.Series, pattern: re.Pattern) -> float:
    return float(values.str.contains(pattern).mean()) if len(values) else 0.0


def content_scores(values: pd.Series) -> dict[str, float]:
    """How well a column's values fit each field, 0..1, from a sample of its non-empty values."""
    v = values.dropna().astype(str).str.strip()
    v = v[v != ""]
    if v.empty:
        return dict.fromkeys(SYNONYMS, 0.0)
    v = v.sample(min(len(v), 300), random_state=0) if len(v) > 300 else v
    v = v.map(simplified)  # the cues are written in the simplified script
    length = float(v.str.len().median())
    distinct = v.nunique() / len(v)
    short = 1.0 if 2 <= length <= 25 else max(0.0, 1 - abs(length - 13) / 40)
    marks = v.str.count(_SENTENCE)
    sentences, any_sentence = float((marks >= 2).mean()), float((marks >= 1).mean())
    counts = v.str.count(_DUTY_CUES)
    cues, some_cue = float((counts >= 2).mean()), float((counts >= 1).mean())
    long = min(max((length - 20) / 60, 0.0), 1.0)
    companyish = _fraction(v, COMPANY_WORDS)
    numeric = _fraction(v, _NUMBER)
    url = _fraction(v, _URL)
    jobs = _fraction(v, JOB_WORDS)
    tiny = 1.0 if length <= 14 else max(0.0, 1 - (length - 14) / 10)
    scores = {
        "description": 0.4 * long + 0.2 * cues + 0.15 * some_cue + 0.15 * sentences + 0.1 * any_sentence,
        "title": max(
            0.0,
            0.55 * jobs + (0.25 * short + 0.2 * short * (1 - any_sentence)) * (0.4 + 0.6 * min(1.0, 2 * jobs))
            - 0.6 * companyish - url - numeric - 0.5 * cues - 0.3 * some_cue - 0.4 * any_sentence,
        ),
        "company": max(
            0.0,
            (0.8 * companyish + 0.2 * short * (1 - jobs) * (1 - numeric)) * (1.0 if length <= 40 else 0.3) * (0.6 + 0.4 * distinct)
            - 0.3 * sentences - _fraction(v, _OWNERSHIP) - _fraction(v, _ADDRESS),
        ),
        # 北京某某科技有限公司 starts with a city too: a column of company names is no city column.
        "city": _fraction(v, _CITY) * (1.0 if length <= 20 else 0.2) * (1 - companyish),
        "salary": _fraction(v, _SALARY) * tiny,
        "experience": _fraction(v, _EXPERIENCE) * tiny * (1 - 0.7 * _fraction(v, _EDUCATION)),
        "education": _fraction(v, _EDUCATION) * tiny,
        "posted_at": _fraction(v, _DATE) * (1.0 if length <= 30 else 0.3),
        "url": url,
        "posting_id": _fraction(v, _ID) * (1.0 if distinct > 0.95 else 0.2) * (1 - _fraction(v, _CJK)),
        "source": 1.0 if distinct < 0.05 and length <= 20 else 0.3,
        "industry": (1 - sentences) * short * (1 - companyish) * (1 - jobs),
        "salary_min": numeric,
        "salary_max": numeric,
    }
    # Smoothed share of duty cues among duty and requirement cues: 0.5 when there are none.
    does, needs = v.str.count(_DOES).sum(), v.str.count(_NEEDS).sum()
    duty_share = (does + 1) / (does + needs + 2)
    text = scores["description"] * (1 - 0.5 * _fraction(v, _COMPANY_INTRO))
    scores["description"] = text * (0.7 + 0.3 * duty_share)
    scores["requirements"] = text * (1 - duty_share)
    scores["title"] *= 0.6 + 0.4 * distinct
    if numeric > 0.9 and _looks_like_sequence(v):
        scores["posting_id"] = 0.0  # 1, 2, 3, ...: a row counter, which would merge rows across files
    return {k: round(min(max(s, 0.0), 1.0), 3) for k, s in scores.items()}


def _looks_like_sequence(v: pd.Series) -> bool:
    numbers = pd.to_numeric(v, errors="coerce").dropna()
    return bool(len(numbers)) and numbers.max() < 1_000_000


@dataclass
class Mapping:
    """field → column (description may take a second column: the requirements), with confidences."""

    fields: dict[str, str] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)

    def describe(self) -> str:
        return ", ".join(
            f"{f}←{c}" + ("" if f in self.given else f" ({self.confidence.get(f, 0):.2f})") for f, c in self.fields.items()
        )


def infer_mapping(frame: pd.DataFrame, given: dict[str, str] | None = None) -> Mapping:
    """The best one-to-one assignment of the frame's columns to canonical fields.

    `given` (field → column, the user's word) is taken as it is; the other fields are inferred from
    the remaining columns.
    """
    mapping = Mapping(fields=dict(given or {}), given=set(given or {}))
    mapping.confidence = dict.fromkeys(mapping.fields, 1.0)
    used = set(mapping.fields.values())
    pairs = []
    for column in frame.columns:
        if column in used:
            continue
        content = content_scores(frame[column])
        empty = not frame[column].notna().any()
        for target, score in content.items():
            bonus = _name_bonus(simplified(str(column)), target)
            if target in NAME_ONLY and bonus < 0.35:
                continue
            if empty and bonus >= 0.35:
                pairs.append((bonus, 0.0, target, column))  # nothing in it contradicts its name
                continue
            # A header that names the field exactly lowers the bar, but the content must still fit.
            if score >= THRESHOLD[target] / (3 if bonus >= 0.35 else 1):
                pairs.append((score + bonus, score, target, column))
    for total, _, target, column in sorted(pairs, key=lambda p: (-p[0], -p[1])):
        if target not in mapping.fields and column not in used:
            mapping.fields[target] = column
            mapping.confidence[target] = round(min(total, 1.0), 2)
            used.add(column)
    if "description" not in mapping.fields and "requirements" in mapping.fields:
        mapping.fields["description"] = mapping.fields.pop("requirements")
        mapping.confidence["description"] = mapping.confidence.pop("requirements")
    order = list(SYNONYMS)
    mapping.fields = dict(sorted(mapping.fields.items(), key=lambda kv: order.index(kv[0])))
    return mapping


# ----------------------------------------------------------------------------- header rows


def _headerish(cell: str) -> bool:
    return len(cell) <= 30 and not (_URL.match(cell) or _NUMBER.match(cell) or _DATE.match(cell) or _SENTENCE.search(cell))


def _datalike(cell: str) -> bool:
    return bool(len(cell) > 30 or _URL.match(cell) or _NUMBER.match(cell) or _DATE.match(cell) or _SALARY.match(cell))


def header_row(rows: list[list[str | None]]) -> int | None:
    """The index of the header among the first rows, or None when the first rows are data.

    A header is a row of short labels; a row with long texts, URLs, numbers, dates or pay is data.
    Rows before the header with fewer filled cells (a sheet's title, a note) are skipped.
    """
    width = max((len(r) for r in rows), default=0)
    for i, row in enumerate(rows[:10]):
        cells = [str(c).strip() for c in row if c is not None and str(c).strip()]
        if not cells:
            continue
        # Two or more field names head a table even when most columns have no name (an export whose
        # text spilled over into unnamed columns); a title line above the table names none.
        if sum(field_for_name(c) is not None for c in cells) >= 2 and not any(_datalike(c) for c in cells):
            return i
        if len(cells) < max(2, width // 2) and width > 1 and i + 1 < len(rows):
            continue  # a title line above the table
        if any(_datalike(c) for c in cells):
            return None
        named = sum(field_for_name(c) is not None for c in cells)
        if named:
            return i
        # No known names: labels rarely read like the values they head.
        content = sum(bool(JOB_WORDS.search(c) or COMPANY_WORDS.search(c) or _CITY.match(c)) for c in cells)
        return None if content >= max(2, len(cells) // 2) else i
    return 0 if rows else None
