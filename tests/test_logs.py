"""Log lines give their time in JST (with its offset), on any server time zone."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from ingest.logs import JsonFormatter, PlainFormatter


def record_at(moment: datetime) -> logging.LogRecord:
    record = logging.LogRecord("renkei", logging.INFO, __file__, 1, "poll: %s", ("ok",), None)
    record.created = moment.timestamp()
    return record


def test_log_times_are_jst_in_json_and_on_a_terminal():
    record = record_at(datetime(2022, 9, 9, 15, 30, tzinfo=UTC))  # 2022-09-10 00:30 JST
    entry = json.loads(JsonFormatter().format(record))
    assert entry["time"] == "2022-09-10T00:30:00.000+09:00"
    assert datetime.fromisoformat(entry["time"]) == datetime(2022, 9, 9, 15, 30, tzinfo=UTC)
    assert PlainFormatter().format(record).startswith("2022-09-10 00:30:00 JST INFO poll: ok")
