"""Staff approval end to end through the command line, and no reply to any automatic mail."""

from __future__ import annotations

import json
from email.message import EmailMessage
from pathlib import Path

import pytest

from ingest.cli import main

OURS = "it-renkei@example.go.jp"
CORE = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
RECEIVED = "Received: from mx.example.jp by mail.example.go.jp; Wed, 10 Aug 2022 10:00:00 +0900"
BODY_OK = ("会社名：株式会社テスト製作所\n役職：代表取締役\n氏名：山田太郎\n"
           "メールアドレス：yamada@test-seisaku.example.jp\n電話番号：03-1234-5678\n")


def mail(sender: str, msgid: str, *, subject: str = f"<テストコンソーシアム>{CORE}",
         body: str = "よろしくお願いします。\n", headers: dict[str, str] | None = None,
         report_type: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = OURS
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg["Date"] = "Wed, 10 Aug 2022 10:00:00 +0900"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    msg.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf",
                       filename="7_誓約書.pdf")
    if report_type:  # a read receipt or other report instead of a plain multipart
        msg.set_type("multipart/report")
        msg.set_param("report-type", report_type)
    return (RECEIVED + "\r\n").encode() + msg.as_bytes()


def write_config(tmp_path: Path, smtp=None, *, approve: bool = True) -> Path:
    lines = ["[paths]", 'ledger = "ledger.db"', 'blobs = "blobs"', 'outbox = "outbox"',
             "[secretariat]", f'address = "{OURS}"',
             "[replies]", "business_hours_only = false",
             f"approve_deficiencies = {'true' if approve else 'false'}"]
    if smtp is not None:
        lines += ["[smtp]", f'host = "{smtp.host}"', f"port = {smtp.port}", 'tls = "none"',
                  'user = ""']
    path = tmp_path / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def outbox(config: Path, *argv: str) -> int:
    """`renkei-intake --config CONFIG outbox ARGV...` through the CLI's `main` (its refusals
    are printed and give exit 2 there)."""
    return main(["--config", str(config), "outbox", *argv])


def replay(tmp_path: Path, config: Path, mails: dict[str, bytes]) -> None:
    folder = tmp_path / "mails"
    folder.mkdir(exist_ok=True)
    for name, raw in mails.items():
        (folder / name).write_bytes(raw)
    assert main(["--config", str(config), "replay", str(folder)]) == 0


def listed(config: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    capsys.readouterr()
    assert outbox(config, "list", "--json", *argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_deficiency_waits_for_approval_then_goes_out_once(tmp_path, smtp_server, capsys):
    config = write_config(tmp_path, smtp_server)
    replay(tmp_path, config, {"bad.eml": mail("佐藤 <sato@fubi.example.jp>", "<bad-1@fubi>")})
    (row,) = listed(config, capsys)
    assert (row["kind"], row["status"]) == ("deficiency", "awaiting_approval")
    assert listed(config, capsys, "--status", "awaiting_approval") == [row]
    assert listed(config, capsys, "--status", "sent") == []

    assert outbox(config, "send-due", "--by", "suzuki") == 0
    assert smtp_server.messages == []  # not approved: nothing goes out

    capsys.readouterr()
    assert outbox(config, "show", str(row["id"])) == 0
    shown = capsys.readouterr().out
    assert "Subject: 【不備連絡】<テストコンソーシアム>" in shown
    assert "To: sato@fubi.example.jp" in shown
    assert "Auto-Submitted: auto-replied" in shown
    assert "In-Reply-To: <bad-1@fubi>" in shown
    assert "不備がございました" in shown  # the body, decoded

    assert outbox(config, "approve", str(row["id"]), "--by", "suzuki") == 0
    assert outbox(config, "send-due", "--by", "suzuki") == 0
    (sent,) = smtp_server.wait_for(1)
    assert sent.rcpt_tos == ["sato@fubi.example.jp"]
    assert listed(config, capsys)[0]["status"] == "sent"

    # approving again does nothing and says why in one sentence (exit 2, as every refusal);
    # sending again sends nothing
    capsys.readouterr()
    assert outbox(config, "approve", str(row["id"]), "--by", "suzuki") == 2
    err = capsys.readouterr().err
    assert "送信済のため承認できません" in err and err.count("\n") == 1
    assert outbox(config, "send-due") == 0
    assert len(smtp_server.messages) == 1

    capsys.readouterr()
    assert outbox(config, "show", str(row["id"])) == 0
    history = capsys.readouterr().out.split("―――― 履歴 ――――")[1]
    assert "承認  suzuki" in history
    assert "送信  renkei-intake" in history


def test_hold_then_approve_releases_and_cancel_never_sends(tmp_path, smtp_server, capsys):
    config = write_config(tmp_path, smtp_server)
    replay(tmp_path, config, {
        "a.eml": mail("a <a@one.example.jp>", "<a@one>", subject=f"<A>{CORE}"),
        "b.eml": mail("b <b@two.example.jp>", "<b@two>", subject=f"<B>{CORE}"),
    })
    # Both came in the same second: which one was filed first is not what this is about.
    ids = {r["to_addr"]: r["id"] for r in listed(config, capsys)}
    first, second = ids["a@one.example.jp"], ids["b@two.example.jp"]
    assert outbox(config, "hold", str(first), "--by", "tanaka", "--reason", "電話で確認中") == 0
    assert outbox(config, "cancel", str(second), "--by", "tanaka") == 0
    held = listed(config, capsys, "--status", "held")
    assert [r["id"] for r in held] == [first] and held[0]["held_reason"] == "電話で確認中"
    assert outbox(config, "send-due") == 0
    assert smtp_server.messages == []
    # one of the two is cancelled: the command is refused as a whole, the held one stays held
    capsys.readouterr()
    assert outbox(config, "approve", str(first), str(second), "--by", "tanaka") == 2
    assert f"返信 {second} は取消のため承認できません" in capsys.readouterr().err
    assert listed(config, capsys, "--status", "held")[0]["id"] == first
    assert outbox(config, "approve", str(first), "--by", "tanaka") == 0
    assert outbox(config, "send-due") == 0
    assert [m.rcpt_tos for m in smtp_server.wait_for(1)] == [["a@one.example.jp"]]
    statuses = {r["id"]: r["status"] for r in listed(config, capsys)}
    assert statuses == {first: "sent", second: "cancelled"}


def test_unknown_reply_id_is_an_error(tmp_path, capsys):
    config = write_config(tmp_path)
    replay(tmp_path, config, {})
    assert main(["--config", str(config), "outbox", "show", "99"]) == 2
    assert main(["--config", str(config), "outbox", "cancel", "99"]) == 2
    assert "返信 99 はありません" in capsys.readouterr().err


def test_send_due_without_smtp_writes_approved_replies_as_files(tmp_path, capsys):
    config = write_config(tmp_path)
    replay(tmp_path, config, {"bad.eml": mail("佐藤 <sato@fubi.example.jp>", "<bad-1@fubi>")})
    (row,) = listed(config, capsys)
    assert not list((tmp_path / "outbox").glob("*.eml"))  # waits for approval
    assert outbox(config, "approve", str(row["id"]), "--by", "suzuki") == 0
    assert outbox(config, "send-due") == 0
    assert [p.name for p in (tmp_path / "outbox").glob("*.eml")] == [
        f"{row['submission_id']:05d}-deficiency.eml"]


DSN = (
    "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.jp>\r\n"
    f"To: {OURS}\r\nSubject: Undelivered Mail Returned to Sender\r\n"
    "Message-ID: <dsn-1@mx.example.jp>\r\nMIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
    "--b\r\nContent-Type: text/plain\r\n\r\nmail could not be delivered\r\n"
    "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n\r\n"
    "Final-Recipient: rfc822; nobody@example.jp\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    f"Message-ID: <renkei-intake.1.receipt@example.go.jp>\r\nSubject: <X>{CORE}\r\n--b--\r\n"
).encode()


AUTOMATIC = {
    "auto-submitted": mail("a <a@x.example.jp>", "<m1@x>",
                           headers={"Auto-Submitted": "auto-replied"}),
    "precedence-bulk": mail("a <b@x.example.jp>", "<m2@x>", headers={"Precedence": "bulk"}),
    "mailing-list": mail("a <c@x.example.jp>", "<m3@x>",
                         headers={"List-Id": "<news.x.example.jp>"}),
    "null-return-path": mail("a <d@x.example.jp>", "<m4@x>", headers={"Return-Path": "<>"}),
    "own-address": mail(f"事務局 <{OURS}>", "<m5@x>"),
    "daemon-sender": mail("MAILER-DAEMON@mx.example.jp", "<m6@x>"),
    "out-of-office-subject": mail("e <e@x.example.jp>", "<m7@x>",
                                  subject=f"自動応答: <テスト>{CORE}"),
    "report": mail("f <f@x.example.jp>", "<m8@x>",
                   report_type="disposition-notification"),
    "dsn": (RECEIVED + "\r\n").encode() + DSN,
}


@pytest.mark.parametrize("name", sorted(AUTOMATIC))
def test_no_reply_to_automatic_mail(tmp_path, capsys, name):
    config = write_config(tmp_path, approve=False)
    replay(tmp_path, config, {f"{name}.eml": AUTOMATIC[name]})
    assert listed(config, capsys) == []
    capsys.readouterr()
    assert main(["--config", str(config), "export", "submissions"]) == 0
    (submission,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "NOT_A_SUBMISSION" in submission["findings"]
    assert not list((tmp_path / "outbox").glob("*.eml"))


def test_a_person_gets_a_reply_with_the_same_helper(tmp_path, capsys):
    """The automatic-mail cases above differ from this one only by the automatic mark."""
    config = write_config(tmp_path, approve=False)
    replay(tmp_path, config, {"person.eml": mail("a <a@x.example.jp>", "<p1@x>", body=BODY_OK)})
    assert len(listed(config, capsys)) == 1


EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "mailbox"


@pytest.mark.parametrize("charset", ["utf-8", "iso-2022-jp"])
def test_every_dry_run_reply_is_threaded_marked_readable_and_addressed_to_a_person(
        tmp_path, charset):
    from parsers.mime import parse_message
    from replies.address import refusal

    if not EXAMPLES.is_dir():
        pytest.skip("examples/mailbox is not there")
    config = write_config(tmp_path)
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'charset = "{charset}"\n')
    assert main(["--config", str(config), "replay", str(EXAMPLES), "--dry-run"]) == 0
    rendered = sorted((tmp_path / "outbox" / "dry-run").glob("*.eml"))
    assert len(rendered) >= 4
    for path in rendered:
        record = parse_message(path.read_bytes())
        headers = {name.lower(): value for name, value in record.headers}
        assert record.in_reply_to and record.in_reply_to in headers["references"], path.name
        assert headers["auto-submitted"] == "auto-replied", path.name
        assert any(word in record.subject + record.body
                   for word in ("受付", "不備")), path.name
        assert "\ufffd" not in record.body and not record.problems, path.name
        assert refusal(record.to[0], {OURS}) is None, path.name
