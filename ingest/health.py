"""Is fetching alive? The heartbeat rows turned into warnings (PEER-LESSONS #5: silence is
the most common failure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ingest.config import Settings
from replies.connection import ServerConfig
from state.ledger import Ledger


def poll_beat(server: ServerConfig) -> str:
    """Heartbeat name of the last successful poll of a mailbox folder."""
    return f"poll:{server.account}/{server.folder}"


def poll_error_beat(server: ServerConfig) -> str:
    """Heartbeat name of the last failed poll, removed again by the next success."""
    return f"poll-error:{server.account}/{server.folder}"


def warnings(settings: Settings, ledger: Ledger, now: datetime | None = None) -> list[str]:
    now = now or datetime.now(UTC)
    beats = {r["name"]: r for r in ledger.db["heartbeat"].rows}
    found = []
    if settings.imap:
        name = f"{settings.imap.account}/{settings.imap.folder}"
        last = beats.get(poll_beat(settings.imap))
        if last is None:
            found.append(f"{name}: まだ一度も取得に成功していません(デーモンは起動していますか)")
        else:
            age = now - datetime.fromisoformat(last["at"])
            if age > settings.stale_after:
                minutes = int(age.total_seconds() // 60)
                found.append(f"{name}: 最後に取得に成功してから {minutes} 分経過しています"
                             f"(しきい値 {int(settings.stale_after.total_seconds() // 60)} 分)")
        error = beats.get(poll_error_beat(settings.imap))
        if error is not None:
            detail = json.loads(error["detail"] or "{}")
            found.append(f"{name}: 取得エラー({error['at']}): {detail.get('error', '')}")
    send_error = beats.get("send-error")
    if send_error is not None:  # the last send pass delivered nothing and failed
        detail = json.loads(send_error["detail"] or "{}")
        found.append(f"返信の送信エラー({send_error['at']}): {detail.get('error', '')}")
    return found

