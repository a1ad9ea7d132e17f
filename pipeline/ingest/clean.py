"""Text cleaning: raw scraper text in, readable text out.

Cleaning is the costliest step of reading a file, so it runs in Arrow's native kernels (RE2 regexes)
over the *distinct* values of a column, and only the few values that need Python (Excel's _xHHHH_
escapes, HTML entities, full-width letters, list literals) are handled one by one.

Text that could reorder, hide or restyle what a reader sees (control characters, ANSI escape
sequences, Unicode bidi overrides, zero-width characters) is removed and counted: a posting is data,
and it must look the same in a terminal, a spreadsheet and a web page.
"""

from __future__ import annotations

import ast
import html
import re
from collections.abc import Callable

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Excel escapes control characters as _xHHHH_ (openpyxl leaves them); _x000d_ alone is in thousands of rows.
_EXCEL_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_ENTITY = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
# Full-width ASCII (U+FF01..U+FF5E) to ASCII; Chinese punctuation outside that block is kept.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
# Chinese text is full of these; Arrow replaces them in bulk, Python translates what remains.
_COMMON_FULLWIDTH = "，：（）；！？％＋－／＆＃＠．"
# A cell that holds a Python/JSON list of strings: "['岗位职责：', '1、负责…']".
_LIST_LITERAL = r"^\s*\[\s*['\"]"

# RE2 patterns (Arrow's regex engine).
_ANSI = r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
_HIDDEN = (
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # control characters but tab and line breaks
    r"\x{200b}-\x{200f}\x{202a}-\x{202e}\x{2060}-\x{2064}\x{2066}-\x{2069}\x{061c}\x{feff}]"
)
_BLOCK_TAG = r"(?i)<\s*(?:br|/p|/li|/div|/h\d|/tr)\s*/?\s*>"
_ANY_TAG = r"<[^<>]{0,500}>"
_INLINE_SPACE = r"[ \t\f\v\x{00a0}\x{3000}]+"
_BLANK_LINES = r"\n[ \t\n]*\n"


def _items(text: str) -> str:
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "\n".join(v.strip() for v in value if v.strip())
    return text


def _excel_unescape(text: str) -> str:
    return _EXCEL_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _entities(text: str) -> str:
    return _ENTITY.sub(lambda m: html.unescape(m.group(0)), text)


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def _where(values: pa.Array, pattern: str, fn: Callable[[str], str], literal: bool = False) -> pa.Array:
    """Apply a Python function only to the values that contain `pattern` (most contain none)."""
    hit = pc.fill_null((pc.match_substring if literal else pc.match_substring_regex)(values, pattern), False)
    if not pc.any(hit).as_py():
        return values
    fixed = pa.array([fn(v) for v in pc.filter(values, hit).to_pylist()], type=values.type)
    return pc.replace_with_mask(values, hit, fixed)


def _replace(values: pa.Array, pattern: str, replacement: str) -> pa.Array:
    return pc.replace_substring_regex(values, pattern, replacement)


def _clean_values(values: pa.Array, semicolon_breaks: bool, stats: dict | None) -> pa.Array:
    values = _where(values, _LIST_LITERAL, _items)
    values = _where(values, "_x", _excel_unescape, literal=True)
    values = pc.replace_substring(pc.replace_substring(values, "\r\n", "\n"), "\r", "\n")
    values = _replace(values, _BLOCK_TAG, "\n")
    values = _replace(values, _ANY_TAG, "")
    values = _where(values, "&", _entities, literal=True)
    if stats is not None:
        found = pc.sum(pc.count_substring_regex(values, _ANSI)).as_py() or 0
        found += pc.sum(pc.count_substring_regex(_replace(values, _ANSI, ""), _HIDDEN)).as_py() or 0
        stats["hidden_characters"] = stats.get("hidden_characters", 0) + found
    values = _replace(_replace(values, _ANSI, ""), _HIDDEN, "")
    if semicolon_breaks:
        values = _replace(values, r"[;；]", "\n")
    for char in _COMMON_FULLWIDTH:
        values = pc.replace_substring(values, char, chr(_FULLWIDTH[ord(char)]))
    values = _where(values, r"[\x{ff01}-\x{ff5e}\x{3000}]", _fullwidth)
    values = pc.replace_substring(values, "**", "")
    values = _replace(values, _INLINE_SPACE, " ")
    values = _replace(values, r" *\n *", "\n")
    values = _replace(values, _BLANK_LINES, "\n")
    values = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, values.type), values)


def clean_text(s: pd.Series, semicolon_breaks: bool = False, stats: dict | None = None) -> pd.Series:
    """Strip HTML and Excel escapes, remove hidden characters, normalise width and whitespace, keep
    one line per line of meaning. Each distinct value is cleaned once. With `stats`, the number of
    hidden characters removed is added to stats["hidden_characters"]."""
    s = s.astype("string")
    if len(s) == 0:
        return s
    encoded = pc.dictionary_encode(pa.array(s.array, type=pa.large_string()))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    dictionary = _clean_values(encoded.dictionary, semicolon_breaks, stats)
    cleaned = pc.take(dictionary, encoded.indices)
    return pd.Series(pd.arrays.ArrowStringArray(cleaned), index=s.index, name=s.name, dtype="string")


def clean_field(s: pd.Series, stats: dict | None = None) -> pd.Series:
    """One-line fields (title, company, city): cleaned like text, then joined into one line."""
    return clean_text(s, stats=stats).str.replace("\n", " ", regex=False)


def is_truncated(description: pd.Series) -> pd.Series:
    """Descriptions that the board cut off (Zhilian ends them with '...')."""
    values = pa.array(description.astype("string").array, type=pa.large_string())
    cut = pc.or_(pc.or_(pc.ends_with(values, "..."), pc.ends_with(values, "…")), pc.ends_with(values, "。。。"))
    return pd.Series(pc.fill_null(cut, False).to_numpy(zero_copy_only=False), index=description.index, dtype=bool)
