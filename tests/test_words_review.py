"""Replies read as an applicant reads them, from mails built the way Japanese mailers write them.

Each mail is written here by hand as raw bytes (ISO-2022-JP or UTF-8 base64 bodies, RFC 2047
subjects, RFC 2231 or encoded-word file names, a `Received:` header for the arrival time),
replayed through the command line, the deficiency notices approved, and every `.eml` the
outbox holds decoded with Python's email package and with a plain RFC 2047 decoder.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from contextlib import redirect_stdout
from datetime import datetime
from email.header import Header
from pathlib import Path
from urllib.parse import quote

import pytest

from ingest.cli import main
from tests.mail_readers import read, rfc2047, shown_text

REPO = Path(__file__).resolve().parents[1]
FORMS = REPO / "examples/forms"
CORE = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
NAME = "みなとDX連携コンソーシアム"  # the consortium in the sample forms
LEAD = "tanaka@minato-seiki.example.jp"  # the lead's address in the sample forms
CODES = re.compile(r"None|null|awaiting|deficiency|receipt|needs_review|replied|queued|"
                   r"[A-Z]{3,}_[A-Z_]+|\{\{|\ufffd")


def _word(text: str, charset: str) -> str:
    return Header(text, charset, maxlinelen=76).encode()


def _attachment(path: Path, name: str, style: str) -> str:
    data = base64.encodebytes(path.read_bytes()).decode()
    if style == "rfc2231":  # Thunderbird, Gmail
        disposition, ctype = f"attachment;\r\n filename*=UTF-8''{quote(name)}", ""
    else:  # Outlook: an encoded word in quotes
        word = _word(name, "utf-8")
        disposition, ctype = f'attachment; filename="{word}"', f'; name="{word}"'
    return (f"Content-Type: application/octet-stream{ctype}\r\n"
            f"Content-Disposition: {disposition}\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{data}")


def raw_mail(n: int, *, sender: str, display: str, subject: str, received: str, body: str,
             files: list[tuple[Path, str]], charset: str = "utf-8",
             style: str = "rfc2231") -> bytes:
    if charset == "iso-2022-jp":
        text = ("Content-Type: text/plain; charset=ISO-2022-JP\r\n"
                "Content-Transfer-Encoding: 7bit\r\n\r\n"
                + body.replace("\n", "\r\n").encode("iso-2022-jp").decode("ascii"))
    else:
        text = ("Content-Type: text/plain; charset=\"UTF-8\"\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(body.encode()).decode())
    parts = [text] + [_attachment(p, name, style) for p, name in files]
    boundary = f"----=_Part_{n}"
    payload = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts) + f"--{boundary}--\r\n"
    head = (f"Received: from mail.example.jp by mx.example.go.jp; {received}\r\n"
            f"From: {_word(display, charset)} <{sender}>\r\nTo: it-renkei@example.go.jp\r\n"
            f"Subject: {_word(subject, charset)}\r\nDate: {received}\r\n"
            f"Message-ID: <review{n}@example.jp>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n")
    return (head + payload).encode("ascii")


def signature(company: str, line: str, address: str, phone: str) -> str:
    return f"\n\n--\n{company}\n{line}\nMail: {address}\nTEL: {phone}\n"


ZIP = [(FORMS / "valid-submission.zip", f"応募書類_{NAME}.zip")]


def mailbox(folder: Path, charset: str) -> None:
    """Five applications: the lead's (accepted), then a member's and a department-only
    signature, a ㈱ consortium name, a mail after the deadline, the lead's on the last evening."""
    for sub in ("cur", "new", "tmp"):
        (folder / sub).mkdir(parents=True)
    mails = [
        raw_mail(1, sender=LEAD, display="田中 一郎", subject=f"<{NAME}>{CORE}",
                 received="Wed, 17 Aug 2022 10:12:05 +0900",
                 body="お世話になっております。\n応募書類を送付いたします。"
                 + signature("株式会社みなと精機", "経営企画部 課長 田中 一郎", LEAD,
                             "078-000-0001"), files=ZIP, style="outlook"),
        # a member writes; its signature names a department and no title
        raw_mail(2, sender="hokuriku@sakura-shoten.example.jp", display="北陸 太郎",
                 subject=f"【{NAME}】{CORE}", received="Thu, 18 Aug 2022 15:40:02 +0900",
                 body="いつもお世話になっております。\n書類一式を添付いたします。"
                 + signature("有限会社さくら商店", "総務課 北陸 太郎",
                             "hokuriku@sakura-shoten.example.jp", "03-0000-0002"),
                 files=ZIP, charset=charset if charset == "iso-2022-jp" else "utf-8"),
        raw_mail(3, sender="tanaka@cloudbridge.example.jp", display="田中 美咲",
                 subject=f"<㈱クラウドブリッジ連合コンソーシアム>{CORE}",
                 received="Thu, 25 Aug 2022 13:30:00 +0900",
                 body="お世話になっております。" + signature(
                     "㈱クラウドブリッジ", "開発部\n田中 美咲", "tanaka@cloudbridge.example.jp",
                     "06-0000-0007"), files=ZIP, style="outlook"),
        raw_mail(4, sender="minato@kobe-marine.example.jp", display="港 一郎",
                 subject=f"<神戸港湾サービス連携コンソーシアム>{CORE}",
                 received="Sat, 10 Sep 2022 00:03:10 +0900",
                 body="締切間際で申し訳ございません。" + signature(
                     "株式会社神戸マリン", "企画課 港 一郎", "minato@kobe-marine.example.jp",
                     "078-000-0005"), files=ZIP),
        # the lead again on the last evening: the receipt arrives after the deadline
        raw_mail(5, sender=LEAD, display="田中 一郎", subject=f"<{NAME}>{CORE}",
                 received="Fri, 09 Sep 2022 20:00:00 +0900",
                 body="再提出いたします。" + signature("株式会社みなと精機", "経営企画部 課長 田中 一郎",
                                               LEAD, "078-000-0001"), files=ZIP),
    ]
    for n, raw in enumerate(mails, 1):
        (folder / "cur" / f"16600000{n:02d}.M{n}P1.host:2,S").write_bytes(raw)


@pytest.fixture(scope="module", params=["utf-8", "iso-2022-jp"])
def replies(request, tmp_path_factory) -> dict[str, bytes]:
    """Every reply of the mailbox as written to the outbox, by file name."""
    base = tmp_path_factory.mktemp(request.param)
    mailbox(base / "mail", request.param)
    config = base / "config.toml"
    config.write_text(f'[replies]\ncharset = "{request.param}"\nbusiness_hours_only = false\n'
                      '[secretariat]\ninquiry_phone = "03-0000-0000"\n', encoding="utf-8")
    assert main(["--config", str(config), "replay", str(base / "mail")]) == 0
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--config", str(config), "outbox", "list", "--status", "承認待ち",
                     "--json"]) == 0
    ids = [str(json.loads(line)["id"]) for line in out.getvalue().splitlines()]
    assert ids and main(["--config", str(config), "outbox", "approve", *ids, "--by", "qa"]) == 0
    return {p.name: p.read_bytes() for p in sorted((base / "var/outbox").glob("*.eml"))}


def text_of(replies: dict[str, bytes], kind: str, n: int) -> str:
    name = next(k for k in replies if k.endswith(f"-{kind}.eml") and int(k[:5]) == n)
    return shown_text(replies[name])


def test_every_reply_reads_as_a_business_mail(replies):
    assert len(replies) == 5
    for name, raw in replies.items():
        mail = read(raw)
        assert rfc2047(mail.raw_headers["Subject"]) == mail.subject, name
        assert mail.display_name == "令和4年度「共創型サービスIT連携支援補助金」事務局", name
        assert mail.raw_headers["Date"].endswith("+0900"), name  # office time, as written
        for text in mail.texts:
            assert not CODES.search(text), (name, CODES.search(text))
            assert "お世話になっております。" in text and "何卒よろしくお願いいたします。" in text
            assert "■ コンソーシアム名: " in text
            assert text.rstrip().splitlines()[-1].startswith("――"), name
            assert "共創型サービスIT連携支援補助金」事務局\nお問い合わせ先" in text
        if "out_of_period" in name:
            assert "受付番号" not in shown_text(raw)
        if "deficiency" in name:  # the count said is the count of numbered items below it
            text = shown_text(raw)
            said = int(re.search(r"不備がございました\((\d+) 項目\)", text).group(1))
            assert said == len(re.findall(r"^\d+\. ", text, re.MULTILINE)), name


def test_department_and_name_signature_is_the_addressee(replies):
    # 総務課 北陸 太郎: the name is read, only the title is asked for
    text = text_of(replies, "deficiency", 2)
    assert text.startswith("有限会社さくら商店\n北陸 太郎 様\n")
    assert "次の項目の記載が見当たりません: 役職\n" in text
    # 開発部 on its own line, the name below it
    assert "田中 美咲 様" in text_of(replies, "deficiency", 3)
    assert "港 一郎 様" in text_of(replies, "out_of_period", 5)


def test_sender_and_duplicate_findings_say_each_thing_once(replies):
    text = text_of(replies, "deficiency", 2)
    assert ("・送信者 hokuriku@sakura-shoten.example.jp(構成員「有限会社さくら商店」のアドレスです)"
            "は、様式に記載の幹事社「株式会社みなと精機」の担当者") in text
    line = next(ln for ln in text.splitlines() if "受付番号 1" in ln)
    assert line.count("最新の提出を有効とします") == 1
    assert line.endswith("以前のご提出は受付番号 1 です。")


def test_a_deadline_the_reply_may_miss_is_said_once(replies):
    late = "本メールがお手元に届いた時点でこの期限を過ぎている場合は"
    assert text_of(replies, "receipt", 4).count(late) == 1  # due on Monday, the deadline Friday
    assert late not in text_of(replies, "receipt", 1)
    assert late not in text_of(replies, "deficiency", 2)


def test_consortium_with_circled_characters_reads_in_every_reader(replies):
    name = next(k for k in replies if int(k[:5]) == 3)
    mail = read(replies[name])
    assert "<㈱クラウドブリッジ連合コンソーシアム>" in mail.subject
    assert "■ コンソーシアム名: ㈱クラウドブリッジ連合コンソーシアム" in mail.texts[-1]
    if len(mail.texts) == 2:  # ISO-2022-JP first, the original as a UTF-8 alternative
        assert "■ コンソーシアム名: (株)クラウドブリッジ連合コンソーシアム" in mail.texts[0]


STATE_CODES = re.compile(r"\b(awaiting_approval|needs_review|replied|checked|queued|held|sent|"
                         r"failed|bounced|written|deficient|not_submission|open|complete)\b")
HELPS = [[v] for v in ("replay", "poll", "run", "export", "reprocess", "check", "findings",
                       "status", "outbox", "ledger", "quarantine", "serve", "staff")] + [
    ["outbox", s] for s in ("list", "show", "approve", "hold", "cancel", "send-due")] + [
    ["ledger", s] for s in ("submissions", "show", "search")]


@pytest.mark.parametrize("argv", HELPS, ids=" ".join)
def test_help_names_states_in_japanese(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("使い方: ") and "オプション:" in out
    assert not STATE_CODES.search(out), STATE_CODES.search(out)


@pytest.mark.parametrize("argv", [["outbox", "list"], ["ledger", "submissions"]], ids=" ".join)
def test_unknown_status_lists_japanese_names(argv, tmp_path, capsys):
    folder = tmp_path / "mail"
    mailbox(folder, "utf-8")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), *argv, "--status", "謎"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("renkei-intake: 状態「謎」はありません。使える状態: ") and "承認待ち" in err
    assert not STATE_CODES.search(err) and err.count("\n") == 1


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_csv_reads_in_excel_on_japanese_windows(encoding, tmp_path, capsys):
    folder = tmp_path / "mail"
    mailbox(folder, "utf-8")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    out = tmp_path / "s.csv"
    assert main(["--config", str(config), "export", "submissions", "--format", "csv",
                 "--encoding", encoding, "--output", str(out)]) == 0
    raw = out.read_bytes()
    # Excel takes a file with a BOM as UTF-8, any other as the system's code page (cp932)
    text = raw[3:].decode("utf-8") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp932")
    assert encoding == "cp932" or raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(rows) == 5 and "コンソーシアム名" in rows[0]
    for row in rows:
        datetime.strptime(row["最初の受信日時(日本時間)"], "%Y/%m/%d %H:%M")
        for key, value in row.items():
            assert key == "指摘コード" or not STATE_CODES.search(value), (key, value)
    waiting = [row for row in rows if row["状態"] == "承認待ち"]
    assert len(waiting) == 2  # the two deficiency notices wait; their due time is a bare date
    for row in waiting:
        due = datetime.strptime(row["未送信の返信の期限(日本時間)"], "%Y/%m/%d %H:%M")
        assert due.hour == 17 and due.minute == 30


@pytest.mark.parametrize(("argv", "prog"), [
    (["run", "--once"], "renkei-intake run"),
    (["outbox", "list", "--bogus"], "renkei-intake outbox list"),
    (["--bogus"], "renkei-intake"),
])
def test_unknown_argument_names_the_verbs_help(argv, prog, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err == f"{prog}: 不明な引数です: {argv[-1]}。使い方は {prog} --help で表示します\n"


def test_backup_under_a_file_says_it_is_a_file(tmp_path, capsys):
    folder = tmp_path / "mail"
    mailbox(folder, "utf-8")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    capsys.readouterr()
    assert main(["--config", str(config), "ledger", "backup", str(tmp_path / "afile/b.db")]) == 2
    err = capsys.readouterr().err
    assert "はフォルダではなくファイルです" in err and err.count("\n") == 1


def test_read_verbs_show_no_codes(tmp_path, capsys):
    folder = tmp_path / "mail"
    mailbox(folder, "utf-8")
    config = tmp_path / "config.toml"
    config.write_text("", encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    capsys.readouterr()
    for argv in (["status"], ["ledger", "submissions"], ["outbox", "list"]):
        main(["--config", str(config), *argv])
        out = capsys.readouterr().out
        assert not re.search(r"[A-Z]{3,}_[A-Z_]+|None|null", out), (argv, out)
        assert not STATE_CODES.search(out), (argv, STATE_CODES.search(out))
    main(["--config", str(config), "ledger", "submissions"])
    assert "幹事社以外から送信・再提出" in capsys.readouterr().out
    main(["--config", str(config), "outbox", "show", "2"])
    history = capsys.readouterr().out.split("履歴")[-1]
    assert "返信を作成" in history and "送信待ちに登録" not in history


@pytest.mark.parametrize(("toml", "said"), [
    ('[paths]\nledger = 5\n', "[paths] ledger は文字列"),
    ('[daemon]\nbackup_dir = 5\n', "[daemon] backup_dir は文字列"),
    ('[forms]\nmap = 5\n', "[forms] map は文字列"),
    ('[replies]\ntemplates_dir = 5\n', "[replies] templates_dir は文字列"),
    ('[calendar]\nclosure_days = "2022-08-15"\n', "[calendar] closure_days は配列"),
    ('[calendar]\nclosure_days = ["2022-8-15"]\n', "YYYY-MM-DD の日付の配列"),
    ('[program]\nperiod_end = "2022-13-01"\n', "renkei-intake: [program] period_end の日時が読めません"),
    ('[calendar]\nopen = "25:00"\n', '[calendar] open は "09:30" のように HH:MM'),
    ('[replies]\ncharset = "sjis"\n', '[replies] charset は "utf-8" か "iso-2022-jp"'),
])
def test_config_value_of_the_wrong_kind_is_one_sentence(toml, said, tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(toml, encoding="utf-8")
    assert main(["--config", str(config), "status"]) == 2
    err = capsys.readouterr().err
    assert said in err and err.count("\n") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [config]  # nothing created


def test_config_saved_by_notepad_with_a_bom_is_read(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_bytes(b"\xef\xbb\xbf" + b'[replies]\ncharset = "utf-8"\n')
    assert main(["--config", str(config), "status"]) == 2
    assert capsys.readouterr().err.startswith("renkei-intake: 台帳がありません: ")


@pytest.mark.parametrize(("signature_text", "name"), [
    ("北陸ロジ株式会社\n総務課 北陸 太郎\nMail: a@b.example.jp\nTEL: 076-000-0008", "北陸 太郎"),
    ("株式会社信州ホテルズ\n総務部\n宮坂 俊\nTEL: 026-000-0004", "宮坂 俊"),
    ("九州テック株式会社\n伊藤 恵\nMail: ito@kyushu.example.jp", "伊藤 恵"),
    ("株式会社A 営業部\n鈴木 一郎\nTEL 03-1111-2222", "鈴木 一郎"),
    ("株式会社A\n東京都 千代田区\nTEL 03-1111-2222", None),  # an address is not a name
    ("株式会社A\n情報システム部\nTEL 03-1111-2222", None),
])
def test_signature_name_without_a_title(signature_text, name):
    from parsers.sender import parse_sender_block
    assert parse_sender_block(f"お世話になっております。\n\n--\n{signature_text}\n").name == name
