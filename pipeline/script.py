"""Traditional → simplified script, for reading text, never for writing it back.

Boards of Taiwan and Hong Kong (104人力銀行, 1111, yes123, CakeResume) write traditional characters;
the column cues, the section markers and the model's vocabulary are simplified. Reading folds the
script with OpenCC's `t2s` conversion (phrase-aware, not a character table); the postings keep the
text as it was written. OpenCC is loaded on the first traditional text only.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Frequent characters that exist only in the traditional script: a text without any of them has
# nothing to fold, and checking costs a regex search instead of a conversion.
_TRADITIONAL = re.compile(
    "[們個這來時會說對過還從將與為無當發經種點關開長門問間車東見頭現業務員職負責專區學歷驗銷營運設計師產資數據網絡"
    "導團隊費續維護係溝協調練訓後處應屆優際達標稱詳細條額獎勵礎擁備視頻體軟機構報歲齡論談議類檢測試質項紹簡場廠庫"
    "倉儲貨輸書編輯寫讀線傳廣組織創辦總監級語讓證萬億餘價錢給準確規範戶崗薪隨驅動錄選擇參則實戰軍傑義聯絡專屬]"
)


@lru_cache(maxsize=1)
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def has_traditional(text: str) -> bool:
    return bool(_TRADITIONAL.search(text))


def simplified(text: str) -> str:
    """`text` in the simplified script (unchanged when it has no traditional character)."""
    return _converter().convert(text) if text and _TRADITIONAL.search(text) else text


def simplified_all(texts: list[str]) -> list[str]:
    return [simplified(t) for t in texts]
