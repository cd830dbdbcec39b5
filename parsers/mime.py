"""Raw mail bytes into a MessageRecord: decoded headers, body text and attachments.

Parsing uses the compat32 policy so that raw header values reach our own Japanese-aware
decoders (parsers.textcodec, headerdecode, partnames) instead of the standard library's guesses.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import errors
from email.feedparser import BytesFeedParser
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32

from parsers.headblock import HEAD_CUT, bounded_head, head_bounds, split_head, split_head_sep
from parsers.headerdecode import decode_header
from parsers.limits import Limits
from parsers.partnames import part_filename
from parsers.textcodec import decode_bytes
from parsers.uuencode import split_uuencoded


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class MessageRecord:
    subject: str
    from_addr: str | None
    from_name: str
    to: tuple[str, ...]
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date_header: str | None
    date: datetime | None
    return_path: str | None
    content_type: str
    headers: tuple[tuple[str, str], ...]
    body: str
    attachments: tuple[Attachment, ...]
    problems: tuple[str, ...] = field(default=())
    parts_cut: int | None = None  # the mail had more MIME parts than this: the rest is unread


_FEED_CHUNK = 64 * 1024


def message_from_bytes(raw: bytes) -> Message:
    """`email.message_from_bytes`, fed in pieces: the standard library's own path decodes the
    whole mail into one string and copies it into a StringIO of 4 bytes per character, which
    made a 40 MB mail peak at over 400 MB; fed in pieces it never exists whole as text."""
    parser = BytesFeedParser(policy=compat32)
    view = memoryview(raw)
    line = 0  # bytes since the last line break
    for start in range(0, len(view), _FEED_CHUNK):
        chunk = bytes(view[start:start + _FEED_CHUNK])
        parser.feed(chunk)
        last = chunk.rfind(b"\n")
        line = line + len(chunk) if last == -1 else len(chunk) - last - 1
        if line >= _MAX_LINE:
            # The parser joins a line before splitting it, holding 8-bit text as str of two
            # bytes a character several times over (a 39 MB line: ~390 MB). No mail line is
            # that long (RFC 5322: 998 octets; base64 and quoted-printable wrap at 76).
            parser.feed(b"\n")
            line = 0
    return parser.close()


_MAX_LINE = 1 << 20


def message_within(raw: bytes, max_lines: int = Limits.max_mail_lines) -> Message:
    """`message_from_bytes` of the mail's first `max_lines` lines only: the parser's memory goes
    with the lines of a mail (each is an object of its own), not with its bytes."""
    cut = _line_cut(raw, max_lines)
    return message_from_bytes(raw if cut is None else raw[:cut])


def parse_message(raw: bytes, *, max_parts: int | None = None,
                  max_lines: int = Limits.max_mail_lines) -> MessageRecord:
    """`max_parts`: read only the first that many MIME parts (a mail of 100,000 tiny parts
    costs the parser seconds and hundreds of MB); `parts_cut` says when the rest was left.
    `max_lines`: read only the first that many lines (the parser's cost is per line)."""
    head, sep, body = split_head_sep(raw)
    bounded = bounded_head(head)
    if bounded is not head:
        raw = bounded + sep + body
    cut = _part_cut(raw, max_parts)
    line_cut = _line_cut(raw, max_lines)
    if line_cut is not None and (cut is None or line_cut < cut):
        cut = None
        raw = raw[:line_cut]
    msg = message_from_bytes(raw if cut is None else raw[:cut])
    problems: list[str] = [f"MIME: {defect_text(d)}" for d in msg.defects]
    if bounded is not head:
        problems.append(f"ヘッダー: {HEAD_CUT}")
    if cut is not None:
        problems.append(f"MIME: パートが {max_parts} 個を超えるため、以降は読んでいません")
    if line_cut is not None and cut is None:
        problems.append(f"MIME: 行数が {max_lines:,} 行を超えるため、以降は読んでいません")
    headers: list[tuple[str, str]] = []
    raw_values: dict[str, str] = {}
    for name, value in msg.raw_items():
        decoded = decode_header(value)
        if decoded.problem:
            problems.append(f"{name}: {decoded.problem}")
        headers.append((name, decoded.text.strip()))  # folding leaves edge whitespace
        raw_values.setdefault(name.lower(), str(value))
    lookup = {name.lower(): value for name, value in reversed(headers)}  # first wins

    # Addresses come from the raw header, never from decoded text: an encoded word is only
    # ever a display name (`=?utf-8?b?<victim@…>?= <attacker@…>` is from the attacker).
    from_name, from_addr = _parseaddr(raw_values.get("from", ""), "From", problems)
    to = tuple(addr for _, addr in _addresses(raw_values.get("to", ""), "To", problems) if addr)
    body, attachments = _walk(msg, problems)
    return MessageRecord(
        subject=lookup.get("subject", ""),
        from_addr=from_addr.lower() or None,
        from_name=from_name,
        to=to,
        message_id=_msgid(lookup.get("message-id")),
        in_reply_to=_msgid(lookup.get("in-reply-to")),
        references=tuple(lookup.get("references", "").split()),
        date_header=lookup.get("date"),
        date=parse_date(lookup.get("date")),
        return_path=_return_path(raw_values.get("return-path"), problems),
        content_type=msg.get_content_type(),
        headers=tuple(headers),
        body=body,
        attachments=tuple(attachments),
        problems=tuple(problems),
        parts_cut=max_parts if cut is not None else None,
    )


# What staff read about a mail the standard library found malformed (its class name kept after).
_DEFECTS = {
    "CloseBoundaryNotFoundDefect": "マルチパートの終わりの区切り行がありません",
    "StartBoundaryNotFoundDefect": "マルチパートの区切り行が見つかりません",
    "NoBoundaryInMultipartDefect": "マルチパートに区切り(boundary)の指定がありません",
    "MultipartInvariantViolationDefect": "マルチパートの構造が壊れています",
    "FirstHeaderLineIsContinuationDefect": "最初のヘッダー行が継続行です",
    "MissingHeaderBodySeparatorDefect": "ヘッダーと本文の間の空行がありません",
    "MisplacedEnvelopeHeaderDefect": "ヘッダーの途中に From 行があります",
    "InvalidMultipartContentTransferEncodingDefect": "マルチパートの転送エンコーディングが不正です",
}


def defect_text(defect: object) -> str:
    name = type(defect).__name__
    return f"{_DEFECTS[name]}({name})" if name in _DEFECTS else name


_DELIMITER = re.compile(rb"\n--")


def _line_cut(raw: bytes, max_lines: int) -> int | None:
    """Where the (max_lines + 1)-th line starts, or None when the mail has no more lines."""
    if raw.count(b"\n") <= max_lines:
        return None
    at = -1
    for _ in range(max_lines):
        at = raw.find(b"\n", at + 1)
    return at + 1


def _part_cut(raw: bytes, max_parts: int | None) -> int | None:
    """Where the (max_parts + 1)-th line beginning with "--" starts (every MIME part begins
    with one; a text line may too, so this errs on reading fewer), or None when there is none."""
    if max_parts is None:
        return None
    for count, match in enumerate(_DELIMITER.finditer(raw)):
        if count >= max_parts:
            return match.start() + 1
    return None


def message_id_of(raw: bytes) -> str | None:
    """The Message-ID alone, cheaply, for recognising a mail before it is fully parsed."""
    head = bounded_head(split_head(raw)[0])
    return _msgid(message_from_bytes(head + b"\n\n").get("Message-ID"))


@dataclass(frozen=True)
class Envelope:
    """What is read from a mail's header block before the mail is parsed, in one pass."""

    message_id: str | None
    received: datetime | None  # the topmost Received: date: when our server took the mail
    date: datetime | None  # the sender's Date:
    content_key: str  # see content_key()


def envelope(raw: bytes) -> Envelope:
    head_end, start = head_bounds(raw)
    # Headers only: a full parse of a multipart header block compiles a regular expression
    # for its boundary, which cost more than the rest of the envelope.
    msg = _HEADER_PARSER.parsebytes(bounded_head(raw[:head_end]).replace(b"\r\n", b"\n") + b"\n\n")
    # What the sender wrote: the body and the sender's own identifying headers, line ends
    # normalised, without the trace headers each server adds on the way. The same mail read
    # from IMAP and from a Maildir file has one key; two mails that reuse a Message-ID (some
    # mailers do) have two.
    digest = hashlib.sha256()
    for name in ("Message-ID", "Date", "From", "Subject"):
        digest.update(name.encode() + b":" + " ".join(str(msg.get(name, "")).split()).encode(
            "utf-8", "surrogateescape") + b"\n")
    # The body without its trailing line ends, CRLF read as LF, in pieces of about 1 MB (a
    # mail may be 40 MB): each piece ends after a LF, so no CRLF is ever cut in two.
    end = len(raw)
    while end > start and raw[end - 1] in b"\r\n":
        end -= 1
    while start < end:
        stop = raw.find(b"\n", start + (1 << 20), end)
        stop = end if stop == -1 else stop + 1
        piece = raw[start:stop]
        # Without a lone CR, deleting every CR is the same as CRLF -> LF, and much cheaper.
        if _LONE_CR.search(raw, start, stop) is None:
            digest.update(piece.translate(None, b"\r"))
        else:
            digest.update(piece.replace(b"\r\n", b"\n"))
        start = stop
    return Envelope(_msgid(msg.get("Message-ID")), _topmost_received(msg),
                    parse_date(msg.get("Date")), digest.hexdigest())


_HEADER_PARSER = BytesHeaderParser(policy=compat32)
_LONE_CR = re.compile(rb"\r(?!\n)")


def content_key(raw: bytes) -> str:
    return envelope(raw).content_key


def received_time(raw: bytes) -> datetime | None:
    return envelope(raw).received


def _topmost_received(msg: Message) -> datetime | None:
    for value in msg.get_all("Received", []):
        text = str(value)
        if ";" in text:
            moment = parse_date(text.rsplit(";", 1)[1])
            if moment is not None:
                return moment
    return None


def parse_date(value: object) -> datetime | None:
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(" ".join(str(value).split()))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo else None  # a date with no zone cannot judge a deadline


# A mail's own text is read this far: the sender block and the password sit at its top, and
# decoding a 39 MB text part (with every guess of its charset) peaked at over 400 MB.
_MAX_TEXT_PART = 4 << 20
_TEXT_CUT = f"本文が大きすぎるため、先頭 {_MAX_TEXT_PART >> 20} MB だけを読んでいます"


def _walk(msg: Message, problems: list[str]) -> tuple[str, list[Attachment]]:
    texts: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype.startswith("multipart/"):
            # No boundary, so its parts cannot be told apart: it is read as the text it is
            # (the sender block is still found), not filed as a nameless attachment.
            ctype = "text/plain"
        name = part_filename(part)
        disposition = str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        payload = _payload(part, problems)
        if name is not None or disposition == "attachment" or not ctype.startswith("text/"):
            if name is not None and name.problem:
                problems.append(f"attachment name: {name.problem}")
            label = name.text if name is not None else f"(名前なし).{ctype.split('/')[-1]}"
            attachments.append(Attachment(label, ctype, payload))
            continue
        if ctype == "text/plain":
            payload = _uuencoded(payload, part.get_content_charset(), attachments, problems)
        if len(payload) > _MAX_TEXT_PART:
            payload = payload[:_MAX_TEXT_PART]
            problems.append(f"{ctype}: {_TEXT_CUT}")
        decoded = decode_bytes(payload, part.get_content_charset())
        if decoded.problem:
            problems.append(f"{ctype}: {decoded.problem}")
        (texts if ctype == "text/plain" else html).append(decoded.text)
    body = "\n".join(texts) if texts else _strip_html("\n".join(html))
    # A NUL is never text: some broken mailers pad with them, and they hide the labels.
    return body.replace("\r\n", "\n").replace("\x00", ""), attachments


def _uuencoded(payload: bytes, charset: str | None, attachments: list[Attachment],
               problems: list[str]) -> bytes:
    """Files uuencoded in the text (old Japanese mailers) become attachments like MIME ones;
    the text is left without them."""
    text, files, note = split_uuencoded(payload)
    for index, uu in enumerate(files):
        name = decode_bytes(uu.name, charset).text.strip() or f"(名前なし){index + 1}.dat"
        # uuencode carries no type; the readers sniff the bytes, as for any attachment.
        attachments.append(Attachment(name, "application/octet-stream", uu.data))
        if uu.problem:
            problems.append(f"uuencode: 「{name}」{uu.problem}")
    if note:
        problems.append(f"uuencode: {note}")
    return text


def _payload(part: Message, problems: list[str]) -> bytes:
    if (large := _large_base64(part)) is not None:
        return large
    seen = len(part.defects)
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:  # compat32 decoders are lenient; this is the last guard
        problems.append(f"payload: {exc}")
        return b""
    # Decoding notes damage on the part itself (not on the message): record it for staff.
    found = part.defects[seen:]
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower() or "7bit"
    for defect in found:
        problems.append(f"{part.get_content_type()}: {cte} の符号化が壊れています"
                        f"({type(defect).__name__})")
    if isinstance(data, bytes) and any(isinstance(d, errors.InvalidBase64LengthDefect)
                                       for d in found):
        # compat32 then hands back the undecoded base64 text; the whole quanta still decode.
        data = _base64_whole_quanta(data)
    if isinstance(data, bytes):
        return data
    return b""


_LARGE_PAYLOAD = 1024 * 1024


def _large_base64(part: Message) -> bytes | None:
    """A large, well-formed base64 body decoded straight from its text. compat32 first copies
    it to bytes, splits it into lines and joins them again: three more copies of a 30 MB
    attachment at once. Anything unusual (bad padding, stray characters) takes that path."""
    if str(part.get("Content-Transfer-Encoding", "")).strip().lower() != "base64":
        return None
    try:
        text = part.get_payload()
    except (LookupError, UnicodeError):  # 8-bit bytes under an odd charset: not base64 at all
        return None
    if not isinstance(text, str) or len(text) < _LARGE_PAYLOAD:
        return None
    if not _CLEAN_BASE64.fullmatch(text) or (
            len(text) - text.count("\r") - text.count("\n")) % 4:
        return None  # damaged: the standard path notes each defect for staff
    return binascii.a2b_base64(text)


_CLEAN_BASE64 = re.compile(r"[A-Za-z0-9+/\r\n]*(?:={1,2}[\r\n]*)?")


def _base64_whole_quanta(text: bytes) -> bytes:
    clean = re.sub(rb"[^A-Za-z0-9+/]", b"", text)
    return base64.b64decode(clean[: len(clean) // 4 * 4])


# Linear in the length of the text: a tag never spans another "<", and a script runs to its own
# end tag (patterns such as `<[^>]+>` scan to the end of the text from every "<" that is never
# closed: 40 KB of "<" took 2 s, a 1 MB HTML part hours).
_SCRIPT_START = re.compile(r"(?i)<(script|style)\b")
_SCRIPT_END = {"script": re.compile(r"(?i)</script\s*>"), "style": re.compile(r"(?i)</style\s*>")}
_TAG = re.compile(r"<[^<>]*>")


def _strip_html(text: str) -> str:
    import html

    kept: list[str] = []
    pos = 0
    while (start := _SCRIPT_START.search(text, pos)) is not None:
        kept.append(text[pos:start.start()])
        end = _SCRIPT_END[start.group(1).lower()].search(text, start.end())
        pos = len(text) if end is None else end.end()
    kept.append(text[pos:])
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", "".join(kept))
    return html.unescape(_TAG.sub("", text))


def _msgid(value: object) -> str | None:
    if not value:
        return None
    text = str(value).strip()
    return text.split()[0] if text else None


def _return_path(value: str | None, problems: list[str]) -> str | None:
    if value is None:
        return None
    # Unreadable reads as empty, like `<>`: a mail we cannot answer is never auto-answered.
    return _parseaddr(value, "Return-Path", problems)[1] or ""


def _parseaddr(value: str, name: str, problems: list[str]) -> tuple[str, str]:
    """The one mailbox of a raw From/Return-Path header. Two different addresses in it
    (`victim@… <attacker@…>`, which older parsers read as the first) are no address at all:
    a mail whose sender is ambiguous is never answered automatically."""
    pairs = _addresses(value, name, problems)
    if not pairs:
        return "", ""
    if len({addr.lower() for _, addr in pairs if addr}) > 1:
        problems.append(f"{name}: 複数のアドレスがあり差出人を特定できません")
        return pairs[0][0], ""
    return pairs[0]


_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_HIDDEN_WORD = re.compile(r"\x00ew(\d+)\x00")


def _addresses(value: str, name: str, problems: list[str]) -> list[tuple[str, str]]:
    """(display name, addr-spec) pairs of a raw address header.

    RFC 2047 encoded words are set aside before parsing and decoded afterwards, into the
    display name only; raw 8-bit and JIS text is decoded first (its bytes may look like
    `<` or `@`). email.utils.getaddresses does the parsing, except that a header built to break
    it (thousands of group colons make it recurse until RecursionError) reads as no address."""
    words: list[str] = []

    def hide(match: re.Match[str]) -> str:
        words.append(match.group(0))
        return f"\x00ew{len(words) - 1}\x00"

    def show(text: str) -> str:
        return decode_header(_HIDDEN_WORD.sub(lambda m: words[int(m.group(1))], text)).text

    hidden = decode_header(_ENCODED_WORD.sub(hide, value)).text
    try:
        # NUL marks cannot be parsed as an atom: quote them as one.
        pairs = email.utils.getaddresses([_HIDDEN_WORD.sub(r'"\g<0>"', hidden)])
    except Exception as exc:
        problems.append(f"{name}: アドレスを読めません({type(exc).__name__})")
        return []
    result = []
    for display, addr in pairs:
        if _HIDDEN_WORD.search(addr):  # an address made of an encoded word is no address
            problems.append(f"{name}: エンコードされた文字列はアドレスとして扱いません")
            addr = ""
        result.append(((show(display) if words else display).strip(), addr))
    return result
