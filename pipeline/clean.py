"""Text cleaning shared by ingestion and classification: raw scraper text in, readable text out.

Every function takes and returns a pandas Series so that the work stays vectorised (a per-row Python
loop here would cost more than the tokeniser).
"""

from __future__ import annotations

import html
import re

import pandas as pd

# Excel escapes control characters as _xHHHH_ (openpyxl leaves them); _x000d_ alone is in thousands of rows.
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_BLOCK_TAG = re.compile(r"<\s*(?:br|/p|/li|/div|/h\d|/tr)\s*/?\s*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^<>]{0,500}>")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_INLINE_SPACE = re.compile(r"[ \t\f\v\u00a0\u3000\u200b]+")
_BLANK_LINES = re.compile(r"\n\s*(?:\n\s*)+")
_MARKDOWN_BOLD = re.compile(r"\*\*")
_TRUNCATED = re.compile(r"(?:\.{3}|…|。。。)$")
# Full-width ASCII (U+FF01..U+FF5E) to ASCII; Chinese punctuation outside that block is kept.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def _unescape_entities(s: pd.Series) -> pd.Series:
    return s.str.replace(_ENTITY, lambda m: html.unescape(m.group(0)), regex=True)


def clean_text(s: pd.Series, semicolon_breaks: bool = False) -> pd.Series:
    """Strip HTML and Excel escapes, normalise width and whitespace, keep one line per line of meaning."""
    s = s.astype("string")
    s = s.str.replace(_EXCEL_ESCAPE, lambda m: chr(int(m.group(1), 16)), regex=True)
    s = s.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
    s = s.str.replace(_BLOCK_TAG, "\n", regex=True).str.replace(_ANY_TAG, "", regex=True)
    s = _unescape_entities(s)
    if semicolon_breaks:
        s = s.str.replace(r"[;；]", "\n", regex=True)
    s = s.str.translate(_FULLWIDTH)
    s = s.str.replace(_MARKDOWN_BOLD, "", regex=True)
    s = s.str.replace(_INLINE_SPACE, " ", regex=True)
    s = s.str.replace(r" *\n *", "\n", regex=True).str.replace(_BLANK_LINES, "\n", regex=True)
    s = s.str.strip()
    return s.mask(s == "")


def clean_field(s: pd.Series) -> pd.Series:
    """One-line fields (title, company, city): cleaned like text, then joined into one line."""
    s = clean_text(s)
    return s.str.replace("\n", " ", regex=False)


def is_truncated(description: pd.Series) -> pd.Series:
    """Descriptions that the board cut off (Zhilian ends them with '...')."""
    return description.fillna("").str.contains(_TRUNCATED, regex=True).astype(bool)
