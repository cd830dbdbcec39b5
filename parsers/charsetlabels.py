"""Mail charset labels mapped to the Python codec that reads what the sender's software wrote."""

from __future__ import annotations

import encodings

from parsers.jiscodecs import MS_EUC, MS_JIS, search_codec

# Mail charset labels -> the codec that reads what the senders' software actually wrote.
_LABELS: dict[str, str] = {
    MS_JIS: "iso-2022-jp iso2022jp iso-2022-jp-1 iso-2022-jp-2 iso-2022-jp-3 iso-2022-jp-2004 "
    "iso-2022-jp-ms csiso2022jp csiso2022jp2 jis jis7 x-jis cp50220 cp50221 cp50222",
    "cp932": "shift-jis sjis x-sjis shift-jis-ms ms932 windows-31j cp932 ms-kanji csshiftjis "
    "cswindows31j x-ms-cp932 sjis-win sjis-open sjis-ms ibm-943 ibm943 x-mac-japanese",
    MS_EUC: "euc-jp eucjp x-euc-jp ujis x-euc cseucpkdfmtjapanese eucjp-ms euc-jp-ms eucjp-win "
    "eucjp-open cp51932",
    "shift_jis_2004": "shift-jisx0213 shift-jis-2004 sjis-2004",
    "euc_jis_2004": "euc-jisx0213 euc-jis-2004",
    "utf-8": "utf8 utf-8 unicode-1-1-utf-8 x-unicode20utf8",
    "utf-7": "utf7 utf-7 unicode-1-1-utf-7 x-unicode20utf7",
    "ascii": "us-ascii ascii ansi-x3.4-1968 iso646-us us",
    "gb18030": "gb2312 gbk x-gbk cp936 euc-cn csgb2312",
    "cp949": "ks-c-5601-1987 ks-c-5601 ksc5601 euc-kr cseuckr cp949",
    # WHATWG labels Python lacks: -i/-e mark logical/explicit bidi order, the bytes are the same.
    "iso8859_8": "iso-8859-8-i iso-8859-8-e csiso88598i csiso88598e logical visual",
    "iso8859_6": "iso-8859-6-i iso-8859-6-e csiso88596i csiso88596e",
    "cp874": "windows-874 dos-874",
    "koi8_r": "koi koi8",
    "koi8_u": "koi8-ru",
    "mac_cyrillic": "x-mac-ukrainian",
    "big5": "cn-big5 x-x-big5",
    "iso8859_15": "csisolatin9",
}
_ALIASES = {label: codec for codec, labels in _LABELS.items() for label in labels.split()}
# Python codecs that are not charsets a mail could be written in.
_NOT_MAIL_CHARSETS = {"undefined", "idna", "punycode", "raw-unicode-escape", "unicode-escape",
                      "mbcs", "oem", "charmap"}


def charset_label(declared: str) -> str:
    label = declared.strip().strip("\"'").strip().rstrip(";").strip().lower()
    return label.split("*", 1)[0].replace("_", "-")  # RFC 2231 language suffix: "utf-8*ja"


def codec_for(declared: str | None) -> str | None:
    """The Python codec to read a declared charset with; None for unknown/bogus labels."""
    if not declared:
        return None
    label = charset_label(declared)
    if label in _ALIASES:
        return _ALIASES[label]
    if label.startswith("x-") and (plain := codec_for(label[2:])):
        # Python's own codec first: other packages (extract-msg) register "x-..." variants of
        # their own, and the reading must not depend on what happened to be imported.
        return plain
    try:
        # The standard library's own codecs only: a package may register a codec under a
        # label Python lacks (extract-msg: "x-mac-cyrillic", "windows-874", ...) that reads
        # bytes differently, and only once it is imported (by the first .msg attachment), so
        # the same mail would read differently depending on what the process saw before.
        info = encodings.search_function(label) or search_codec(label)  # ours: see parsers.jiscodecs
    except (LookupError, ValueError):  # ValueError: labels with NUL bytes
        info = None
    if info is None:
        if not label.startswith("x-"):
            return None
        return codec_for(label[2:])  # "x-mac-cyrillic" and friends
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return None  # "base64", "rot13", "zlib"... are codecs, not charsets
    return info.name
