"""Which row of the program page's SME table an industry, as written, falls on.

Japanese industry names put the classifying word last, as the 日本標準産業分類 names do:
「ソフトウェア製品卸売業」 is wholesale, 「医療機器販売業」 retail, 「ホテル清掃業」 a service. So the
alias that ends last in the name wins (a trailing 業 ignored, so 情報サービス業 is not サービス業),
then the longest (ゴム製品製造業 over 製造業). In a list (「ソフトウェア開発・販売」) the first item is
the main business. A bracketed note only narrows the head: 「製造業（ゴム製品）」 is rubber and
「サービス業（情報処理）」 software, but 「卸売業（ソフトウェア製品）」 stays wholesale.
"""

from __future__ import annotations

import re
import unicodedata

from rules.program import Program, SmeLine

__all__ = ["find_sme_line"]

_LIST = re.compile(r"[・/／、,，]")
_BRACKET = re.compile(r"[(\[【「『<《〔{]")


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _tail_match(text: str, program: Program) -> tuple[SmeLine, str] | None:
    """(row, alias) of the alias ending last in `text`, then the longest."""
    best: tuple[tuple[int, int], SmeLine, str] | None = None
    for line in program.sme_lines:
        for alias in line.aliases:
            folded = _fold(alias)
            at = text.rfind(folded) if folded else -1
            if at < 0:
                continue
            end = at + len(folded) - (1 if folded.endswith("業") else 0)
            rank = (end, len(folded))
            if best is None or rank > best[0]:
                best = (rank, line, folded)
    return (best[1], best[2]) if best else None


def find_sme_line(industry: str | None, program: Program) -> SmeLine | None:
    """The table row for an industry as written: by key or label, else by its words (above);
    a word found nowhere falls to ⑧ (`unknown_industry`). None only when nothing is written."""
    if not industry or not _fold(industry):
        return None
    text = _fold(industry)
    for line in program.sme_lines:
        if text in (line.key, _fold(line.label)):
            return line
    bracket = _BRACKET.search(text)
    head, note = (text[:bracket.start()], text[bracket.start():]) if bracket else (text, "")
    found = None
    for item in _LIST.split(head):
        if item and (found := _tail_match(item, program)):
            break
    narrowed = _tail_match(note, program) if note else None
    if found and narrowed and narrowed[0] is not found[0] and any(
            _fold(a).endswith(found[1]) for a in narrowed[0].aliases):
        return narrowed[0]
    best = found or narrowed or _tail_match(text, program)
    if best:
        return best[0]
    # the page's table: any industry not in ①–⑦ is ⑧「その他の業種(上記以外)」
    return next((line for line in program.sme_lines if line.key == program.unknown_industry), None)
