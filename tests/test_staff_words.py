"""What staff read: Japanese words for every code, the truth about replies, visible control
characters, one search, and CSV that Excel on Japanese Windows opens as it is.

The ledger is built as an operator builds one: the example mailbox plus a mail whose subject
and body carry terminal escape sequences, replayed through the real CLI; one mail is
quarantined by the pipeline's own path (an IMAP mail over the size limit).
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest import app
from ingest.config import load_settings
from ingest.sources import RawMail
from state import labels, queries
from state.display import submission_display
from state.ledger import Arrival
from tests.test_staff_queries import CORE, body, jst, mail, run_cli, run_cli_bytes

REPO = Path(__file__).resolve().parents[1]
ESCAPES = "\x1b[2J\x1b]0;pwned\x07"
HOSTILE = mail(
    f"<港{ESCAPES}連携コンソーシアム>{CORE}",
    body("株式会社エスケープ", "江須 慶", "esc@escape.example.jp") + f"備考: {ESCAPES}終わり\n",
    "江須 慶 <esc@escape.example.jp>", "<esc-1@escape.example.jp>", jst(20, 10),
    ("7_誓約書.pdf",))

# Every code of a state, outcome, kind, reply status or severity that has a Japanese label.
CODES = sorted({code for name in ("message_state", "submission_state", "outcome",
                                  "submission_kind", "reply_kind", "reply_status", "severity",
                                  "display_state")
                for code in labels.VOCABULARIES[name]}, key=len, reverse=True)
CODE_RE = re.compile(r"(?<![A-Za-z_./-])(" + "|".join(map(re.escape, CODES))
                     + r")(?![A-Za-z_])")


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("words")
    folder = tmp / "mailbox"
    shutil.copytree(REPO / "examples" / "mailbox", folder)
    (folder / "new" / "1661000000.M9P9.outside:2,").write_bytes(HOSTILE)
    config = tmp / "config.toml"
    config.write_text('[paths]\nledger = "ledger.db"\nblobs = "blobs"\noutbox = "outbox"\n'
                      "[replies]\nbusiness_hours_only = false\n", encoding="utf-8")
    code, out, err = run_cli(["--config", str(config), "replay", str(folder)])
    assert code == 0, err
    settings = load_settings(config)
    ledger = app.open_ledger(settings)
    pipeline = app.make_pipeline(settings, ledger)
    pipeline.take(RawMail(
        b"From: big@example.jp\r\nSubject: =?utf-8?b?5aSn44GN44Gq44Oh44O844Or?=\r\n"
        b"Message-ID: <big@example.jp>\r\n\r\n",
        Arrival("imap", "imap://x/INBOX;UID=9", datetime(2022, 8, 16, 1, 0, tzinfo=UTC),
                "internaldate", "<big@example.jp>"),
        quarantine="サイズ上限超過: 30.0 MB(上限 25.0 MB)。ヘッダーのみ記録し、本文はサーバーに残しています"))
    ledger.close()
    return {"config": config, "tmp": tmp, "replay": out}


def cli(office: dict[str, object], *argv: str) -> tuple[int, str, str]:
    return run_cli(["--config", str(office["config"]), *argv])


def staff_screens(office: dict[str, object]) -> dict[str, str]:
    """Every human-readable output of the read verbs, by command line."""
    ledger = app.open_existing_ledger(load_settings(office["config"]))
    submissions = [r[0] for r in ledger.db.execute("SELECT id FROM submissions")]
    replies = [r[0] for r in ledger.db.execute("SELECT id FROM replies")]
    held = [r[0] for r in ledger.db.execute("SELECT id FROM messages WHERE state='quarantined'")]
    ledger.close()
    commands = [["status"], ["ledger", "submissions"], ["ledger", "search", "連携"],
                ["ledger", "search", "港"], ["ledger", "daily"], ["outbox", "list"],
                ["quarantine", "list"], ["findings"], ["export", "submissions", "--format", "csv"],
                *(["ledger", "show", str(i)] for i in submissions),
                *(["outbox", "show", str(i)] for i in replies),
                *(["quarantine", "show", str(i)] for i in held)]
    screens = {"replay": str(office["replay"])}
    for argv in commands:
        code, out, err = cli(office, *argv)
        assert code in (0, 1), (argv, err)  # status exits 1 for its warnings
        screens[" ".join(argv)] = out.replace(str(office["tmp"]), "<TMP>") + err
    return screens


# --- words ------------------------------------------------------------------------------------


def test_display_state_names_what_happened_to_the_replies():
    assert submission_display("replied", ["awaiting_approval"]) == "awaiting_approval"
    assert submission_display("replied", ["sent", "awaiting_approval"]) == "awaiting_approval"
    assert submission_display("replied", ["queued"]) == "reply_pending"
    assert submission_display("checked", []) == "reply_pending"
    assert submission_display("replied", ["sent"]) == "sent"
    assert submission_display("replied", ["written"]) == "written"
    assert submission_display("replied", ["failed", "sent"]) == "send_failed"
    assert submission_display("replied", []) == "no_reply"
    assert submission_display("open", ["sent"]) == "receiving"
    assert submission_display("needs_review", []) == "needs_review"
    assert labels.label("display_state", "reply_pending") == "受付済・返信待ち"
    assert labels.label("display_state", "awaiting_approval") == "承認待ち"
    # every display state has its words
    for code in ("receiving", "needs_review", "reply_pending", "awaiting_approval", "held",
                 "send_failed", "send_unknown", "bounced", "sent", "written", "cancelled",
                 "no_reply"):
        assert code in labels.DISPLAY_STATE


def test_no_english_state_code_on_any_staff_screen(office):
    for command, text in staff_screens(office).items():
        found = CODE_RE.findall(text)
        assert not found, (command, found, text[:2000])
        assert "None" not in text, command
        assert "null-return-path" not in text, command
        assert '{"' not in text, command  # no raw JSON of events


def test_control_characters_reach_no_terminal(office):
    screens = staff_screens(office)
    for command, text in screens.items():
        bad = [hex(ord(c)) for c in text if unicodedata.category(c) == "Cc" and c not in "\r\n\t"]
        assert not bad, (command, bad)
    assert "\\x1b[2J" in screens["ledger submissions"]  # shown, so staff see it was there
    assert "\\x07" in screens["ledger search 港"]
    show = next(t for c, t in screens.items() if c.startswith("outbox show") and "港" in t)
    assert "\\x1b" not in show  # our replies are composed with the control characters removed


def test_replay_summary_says_what_waits_for_staff(office):
    summary = str(office["replay"])
    assert re.search(r"不備連絡 \d+ 通は承認待ちです: renkei-intake --config \S+ outbox list", summary)
    assert "受付確認" in summary and "receipt" not in summary


def test_status_and_listing_do_not_call_a_notice_awaiting_approval_replied(office):
    code, out, _ = cli(office, "ledger", "submissions", "--status", "不備あり")
    assert code == 0
    rows = [line for line in out.splitlines()[1:] if re.match(r"\d+ +\d+ ", line)]
    assert rows and all("不備あり" in line for line in rows)
    assert any("承認待ち" in line for line in rows)
    code, out, _ = cli(office, "status")
    assert "承認待ち" in out.split("申請:")[1].splitlines()[0]


def test_filters_take_japanese_names_and_keys(office):
    by_key = cli(office, "ledger", "submissions", "--missing", "pledge", "--json")[1]
    by_name = cli(office, "ledger", "submissions", "--missing", "誓約書", "--json")[1]
    assert by_key == by_name
    assert cli(office, "ledger", "submissions", "--status", "deficient", "--json")[1] == \
        cli(office, "ledger", "submissions", "--status", "不備あり", "--json")[1]
    # the words of the listing's own 状態 column select what they show
    code, out, _ = cli(office, "ledger", "submissions", "--status", "承認待ち")
    rows = [line for line in out.splitlines()[1:] if re.match(r"\d+ +\d+ ", line)]
    assert code == 0 and rows and all("不備連絡:承認待ち" in line for line in rows)
    code, _, err = cli(office, "ledger", "submissions", "--status", "だめ")
    assert code == 2 and "不備あり" in err and len(err.strip().splitlines()) == 1
    code, out, _ = cli(office, "outbox", "list", "--status", "承認待ち")
    assert code == 0 and "不備連絡" in out and "受付確認" not in out


def test_outbox_list_lines_up_like_the_ledger_listing(office):
    code, out, _ = cli(office, "outbox", "list")
    lines = [line for line in out.splitlines() if line and not line.endswith(" 通")]
    header, rows = lines[0], lines[1:]
    assert rows

    def column_at(line: str, start: int) -> str:
        # the display position `start` in `line`
        pos, text = 0, ""
        for ch in line:
            if pos >= start:
                text += ch
            pos += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        return text

    def display_index(line: str, word: str) -> int:
        prefix = line[:line.index(word)]
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in prefix)

    due = display_index(header, "期限(JST)")
    for row in rows:
        assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", column_at(row, due)), row


def test_approve_without_smtp_writes_the_eml_and_says_so(office, tmp_path):
    ledger = app.open_existing_ledger(load_settings(office["config"]))
    waiting = [r[0] for r in ledger.db.execute(
        "SELECT id FROM replies WHERE status = 'awaiting_approval' ORDER BY id")]
    ledger.close()
    reply = waiting[-1]
    code, out, _ = cli(office, "outbox", "approve", str(reply), "--by", "suzuki")
    assert code == 0
    assert "承認待ち → 送信待ち" in out
    assert "書き出しました" in out and "deficiency.eml" in out
    outbox = Path(office["tmp"]) / "outbox"
    assert [p for p in outbox.glob("*deficiency.eml")]
    code, out, _ = cli(office, "outbox", "show", str(reply))
    assert "承認  suzuki" in out


# --- search -------------------------------------------------------------------------------------


def test_search_ands_words_and_marks_the_matched_spans(office):
    ledger = app.open_existing_ledger(load_settings(office["config"]))
    both = queries.search(ledger, "北斗 コンソーシアム")
    one = queries.search(ledger, "コンソーシアム")
    assert 0 < both.total < one.total
    for row in both.rows:
        marked = [row["snippet"][a:b] for a, b in row["spans"]]
        assert marked and all(m in ("北斗", "コンソーシアム") for m in marked), marked
        assert "北斗" in row["snippet"]
    html = queries.highlight("a<b>北斗", [(4, 6)], "<mark>", "</mark>",
                             escape=lambda t: t.replace("<", "&lt;").replace(">", "&gt;"))
    assert html == "a&lt;b&gt;<mark>北斗</mark>"
    ledger.close()


def test_one_character_words_are_searched_not_refused(office):
    ledger = app.open_existing_ledger(load_settings(office["config"]))
    port = queries.search(ledger, "港")
    assert port.total >= 1
    assert all("港" in r["snippet"] for r in port.rows)
    assert queries.search(ledger, "港 北斗").total <= port.total
    with pytest.raises(queries.SearchError, match="空です"):
        queries.search(ledger, " \u3000 ")
    ledger.close()
    code, out, _ = cli(office, "ledger", "search", "港")
    assert code == 0 and "【港】" in out


# --- CSV ------------------------------------------------------------------------------------------


def test_csv_opens_in_excel_as_utf8_with_bom_and_japanese_headers(office, tmp_path):
    out = tmp_path / "申請.csv"
    code, _, err = cli(office, "export", "submissions", "--format", "csv", "--output", str(out))
    assert code == 0, err
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0])[:6] == ["申請ID", "コンソーシアム名", "版", "幹事社メールアドレス", "状態",
                                 "結果"]
    first = next(r for r in rows if "北斗" in r["コンソーシアム名"])
    assert first["結果"] == "不備なし" and first["種別"] == "申請"
    assert re.fullmatch(r"2022/08/10 \d\d:\d\d", first["最初の受信日時(日本時間)"])
    assert first["返信(種類:状態)"].startswith("受付確認:")
    assert re.search(r"受付確認:2022/08/\d\d 17:30", first["返信期限(日本時間)"])
    hostile = next(r for r in rows if r["幹事社メールアドレス"] == "esc@escape.example.jp")
    assert "\\x1b" in hostile["コンソーシアム名"] and "\x1b" not in data.decode("utf-8-sig")
    assert not CODE_RE.search(data.decode("utf-8-sig"))


def test_csv_in_cp932_and_with_codes_for_scripts(office, tmp_path):
    out = tmp_path / "sjis.csv"
    code, _, err = cli(office, "export", "submissions", "--format", "csv", "--encoding", "cp932",
                       "--output", str(out))
    assert code == 0, err
    text = out.read_bytes().decode("cp932")
    assert text.startswith("申請ID,") and "㈱北斗精工" in text
    code, raw, _ = run_cli_bytes(["--config", str(office["config"]), "export", "submissions",
                                  "--format", "csv", "--header", "codes"])
    assert code == 0 and raw.startswith(b"id,consortium,")
    assert b"receipt:" in raw


def test_a_character_cp932_cannot_hold_is_named(tmp_path):
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "a.eml").write_bytes(mail(
        f"<𠮷野家連携コンソーシアム>{CORE}", body("株式会社𠮷野", "𠮷田", "y@yoshi.example.jp"),
        "𠮷田 <y@yoshi.example.jp>", "<y-1@yoshi.example.jp>", jst(22, 10)))
    config = tmp_path / "config.toml"
    config.write_text('[paths]\nledger = "l.db"\n', encoding="utf-8")
    assert run_cli(["--config", str(config), "replay", str(folder)])[0] == 0
    code, out, err = run_cli(["--config", str(config), "export", "submissions", "--format", "csv",
                              "--encoding", "cp932", "--output", str(tmp_path / "x.csv")])
    assert code == 2 and "「𠮷」" in err and "U+20BB7" in err and "--encoding utf-8" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_reprocess_since_selects_by_the_day_mail_was_received(office):
    ledger = app.open_existing_ledger(load_settings(office["config"]))
    expected = ledger.db.execute(
        "SELECT count(*) FROM submissions WHERE kind = 'submission' "
        "AND first_received_at >= '2022-08-31T15:00:00+00:00'").fetchone()[0]
    everything = ledger.db.execute(
        "SELECT count(*) FROM submissions WHERE kind = 'submission'").fetchone()[0]
    ledger.close()
    # the rows were all created today; only the receive time tells September from August
    assert 0 < expected < everything
    code, out, err = cli(office, "reprocess", "--since", "2022-09-01")
    assert code == 0, err
    assert f"reprocess: {expected} 件を再判定" in out


def test_workbook_speaks_japanese_prints_landscape_and_gives_every_due_time(office, tmp_path):
    from openpyxl import load_workbook

    out = tmp_path / "台帳.xlsx"
    code, _, err = cli(office, "export", "submissions", "--format", "xlsx", "--output", str(out))
    assert code == 0, err
    book = load_workbook(out)
    for sheet in book:
        assert sheet.page_setup.orientation == "landscape"
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.print_title_rows == "$1:$1"
        headers = [c.value for c in sheet[1]]
        for title in ("状態", "結果", "種別", "種類", "区分", "受信時刻の根拠"):
            if title in headers:
                column = headers.index(title)
                values = {r[column].value for r in sheet.iter_rows(min_row=2)} - {None}
                assert values and not any(CODE_RE.search(str(v)) for v in values), (title, values)
    subs = book["申請"]
    headers = [c.value for c in subs[1]]
    dues = [r[headers.index("返信ごとの期限")].value for r in subs.iter_rows(min_row=2)]
    assert any(d and re.search(r"受付確認 2022/\d\d/\d\d 17:30", d) for d in dues)
    assert any(d and "不備連絡 " in d for d in dues)
    findings = book["指摘"]
    headers = [c.value for c in findings[1]]
    documents = {r[headers.index("書類")].value for r in findings.iter_rows(min_row=2)} - {None}
    keys = {"application", "overview", "member_info", "pledge", "checklist", "registry", "tax"}
    assert documents and not documents & keys and "納税証明書" in documents
