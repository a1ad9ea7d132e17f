"""Split an ad's description into duties, requirements and the rest (benefits, company, address).

Duties decide the label (taxonomy rule); company boilerplate and benefits are the same across every
role a company posts and only add noise, so the classifier reads duties and requirements (as one
block: apart, they scored lower, see benchmarks/README.md) and ignores the rest.
"""

from __future__ import annotations

import re
from functools import lru_cache

_HEADER_MAX = 24  # a header line is short; a duty line that mentions 职责 is not a header
_DUTIES = re.compile(
    r"(岗位职责|工作职责|职位职责|工作内容|职责描述|岗位描述|职位描述|主要职责|工作描述|岗位内容|你将负责|你要做|你的职责|职责范围|职位详情|responsibilit)",
    re.IGNORECASE,
)
_REQUIREMENTS = re.compile(
    r"(任职要求|任职资格|岗位要求|职位要求|任职条件|招聘要求|应聘要求|我们希望|希望你|你需要|我们需要|要求|资格|加分项|优先条件|必备条件|requirement|qualification)",
    re.IGNORECASE,
)
_OTHER = re.compile(
    r"(福利|待遇|薪资|薪酬|工资|公司介绍|公司简介|关于我们|企业介绍|团队介绍|工作时间|上班时间|工作地点|上班地点|工作地址|联系方式|联系人|面试|晋升|发展空间|我们提供|为什么加入|职业发展"
    r"|工作周期|每周工期|工作时段|结算方式|截止|招聘人数|到岗时间)"
)
_HEADER_SHAPE = re.compile(r"^[\s\d一二三四五六七八九十、.()（）【】\[\]#*:：-]*(?P<head>[^:：]{1,20})[:：】\]]?")

_HEADER_END = _COLON = re.compile(r"[:：】\]]")


@lru_cache(maxsize=1 << 16)
def _kind(line: str) -> str | None:
    """The section a header line opens, or None for an ordinary line. Cached: the same header lines
    (岗位职责：, 任职要求：) open most ads of a board."""
    stripped = line.strip()
    if not stripped or len(stripped) > _HEADER_MAX and not re.search(r"^[【\[]?[^:：]{1,12}[:：】\]]", stripped):
        return None
    head = _HEADER_SHAPE.match(stripped)
    text = head.group("head") if head else stripped
    if _DUTIES.search(text):
        return "duties"
    if _OTHER.search(text):
        return "other"
    if _REQUIREMENTS.search(text):
        return "requirements"
    return None


def split_sections(description: str | None) -> tuple[str, str]:
    """(duties, requirements). An ad without headers counts as all duties."""
    if not description:
        return "", ""
    parts: dict[str, list[str]] = {"duties": [], "requirements": [], "other": []}
    current = "duties"
    for line in description.split("\n"):
        # Cheap test first: most lines are long duty lines that cannot be headers.
        maybe_header = len(line) <= _HEADER_MAX + 4 or _COLON.search(line, 0, 16)
        kind = _kind(line) if maybe_header else None
        if kind:
            end = _HEADER_END.search(line)
            rest = line[end.end():].strip() if end else ""
            if kind == "other" and rest:
                continue  # "工作时间:09:00-18:00" is a field of its own, not the start of a section
            current = kind
            if rest:  # "岗位职责：1、负责..." carries content after the header on the same line
                parts[current].append(rest)
            continue
        parts[current].append(line)
    return "\n".join(parts["duties"]), "\n".join(parts["requirements"])
