"""One posting per file: a saved job-detail web page, or a plain-text file.

A detail page carries one posting among navigation, scripts and a sidebar of *other* postings. Its
title is the page's own heading; its description is the block under a 职位描述/岗位职责-like heading
(or, with no such heading, the largest block of running text); its other fields stand as
"label：value" pairs (工资：面议, 公司：…, 地区：…). The page is parsed with selectolax (lexbor): a real
HTML parser, as tolerant of broken markup as a browser, and fast enough for thousands of pages.

The record uses the canonical field names, so the page layout maps it one to one.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from .columns import COMPANY_WORDS, JOB_WORDS, field_for_name

_DESCRIPTION_HEADING = re.compile(
    r"^(?:职位|岗位|工作)(?:描述|职责|详情|介绍|内容|说明|信息)$|^(?:任职|岗位|职位)(?:要求|资格)$|^job\s*description$|^responsibilities$",
    re.IGNORECASE,
)
_REQUIREMENT_HEADING = re.compile(r"要求|资格|requirement", re.IGNORECASE)
_LABEL_VALUE = re.compile(r"^\s*([\u4e00-\u9fffA-Za-z]{2,8})\s*[：:]\s*(\S.{0,80}?)\s*$", re.S)
_NEXT_LABEL = re.compile(r"\s+[\u4e00-\u9fff]{2,6}\s*[：:]")
_TITLE_SPLIT = re.compile(r"\s*[_|｜–—-]\s*")
_NOISE_TAGS = ["script", "style", "noscript", "iframe", "svg", "form", "button", "select", "textarea"]
_BLOCKS = "div, section, article, td, dd, dl, p, ul, ol, li"
_SENTENCE = re.compile(r"[。；;！？]")


def _text(node) -> str:
    return re.sub(r"\s+", " ", node.text(deep=True, separator=" ")).strip()


_LINE_TAGS = {"br", "p", "div", "li", "tr", "dd", "dt", "dl", "ul", "ol", "table", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6"}


def _lines(node) -> str:
    """The node's text with a line break where a block starts (the parser has decoded entities)."""
    return "".join(n.text_content if n.tag == "-text" else "\n" for n in node.traverse(include_text=True) if n.tag == "-text" or n.tag in _LINE_TAGS)


def _heading_key(node) -> str:
    return re.sub(r"[\s：:]", "", node.text(deep=True))


def _section(heading) -> list[str]:
    """The text after a heading: its next sibling with text, and the siblings of the same tag that
    follow it (a run of <p>), up to the next heading."""
    parts, tag, node = [], None, heading.next
    while node is not None:
        if tag is None and node.tag not in ("-text", "-comment", "br", "hr") and not _text(node):
            break  # the heading's own block is empty; what follows belongs to the page, not the posting
        if node.tag not in ("-text", "-comment") and _text(node):
            if tag is None:
                tag = node.tag
            elif node.tag != tag or _DESCRIPTION_HEADING.match(_heading_key(node)):
                break
            parts.append(_lines(node))
        elif node.tag == "-text" and node.text_content.strip() and tag is None:
            parts.append(node.text_content)
        node = node.next
    if not parts and node is None and heading.tag in ("strong", "b", "span", "label") and heading.parent is not None:
        # <p><b>职位描述：</b>负责…</p>: the text follows inside the same parent.
        rest = _lines(heading.parent).split(heading.text(deep=True), 1)
        if len(rest) == 2 and rest[1].strip():
            parts.append(rest[1])
    return parts


def _largest_text_block(tree) -> str | None:
    """The tightest element holding the longest run of sentences (no heading to go by)."""
    best, best_len = None, 0
    for node in tree.css(_BLOCKS):
        length = len(_text(node))
        if length <= best_len or len(_SENTENCE.findall(_text(node))) < 2:
            continue
        children = [len(_text(c)) for c in node.iter() if c.tag not in ("-text", "-comment")]
        if children and max(children) >= 0.8 * length:
            continue  # a wrapper: one of its children holds the text
        best, best_len = node, length
    return _lines(best) if best is not None else None


def label_pairs(texts) -> dict[str, str]:
    """Canonical fields from short "label：value" texts, the first occurrence of each winning."""
    found: dict[str, str] = {}
    for text in texts:
        m = _LABEL_VALUE.match(text)
        if not m:
            continue
        name = field_for_name(m.group(1))
        if name and name not in found and name not in ("title", "description"):
            # Broken markup can run several pairs into one element: "面议 公司： 甲 地区： 合肥".
            found[name] = _NEXT_LABEL.split(m.group(2))[0].strip()
    return found


def html_record(markup: str) -> dict[str, str | None]:
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(markup)
    tree.strip_tags(_NOISE_TAGS)  # removes them with their content
    record: dict[str, str | None] = {}
    title_node = tree.css_first("title")
    page_title = _text(title_node) if title_node is not None else ""
    heading = next((_text(h) for h in tree.css("h1") if 0 < len(_text(h)) <= 80), None)
    # "支付宝服务窗营销经理_壹打工网-让工作来找你": the site's name follows the posting's title, which
    # may itself hold a separator ("销售代表-8k"), so the heading is taken off first.
    rest = page_title[len(heading):] if heading and page_title.startswith(heading) else page_title
    parts = [p for p in _TITLE_SPLIT.split(rest) if p]
    record["title"] = heading or (parts[0] if parts else None)
    if not heading:
        parts = parts[1:]
    site = tree.css_first('meta[property="og:site_name"]')
    record["source"] = site.attributes.get("content") if site is not None else (parts[0] if parts else None)
    sections, headed = [], False
    for node in tree.css("h1, h2, h3, h4, h5, h6, dt, th, strong, b, span, label, div, p, li"):
        key = _heading_key(node)
        if len(key) <= 20 and _DESCRIPTION_HEADING.match(key):
            headed = True
            body = "\n".join(_section(node))
            if body.strip() and body not in sections:
                prefix = f"{key}：\n" if sections and _REQUIREMENT_HEADING.search(key) else ""
                sections.append(prefix + body)
    # A page with a description heading but nothing under it has no description: the largest block
    # of text there is the sidebar's list of other postings.
    record["description"] = "\n".join(sections) if sections else None if headed else _largest_text_block(tree)
    texts = [_text(n) for n in tree.css("li, p, dd, dt, td, span, div") if len(_text(n)) <= 90]
    record.update(label_pairs(texts))
    canonical = tree.css_first('link[rel="canonical"]') or tree.css_first('meta[property="og:url"]')
    if canonical is not None:
        record["url"] = canonical.attributes.get("href") or canonical.attributes.get("content")
    return record


def _split_name(stem: str) -> tuple[str | None, str | None]:
    """'客户成功经理-杭州某某科技有限公司' → title, company: the file name is the best evidence left."""
    parts = [p for p in re.split(r"\s*[-_—|｜()（）\[\]【】]+\s*", stem) if p.strip()]
    company = next((p for p in parts if COMPANY_WORDS.search(p)), None)
    title = next((p for p in parts if p != company and JOB_WORDS.search(p)), None)
    if title is None:
        title = next((p for p in parts if p != company and not p.isdigit()), None)
    return title, company


def text_record(text: str, name: str) -> dict[str, str | None]:
    lines = [line.strip() for line in text.lstrip("\ufeff").splitlines()]
    lines = [line for line in lines if line]
    record: dict[str, str | None] = dict(label_pairs(lines[:15]))
    first = lines[0] if lines else ""
    if first and len(first) <= 30 and not _SENTENCE.search(first) and JOB_WORDS.search(first) and not _LABEL_VALUE.match(first):
        record["title"], body = first, lines[1:]
    else:
        record["title"], body = None, lines
    stem_title, stem_company = _split_name(PurePath(name.split("!")[-1]).stem)
    record["title"] = record["title"] or stem_title
    record.setdefault("company", stem_company)
    record["description"] = "\n".join(body) or None
    return record
