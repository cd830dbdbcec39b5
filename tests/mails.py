"""Mails for tests, built with the standard library: a complete valid submission and variants."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from datetime import timedelta, timezone
from email.message import EmailMessage
from functools import cache
from types import ModuleType

from tests.conftest import REPO

JST = timezone(timedelta(hours=9))
CORE = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
VALID_ZIP = REPO / "examples" / "forms" / "valid-submission.zip"
VALID_CONSORTIUM = "みなとDX連携コンソーシアム"  # as in examples/make_forms.py VALID
LEAD = "tanaka@minato-seiki.example.jp"  # the 幹事社 contact in the valid forms
BODY_OK = (
    "令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n"
    "会社名：株式会社みなと精機\n役職：代表取締役\n氏名：港 一郎\n"
    f"メールアドレス：{LEAD}\n電話番号：045-123-4567\n"
)


def mail(subject: str, body: str, sender: str, msgid: str, *,
         attachments: dict[str, bytes] | None = None, received: str | None = None) -> bytes:
    msg = EmailMessage()
    if received:
        msg["Received"] = f"from mx.example.jp by mx.example.go.jp; {received}"
    msg["From"] = f"申請者 <{sender}>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg["Date"] = "Wed, 10 Aug 2022 10:00:00 +0900"
    msg.set_content(body)
    for name, data in (attachments or {}).items():
        maintype, subtype = ("application", "zip") if name.endswith(".zip") else \
            ("application", "octet-stream")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def complete_mail(msgid: str, *, consortium: str = VALID_CONSORTIUM, sender: str = LEAD,
                  body: str = BODY_OK, received: str | None = None) -> bytes:
    """A submission that passes every check: the valid sample forms, from the 幹事社."""
    return mail(f"<{consortium}>{CORE}", body, sender, msgid,
                attachments={"申請書類.zip": VALID_ZIP.read_bytes()}, received=received)


@cache
def make_forms() -> ModuleType:
    """examples/make_forms.py, loaded as a module (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_forms", REPO / "examples/make_forms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_forms", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def documents(consortium: str) -> dict[str, bytes]:
    """The valid sample submission's files, filled in for `consortium` (幹事社 stays LEAD)."""
    forms = make_forms()
    return forms.submission_files(replace(forms.VALID, consortium=consortium))
