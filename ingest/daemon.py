"""`renkei-intake run`: poll and send on an interval with APScheduler until SIGTERM."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler

from ingest import app
from ingest.config import Settings
from ingest.imap_source import MailboxError

log = logging.getLogger("renkei_intake")


def run_daemon(settings: Settings) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with app.exclusive(settings.ledger_path):
        ledger = app.open_ledger(settings)

        def cycle() -> None:
            pipeline = app.make_pipeline(settings, ledger)
            try:
                report = app.poll_once(pipeline) if settings.imap else None
                if report:
                    log.info("poll: %s", report.summary())
            except MailboxError as exc:
                log.error("%s", exc)  # retried on the next interval
            sent = app.send_pass(settings, ledger)
            if sent and (sent.sent or sent.retrying or sent.failed):
                log.info("send: sent=%d retrying=%d failed=%d", sent.sent, sent.retrying,
                         sent.failed)

        scheduler = BlockingScheduler(timezone="Asia/Tokyo")
        scheduler.add_job(cycle, "interval", seconds=settings.poll_interval_seconds,
                          max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))

        def stop(signum: int, frame: FrameType | None) -> None:
            log.info("signal %d: stopping after the current pass", signum)
            scheduler.shutdown(wait=True)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        scheduler.start()
    return 0

