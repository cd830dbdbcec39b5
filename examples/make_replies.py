"""Write examples/replies/: one rendered reply of each kind, made from the example mailbox.

    python examples/make_replies.py

Replays examples/mailbox/ through the real pipeline with `replay --dry-run` (nothing is queued
or sent) into a temporary ledger, then copies the first rendered reply of each kind to
examples/replies/<kind>.eml, with <kind>.txt beside it: the same mail decoded by Python's email
package (headers and every text part) for reading without a mail program. The first deficiency
notice is written once more with `charset = "iso-2022-jp"` (deficiency-iso-2022-jp.*).

tests/test_replies_examples.py renders them again from the templates and compares the text, so
a change of a template shows in review as a change of these files.

A kind that no mail of the example mailbox produces (for instance `password_request`, when the
password mail of the mailbox arrives in time) is rendered from a made-up context with the same
templates and composer instead; its .txt file and this script's output say so.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.answering import reply_context  # noqa: E402
from ingest.cli import main  # noqa: E402
from ingest.config import Settings  # noqa: E402
from replies.compose import compose, reply_message_id  # noqa: E402
from replies.render import KINDS, Renderer  # noqa: E402
from rules.calendar import JST  # noqa: E402
from rules.findings import finding  # noqa: E402

MAILBOX = REPO / "examples" / "mailbox"
OUT = REPO / "examples" / "replies"
MADE_UP = "(例のメールボックスにこの種類の返信がないため、作成した内容から描画しました)"
JIS_NOTE = ("(replies.charset = \"iso-2022-jp\" の場合。JIS X 0208 にない文字は標準の文字に置き換え、"
            "原文を UTF-8 の部分に添えています)")


def replay_dry_run(work: Path, charset: str = "utf-8") -> Path:
    work.mkdir(parents=True, exist_ok=True)
    config = work / "config.toml"
    config.write_text('[paths]\nledger = "ledger.db"\nblobs = "blobs"\noutbox = "outbox"\n'
                      f'[replies]\ncharset = "{charset}"\n', encoding="utf-8")
    if main(["--config", str(config), "replay", str(MAILBOX), "--dry-run"]) != 0:
        raise SystemExit("replay --dry-run failed; see the message above")
    return work / "outbox" / "dry-run"


def made_up(kind: str) -> bytes:
    """A reply of `kind` from a made-up submission, through the same templates and composer."""
    settings = Settings()
    findings = {
        "receipt": [],
        "deficiency": [finding("SENDER_DETAILS_MISSING",
                               "メール本文に次の項目の記載が見当たりません: 役職、電話番号")],
        "password_request": [finding("ARCHIVE_PASSWORD_MISSING",
                                     "暗号化されたファイル 申請書類一式.zip のパスワードが届いていません")],
        "out_of_period": [finding("OUTSIDE_PERIOD", "締切後に受信しました")],
    }[kind]
    context = reply_context(
        settings, {"id": 99, "consortium": "みなと町DX連携コンソーシアム"}, findings,
        {"sender": {"company": "株式会社みなと製作所", "name": "港 太郎"}},
        datetime(2022, 9, 8, 17, 45, tzinfo=JST), ["申請書類一式.zip"])
    subject, body = Renderer().render(kind, context)
    return compose(
        from_addr=settings.secretariat_address, from_name=settings.secretariat_name,
        to_addr="minato@minato-seisaku.example.jp", subject=subject, body=body,
        message_id=reply_message_id(99, kind, settings.secretariat_address),
        in_reply_to="<20220908174500.example99@minato-seisaku.example.jp>", references=(),
        date=datetime(2022, 9, 9, 1, 0, tzinfo=UTC),
    )


def readable(raw: bytes, note: str | None) -> str:
    """The mail as Python's email package decodes it: the headers a reader sees, then every
    text part (an ISO-2022-JP reply may carry the original text as a UTF-8 alternative)."""
    msg = message_from_bytes(raw, policy=default)
    lines = [note] if note else []
    for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
                 "Auto-Submitted", "Content-Type"):
        if msg[name] is not None:
            lines.append(f"{name}: {' '.join(str(msg[name]).split())}")
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            lines += ["", f"---- {part.get_content_type()}; charset={part.get_content_charset()}",
                      part.get_content().replace("\r\n", "\n").rstrip("\n")]
    return "\n".join(lines) + "\n"


def write_examples(out: Path) -> list[str]:
    """Render every example reply into `out`; returns one line per file for the operator."""
    said = []
    with tempfile.TemporaryDirectory(prefix="make-replies-") as tmp:
        rendered = replay_dry_run(Path(tmp) / "utf8")
        jis = replay_dry_run(Path(tmp) / "jis", "iso-2022-jp")
        out.mkdir(parents=True, exist_ok=True)
        for kind in KINDS:
            found = sorted(rendered.glob(f"*-{kind}.eml"))
            if found:
                raw, note = found[0].read_bytes(), None
                said.append(f"{kind}: {found[0].name} (例のメールボックスから)")
            else:
                raw, note = made_up(kind), MADE_UP
                said.append(f"{kind}: {MADE_UP}")
            _write(out, kind, raw, note)
        for path in sorted(jis.glob("*-deficiency.eml"))[:1]:
            _write(out, "deficiency-iso-2022-jp", path.read_bytes(), JIS_NOTE)
            said.append(f"deficiency-iso-2022-jp: {path.name} (charset = \"iso-2022-jp\")")
    return said


def _write(out: Path, name: str, raw: bytes, note: str | None) -> None:
    (out / f"{name}.eml").write_bytes(raw)
    (out / f"{name}.txt").write_text(readable(raw, note), encoding="utf-8")


def main_script() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    for line in write_examples(OUT):
        print(line)
    print(f"{OUT} に書き出しました")
    return 0


if __name__ == "__main__":
    sys.exit(main_script())
