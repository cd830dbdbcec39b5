"""Write examples/replies/: one rendered reply of each kind, made from the example mailbox.

    python examples/make_replies.py

Replays examples/mailbox/ through the real pipeline with `replay --dry-run` (nothing is queued
or sent) into a temporary ledger, then copies the first rendered reply of each kind to
examples/replies/<kind>.eml, with <kind>.txt beside it: the same mail decoded (headers and body)
for reading without a mail program.

A kind that no mail of the example mailbox produces (for instance `password_request`, when the
password mail of the mailbox arrives in time) is rendered from a made-up context with the same
templates and composer instead; its .txt file and this script's output say so.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ingest.cli import main  # noqa: E402
from ingest.config import Settings  # noqa: E402
from ingest.pipeline import sample_context  # noqa: E402
from parsers.mime import parse_message  # noqa: E402
from replies.compose import compose, reply_message_id  # noqa: E402
from replies.render import KINDS, Renderer  # noqa: E402
from rules.findings import CATALOG, finding  # noqa: E402

MAILBOX = REPO / "examples" / "mailbox"
OUT = REPO / "examples" / "replies"
MADE_UP = "(例のメールボックスにこの種類の返信がないため、作成した内容から描画しました)"


def replay_dry_run(work: Path) -> Path:
    config = work / "config.toml"
    config.write_text('[paths]\nledger = "ledger.db"\nblobs = "blobs"\noutbox = "outbox"\n',
                      encoding="utf-8")
    if main(["--config", str(config), "replay", str(MAILBOX), "--dry-run"]) != 0:
        raise SystemExit("replay --dry-run failed; see the message above")
    return work / "outbox" / "dry-run"


def made_up(kind: str) -> bytes:
    """A reply of `kind` from a made-up submission, through the same templates and composer."""
    settings = Settings()
    findings = {
        "receipt": [],
        "deficiency": [finding("SENDER_DETAILS_MISSING",
                               "メール本文に次の差出人情報の記載がありません：役職、電話番号")],
        "password_request": [finding("ARCHIVE_PASSWORD_MISSING",
                                     "申請書類一式.zip のパスワードが届いていません")],
        "out_of_period": [finding("OUTSIDE_PERIOD", "締切後に受信しました")],
    }[kind]
    context: dict[str, Any] = {
        **sample_context(settings),
        "submission": {"id": 99, "consortium": "みなと町DX連携コンソーシアム"},
        "sender_salutation": "株式会社みなと製作所\n港 太郎 様",
        "received_at": "2022年9月8日 17:45",
        "files": ["申請書類一式.zip"],
        "deficiencies": [_item(f) for f in findings],
        "notices": [],
    }
    subject, body = Renderer().render(kind, context)
    return compose(
        from_addr=settings.secretariat_address, from_name=settings.secretariat_name,
        to_addr="minato@minato-seisaku.example.jp", subject=subject, body=body,
        message_id=reply_message_id(99, kind, settings.secretariat_address),
        in_reply_to="<20220908174500.example99@minato-seisaku.example.jp>", references=(),
        date=datetime(2022, 9, 9, 1, 0, tzinfo=UTC),
    )


def _item(f: Any) -> dict[str, Any]:
    info = CATALOG[f.code]
    return {"code": f.code, "meaning": info.meaning, "fix": info.fix, "detail": f.detail,
            "member": f.member, "document": f.document}


def readable(raw: bytes, note: str | None) -> str:
    record = parse_message(raw)
    headers = {name.lower(): value for name, value in reversed(record.headers)}
    lines = [note] if note else []
    for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References",
                 "Auto-Submitted", "Content-Type"):
        if name.lower() in headers:
            lines.append(f"{name}: {headers[name.lower()]}")
    return "\n".join([*lines, "", record.body])


def main_script() -> int:
    with tempfile.TemporaryDirectory(prefix="make-replies-") as tmp:
        rendered = replay_dry_run(Path(tmp))
        found = {kind: sorted(rendered.glob(f"*-{kind}.eml")) for kind in KINDS}
        if OUT.exists():
            shutil.rmtree(OUT)
        OUT.mkdir(parents=True)
        for kind in KINDS:
            if found[kind]:
                raw, note = found[kind][0].read_bytes(), None
                print(f"{kind}: {found[kind][0].name} (例のメールボックスから)")
            else:
                raw, note = made_up(kind), MADE_UP
                print(f"{kind}: {MADE_UP}")
            (OUT / f"{kind}.eml").write_bytes(raw)
            (OUT / f"{kind}.txt").write_text(readable(raw, note), encoding="utf-8")
    print(f"{OUT} に書き出しました")
    return 0


if __name__ == "__main__":
    sys.exit(main_script())
