"""Grouping as applicants' mail will test it: mails shaped like real applicants' (Microsoft-extended
ISO-2022-JP, a CP932-named AES zip with its password minutes later, a wrong password, a Fwd with
fields missing, a three-part split, a bounce, a compression bomb), replayed and read through
`export submissions --format jsonl`: each with exactly the right findings and grouping."""

from __future__ import annotations

import base64
import io
import json
from contextlib import redirect_stdout
from email.message import EmailMessage
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

import pytest

import parsers.jiscodecs  # noqa: F401 - registers the iso2022_jp_ms codec used below
from ingest.cli import main
from tests.archive_factory import Entry, build_aes_zip, build_zip, deflated_zeros
from tests.mails import BODY_OK, CORE, LEAD, documents, mail
from tests.test_walking_skeleton import write_config

DOMAIN = LEAD.split("@")[1]


def received(minute: int) -> str:
    return f"Wed, 17 Aug 2022 10:{minute:02d}:00 +0900"


def jis_word(text: str) -> str:
    return f"=?ISO-2022-JP?B?{base64.b64encode(text.encode('iso2022_jp_ms')).decode()}?="


def ms_jis_mail(consortium: str, minute: int) -> bytes:
    """Outlook style: ISO-2022-JP with NEC/IBM extensions in the subject, body and file names."""
    outer = MIMEMultipart()
    outer["Received"] = f"from mx by mx.example.go.jp; {received(minute)}"
    outer["From"] = f"{jis_word('港 一郎')} <{LEAD}>"
    outer["To"] = "it-renkei@example.go.jp"
    outer["Subject"] = jis_word(f"<{consortium}>{CORE}")
    outer["Message-ID"] = f"<ms-{minute}@{DOMAIN}>"
    body = MIMEText("", "plain")
    body.set_payload((BODY_OK + "\n以上、よろしくお願いいたします。①\n").encode("iso2022_jp_ms"))
    body.replace_header("Content-Type", 'text/plain; charset="ISO-2022-JP"')
    body["Content-Transfer-Encoding"] = "7bit"
    outer.attach(body)
    for name, data in documents(consortium).items():
        part = MIMEApplication(data)
        part.add_header("Content-Disposition", "attachment", filename=jis_word(name))
        outer.attach(part)
    return outer.as_bytes()


def cp932_aes_zip(consortium: str, password: bytes) -> bytes:
    return build_aes_zip(
        [(f"申請書類/{name}".encode("cp932"), data) for name, data in documents(consortium).items()],
        password,
    )


def plain(subject: str, body: str, msgid: str, minute: int, *, sender: str = LEAD,
          attachments: dict[str, bytes] | None = None) -> bytes:
    return mail(subject, body, sender, f"<{msgid}@{DOMAIN}>", attachments=attachments,
                received=received(minute))


def bounce(minute: int) -> bytes:
    msg = EmailMessage()
    msg["Received"] = f"from mx by mx.example.go.jp; {received(minute)}"
    msg["Return-Path"] = "<>"
    msg["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.jp>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = "Undelivered Mail Returned to Sender"
    msg["Message-ID"] = "<bounce-1@mx.example.jp>"
    msg.set_content("This is the mail system at host mx.example.jp.\n")
    msg.make_mixed()
    msg.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; '
                                       f'boundary="{msg.get_boundary()}"')
    return msg.as_bytes()


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("acceptance")
    folder = tmp / "mails"
    folder.mkdir()
    split = list(documents("三分割コンソーシアム").items())
    bomb_zip = build_zip([Entry(b"zeros.bin", precompressed=deflated_zeros(300 * 1024 * 1024))])
    mails = {
        "01-ms-jis": ms_jis_mail("㈱東海Ⅲ①連携コンソーシアム", 1),
        "02-aes": plain(f"<暗号化コンソーシアム>{CORE}", BODY_OK + "\nパスワードは別途お送りします。\n",
                        "aes", 2, attachments={"申請書類.zip": cp932_aes_zip("暗号化コンソーシアム", b"Tokai#2022")}),
        "03-aes-password": plain("パスワードのご連絡", "先ほどの申請書類のパスワードです。\n\nパスワード：Tokai#2022\n",
                                 "aes-pw", 7),
        "04-wrong": plain(f"<誤パスワードコンソーシアム>{CORE}", BODY_OK, "wrong", 10,
                          sender=f"suzuki@{DOMAIN}",
                          attachments={"書類.zip": cp932_aes_zip("誤パスワードコンソーシアム", b"right-one")}),
        "05-wrong-password": plain("【パスワード】書類.zip", "パスワード: wrong-one\n", "wrong-pw", 12,
                                   sender=f"suzuki@{DOMAIN}"),
        "06-fwd-missing": plain(f"Fwd: <転送コンソーシアム>{CORE}",
                                "会社名：株式会社みなと精機\n氏名：港 一郎\n"
                                f"メールアドレス：{LEAD}\n", "fwd", 20,
                                sender=f"sato@{DOMAIN}", attachments=documents("転送コンソーシアム")),
        "07-split-1": plain(f"<三分割コンソーシアム>{CORE}(1/3)", BODY_OK, "split-1", 30,
                            sender=f"ito@{DOMAIN}", attachments=dict(split[:5])),
        "08-split-2": plain(f"<三分割コンソーシアム>{CORE}（2/3）", BODY_OK, "split-2", 31,
                            sender=f"ito@{DOMAIN}", attachments=dict(split[5:10])),
        "09-split-3": plain(f"<三分割コンソーシアム>{CORE}(3/3)", BODY_OK, "split-3", 33,
                            sender=f"ito@{DOMAIN}", attachments=dict(split[10:])),
        "10-bounce": bounce(40),
        "11-bomb": plain(f"<爆弾コンソーシアム>{CORE}", BODY_OK, "bomb", 45, sender=f"kato@{DOMAIN}",
                         attachments={**documents("爆弾コンソーシアム"), "追加資料.zip": bomb_zip}),
    }
    for name, raw in mails.items():
        (folder / f"{name}.eml").write_bytes(raw)
    config = write_config(tmp)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["--config", str(config), "export", "submissions", "--format", "jsonl"]) == 0
    return {r["subject"]: r for r in map(json.loads, out.getvalue().splitlines())}


def by_name(outcome: dict[str, dict], name: str) -> dict:
    return next(r for r in outcome.values() if r["consortium"] == name)


def test_microsoft_iso_2022_jp_survives_to_the_ledger(outcome):
    row = by_name(outcome, "㈱東海Ⅲ①連携コンソーシアム")
    assert row["findings"] == [] and row["messages"] == 1
    assert [r["kind"] for r in row["replies"]] == ["receipt"]


def test_aes_zip_with_cp932_names_opens_with_the_later_password(outcome):
    row = by_name(outcome, "暗号化コンソーシアム")
    assert row["messages"] == 2  # the archive mail and the password mail
    assert row["findings"] == []
    assert [r["kind"] for r in row["replies"]] == ["receipt"]


def test_wrong_password_is_a_finding_on_the_same_submission(outcome):
    row = by_name(outcome, "誤パスワードコンソーシアム")
    assert row["messages"] == 2
    assert row["findings"] == ["ARCHIVE_PASSWORD_WRONG"]
    assert [r["kind"] for r in row["replies"]] == ["deficiency"]


def test_forward_with_fields_missing(outcome):
    row = by_name(outcome, "転送コンソーシアム")
    assert row["findings"] == ["SENDER_DETAILS_MISSING"]
    assert row["messages"] == 1


def test_three_part_split_is_one_submission(outcome):
    row = by_name(outcome, "三分割コンソーシアム")
    assert row["messages"] == 3
    assert row["findings"] == []
    assert [r["kind"] for r in row["replies"]] == ["receipt"]


def test_bounce_is_recorded_and_never_answered(outcome):
    row = outcome["Undelivered Mail Returned to Sender"]
    assert row["findings"] == ["NOT_A_SUBMISSION"] and row["replies"] == []


def test_compression_bomb_is_unreadable_and_the_rest_is_checked(outcome):
    row = by_name(outcome, "爆弾コンソーシアム")
    assert row["findings"] == ["ATTACHMENT_UNREADABLE"]


def test_nothing_else_became_a_submission(outcome):
    assert len(outcome) == 7  # 11 mails: 2 password mails and 2 further parts joined others


def test_two_archives_from_one_sender_each_open_with_the_password_naming_them(tmp_path, capsys):
    folder = tmp_path / "mails"
    folder.mkdir()
    names = ("東コンソーシアム", "西コンソーシアム")
    for n, name in enumerate(names):
        archive = cp932_aes_zip(name, f"pw-{n}".encode())
        (folder / f"{n}a.eml").write_bytes(plain(f"<{name}>{CORE}", BODY_OK, f"two-{n}", 10 + n,
                                                 attachments={"書類.zip": archive}))
    for n, name in enumerate(names):  # both passwords come after both archives
        (folder / f"{n}b.eml").write_bytes(plain(f"Re: <{name}>{CORE}【パスワード】",
                                                 f"パスワード：pw-{n}\n", f"two-pw-{n}", 20 + n))
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "export", "submissions"]) == 0
    rows = {r["consortium"]: r for r in map(json.loads, capsys.readouterr().out.splitlines())}
    for name in names:
        assert rows[name]["messages"] == 2 and rows[name]["findings"] == [], rows[name]


def test_a_password_that_comes_before_its_archive_still_opens_it(tmp_path, capsys):
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(plain("解凍パスワード", "パスワード：early-bird\n", "early-pw", 1))
    archive = cp932_aes_zip("先行パスワードコンソーシアム", b"early-bird")
    (folder / "2.eml").write_bytes(plain(f"<先行パスワードコンソーシアム>{CORE}", BODY_OK, "early", 4,
                                         attachments={"書類.zip": archive}))
    config = write_config(tmp_path)
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "export", "submissions"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    opened = next(r for r in rows if r["consortium"] == "先行パスワードコンソーシアム")
    assert opened["findings"] == [] and [r["kind"] for r in opened["replies"]] == ["receipt"]
    # The password mail joins its archive's submission, as when it comes after it.
    assert opened["messages"] == 2 and len(rows) == 1
