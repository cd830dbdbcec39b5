"""The guess of undeclared 8-bit Cyrillic: KOI8-R, CP1251, CP866 or ISO-8859-5, by letter statistics."""

from __future__ import annotations

import math
import re

# Letter frequencies of Russian text (percent; Ukrainian letters at their Ukrainian rate), for
# telling the Cyrillic 8-bit code pages apart: each reads the others' bytes as other letters.
_CYRILLIC_FREQ = {
    "о": 10.97, "е": 8.45, "а": 8.01, "и": 7.35, "н": 6.70, "т": 6.26, "с": 5.47, "р": 4.73,
    "в": 4.54, "л": 4.40, "к": 3.49, "м": 3.21, "д": 2.98, "п": 2.81, "у": 2.62, "я": 2.01,
    "ы": 1.90, "ь": 1.74, "г": 1.70, "з": 1.65, "б": 1.59, "ч": 1.44, "й": 1.21, "х": 0.97,
    "ж": 0.94, "ш": 0.73, "ю": 0.64, "ц": 0.48, "щ": 0.36, "э": 0.32, "ф": 0.26, "ъ": 0.04,
    "ё": 0.3,  # rare only because most writers put е; where ё is written it is ordinary
    "і": 3.0, "ї": 0.6, "є": 0.4, "ґ": 0.05, "ў": 0.3,
}
_CYRILLIC_VOWELS = set("аеёиоуыэюяіїєў")
# Preferred first where two read the same (KOI8-U is KOI8-R plus Ukrainian letters).
_CYRILLIC_CODECS = ("koi8_r", "cp1251", "cp866", "iso8859_5", "koi8_u")
_CYRILLIC_PUNCT = set("«»—–№…“”„’\u00a0")
_CYRILLIC_WORD = re.compile(r"[^\W\d_]+")
_V, _C = "аеёиоуыэюяіїєў", "бвгджзклмнпрстфхцчшщґ"
# Letter sequences Slavic words do not have: three vowels, five consonants, a soft/hard sign
# or й after a vowel (or ь/ъ after й), ы after a vowel or a sign.
_UNRUSSIAN = re.compile(
    f"[{_V}]{{3}}|[{_C}]{{5}}|[{_V}й][ьъ]|[{_C}ьъ]й|[{_V}ьъ]ы")


def _cyrillic_score(text: str) -> float | None:
    """Mean log letter frequency of a reading, or None when it cannot be Cyrillic text: a
    non-ASCII character that is no Cyrillic letter (box drawing, symbols), Latin letters glued
    to Cyrillic ones, a word in impossible case (пРИВЕТ) or shape (no vowels, all vowels, a
    leading ь/ъ/ы), or too little to judge: short capitals only (ЯККЯ is any two kanji)."""
    letters, total, telling_words = 0, 0.0, 0
    for ch in text:
        if ch >= "\x80" and ch.lower() not in _CYRILLIC_FREQ and ch not in _CYRILLIC_PUNCT:
            return None
    for word in _CYRILLIC_WORD.findall(text):
        if word.isascii():
            continue
        lower = word.lower()
        if not all(ch in _CYRILLIC_FREQ for ch in lower):
            return None  # Latin and Cyrillic in one word
        if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
            return None
        vowels = sum(ch in _CYRILLIC_VOWELS for ch in lower)
        if (lower[0] in "ьъы" or _UNRUSSIAN.search(lower)
                or len(lower) >= 4 and not 0.2 <= vowels / len(lower) <= 0.75):
            return None
        telling_words += len(word) >= 6 or (len(word) >= 3 and not word.isupper())
        letters += len(lower)
        total += sum(math.log10(_CYRILLIC_FREQ[ch]) for ch in lower)
    if letters < 5 or not telling_words:
        return None
    return total / letters


def cyrillic_reading(data: bytes) -> tuple[str, str] | None:
    """Undeclared 8-bit Cyrillic (KOI8-R, CP1251, CP866, ISO-8859-5): (codec, text) of the reading
    whose letters look like Russian/Ukrainian text, only when exactly one code page reads that
    way clearly; None otherwise (also for zip member names, which carry no charset)."""
    scored = []
    for order, candidate in enumerate(_CYRILLIC_CODECS):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        score = _cyrillic_score(text)
        if score is not None:
            scored.append((-score, order, candidate, text))
    if not scored:
        return None
    scored.sort()
    ranked = [(-s, c, t) for s, _, c, t in scored]
    best_score, best_codec, best_text = ranked[0]
    # Real text averages about 0.6; letters drawn at random from another code page's places
    # fall well below. A near tie between two code pages is no clear reading.
    rivals = [s for s, c, t in ranked[1:] if t != best_text]
    if best_score < 0.25 or (rivals and best_score - rivals[0] < 0.15):
        return None
    return best_codec, best_text
