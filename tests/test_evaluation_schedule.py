"""An open submission that waits is evaluated again only when its wait ends or a mail joins it,
so the daemon's cycles stay short while many submissions wait (IDLE latency)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from ingest import app
from ingest.config import load_settings
from ingest.sources import open_source
from tests.mails import complete_mail
from tests.test_walking_skeleton import write_config


def evaluations(ledger, submission: int) -> int:
    return ledger.db["events"].count_where(
        "entity = 'submission' AND entity_id = ? AND event = 'evaluated'", [submission])


def test_waiting_submission_is_evaluated_again_only_when_its_wait_ends(tmp_path):
    received = datetime.now(UTC).replace(microsecond=0)
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "a.eml").write_bytes(complete_mail("<wait@x>", received=format_datetime(received)))
    config = write_config(tmp_path)
    config.write_text(config.read_text() + "[submissions]\nsettle_minutes = 30\n"
                      '[program]\nperiod_end = "2099-12-31"\n')
    settings = load_settings(config)
    ledger = app.open_ledger(settings)
    pipeline = app.make_pipeline(settings, ledger)
    app.replay(pipeline, open_source(str(folder)))
    sub = ledger.db["submissions"].get(1)
    assert sub["outcome"] == "awaiting_settle"
    assert evaluations(ledger, 1) == 1

    for minutes in (1, 10, 29):  # passes while it settles: nothing to do for it
        pipeline.advance(now=received + timedelta(minutes=minutes))
    assert evaluations(ledger, 1) == 1

    pipeline.advance(now=received + timedelta(minutes=31))
    assert evaluations(ledger, 1) == 2
    assert ledger.db["submissions"].get(1)["outcome"] == "complete"
    assert [r["kind"] for r in ledger.db["replies"].rows] == ["receipt"]
