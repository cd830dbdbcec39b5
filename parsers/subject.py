"""Read a submission subject.

The format (SPEC §1): `<コンソーシアム名>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付`.

Applicants type this by hand, so the parser accepts every variant whose meaning is intact and
reports (never raises) when it cannot read the format.

Decisions (SPEC §1 leaves them to us):
- Comparison happens on an NFKC form with all spaces removed, so full-width letters, digits,
  brackets and spaces, and `㈱`/`①` are the same as their plain forms.
- The quotes around the subsidy name are decoration: 「」, 『』, "", “”, 〝〟 or no quotes at all
  are accepted.  An optional の/を between words ("応募書類の送付") is accepted too.
- The year label, subsidy name and 応募書類送付 must all be there: "令和5年度" or a different
  subsidy name is a different subject, not a variant.
- The consortium name is normally before the fixed part; when nothing is before it, a name
  after it is accepted ("令和4年度「…」 応募書類送付【ABCコンソーシアム】").
- Outer brackets (<>, ＜＞, 【】, 〈〉, 《》, [], 〔〕) belong to the format, not to the name,
  and are removed from `consortium`; everything else the applicant wrote is kept as written.
- A name left as the template placeholder ("<コンソーシアム名>") is not a name.
- Words after the fixed part that make it a question (質問, 問い合わせ, ？) mean it is not a
  submission subject even though it contains the format.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_MAX_SUBJECT = 2000  # longer subjects are cut: nobody types more, and regexes stay cheap


@dataclass(frozen=True)
class SubjectInfo:
    matches: bool  # readable as the format of SPEC §1
    consortium: str | None  # the consortium name as the applicant wrote it (trimmed)
    consortium_key: str | None  # normalised key for matching, see consortium_key()
    part: int | None  # split marker: (1/3), （1/3）, その2, 2通目, [2/3] ...
    parts_total: int | None
    prefixes: tuple[str, ...]  # "Re", "Fwd", "転送", "再送" ... that were removed
    reason: str | None  # when not matches: plain Japanese of what is wrong


# Bracket pairs applicants put around the consortium name or markers (after NFKC).
_OPEN = "<【〈《[〔(「『"
_CLOSE = ">】〉》]〕)」』"
_BRACKETS = _OPEN + _CLOSE
_QUOTES = "「」『』\"“”〝〟'‘’"
_COMBINING_KANA = {"\u3099", "\u309a", "\uff9e", "\uff9f"}


def consortium_key(name: str) -> str:
    """Normalised form used to compare consortium names between the subject and the forms."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in _BRACKETS)


@dataclass(frozen=True)
class NfkcText:
    """NFKC text with, for every character, the index of the original character it came from."""

    text: str
    origin: tuple[int, ...]


def nfkc_with_origin(original: str) -> NfkcText:
    # Normalise per cluster (a character plus any following voicing marks) so that half-width
    # ｻｰﾋﾞｽ composes to サービス and each output character still points at its source.
    chars: list[str] = []
    origin: list[int] = []
    i = 0
    while i < len(original):
        j = i + 1
        while j < len(original) and original[j] in _COMBINING_KANA:
            j += 1
        for ch in unicodedata.normalize("NFKC", original[i:j]):
            chars.append(ch)
            origin.append(i)
        i = j
    return NfkcText("".join(chars), tuple(origin))


_PREFIX = re.compile(
    r"\s*(?:"
    r"(?P<ascii>re|fw|fwd|aw|sv|vs|tr|wg)(?:\s*[\[(]\s*\d+\s*[\])]|\^\d+)?\s*:"
    r"|(?P<ja>転送|返信|返答|再送|再送信|再提出|差替え?|差し替え|訂正|修正版?|パスワード)\s*[:]"
    # The follow-up password mail often carries the same subject with a tag in front.
    r"|[\[【(](?P<tag>転送|返信|再送|再送信|再提出|差替え?|差し替え|訂正|修正版?|重要|至急|"
    r"パスワード(?:送付|通知|のお知らせ|のご連絡)?|pw|pass(?:word)?)[\]】)]"
    r")\s*",
    re.IGNORECASE,
)

_PREFIX_NAMES = {"fw": "Fwd", "fwd": "Fwd", "re": "Re", "aw": "Re", "sv": "Re", "vs": "Re",
                 "tr": "Fwd", "wg": "Fwd"}

# Split markers, on NFKC text. Each pattern has groups `part` and optionally `total`.
_SPLIT_PATTERNS = (
    r"[(\[【<〈《〔]?\s*(?P<part>\d{1,2})\s*(?:/|of|／)\s*(?P<total>\d{1,2})\s*[)\]】>〉》〕]?",
    r"[(\[【<〈《〔]?\s*(?P<total>\d{1,2})\s*通中\s*(?P<part>\d{1,2})\s*通目?\s*[)\]】>〉》〕]?",
    r"[(\[【<〈《〔]?\s*(?:その|其の|分割)\s*(?P<part>\d{1,2})\s*(?:通目?)?\s*[)\]】>〉》〕]?",
    # "第2" alone is common in names (第2地域…), so 第 needs a mail word after the number.
    r"[(\[【<〈《〔]?\s*第\s*(?P<part>\d{1,2})\s*(?:通|便|弾)目?\s*[)\]】>〉》〕]?",
    r"[(\[【<〈《〔]?\s*(?P<part>\d{1,2})\s*通目\s*[)\]】>〉》〕]?",
    r"[(\[【<〈《〔]?\s*(?:part|パート)\s*(?P<part>\d{1,2})\s*[)\]】>〉》〕]?",
)
_SPLIT = [re.compile(p, re.IGNORECASE) for p in _SPLIT_PATTERNS]

_QUESTION = re.compile(r"質問|問い?合わ?せ|問合せ|教えて|について確認|[?]|確認させて")
_PLACEHOLDER = {"コンソーシアム名", "コンソーシアム", "consortium", "consortiumname"}
_EDGE_JUNK = " \t_-‐:;,./・|~〜＿"


@lru_cache(maxsize=32)
def _core_regex(core: str) -> re.Pattern[str]:
    """A regex for the fixed part: any spacing, any or no quotes, optional の/を between words."""
    norm = unicodedata.normalize("NFKC", core)
    pieces: list[str] = []
    for ch in norm:
        if ch.isspace():
            continue
        if ch in _QUOTES:
            pieces.append(f"[{re.escape(_QUOTES)}]?")
        else:
            pieces.append(re.escape(ch))
    glue = r"\s*(?:[のを]\s*)?"
    # A quote is allowed without the の/を glue around it; the glue still allows spaces.
    return re.compile(glue.join(pieces), re.IGNORECASE)


def _strip_prefixes(text: str, start: int) -> tuple[int, tuple[str, ...]]:
    found: list[str] = []
    while True:
        m = _PREFIX.match(text, start)
        if not m or m.end() == start:
            return start, tuple(found)
        word = m.group("ascii") or m.group("ja") or m.group("tag") or ""
        found.append(_PREFIX_NAMES.get(word.lower(), word))
        start = m.end()


_Split = tuple[int | None, int | None, tuple[int, int] | None]


def _blank(text: str) -> bool:
    return not text.strip(_EDGE_JUNK + "　")


def _at_an_edge(text: str, start: int, end: int, body_start: int,
                core: tuple[int, int] | None) -> bool:
    """A marker counts only at the start, the end, or next to the fixed part, never mid-name."""
    if _blank(text[body_start:start]) or _blank(text[end:]):
        return True
    if core is None:
        return False
    return start >= core[1] or (end <= core[0] and _blank(text[end : core[0]]))


def _find_split(text: str, body_start: int, core: tuple[int, int] | None) -> _Split:
    """The first split marker outside the fixed part; returns (part, total, span)."""
    best: tuple[int, int | None, tuple[int, int]] | None = None
    for pattern in _SPLIT:
        for m in pattern.finditer(text, body_start):
            if core and core[0] < m.end() and m.start() < core[1]:
                continue
            if not _at_an_edge(text, m.start(), m.end(), body_start, core):
                continue
            part = int(m.group("part"))
            total_text = m.groupdict().get("total")
            total = int(total_text) if total_text else None
            if part == 0 or (total is not None and not 1 <= part <= total <= 99):
                continue
            if best is None or m.start() < best[2][0]:
                best = (part, total, (m.start(), m.end()))
        if best is not None:
            break
    if best is None:
        return None, None, None
    return best


def _original_slice(original: str, norm: NfkcText, start: int, end: int) -> str:
    if start >= end:
        return ""
    first = norm.origin[start]
    last = norm.origin[end - 1]
    return original[first : last + 1]


# "自動応答: 【受付確認】<ABC>" – words or tags ending in ":" or a closing bracket, then the
# name in the format's own angle brackets.
_LEADING_TAGS = re.compile(
    r"^(?P<tags>(?:[^<>:【】\[\]]{1,20}:\s*|[【\[][^】\]]{1,20}[】\]]\s*)+)"
    r"(?P<name>[<〈《【][^<>〈〉《》【】]+[>〉》】])\s*$"
)


def _split_leading_tags(name: str) -> tuple[str, tuple[str, ...]]:
    """Separate tags a mailer or the applicant put before the bracketed name."""
    norm = nfkc_with_origin(name)
    m = _LEADING_TAGS.match(norm.text)
    if not m:
        return name, ()
    tags = re.findall(r"[^:【】\[\]\s][^:【】\[\]]*?(?=\s*:|\s*[】\]])", m.group("tags"))
    return name[norm.origin[m.start("name")] :], tuple(t.strip() for t in tags)


def _clean_name(raw: str) -> str:
    name = raw.strip().strip(_EDGE_JUNK + "　")
    # Remove one pair of enclosing brackets (the format's delimiters), possibly repeated.
    while len(name) >= 2:
        folded_first = unicodedata.normalize("NFKC", name[0])
        folded_last = unicodedata.normalize("NFKC", name[-1])
        if folded_first in _OPEN and folded_last in _CLOSE:
            name = name[1:-1].strip().strip("　")
        else:
            break
    return name


def _fail(reason: str, prefixes: tuple[str, ...] = (), part: int | None = None,
          total: int | None = None) -> SubjectInfo:
    return SubjectInfo(False, None, None, part, total, prefixes, reason)


def parse_subject(subject: str, core: str) -> SubjectInfo:
    """Read `subject` against the fixed part `core` (Program.subject_core)."""
    try:
        return _parse(subject or "", core)
    except Exception as exc:  # a parser never raises: the subject becomes a finding
        return _fail(f"件名を読み取れませんでした({type(exc).__name__})")


def _parse(subject: str, core: str) -> SubjectInfo:
    original = subject[:_MAX_SUBJECT].replace("\r", " ").replace("\n", " ")
    if not original.strip():
        return _fail("件名がありません。")
    norm = nfkc_with_origin(original)
    text = norm.text
    body_start, prefixes = _strip_prefixes(text, 0)

    core_match = _core_regex(core).search(text, body_start)
    core_span = (core_match.start(), core_match.end()) if core_match else None
    part, total, split_span = _find_split(text, body_start, core_span)
    if split_span and split_span[0] == body_start:
        # A marker first ("(1/2)ABCコンソーシアム…") and perhaps prefixes after it ("(2/2)Re:").
        body_start, more = _strip_prefixes(text, split_span[1])
        prefixes += more
    if core_match is None:
        return _fail(_missing_core_reason(text, core), prefixes, part, total)

    before = _outside_split(original, norm, body_start, core_match.start(), split_span)
    after = _outside_split(original, norm, core_match.end(), len(text), split_span)
    name, trailing = (before, after) if before.strip(_EDGE_JUNK + "　") else (after, "")
    if _QUESTION.search(unicodedata.normalize("NFKC", trailing)):
        return _fail("件名が応募書類の送付ではなく、お問い合わせのように読めます。", prefixes,
                     part, total)
    name, noise = _split_leading_tags(name.strip())
    prefixes += noise
    name = _clean_name(name)
    key = consortium_key(name)
    if not key:
        return _fail("件名にコンソーシアム名がありません。", prefixes, part, total)
    if key in _PLACEHOLDER:
        return _fail("件名のコンソーシアム名が「コンソーシアム名」のままです。", prefixes, part,
                     total)
    return SubjectInfo(True, name, key, part, total, prefixes, None)


def _outside_split(original: str, norm: NfkcText, start: int, end: int,
                   split_span: tuple[int, int] | None) -> str:
    """Original text of norm[start:end] with the split marker cut out."""
    if split_span is None or split_span[1] <= start or split_span[0] >= end:
        return _original_slice(original, norm, start, end)
    left = _original_slice(original, norm, start, max(start, split_span[0]))
    right = _original_slice(original, norm, min(end, split_span[1]), end)
    return left + right  # the marker sits at an edge, so one side is blank


def _missing_core_reason(text: str, core: str) -> str:
    """Say whether the subsidy name is there at all, so the applicant knows what to correct."""
    quoted = re.search(r"[「『\"“](.+?)[」』\"”]", core)
    name = quoted.group(1) if quoted else core
    if consortium_key(name) in consortium_key(text):
        return f"件名の年度または「応募書類送付」の部分が指定の形式「{core}」と異なります。"
    return f"件名に定型部分「{core}」が見当たりません。"
