"""Sender trust: Authentication-Results written by the secretariat's own server.

Headers are written as receiving servers write them (Postfix + OpenDMARC / opendkim style,
Microsoft 365 style), by hand, not produced by the code under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.cli import main
from parsers.authresults import parse_authentication_results, trusted_results
from rules.mail_checks import sender_auth_failure
from tests.mails import complete_mail
from tests.test_blob_integrity import open_ledger
from tests.test_walking_skeleton import write_config

OURS = "mx.example.go.jp"
LEAD_DOMAIN = "minato-seiki.example.jp"
FAIL = (f"{OURS}; dkim=none (no signature); spf=fail (mx.example.go.jp: domain of "
        f"tanaka@{LEAD_DOMAIN} does not designate 203.0.113.9 as permitted sender) "
        f"smtp.mailfrom=tanaka@{LEAD_DOMAIN}; dmarc=fail (p=REJECT sp=REJECT dis=NONE) "
        f"header.from={LEAD_DOMAIN}")
PASS = (f"{OURS};\r\n\tdkim=pass (2048-bit key; unprotected) header.d={LEAD_DOMAIN} "
        f"header.i=@{LEAD_DOMAIN} header.b=\"AbC1dEf2\";\r\n\tspf=pass smtp.mailfrom={LEAD_DOMAIN};"
        f"\r\n\tdmarc=pass (p=none dis=none) header.from={LEAD_DOMAIN}")


def test_parser_reads_methods_results_and_properties_around_comments():
    header = parse_authentication_results(" ".join(PASS.split()))
    assert header is not None and header.authserv_id == OURS
    assert [(r.method, r.result) for r in header.results] == [
        ("dkim", "pass"), ("spf", "pass"), ("dmarc", "pass")]
    assert header.results[0].prop("header.d") == LEAD_DOMAIN
    assert parse_authentication_results(f"{OURS} 1; none").results == ()
    assert parse_authentication_results("") is None
    assert parse_authentication_results("(only a comment)") is None


def test_only_the_topmost_headers_of_our_own_server_count():
    foreign = "mx.attacker.example; dmarc=pass header.from=minato-seiki.example.jp"
    headers = [("Received", "from x by mx.example.go.jp"), ("Authentication-Results", FAIL),
               ("Received", "from y by z"), ("Authentication-Results", foreign),
               ("Authentication-Results", PASS)]  # ours by name, but below a foreign one
    results = trusted_results(headers, OURS)
    assert {(r.method, r.result) for r in results} == {
        ("dkim", "none"), ("spf", "fail"), ("dmarc", "fail")}
    assert trusted_results(headers, "MX.Example.Go.JP") == results  # ids are case-insensitive
    assert trusted_results(headers, None) == ()  # not configured: nothing is read
    assert trusted_results([("Authentication-Results", foreign),
                            ("Authentication-Results", FAIL)], OURS) == ()


def _results(*values: str):
    return trusted_results([("Authentication-Results", v) for v in values], OURS)


@pytest.mark.parametrize(("values", "fails"), [
    ((FAIL,), True),
    ((PASS,), False),
    # A sender's own header claiming a pass does not cancel our server's fail.
    ((FAIL, f"{OURS}; dmarc=pass header.from={LEAD_DOMAIN}"), True),
    ((f"{OURS}; spf=fail smtp.mailfrom={LEAD_DOMAIN}; dkim=fail header.d={LEAD_DOMAIN}",), True),
    ((f"{OURS}; spf=fail smtp.mailfrom={LEAD_DOMAIN}",), True),
    ((f"{OURS}; spf=fail smtp.mailfrom=x.example; dkim=pass header.d=mail.{LEAD_DOMAIN}",), False),
    ((f"{OURS}; spf=fail smtp.mailfrom=x.example; dkim=pass header.d=other.example",), True),
    ((f"{OURS}; spf=softfail smtp.mailfrom={LEAD_DOMAIN}; dkim=none",), False),
    ((f"{OURS}; spf=fail smtp.mailfrom={LEAD_DOMAIN}; dmarc=pass header.from={LEAD_DOMAIN}",),
     False),
    ((f"{OURS}; dmarc=fail header.from=other.example",), False),  # about another From
    ((), False),
])
def test_dmarc_decides_else_spf_and_dkim_both(values, fails):
    reason = sender_auth_failure(_results(*values), f"tanaka@{LEAD_DOMAIN}")
    assert bool(reason) is fails
    if fails:
        assert LEAD_DOMAIN in reason


def _with_header(raw: bytes, value: str) -> bytes:
    return f"Authentication-Results: {value}\r\n".encode() + raw


def _replay(tmp_path: Path, raw: bytes, authserv_id: str | None = OURS) -> Path:
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "1.eml").write_bytes(raw)
    config = write_config(tmp_path)
    if authserv_id:
        config.write_text(f'[secretariat]\nauthserv_id = "{authserv_id}"\n'
                          + config.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["--config", str(config), "replay", str(folder)]) == 0
    return config


def test_a_forged_sender_is_judged_but_answered_only_after_staff_release(tmp_path):
    config = _replay(tmp_path, _with_header(complete_mail("<forged@example.jp>"), FAIL))
    ledger = open_ledger(config)
    sub = next(ledger.db["submissions"].rows)
    assert sub["state"] == "needs_review" and sub["outcome"] == "complete"
    codes = [r["code"] for r in ledger.db["findings"].rows_where("submission_id = ?", [sub["id"]])]
    assert codes == ["SENDER_AUTH_FAILED"]
    message = next(ledger.db["messages"].rows)
    assert message["state"] == "needs_review" and "DMARC" in message["problem"]
    reply = next(ledger.db["replies"].rows)
    assert reply["kind"] == "receipt" and reply["status"] == "held"
    assert "なりすまし" in reply["held_reason"]
    assert list((tmp_path / "outbox").glob("*.eml")) == []
    # A second pass does not send it either.
    assert main(["--config", str(config), "outbox", "send-due"]) == 0
    assert list((tmp_path / "outbox").glob("*.eml")) == []
    # Staff look, decide it is genuine, and release it.
    assert main(["--config", str(config), "outbox", "approve", str(reply["id"]),
                 "--by", "suzuki"]) == 0
    assert ledger.db["submissions"].get(sub["id"])["state"] == "replied"
    assert main(["--config", str(config), "outbox", "send-due"]) == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


@pytest.mark.parametrize("authserv_id", [None, "mx.other.example"])
def test_results_of_another_server_or_without_configuration_change_nothing(tmp_path, authserv_id):
    config = _replay(tmp_path, _with_header(complete_mail("<f2@example.jp>"), FAIL),
                     authserv_id=authserv_id)
    ledger = open_ledger(config)
    sub = next(ledger.db["submissions"].rows)
    assert sub["state"] == "replied"
    assert next(ledger.db["replies"].rows)["status"] == "written"


def test_an_authenticated_sender_is_answered_as_usual(tmp_path):
    config = _replay(tmp_path, _with_header(complete_mail("<ok@example.jp>"), PASS))
    ledger = open_ledger(config)
    assert next(ledger.db["submissions"].rows)["state"] == "replied"
    assert next(ledger.db["replies"].rows)["status"] == "written"
