"""Write examples/mailbox/, a Maildir of realistic synthetic mails to it-renkei@example.go.jp.

    python examples/make_mailbox.py      # rewrites examples/mailbox/ byte for byte

Everything is fixed (Message-IDs, dates, MIME boundaries, xlsx/zip timestamps, the AES salt), so
running it again gives the same files. The topmost `Received:` header is the time our server took
the mail (the time that counts, SPEC §1); `Date:` is the sender's clock and differs from it.
Maildir names: `<arrival unix time>.M<n>P1.renkei-example:2,S` in cur/ (already seen) and
`<arrival unix time>.M<n>P1.renkei-example` in new/ (arrived since the last look).

| n  | arrival (JST) | what it is                                      | meant to trigger       |
|----|---------------|-------------------------------------------------|------------------------|
| 01 | 08-10 10:15   | complete, ISO-2022-JP 7bit (Outlook style: ㈱ in | receipt                |
|    |               | the name via NEC row 13, RFC 2047 file names)   |                        |
| 02 | 08-18 16:40   | complete, UTF-8 base64 body, ① in the name,     | receipt                |
|    |               | RFC 2231 file names                             |                        |
| 03 | 08-23 09:05   | `Fwd:` of a good subject, UTF-8 quoted-printable | receipt (prefix Fwd)   |
| 04 | 08-25 13:30   | complete set, subject "交付申請書類の送付について" | SUBJECT_FORMAT         |
| 05 | 08-29 11:02   | proper subject, body lacks 役職 and 電話番号     | SENDER_DETAILS_MISSING |
| 06 | 08-30 09:31   | bounce of our notice: multipart/report from     | NOT_A_SUBMISSION,      |
|    |               | MAILER-DAEMON, Return-Path <>                   | never answered         |
| 07 | 08-30 10:02   | Exchange out-of-office reply to our receipt     | NOT_A_SUBMISSION,      |
|    |               | ("自動応答:", Auto-Submitted: auto-generated)    | never answered         |
| 08 | 08-31 15:20   | question from a would-be applicant, no files    | NOT_A_SUBMISSION       |
| 09 | 09-05 14:00   | split `(1/2)`: 交付申請書, 概要書, 事業者情報     | part 1 of a submission |
| 10 | 09-05 14:03   | split `(2/2)`: 誓約書, 証明書, チェックリスト     | completes 09: receipt  |
| 11 | 09-08 17:45   | AES-256 zip (pyzipper), "パスワードは別途…"      | awaiting password      |
| 12 | 09-08 17:52   | "【パスワード】" + same subject, password in body | opens 11: receipt      |
| 13 | 09-10 00:03   | complete; Date: says 09-09 23:58, but our server | OUTSIDE_PERIOD         |
|    |               | received it after the deadline                  |                        |

Submissions: 01, 02, 03, 04, 05, 09+10, 11+12, 13 (eight). The attachments of a consortium are
the valid sample forms of examples/make_forms.py, built by `document_set(consortium)`.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email import message_from_string, policy
from email.charset import QP, Charset
from email.generator import BytesGenerator
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime
from pathlib import Path

import pyzipper

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "mailbox"
JST = timezone(timedelta(hours=9))
OURS = "it-renkei@example.go.jp"
OUR_NAME = "令和4年度「共創型サービスIT連携支援事業」事務局"
MX = "mx1.example.go.jp"
CORE = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
FIXED = datetime(2022, 8, 1, 9, 0, 0)  # every timestamp inside generated files
ZIP_TIME = (2022, 8, 1, 9, 0, 0)
# Headers are folded by hand (encoded_words), so the generator must not fold them again.
GENERATOR_POLICY = policy.compat32.clone(linesep="\n", max_line_length=None)

# ---------------------------------------------------------------- the applicants


@dataclass(frozen=True)
class Person:
    company: str
    title: str
    name: str
    email: str
    phone: str
    host: str  # the sender's mail server, for Received: and Message-ID


@dataclass(frozen=True)
class Consortium:
    name: str
    lead: Person
    members: tuple[str, ...]  # every member, the 幹事社 first


HOKUTO = Consortium(
    "㈱北斗精工・港町DX連携コンソーシアム",
    Person("株式会社北斗精工", "代表取締役", "北村 誠", "kitamura@hokuto-seiko.example.jp",
           "045-201-3344", "mail.hokuto-seiko.example.jp"),
    ("株式会社北斗精工", "有限会社みなと食品", "株式会社ブルーリンクシステムズ", "㈱クラウドブリッジ"),
)
SAKURA = Consortium(
    "さくら通り商店街①連携コンソーシアム",
    Person("有限会社さくら通り商会", "取締役", "桜井 花子", "sakurai@sakura-shokai.example.jp",
           "03-3841-5566", "smtp.sakura-shokai.example.jp"),
    ("有限会社さくら通り商会", "株式会社浅草工房", "株式会社テックブリッジ", "合同会社クラウドラボ"),
)
KAWASAKI = Consortium(
    "川崎ものづくりIT連携コンソーシアム",
    Person("株式会社川崎金型", "経営企画部 部長", "川田 健一", "kawada@kawasaki-kanagata.example.jp",
           "044-555-1200", "mx.kawasaki-kanagata.example.jp"),
    ("株式会社川崎金型", "株式会社中原製作所", "株式会社ネクストシステム", "株式会社データリンク"),
)
NAGANO = Consortium(
    "信州観光DXコンソーシアム",
    Person("株式会社信州ホテルズ", "総務部 課長", "宮坂 俊", "miyasaka@shinshu-hotels.example.jp",
           "026-234-7788", "mail.shinshu-hotels.example.jp"),
    ("株式会社信州ホテルズ", "有限会社松本旅館", "株式会社アルプスソフト", "株式会社やまびこIT"),
)
FUKUOKA = Consortium(
    "博多物流IT連携コンソーシアム",
    Person("株式会社博多ロジ", "", "中島 亮", "nakashima@hakata-logi.example.jp", "",
           "mail.hakata-logi.example.jp"),
    ("株式会社博多ロジ", "株式会社天神運送", "株式会社九州データ", "株式会社ベイシステムズ"),
)
SENDAI = Consortium(
    "杜の都 食品流通DXコンソーシアム",
    Person("株式会社杜の都フーズ", "営業本部 本部長", "伊達 聡", "date@morinomiyako-foods.example.jp",
           "022-261-0099", "smtp.morinomiyako-foods.example.jp"),
    ("株式会社杜の都フーズ", "有限会社仙台青果", "株式会社東北クラウド", "株式会社みちのくソフト"),
)
OSAKA = Consortium(
    "なにわ小売DX連携コンソーシアム",
    Person("株式会社なにわマート", "情報システム室 室長", "大西 由紀", "onishi@naniwa-mart.example.jp",
           "06-6345-7001", "mail.naniwa-mart.example.jp"),
    ("株式会社なにわマート", "株式会社堺商事", "株式会社関西システムサービス", "株式会社ウメダテック"),
)
KOBE = Consortium(
    "神戸港湾サービス連携コンソーシアム",
    Person("株式会社神戸マリン", "代表取締役社長", "港 一郎", "minato@kobe-marine.example.jp",
           "078-321-4455", "mail.kobe-marine.example.jp"),
    ("株式会社神戸マリン", "株式会社六甲倉庫", "株式会社ポートシステムズ", "株式会社ハーバーIT"),
)
CONSORTIA = {c.name: c for c in (HOKUTO, SAKURA, KAWASAKI, NAGANO, FUKUOKA, SENDAI, OSAKA, KOBE)}


# ---------------------------------------------------------------- documents


def _deterministic_ooxml(data: bytes) -> bytes:
    """openpyxl stamps 'now' into docProps/core.xml and the zip entries: fix both."""
    stamp = FIXED.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                                 rb"\g<1>" + stamp.encode(), content)
            dst.writestr(zipfile.ZipInfo(info.filename, ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def document_set(consortium: str) -> dict[str, bytes]:
    """Every document of SPEC §2 for one consortium: the valid sample submission of
    examples/make_forms.py, filled in with this consortium and its 幹事社, so that a complete
    mail passes every form check and gets a receipt."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_forms", REPO / "examples/make_forms.py")
    if spec is None or spec.loader is None:
        raise SystemExit("examples/make_forms.py is missing")
    forms = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_forms", forms)  # its dataclasses look their module up there
    spec.loader.exec_module(forms)
    valid, lead = forms.VALID, CONSORTIA[consortium].lead
    old = next(m.name for m in valid.members if m.lead)

    def renamed(name: str) -> str:
        return lead.company if name == old else name

    scenario = replace(
        valid,
        consortium=consortium,
        members=tuple(replace(m, name=lead.company, email=lead.email) if m.lead else m
                      for m in valid.members),
        lines=tuple(replace(x, member=renamed(x.member)) for x in valid.lines),
        member_requested={renamed(k): v for k, v in valid.member_requested.items()},
    )
    return forms.submission_files(scenario)


class _FixedRandom:
    """Stands in for Cryptodome's Random so the AES salt (and so the zip) is reproducible."""

    @staticmethod
    def new() -> _FixedRandom:
        return _FixedRandom()

    @staticmethod
    def read(size: int) -> bytes:
        return bytes((i * 37 + 11) % 256 for i in range(size))


def encrypted_zip(files: dict[str, bytes], password: str) -> bytes:
    """What the program page recommends: a zip with WinZip AES-256, UTF-8 names."""
    real_random = pyzipper.zipfile_aes.Random
    pyzipper.zipfile_aes.Random = _FixedRandom
    try:
        out = io.BytesIO()
        with pyzipper.AESZipFile(out, "w", compression=pyzipper.ZIP_DEFLATED,
                                 encryption=pyzipper.WZ_AES) as archive:
            archive.setpassword(password.encode())
            for name, data in files.items():
                info = archive.zipinfo_cls(name, ZIP_TIME)
                info.compress_type = pyzipper.ZIP_DEFLATED
                archive.writestr(info, data)
        return out.getvalue()
    finally:
        pyzipper.zipfile_aes.Random = real_random


# ---------------------------------------------------------------- encodings


def iso2022jp(text: str) -> bytes:
    """ISO-2022-JP as Outlook writes it: NEC specials (①, ㈱) in row 13 (CP50220-like)."""
    out = bytearray()
    jis = False
    for ch in text:
        if ord(ch) < 0x80:
            if jis:
                out += b"\x1b(B"
                jis = False
            out += ch.encode("ascii")
            continue
        if not jis:
            out += b"\x1b$B"
            jis = True
        out += _sjis_to_jis(ch.encode("cp932"))
    if jis:
        out += b"\x1b(B"
    return bytes(out)


def _sjis_to_jis(pair: bytes) -> bytes:
    if len(pair) != 2:
        raise ValueError(f"no JIS X 0208 form for {pair!r} (half-width katakana?)")
    s1, s2 = pair
    s1 -= 0x40 if s1 >= 0xE0 else 0
    row = (s1 - 0x81) * 2 + 0x21
    if s2 >= 0x9F:
        return bytes((row + 1, s2 - 0x7E))
    return bytes((row, s2 - 0x1F if s2 < 0x7F else s2 - 0x20))


def encoded_words(text: str, charset: str) -> str:
    """RFC 2047 B-words, each short and self-contained (ISO-2022-JP words end in ASCII)."""
    words = []
    for start in range(0, len(text), 10):
        chunk = text[start : start + 10]
        raw = iso2022jp(chunk) if charset == "ISO-2022-JP" else chunk.encode("utf-8")
        words.append(f"=?{charset}?B?{base64.b64encode(raw).decode('ascii')}?=")
    return "\n ".join(words)


def iso2022jp_text(text: str) -> MIMENonMultipart:
    part = MIMENonMultipart("text", "plain", charset="ISO-2022-JP")
    part.set_payload(iso2022jp(text).decode("ascii"))
    part["Content-Transfer-Encoding"] = "7bit"
    return part


def utf8_text(text: str, *, quoted_printable: bool = False) -> MIMEText:
    charset = Charset("utf-8")
    if quoted_printable:
        charset.body_encoding = QP
    return MIMEText(text, "plain", charset)


def attachment(name: str, data: bytes, *, rfc2047: bool = False) -> MIMEBase:
    kinds = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             ".pdf": ("application", "pdf"), ".zip": ("application", "zip")}
    maintype, subtype = kinds.get(Path(name).suffix, ("application", "octet-stream"))
    part = MIMEBase(maintype, subtype)
    part.set_payload(base64.encodebytes(data).decode("ascii"))
    part["Content-Transfer-Encoding"] = "base64"
    if rfc2047:
        # Outlook/Becky style: an encoded word inside the quotes (not standard, very common).
        word = encoded_words(name, "ISO-2022-JP").replace("\n ", " ")
        part.set_param("name", word)
        part.add_header("Content-Disposition", "attachment", filename=word)
    else:
        part.set_param("name", ("utf-8", "", name))
        part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
    return part


# ---------------------------------------------------------------- mails


@dataclass(frozen=True)
class Mail:
    n: int
    arrival: datetime  # when our MX took it (topmost Received)
    sent: datetime  # the sender's Date:
    message: Message
    seen: bool = True


def _address(name: str, email: str, charset: str = "UTF-8") -> str:
    return f"{encoded_words(name, charset)} <{email}>"


def _received(n: int, host: str, arrival: datetime, sent: datetime, local: bool) -> list[str]:
    if local:  # made on our own MX (a bounce): one hop
        return [f"by {MX} (Postfix)\n\tid 4M{n:02d}Q{n * 7:03d}XZ; {format_datetime(arrival)}"]
    return [
        f"from {host} ({host} [192.0.2.{10 + n}])\n\tby {MX} (Postfix) with ESMTPS "
        f"id 4M{n:02d}Q{n * 7:03d}XZ\n\tfor <{OURS}>; {format_datetime(arrival)}",
        f"from [10.0.0.{20 + n}] (unknown [10.0.0.{20 + n}])\n\tby {host} "
        f"(Postfix) with ESMTPSA id A{n:02d}B\n\tfor <{OURS}>; "
        f"{format_datetime(sent + timedelta(seconds=3))}",
    ]


def _headers(msg: Message, *, n: int, sender: str, sender_name: str, host: str, subject: str,
             arrival: datetime, sent: datetime, charset: str = "UTF-8",
             return_path: str | None = None) -> None:
    """Headers in delivery order: the topmost Received is our server's arrival stamp."""
    first = [
        ("Return-Path", f"<{sender}>" if return_path is None else return_path),
        ("Delivered-To", OURS),
        *(("Received", hop) for hop in _received(n, host, arrival, sent, host == MX)),
    ]
    rest = [
        ("From", _address(sender_name, sender, charset) if sender_name else sender),
        ("To", f"{encoded_words(OUR_NAME, charset)} <{OURS}>"),
        ("Subject", encoded_words(subject, charset)),
        ("Date", format_datetime(sent)),
        ("Message-ID", f"<{sent:%Y%m%d%H%M%S}.renkei-ex{n:02d}@{host}>"),
        ("MIME-Version", "1.0"),
    ]
    existing = [(k, v) for k, v in msg.items() if k.lower() != "mime-version"]
    for key in list(msg.keys()):
        del msg[key]
    for key, value in first + rest + existing:
        msg[key] = value
    for part in msg.walk():
        if part is not msg:
            del part["MIME-Version"]  # email.mime stamps every part; mailers only the top


def sender_block(p: Person) -> str:
    lines = [f"会社名：{p.company}"]
    if p.title:
        lines.append(f"役職：{p.title}")
    lines.append(f"氏名：{p.name}")
    lines.append(f"メールアドレス：{p.email}")
    if p.phone:
        lines.append(f"電話番号：{p.phone}")
    return "\n".join(lines)


def submission_body(c: Consortium, note: str = "") -> str:
    return (
        f"{OUR_NAME}\nご担当者様\n\nお世話になっております。\n{c.lead.company}の{c.lead.name}です。\n\n"
        f"「{c.name}」の幹事社として、令和4年度「共創型サービスIT連携支援補助金」の"
        f"交付申請書類を送付いたします。\n{note}ご確認のほど、よろしくお願いいたします。\n\n"
        f"{sender_block(c.lead)}\n"
    )


def submission(n: int, c: Consortium, arrival: datetime, *, subject: str | None = None,
               body: str | None = None, charset: str = "UTF-8", qp: bool = False,
               files: dict[str, bytes] | None = None, sent: datetime | None = None,
               seen: bool = True) -> Mail:
    files = document_set(c.name) if files is None else files
    text = body or submission_body(c)
    msg = MIMEMultipart("mixed", boundary=f"----=_Part_{n:02d}_renkei_example")
    if charset == "ISO-2022-JP":
        msg.attach(iso2022jp_text(text))
    else:
        msg.attach(utf8_text(text, quoted_printable=qp))
    for name, data in files.items():
        msg.attach(attachment(name, data, rfc2047=charset == "ISO-2022-JP"))
    sent = sent or arrival - timedelta(minutes=1, seconds=17)
    _headers(msg, n=n, sender=c.lead.email, sender_name=c.lead.name, host=c.lead.host,
             subject=subject or f"<{c.name}>{CORE}", arrival=arrival, sent=sent, charset=charset)
    return Mail(n, arrival, sent, msg, seen)


def jst(month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2022, month, day, hour, minute, second, tzinfo=JST)


def forwarded(n: int) -> Mail:
    c = KAWASAKI
    colleague = "経営企画部 山本"
    body = (
        f"{OUR_NAME} 御中\n\nお世話になっております。{c.lead.company}の{c.lead.name}です。\n"
        "社内で取りまとめた応募書類を転送にて送付いたします。\n\n"
        f"{sender_block(c.lead)}\n\n"
        "---------- Forwarded message ---------\n"
        f"From: {colleague} <yamamoto@kawasaki-kanagata.example.jp>\n"
        "Date: 2022年8月22日(月) 18:10\n"
        f"Subject: <{c.name}>{CORE}\n"
        f"To: {c.lead.name} <{c.lead.email}>\n\n"
        "川田部長\n\n申請書類一式をまとめましたので、事務局への送付をお願いします。\n\n山本\n"
    )
    return submission(n, c, jst(8, 23, 9, 5, 41), subject=f"Fwd: <{c.name}>{CORE}", body=body,
                      qp=True)


def bounce(n: int) -> Mail:
    arrival = jst(8, 30, 9, 31, 8)
    original = MIMEText("", "plain", "utf-8")
    original.set_payload(None)
    del original["Content-Type"], original["MIME-Version"], original["Content-Transfer-Encoding"]
    for key, value in (
        ("Return-Path", f"<{OURS}>"), ("From", f"<{OURS}>"),
        ("To", "<nakashima@hakata-logi.example.jp.invalid>"),
        ("Subject", "=?UTF-8?B?44CQ5LiN5YKZ44Gu44GU6YCj57Wh44CR?="),
        ("Date", format_datetime(arrival - timedelta(seconds=9))),
        ("Message-ID", "<renkei-intake.5.deficiency@example.go.jp>"), ("Auto-Submitted", "auto-replied"),
    ):
        original[key] = value
    msg = MIMEMultipart("report", boundary="9D1F6A2B3C.1661819468/mx1.example.go.jp",
                        report_type="delivery-status")
    msg.attach(MIMEText(
        "This is the mail system at host mx1.example.go.jp.\n\n"
        "I'm sorry to have to inform you that your message could not\n"
        "be delivered to one or more recipients.\n\n"
        "<nakashima@hakata-logi.example.jp.invalid>: Host or domain name not found.\n"
        "    Name service error for name=hakata-logi.example.jp.invalid type=MX\n",
        "plain", "us-ascii"))
    status = MIMEBase("message", "delivery-status")
    # A delivery-status body is a list of header blocks: per-message, then per-recipient.
    status.set_payload([
        message_from_string("Reporting-MTA: dns; mx1.example.go.jp\n"
                            f"Arrival-Date: {format_datetime(arrival - timedelta(seconds=8))}\n"),
        message_from_string("Final-Recipient: rfc822; nakashima@hakata-logi.example.jp.invalid\n"
                            "Action: failed\nStatus: 5.4.4\n"
                            "Diagnostic-Code: X-Postfix; Host or domain name not found.\n"),
    ])
    msg.attach(status)
    headers = MIMEBase("text", "rfc822-headers")
    headers.set_payload("".join(f"{k}: {v}\n" for k, v in original.items()))
    msg.attach(headers)
    _headers(msg, n=n, sender="MAILER-DAEMON@mx1.example.go.jp",
             sender_name="Mail Delivery System", host=MX,
             subject="Undelivered Mail Returned to Sender", arrival=arrival,
             sent=arrival, return_path="<>")
    msg.replace_header("Subject", "Undelivered Mail Returned to Sender")
    msg.replace_header("From", "MAILER-DAEMON@mx1.example.go.jp (Mail Delivery System)")
    msg["Auto-Submitted"] = "auto-replied"
    return Mail(n, arrival, arrival, msg)


def out_of_office(n: int) -> Mail:
    arrival = jst(8, 30, 10, 2, 55)
    p = SAKURA.lead
    text = ("桜井は8月29日から9月2日まで夏季休暇のため不在にしております。\n"
            "9月5日以降、順次対応いたします。\nお急ぎの場合は 03-3841-5560 までご連絡ください。\n")
    msg = MIMEMultipart("alternative", boundary=f"_000_OOF{n:02d}_")
    msg.attach(utf8_text(text))
    html = MIMEText(f"<html><body><p>{text.replace(chr(10), '<br>')}</p></body></html>", "html",
                    "utf-8")
    msg.attach(html)
    _headers(msg, n=n, sender=p.email, sender_name=p.name, host=p.host,
             subject=f"自動応答: 【受付確認】<{SAKURA.name}>{CORE}", arrival=arrival,
             sent=arrival - timedelta(seconds=2))
    msg["In-Reply-To"] = "<receipt-2.renkei@example.go.jp>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-MS-Exchange-Inbox-Rules-Loop"] = p.email
    return Mail(n, arrival, arrival - timedelta(seconds=2), msg)


def question(n: int) -> Mail:
    arrival = jst(8, 31, 15, 20, 4)
    text = (
        f"{OUR_NAME}\nご担当者様\n\n突然のご連絡失礼いたします。\n"
        "株式会社みらい計測の小野と申します。\n\n"
        "交付申請を検討しておりますが、5. 補助事業概要書はPowerPoint形式(pptx)で\n"
        "提出してもよろしいでしょうか。\nまた、誓約書は押印したものをスキャンしたPDFでよいか、"
        "ご教示いただけますと幸いです。\n\n"
        "会社名：株式会社みらい計測\n役職：経営企画室 主任\n氏名：小野 翔\n"
        "メールアドレス：ono@mirai-keisoku.example.jp\n電話番号：０４５－６７８－９０１２\n"
    )
    msg = utf8_text(text, quoted_printable=True)
    _headers(msg, n=n, sender="ono@mirai-keisoku.example.jp", sender_name="小野 翔",
             host="mail.mirai-keisoku.example.jp",
             subject="交付申請の提出書類の形式について（質問）", arrival=arrival,
             sent=arrival - timedelta(seconds=40))
    return Mail(n, arrival, arrival - timedelta(seconds=40), msg)


def split_pair(first_n: int) -> Iterator[Mail]:
    c = SENDAI
    files = document_set(c.name)
    names = list(files)
    part1 = {k: files[k] for k in names if k.startswith(("4_", "5_", "6_"))}
    part2 = {k: v for k, v in files.items() if k not in part1}
    note = "ファイル容量が大きいため、2通に分けてお送りします（本メールは{}通目です）。\n"
    for index, (chunk, minute) in enumerate(((part1, 0), (part2, 3)), start=1):
        yield submission(
            first_n + index - 1, c, jst(9, 5, 14, minute, 12 + index),
            subject=f"<{c.name}>{CORE}({index}/2)",
            body=submission_body(c, note.format(index)), files=chunk,
        )


def encrypted_pair(first_n: int) -> Iterator[Mail]:
    c = OSAKA
    password = "Naniwa#2022-Renkei"
    archive = encrypted_zip(document_set(c.name), password)
    body = submission_body(
        c, "書類一式はzipファイルに暗号化して添付しております。\n"
           "パスワードは別途お送りします。\n")
    yield submission(first_n, c, jst(9, 8, 17, 45, 30),
                     files={f"応募書類一式_{c.name}.zip": archive}, body=body)
    text = (f"{OUR_NAME}\nご担当者様\n\nお世話になっております。{c.lead.company}の"
            f"{c.lead.name}です。\n先ほどお送りした応募書類（zipファイル）の解凍パスワードを"
            f"お知らせいたします。\n\nパスワード：{password}\n\n{sender_block(c.lead)}\n")
    msg = utf8_text(text)
    arrival = jst(9, 8, 17, 52, 6)
    _headers(msg, n=first_n + 1, sender=c.lead.email, sender_name=c.lead.name, host=c.lead.host,
             subject=f"【パスワード】<{c.name}>{CORE}", arrival=arrival,
             sent=arrival - timedelta(seconds=31))
    yield Mail(first_n + 1, arrival, arrival - timedelta(seconds=31), msg)


def all_mails() -> list[Mail]:
    missing_sender = submission_body(FUKUOKA)
    mails = [
        submission(1, HOKUTO, jst(8, 10, 10, 15, 32), charset="ISO-2022-JP"),
        submission(2, SAKURA, jst(8, 18, 16, 40, 3)),
        forwarded(3),
        submission(4, NAGANO, jst(8, 25, 13, 30, 45), subject="交付申請書類の送付について"),
        submission(5, FUKUOKA, jst(8, 29, 11, 2, 19), body=missing_sender),
        bounce(6),
        out_of_office(7),
        question(8),
        *split_pair(9),
        *encrypted_pair(11),
        # Sent at 23:58 by the applicant's clock, taken by our server at 00:03: too late.
        submission(13, KOBE, jst(9, 10, 0, 3, 12), sent=jst(9, 9, 23, 58, 40), seen=False),
    ]
    return mails


# ---------------------------------------------------------------- Maildir


def serialise(message: Message) -> bytes:
    out = io.BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=GENERATOR_POLICY).flatten(message)
    return out.getvalue()


def maildir_name(mail: Mail) -> str:
    base = f"{int(mail.arrival.timestamp())}.M{mail.n}P1.renkei-example"
    return f"cur/{base}:2,S" if mail.seen else f"new/{base}"


def write_mailbox(target: Path = OUT) -> list[Path]:
    if target.exists():
        shutil.rmtree(target)
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True)
    written = []
    for mail in all_mails():
        path = target / maildir_name(mail)
        path.write_bytes(serialise(mail.message))
        written.append(path)
    return written


def main() -> None:
    for path in write_mailbox():
        print(f"{path.relative_to(REPO)}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    sys.exit(main())
