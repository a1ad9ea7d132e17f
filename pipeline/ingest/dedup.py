"""Which rows are the same posting: only strong evidence merges two rows.

Rows are merged on the board's own id, on the posting's URL (only for rows the board gave no id:
51job gives many postings one company careers URL, and the id is the stronger evidence), or on an
equal company + title + description where the description is not empty. Company + title alone never merges: a company posts
many ads under one title (a 销售代表 in every city), and a file whose description column was missed
would otherwise collapse into a handful of rows. Of each group, the row the board showed last is
kept (by when it was seen, then by the order read).
"""

from __future__ import annotations

import pandas as pd

KEYS = ("posting_id", "url", "content")


def dedup_keys(rows: pd.DataFrame, posting_urls: bool) -> pd.DataFrame:
    """The merge keys of normalised rows. `posting_urls` says the file's URLs name postings (they are
    nearly all distinct), not companies or search pages."""
    described = rows["description"].notna()
    content = pd.util.hash_pandas_object(rows[["company", "title", "description"]].fillna(""), index=False)
    url = rows["url"].str.strip().str.lower().where(~rows["_id_given"])
    return pd.DataFrame(
        {
            # Only the board's own id: an id made from the content would merge on content, counted as such.
            "posting_id": rows["posting_id"].where(rows["_id_given"]).to_numpy(),
            "url": (url if posting_urls else pd.Series(pd.NA, index=rows.index, dtype="string")).to_numpy(),
            "content": content.astype("UInt64").where(described.to_numpy()).to_numpy(),
            "_seen_at": rows["_seen_at"].to_numpy(),
        }
    )


def urls_name_postings(urls: pd.Series) -> bool:
    present = urls.dropna()
    return len(present) > 0 and present.nunique() >= 0.9 * len(present)


def merged_on(keys: pd.DataFrame) -> pd.Series:
    """For each row, the key it was merged on (one of KEYS), or NA for the rows kept. `keys` has
    KEYS, `_seen_at` and `_order` (the reading order)."""
    ranked = keys.sort_values(["_seen_at", "_order"], na_position="first")
    merged = pd.Series(pd.NA, index=ranked.index, dtype="string")
    for key in KEYS:
        alive = ranked[merged.isna().to_numpy()]
        alive = alive[alive[key].notna()]
        merged.loc[alive.index[alive.duplicated(key, keep="last").to_numpy()]] = key
    return merged.reindex(keys.index)
