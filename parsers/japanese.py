"""Whether text read from unlabelled bytes is real Japanese: kana, common kanji, full-width forms."""

from __future__ import annotations

import re
import unicodedata

from parsers.kanawords import known_katakana

# One character inside a Latin word: a DOS name's accented letter read as a CP932 lead byte
# that swallowed the next letter (Müller -> M〕ler, Crème -> Cr確e). Japanese names rarely put
# a lone kanji between two Latin letters (ITベンダA社 has three, and stays Japanese).
_INSIDE_LATIN_WORD = re.compile(r"[A-Za-z][^\x00-\x7f][A-Za-z]")


def japanese_score(text: str) -> int:
    """How much of a text is ordinary full-width Japanese (kana, CJK punctuation, full-width
    forms). EUC-JP bytes read as CP932 turn into half-width katakana and stray kanji, never
    hiragana, so this tells the two apart when both decode."""
    return sum(
        1 for c in text
        if "\u3000" <= c <= "\u30ff" or "\uff01" <= c <= "\uff5e"
    )


def jis_level1_kanji(ch: str) -> bool:
    """A kanji of JIS X 0208 level 1 (the 2,965 common ones; level 2 holds the rarer)."""
    try:
        code = int.from_bytes(ch.encode("cp932"), "big")
    except UnicodeEncodeError:
        return False
    return 0x889F <= code <= 0x9872


def reads_as_japanese(text: str) -> bool:
    """Whether a CP932 decoding is real Japanese rather than another 8-bit code page.

    KOI8-R, CP1250 and GBK bytes often decode "successfully" as CP932: into half-width
    katakana (single bytes 0xA1-0xDF) or rare JIS level-2 kanji. Real names use kana,
    level-1 kanji, full-width forms or circled digits; so: no control or private-use
    characters, no half-width katakana mixed into or standing in for such text, and common
    characters at least as frequent as rare ones, and none inside a Latin word.
    """
    if _INSIDE_LATIN_WORD.search(text):
        return False
    common = rare = halfwidth = 0
    for ch in text:
        if ord(ch) < 0x80:
            if ch.isprintable():
                continue
            return False
        category = unicodedata.category(ch)
        if category in ("Cc", "Co", "Cn", "Cs"):
            return False
        if "\uff61" <= ch <= "\uff9f":
            halfwidth += 1
        elif _is_common_japanese(ch):
            common += 1
        else:
            rare += 1
    if halfwidth:
        return False
    return common > 0 and common >= rare


def _is_common_japanese(ch: str) -> bool:
    if "\u3000" <= ch <= "\u30ff" or "\uff01" <= ch <= "\uff5e":
        return True  # CJK punctuation, hiragana, katakana, full-width ASCII
    # JIS level-1 kanji, and NEC row 13 (①, ㈱, Roman numerals) that Japanese offices use.
    if jis_level1_kanji(ch):
        return True
    try:
        code = int.from_bytes(ch.encode("cp932"), "big")
    except UnicodeEncodeError:
        return False
    return 0x8740 <= code <= 0x879C


# The kanji of everyday Japanese text: those taught in the first four school years (学年別漢字
# 配当表), and the common ones of names, places and business mail past them. A prior, as the
# character-frequency tables of charset detectors are: EUC-JP text is kanji most often drawn
# from here, the EUC-JP reading of other bytes falls here one time in four.
_EVERYDAY_KANJI = frozenset(
    # first school year
    "一右雨円王音下火花貝学気九休玉金空月犬見五口校左三山子四糸字耳七車手十出女小上森人水正生"
    "青夕石赤千川先早草足村大男竹中虫町天田土二日入年白八百文木本名目立力林六"
    # second
    "引羽雲園遠何科夏家歌画回会海絵外角楽活間丸岩顔汽記帰弓牛魚京強教近兄形計元言原戸古午後語"
    "工公広交光考行高黄合谷国黒今才細作算止市矢姉思紙寺自時室社弱首秋週春書少場色食心新親図数"
    "西声星晴切雪船線前組走多太体台地池知茶昼長鳥朝直通弟店点電刀冬当東答頭同道読内南肉馬売買"
    "麦半番父風分聞米歩母方北毎妹万明鳴毛門夜野友用曜来里理話"
    # third
    "悪安暗医委意育員院飲運泳駅央横屋温化荷界開階寒感漢館岸起期客究急級宮球去橋業曲局銀区苦具"
    "君係軽血決研県庫湖向幸港号根祭皿仕死使始指歯詩次事持式実写者主守取酒受州拾終習集住重宿所"
    "暑助昭消商章勝乗植申身神真深進世整昔全相送想息速族他打対待代第題炭短談着注柱丁帳調追定庭"
    "笛鉄転都度投豆島湯登等動童農波配倍箱畑発反坂板皮悲美鼻筆氷表秒病品負部服福物平返勉放味命"
    "面問役薬由油有遊予羊洋葉陽様落流旅両緑礼列練路和"
    # fourth
    "愛案以衣位茨印英栄媛塩岡億加果貨課芽賀改械害街各覚潟完官管関観願岐希季旗器機議求泣給挙漁"
    "共協鏡競極熊訓軍郡群径景芸欠結建健験固功好香候康佐差菜最埼材崎昨札刷察参産散残氏司試児治"
    "滋辞鹿失借種周祝順初松笑唱焼照城縄臣信井成省清静席積折節説浅戦選然争倉巣束側続卒孫帯隊達"
    "単置仲沖兆低底的典伝徒努灯働特徳栃奈梨熱念敗梅博阪飯飛必票標不夫付府阜富副兵別辺変便包法"
    "望牧末満未民無約勇要養浴利陸良料量輪類令冷例連老労録"
    # surnames and places
    "藤鈴渡伊斎菊荒辻浜堀桑柴沢澤瀬浦江奥沼若須増黒織桜樋脇栗杉菅阿谷尾吉久保永秋星川宮"
    # given names
    "郎美恵優翔誠裕隆浩樹彦雄也介輔香沙結咲片"
    # business mail
    "請求提出確認承諾担務資格件証判届募応際義許可制規則状況態準備製造設営販輸職財政構技術統総"
    "程査審因経済賃益損額余預株締報告契約税補助費領収支援携貴殿御拝啓敬具宛先送付添依頼"
)

_DAKUTEN_BASES = frozenset("ｳｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎ")
_HANDAKUTEN_BASES = frozenset("ﾊﾋﾌﾍﾎ")
# The syllables (kana, or kana and voicing mark) each small kana is written after.
_I_ROW = "ｷ ｼ ﾁ ﾆ ﾋ ﾐ ﾘ ｷﾞ ｼﾞ ﾁﾞ ﾋﾞ ﾋﾟ ﾃﾞ ﾌ"
_SMALL_AFTER = {
    "ｧ": frozenset(["ﾌ", "ﾂ", "ｸ", "ｸﾞ", "ｳﾞ"]),
    "ｨ": frozenset(["ﾃ", "ﾃﾞ", "ﾌ", "ｳ", "ﾂ", "ｽ", "ｽﾞ", "ｸ", "ｳﾞ"]),
    "ｩ": frozenset(["ﾄ", "ﾄﾞ", "ﾌ", "ｳﾞ"]),
    "ｪ": frozenset(["ｼ", "ｼﾞ", "ﾁ", "ﾌ", "ｳ", "ﾂ", "ｲ", "ｷ", "ﾆ", "ﾋ", "ｳﾞ"]),
    "ｫ": frozenset(["ﾌ", "ｳ", "ﾂ", "ｸ", "ｳﾞ"]),
    "ｬ": frozenset(_I_ROW.split()),
    "ｭ": frozenset(_I_ROW.split()),
    "ｮ": frozenset(_I_ROW.split()),
}
_AFTER_ANY_KANA = frozenset("ｯｰ")  # also after a small one: ﾁｪｯｸ ｼｮｰ


def reads_as_halfwidth_japanese(text: str) -> bool:
    """Whether a CP932 decoding holding half-width katakana is a Japanese name (ｼﾝｾｲｼｮ.xlsx,
    as Explorer and 7-Zip on Japanese Windows write it) rather than another code page's bytes.

    Asked after `reads_as_japanese` and after the Cyrillic guess (KOI8-R lowercase and CP1251
    capitals fall on the same bytes). The kana must be well formed (`_halfwidth_ill_formed`), and
    one of them must come from bytes 0xA8-0xDF, which cp437 shows as symbols and box drawing,
    never in a real name: a Western DOS name's accented letters (á í ó ú ñ Ñ ª º, bytes 0xA0-0xA7;
    é ü ö ä at 0x80-0x9F are CP932 lead bytes) keep cp437. A GBK name whose bytes all fall in
    0xA1-0xDF reads as half-width katakana here, as it does in Explorer on Japanese Windows.
    """
    if _INSIDE_LATIN_WORD.search(text):
        return False
    if _halfwidth_ill_formed(text):
        return False
    common = rare = 0
    beyond_latin = False
    for ch in text:
        if ord(ch) < 0x80:
            if not ch.isprintable():
                return False
        elif _is_halfwidth(ch):
            beyond_latin = beyond_latin or ch >= "\uff68"
        elif unicodedata.category(ch) in ("Cc", "Co", "Cn", "Cs"):
            return False
        elif _is_common_japanese(ch):
            common += 1
        else:
            rare += 1
    return beyond_latin and rare <= common


def misread_as_cp932(text: str) -> bool:
    """Whether a CP932 reading bears the marks of EUC-JP bytes: half-width katakana touching a
    kanji or full-width character, or ill-formed (a voicing mark or small kana after a kana
    that takes none). CP932 text that is also valid EUC-JP has no hiragana and no level-1
    kanji (their lead bytes 0x81-0x9F are not EUC-JP), so what is left in contest is
    half-width katakana among ASCII, which this leaves to CP932."""
    if _halfwidth_ill_formed(text):
        return True
    return any((_is_halfwidth(a) and _is_wide(b)) or (_is_wide(a) and _is_halfwidth(b))
               for a, b in zip(text, text[1:], strict=False))


def jis_x0208_only(text: str) -> bool:
    """Whether every non-ASCII character is a JIS X 0208 one (kanji of level 1 or 2, kana,
    full-width forms): what EUC-JP text reads as, with no half-width katakana."""
    for ch in text:
        if ord(ch) < 0x80:
            continue
        if _is_halfwidth(ch):
            return False
        try:
            if len(ch.encode("cp932")) != 2:
                return False
        except UnicodeEncodeError:
            return False
    return True


def _is_halfwidth(ch: str) -> bool:
    return "\uff61" <= ch <= "\uff9f"


def _is_wide(ch: str) -> bool:
    return ch >= "\x80" and not _is_halfwidth(ch)


def _halfwidth_ill_formed(text: str) -> bool:
    """Half-width katakana no Japanese writer produces: a voicing mark after a kana that takes
    none, a small kana after a syllable it never follows (ﾌｧ ｼｮ ﾃｨ are fine, ﾄｪ ｶｮ are not),
    ｯ or ｰ not after a kana, a ｣ with no ｢ before it or a ｢ never closed."""
    open_quotes = 0
    for i, ch in enumerate(text):
        previous = text[i - 1] if i else ""
        if ch == "ﾞ":
            bad = previous not in _DAKUTEN_BASES
        elif ch == "ﾟ":
            bad = previous not in _HANDAKUTEN_BASES
        elif ch in _SMALL_AFTER:
            syllable = text[max(0, i - 2) : i] if previous in "ﾞﾟ" else previous
            bad = syllable not in _SMALL_AFTER[ch]
        elif ch in _AFTER_ANY_KANA:
            bad = not "\uff66" <= previous <= "\uff9f"
        elif ch == "｣":
            open_quotes -= 1
            bad = open_quotes < 0
        else:
            open_quotes += ch == "｢"
            bad = False
        if bad:
            return True
    return open_quotes > 0


def everyday_kanji_only(text: str) -> bool:
    """Whether a reading has kanji and all of them are everyday ones (the list above). EUC-JP
    bytes of real kanji text read so; the EUC-JP reading of half-width katakana falls on
    kanji spread evenly over JIS level 1 and 2, three in four of them outside the list."""
    kanji = [ch for ch in text if ord(ch) >= 0x80]
    return bool(kanji) and all(ch in _EVERYDAY_KANJI for ch in kanji)


def voiced_kana(text: str) -> bool:
    """Whether a reading has a half-width voicing mark (ﾀﾞ ﾊﾟ): the sign of a half-width
    katakana writer, since EUC-JP puts those bytes only at the end of a row's kanji."""
    return "ﾞ" in text or "ﾟ" in text


def katakana_marks(text: str) -> bool:
    """Whether half-width katakana has what only a katakana writer puts there: a voicing mark,
    the long-vowel bar, a small kana (ﾃﾞｰﾀ ﾁｪｯｸ). Other code pages' bytes read as half-width
    katakana make plain kana; these marks need the kana before them to be well formed."""
    return any(ch in "ﾞﾟｰｯｧｨｩｪｫｬｭｮ" for ch in text)


def euc_halfwidth(text: str, least: int = 3) -> bool:
    """Whether an EUC-JP reading holds well-formed half-width katakana (SS2 0x8E + byte), at
    least `least` of them. CP932 reads those byte pairs as kanji of the one lead byte 0x8E (実
    写 社 者 車 ...) and nothing else, so a CP932 name can look the same only when all its kanji
    come from that one row; two (実写 = ﾀｶ) is a real chance, three in a row is not."""
    return sum(1 for ch in text if _is_halfwidth(ch)) >= least and not _halfwidth_ill_formed(text)


def euc_reads_better(as_sjis: str, as_euc: str, windows_first: bool = False) -> bool:
    """Whether bytes that decode both as CP932 and as EUC-JP are EUC-JP.

    EUC-JP bytes read as CP932 turn into half-width katakana and stray kanji, never hiragana,
    so the reading with more kana wins. Kanji alone (no kana to count) are EUC-JP when that
    reading is plain JIS X 0208 and the CP932 one has half-width katakana glued to kanji or
    ill-formed, or when the EUC-JP kanji are all everyday ones and the CP932 reading has no
    voicing mark: the well-formed half-width katakana CP932 makes of 山田太郎 (ｻｳﾅﾄﾂﾀﾏｺ) is
    rarer than 山田太郎, while ﾀﾞ (折 in EUC-JP) is a half-width writer's. Half-width katakana
    of EUC-JP (SS2) reads as CP932 kanji of one row only (`euc_halfwidth`).

    Half-width katakana made of common names and words (ﾀｶﾊｼ, ｼﾝｾｲｼｮ: `known_katakana`) stays
    CP932 whatever the EUC-JP kanji. `windows_first` is for names that Japanese Windows most
    likely wrote (zip members): two everyday kanji against four other well-formed half-width
    katakana (山田 / ｻｳﾅﾄ) are a real tie that only a fuller dictionary could settle, and
    Windows then wins; three kanji or more are EUC-JP all the same. Mail text keeps EUC-JP in
    that tie: raw 8-bit headers come from Unix scripts far more often than from Windows ones.
    """
    if japanese_score(as_euc) > japanese_score(as_sjis):
        return True
    if japanese_score(as_sjis) == 0 and euc_halfwidth(as_euc) and jis_x0208_only(as_sjis):
        return True
    if not jis_x0208_only(as_euc):
        return False
    if misread_as_cp932(as_sjis):
        return True
    kanji = sum(1 for ch in as_euc if ord(ch) >= 0x80)
    return (everyday_kanji_only(as_euc) and not voiced_kana(as_sjis)
            and (kanji >= 3 or not windows_first) and not known_katakana(as_sjis))


_KANA_BY_LATIN = re.compile(r"[A-Za-z][\uff61-\uff9f]|[\uff61-\uff9f][A-Za-z]")


def halfwidth_katakana_text(text: str) -> bool:
    """Whether every non-ASCII character is half-width katakana, well formed, and none of it
    touching a Latin letter (niño and über in UTF-8 read as niﾃｱo and ﾃｼber in CP932)."""
    wide = [ch for ch in text if ord(ch) >= 0x80]
    return (bool(wide) and all(_is_halfwidth(ch) for ch in wide)
            and not _halfwidth_ill_formed(text) and not _KANA_BY_LATIN.search(text))
