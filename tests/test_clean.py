"""The Arrow cleaning equals a plain per-value Python reference, on every bundled labelled text."""

import ast
import html
import re

import pandas as pd

from pipeline.ingest.clean import clean_text

_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_HIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u061c\ufeff]")
FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def reference(text: str | None, semicolon_breaks: bool = False) -> str | None:
    """The cleaning as the pandas chain did it before it moved to Arrow, plus list literals and
    hidden characters (issue 15), one value at a time."""
    if text is None:
        return None
    if re.match(r"^\s*\[\s*['\"]", text):
        try:
            items = ast.literal_eval(text.strip())
            if isinstance(items, (list, tuple)) and all(isinstance(i, str) for i in items):
                text = "\n".join(i.strip() for i in items if i.strip())
        except (ValueError, SyntaxError):
            pass
    text = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"<\s*(?:br|/p|/li|/div|/h\d|/tr)\s*/?\s*>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"<[^<>]{0,500}>", "", text)
    text = re.sub(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});", lambda m: html.unescape(m.group(0)), text)
    text = _HIDDEN.sub("", _ANSI.sub("", text))
    if semicolon_breaks:
        text = re.sub(r"[;；]", "\n", text)
    text = text.translate(FULLWIDTH).replace("**", "")
    text = re.sub(r"[ \t\f\v\u00a0\u3000]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n[ \t\n]*\n", "\n", text).strip()
    return text or None


def test_arrow_cleaning_equals_the_reference_on_the_bundled_texts(labels):
    for column in ("title", "company", "description"):
        raw = labels[column].astype("string")
        expected = [reference(None if pd.isna(v) else v) for v in raw]
        got = clean_text(raw)
        assert [None if pd.isna(v) else v for v in got] == expected, column


def test_semicolon_breaks_and_edge_cases():
    cells = pd.Series(["a；b;c", "  ", None, "&lt;b&gt;粗体&lt;/b&gt; &amp;amp;", "<p>一</p><p>二</p>", "ＡＢＣ　１２３"], dtype="string")
    assert [None if pd.isna(v) else v for v in clean_text(cells, semicolon_breaks=True)] == [
        reference(None if pd.isna(v) else v, semicolon_breaks=True) for v in cells
    ]
