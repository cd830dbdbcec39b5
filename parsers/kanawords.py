"""Whether half-width katakana is made of words an applicant writes that way: names, forms."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Half-width katakana is what bank-account names, old business systems and Japanese Windows
# file names use for people and companies. The common surnames, given names and words of this
# program's forms are a prior, as the everyday kanji are: four half-width katakana that read as
# two everyday kanji in EUC-JP (ﾀｶﾊｼ / 清兵) are a tie the bytes cannot settle, and a word here
# settles it. The EUC-JP kanji names that read as half-width katakana in CP932 (田中 -> ﾅﾄﾃ...,
# 山本 -> ｻｳﾋﾜ) fall on no word of it.
_WORDS = frozenset((  # noqa: SIM905 - a word list reads better as text
    # surnames, the most common first
    "サトウ スズキ タカハシ タナカ イトウ ワタナベ ヤマモト ナカムラ コバヤシ カトウ ヨシダ ヤマダ"
    " ササキ ヤマグチ マツモト イノウエ キムラ ハヤシ サイトウ シミズ ヤマザキ モリ イケダ ハシモト"
    " アベ イシカワ ヤマシタ ナカジマ イシイ オガワ マエダ オカダ ハセガワ フジタ ゴトウ コンドウ"
    " ムラカミ エンドウ アオキ サカモト フクダ オオタ ニシムラ フジイ カネコ オカモト フジワラ ナカノ"
    " ミウラ ハラダ マツダ タケウチ オノ タムラ ナカヤマ ワダ イシダ モリタ ウエダ ハラ シバタ サカイ"
    " クドウ ヨコヤマ ミヤザキ ミヤモト ウチダ タカギ アンドウ シマダ タニグチ オオノ タカダ マルヤマ"
    " イマイ コウノ フジモト ムラタ タケダ ウエノ スギヤマ マスダ コヤマ オオツカ ヒラノ スガワラ クボ"
    " マツイ チバ イワサキ サクライ キノシタ ノグチ マツオ ノムラ キクチ サノ オオニシ スギモト アライ"
    " ハマダ イチカワ フルカワ ミズノ コマツ シマザキ タカノ ヤマウチ ニシダ ニシカワ イガラシ キタムラ"
    " ヤスダ ナカタ カワグチ ヒラタ カワサキ イイダ ヨシカワ ホンダ クボタ サワダ ツジ セキ ヨシムラ"
    " ワタベ イワタ ナカニシ ハットリ ヒグチ フクシマ カワカミ ナガイ マツオカ タグチ ヤマナカ モリモト"
    " ツチヤ ヤノ ヒロセ アキヤマ イシハラ マツシタ オオハシ マツウラ ヨシオカ コイケ アサノ オオクボ"
    " シライシ"
    # given names
    " タロウ ジロウ イチロウ ハナコ ヒロシ タケシ アキラ マコト ユウキ ケンジ ケンイチ シンイチ タカシ"
    " マサト ダイスケ ショウタ ユウタ ヒロミ ユミ ユキ ヨウコ ケイコ ユウコ アキコ トモコ マユミ ミキ"
    " エミ サトシ ノブオ カズオ ヨシオ マサオ ツヨシ ナオキ ヒデキ ミホ カオリ メグミ"
    # companies and the documents of an application
    " カブシキガイシャ ユウゲンガイシャ ゴウドウガイシャ カブシキ ガイシャ カイシャ シャイン ダイヒョウ"
    " シンセイショ シンセイ ミツモリショ ミツモリ セイキュウショ セイキュウ リョウシュウショ ケイヤクショ"
    " ケイヤク ショルイ シリョウ メイボ ジギョウ ケイカク コウフ ホジョキン テイシュツ ヨウシキ"
    " メモ テスト データ リスト ファイル シート フォーム アンケート チェック センター サービス システム"
).split())
# Company-form abbreviations as bank-account names write them: ｶ)ﾐﾅﾄｾｲｷ, ﾐﾅﾄｾｲｷ(ｶ, ﾕ)ﾀﾅｶ.
_COMPANY_FORM = re.compile(r"\(?[ｶﾕ]\)|\([ｶﾕ]$")
_RUN = re.compile("[\u30a0-\u30ff]+")


def known_katakana(text: str) -> bool:
    """Whether a short reading is half-width katakana (among ASCII) and every run of it is
    made of the words above."""
    if len(text) > 80 or not all(ch.isascii() or "\uff66" <= ch <= "\uff9f" for ch in text):
        return False  # a tie-break for names made of half-width katakana, not for texts
    runs = _RUN.findall(unicodedata.normalize("NFKC", _COMPANY_FORM.sub(" ", text)))
    return bool(runs) and all(_splits(run) for run in runs)


@lru_cache(maxsize=1024)
def _splits(run: str) -> bool:
    if not run:
        return True
    return any(run[:n] in _WORDS and _splits(run[n:]) for n in range(len(run), 1, -1))
