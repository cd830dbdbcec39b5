"""The staff console in a real headless Chromium, as secretariat staff use it.

The ledger is built by `replay` of mails made with the standard library (one with an
applicant's <script> in its subject and body, one quarantined the way the parse stage does),
the account by the real `renkei-intake staff add`, and the server is `renkei-intake serve` in
its own process. Screenshots of every page go to tests/screenshots/ (ignored by git).
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import openpyxl
import pytest

from ingest import cli
from rules.findings import CATALOG
from state import labels
from tests.browser import (
    PASSWORD,
    STAFF,
    Answer,
    Browser,
    NoRedirect,
    browser,
    csrf_form,
    fetch,
    signed_in_opener,
)
from tests.conftest import REPO
from tests.test_staff_quarantine import quarantine_unparsable
from tests.test_staff_queries import CORE, MAILS, body, mail, open_ledger, write_config
from tests.test_staff_serve import chromium, free_port, serving

__all__ = ["chromium"]  # the session fixture

SHOTS = REPO / "tests" / "screenshots"
SCRIPT = "<script>window.pwned = 1</script>"
HOSTILE = mail(f"<あさひ連携コンソーシアム>{CORE}{SCRIPT}",
               body("あさひ工業株式会社", "小林誠", "kobayashi@asahi.example.jp")
               + f"\n{SCRIPT}\n<img src=x onerror=\"window.pwned = 2\">\n",
               "小林誠 <kobayashi@asahi.example.jp>", "<asahi-1@asahi.example.jp>",
               datetime(2022, 8, 16, 10, 0), ("申請書類一式.pdf",))


def html_only_mail() -> bytes:
    """A mail whose only body is HTML, as some webmail sends it: staff must see its text."""
    msg = EmailMessage()
    msg["From"] = "中村愛 <nakamura@midori.example.jp>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = "交付申請の様式について(HTMLメール)"
    msg["Message-ID"] = "<midori-1@midori.example.jp>"
    msg["Date"] = "Wed, 17 Aug 2022 09:30:00 +0900"
    msg["Received"] = "from mx.example.jp by mail.example.go.jp; Wed, 17 Aug 2022 09:30:00 +0900"
    msg.set_content("<html><body><p>様式の<b id=\"bold\">記入方法</b>を教えてください。</p>"
                    "<script>window.pwned = 3</script>"
                    "<a href=\"https://phish.example/\">こちら</a></body></html>", subtype="html")
    return msg.as_bytes()


ENGLISH_CODES = sorted({code for vocabulary in labels.VOCABULARIES.values() for code in vocabulary}
                       | set(CATALOG) - {"sent", "unknown", "failed"}
                       | {"SELECT", "submissions_overview", "renkei-intake"})


def run(config: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ingest.cli", "--config", str(config), *argv],
                          cwd=REPO, input=stdin, capture_output=True, text=True, timeout=300,
                          check=False)


def read(config: Path, *argv: str) -> str:
    """A read verb's stdout, through the CLI's own `main` in this process (no interpreter start
    per query; the CLI's process handling is tested by `run` above and tests/test_operator_errors)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(["--config", str(config), *argv])
    assert code == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A replayed ledger with deficiency notices awaiting approval, one staff account made by
    `staff add`, a quarantined mail, and `serve` answering on a free port."""
    config = season_ledger(tmp_path_factory.mktemp("console"))
    with serving(config, free_port()) as base:
        yield config, base


def season_ledger(tmp: Path) -> Path:
    """The console's ledger (see `console`), its config file returned; `serve` not started."""
    folder = tmp / "mails"
    folder.mkdir(parents=True)
    for name, raw in {**MAILS, "05-asahi.eml": HOSTILE, "06-html.eml": html_only_mail()}.items():
        (folder / name).write_bytes(raw)
    config = write_config(tmp)
    config.write_text(config.read_text(encoding="utf-8").replace(
        "approve_deficiencies = false", "approve_deficiencies = true"), encoding="utf-8")
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert cli.main(["--config", str(config), "replay", str(folder)]) == 0
    quarantine_unparsable(config)
    return config


def sign_in(page: Browser, base: str, name: str = STAFF, password: str = PASSWORD) -> str:
    assert "/login" in page.open(f"{base}/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    return page.click("form[action='/login'] button[type=submit]")


def shot(page: Browser, name: str) -> None:
    path = page.screenshot(SHOTS / f"{name}.png")
    print(f"screenshot: {path}")


def assert_japanese_only(page: Browser) -> None:
    """No English code (state, outcome, finding, event) nor SQL in what staff read."""
    visible = page.text()
    for code in ENGLISH_CODES:
        assert not re.search(rf"(?<![\w@.-]){re.escape(code)}(?![\w@.-])", visible), (code, page.url)


def reply_of(config: Path, consortium: str) -> int:
    return open_ledger(config).db.execute(
        "SELECT r.id FROM replies r JOIN submissions s ON s.id = r.submission_id "
        "WHERE s.consortium = ?", [consortium]).fetchone()[0]


def test_staff_sign_in_find_by_a_japanese_word_open_and_approve(chromium, console, tmp_path):
    config, base = console
    reply = reply_of(config, "さくら連携コンソーシアム")
    with browser(chromium, tmp_path / "profile") as page:
        assert "/login" in page.open(f"{base}/submissions/1")
        shot(page, "01-login")
        assert sign_in(page, base) == f"{base}/"
        session = [c for c in page.cookies() if c["name"] == "renkei_session"]
        assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Lax"
        text = page.text()
        assert "申請一覧" in text and "ひかりIT連携コンソーシアム" in text and "書類不足" in text
        assert f"{STAFF} さん" in text
        shot(page, "02-submissions")
        assert_japanese_only(page)

        page.fill("input[name=q]", "誓約書")
        page.click("form.filters button[type=submit]")
        text = page.text()
        assert "「誓約書」を含むメール" in text and "さくら連携コンソーシアム" in text
        assert "みなと連携コンソーシアム" not in text
        shot(page, "03-search")
        detail = page.click("table.list a[href^='/submissions/']")
        assert re.search(r"/submissions/\d+$", detail)
        text = page.text()
        for expected in ("申請の詳細", "さくら連携コンソーシアム", "株式会社テスト製作所", "7_誓約書.pdf",
                         "7. 誓約書", CATALOG["DOCUMENT_MISSING"].meaning, CATALOG["DOCUMENT_MISSING"].fix,
                         "【不備連絡】", "承認待ち", "受信", "履歴"):
            assert expected in text, expected
        shot(page, "04-detail")
        assert_japanese_only(page)

        after = page.click(f"form[action='/replies/{reply}/approve'] button")
        assert after == detail
        text = page.text()
        assert f"返信 {reply} を承認しました(操作: {STAFF})" in text
        assert "送信待ち" in text
        history = page.js("[...document.querySelectorAll('h2')].find(h => h.textContent === '履歴')"
                          ".parentElement.innerText")
        assert re.search(rf"承認\s+{re.escape(STAFF)}", history)
        shot(page, "05-approved")

    listed = [json.loads(line) for line in read(config, "outbox", "list", "--json").splitlines()]
    row = next(r for r in listed if r["id"] == reply)
    assert (row["status"], row["decided_by"], row["decision"]) == ("queued", STAFF, "approved")
    events = open_ledger(config).db.execute(
        "SELECT event, actor FROM events WHERE entity = 'reply' AND entity_id = ? ORDER BY id",
        [reply]).fetchall()
    assert ("approved", STAFF) in events
    shown = read(config, "outbox", "show", str(reply))
    assert f"承認  {STAFF}" in shown


def test_approvals_page_holds_with_a_reason_and_shows_the_notice_beside_its_findings(
        chromium, console, tmp_path):
    config, base = console
    reply = reply_of(config, "みなと連携コンソーシアム")
    with browser(chromium, tmp_path / "profile") as page:
        sign_in(page, base)
        page.open(f"{base}/approvals")
        text = page.text()
        assert "承認待ちの返信" in text and "みなと連携コンソーシアム" in text
        assert "差出人情報なし" in text and "【不備連絡】" not in text.split("返信の文面")[0]
        shot(page, "06-approvals")
        assert_japanese_only(page)
        # Without a reason the browser does not send the form; with one it is held.
        page.fill(f"form[action='/replies/{reply}/hold'] input[name=reason]", "電話で確認中のため")
        page.click(f"form[action='/replies/{reply}/hold'] button")
        assert f"返信 {reply} を保留しました" in page.text()
    row = open_ledger(config).db["replies"].get(reply)
    assert (row["status"], row["held_reason"]) == ("held", "電話で確認中のため")
    listed = {json.loads(line)["id"]: json.loads(line)
              for line in read(config, "outbox", "list", "--json").splitlines()}
    assert (listed[reply]["decided_by"], listed[reply]["decision"]) == (STAFF, "held")


def test_an_applicants_script_shows_as_text(chromium, console, tmp_path):
    config, base = console
    ledger = open_ledger(config)
    submission = ledger.db.execute(
        "SELECT submission_id FROM messages WHERE message_id_header = '<asahi-1@asahi.example.jp>'"
    ).fetchone()[0]
    with browser(chromium, tmp_path / "profile") as page:
        sign_in(page, base)
        for url in (f"{base}/submissions/{submission}", f"{base}/?q=" + urllib.parse.quote("あさひ"),
                    f"{base}/", f"{base}/approvals"):
            page.open(url)
            assert page.js("document.scripts.length") == 0, url
            assert page.js("document.querySelectorAll('img').length") == 0, url
            assert page.js("typeof window.pwned") == "undefined", url
        page.open(f"{base}/submissions/{submission}")
        assert SCRIPT in page.text()  # shown, character for character, as text
        shot(page, "07-script-as-text")
        html_mail = ledger.db.execute("SELECT submission_id FROM messages WHERE message_id_header = "
                                      "'<midori-1@midori.example.jp>'").fetchone()[0]
        page.open(f"{base}/submissions/{html_mail}")
        assert "記入方法" in page.text()
        assert page.js("document.querySelector('#bold, main a[href^=\"https://phish\"]')") is None
        assert page.js("document.scripts.length") == 0 and page.js("typeof window.pwned") == "undefined"
        shot(page, "07b-html-mail-as-text")


def test_pages_need_a_session_and_a_post_without_session_or_token_changes_nothing(console):
    config, base = console
    reply = reply_of(config, "ひかりIT連携コンソーシアム")
    no_redirect = urllib.request.build_opener(NoRedirect())
    for path in ("/", "/submissions/1", "/approvals", "/quarantine", "/daily", "/export.xlsx",
                 "/files/1", "/ledger", "/ledger/messages.json", "/-/actor.json"):
        answer = fetch(no_redirect, base + path)
        assert answer.status == 303 and answer.headers["location"].startswith("/login?next="), path
    # No session: refused before anything runs.
    answer = fetch(no_redirect, f"{base}/replies/{reply}/approve", data=b"back=/")
    assert answer.status == 403
    # A signed-in session without the CSRF token (a forged cross-site form): refused too.
    jar, opener = signed_in_opener(base)
    answer = fetch(opener, f"{base}/replies/{reply}/approve", data=b"back=/approvals")
    assert answer.status == 403
    answer = fetch(opener, f"{base}/replies/{reply}/approve",
                   data=b"csrftoken=forged&back=/approvals")
    assert answer.status == 403
    assert open_ledger(config).db["replies"].get(reply)["status"] == "awaiting_approval"
    # A GET never changes anything either.
    assert fetch(opener, f"{base}/replies/{reply}/approve").status == 405
    assert open_ledger(config).db["replies"].get(reply)["status"] == "awaiting_approval"
    # Signing out ends the session on the server, not only in the browser.
    token = next(c.value for c in jar if c.name == "renkei_session")
    form = csrf_form(opener, f"{base}/approvals")
    assert fetch(opener, f"{base}/logout", data=urllib.parse.urlencode(form).encode()).status == 200
    replay = urllib.request.Request(f"{base}/approvals", headers={"Cookie": f"renkei_session={token}"})
    assert fetch(no_redirect, replay).status == 303


def test_every_response_carries_a_content_security_policy_and_files_are_downloads(console):
    config, base = console
    _, opener = signed_in_opener(base)
    for path in ("/", "/submissions/1", "/approvals", "/quarantine", "/daily", "/login",
                 "/ledger", "/ledger/submissions_overview", "/ledger/messages/1", "/-/versions"):
        answer = fetch(opener, base + path)
        assert answer.status == 200, path
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy or "default-src 'none'" in policy, path
        assert "frame-ancestors 'none'" in policy and "unsafe-eval" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
    ledger = open_ledger(config)
    file_id, name = ledger.db.execute(
        "SELECT id, name FROM attachments WHERE sha256 IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    answer = fetch(opener, f"{base}/files/{file_id}")
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"].startswith("attachment;")
    assert urllib.parse.quote(name, safe="") in answer.headers["content-disposition"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body.startswith(b"%PDF-1.4")
    raw = fetch(opener, f"{base}/mails/1.eml")
    assert raw.headers["content-type"] == "application/octet-stream"
    assert raw.body == ledger.raw(1)


def test_excel_export_daily_counts_and_explorer_for_signed_in_staff(chromium, console, tmp_path):
    config, base = console
    _, opener = signed_in_opener(base)
    answer = fetch(opener, f"{base}/export.xlsx")
    assert answer.headers["content-disposition"].startswith("attachment;")
    book = tmp_path / "export.xlsx"
    book.write_bytes(answer.body)
    sheets = openpyxl.load_workbook(book, read_only=True).sheetnames
    assert sheets and all(re.search(r"[ぁ-んァ-ン一-龥]", s) for s in sheets)
    with browser(chromium, tmp_path / "profile") as page:
        sign_in(page, base)
        page.open(f"{base}/daily")
        text = page.text()
        assert "日次集計" in text and "2022-08-10" in text and "受信メール" in text
        shot(page, "08-daily")
        assert_japanese_only(page)
        page.open(f"{base}/ledger/submissions_overview")
        assert "ひかりIT連携コンソーシアム" in page.text()
        shot(page, "10-explorer")


def test_quarantined_mail_is_listed_and_reprocessed_from_the_page(chromium, console, tmp_path):
    config, base = console
    ledger = open_ledger(config)
    held = ledger.db.execute("SELECT id FROM messages WHERE state = 'quarantined'").fetchone()[0]
    with browser(chromium, tmp_path / "profile") as page:
        sign_in(page, base)
        page.open(f"{base}/quarantine")
        text = page.text()
        assert "隔離中のメール" in text and "解析できません" in text and "あおば" in text
        shot(page, "09-quarantine")
        assert_japanese_only(page)
        landed = page.click(f"form[action='/quarantine/{held}/release'] button")
        assert "/submissions/" in landed and f"メール {held} を再処理しました" in page.text()
    row = ledger.db["messages"].get(held)
    assert row["state"] != "quarantined" and row["submission_id"] is not None
    actors = ledger.db.execute("SELECT actor FROM events WHERE entity = 'message' AND entity_id = ? "
                               "AND event = 'released'", [held]).fetchall()
    assert actors == [(STAFF,)]


def test_repeated_failed_sign_ins_are_slowed_down(console):
    _, base = console
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    name = "tanaka.ichiro"
    run(console[0], "staff", "add", name, stdin="tanaka-no-password-9\n")

    def attempt(password: str) -> Answer:
        form = csrf_form(opener, f"{base}/login")
        form.update(username=name, password=password)
        return fetch(opener, f"{base}/login", data=urllib.parse.urlencode(form).encode())

    for _ in range(4):
        answer = attempt("wrong password!")
        assert answer.status == 401 and "アカウント名またはパスワードが違います" in answer.text
    answer = attempt("tanaka-no-password-9")  # the right one, too soon after the failures
    assert answer.status == 429 and "待ってから" in answer.text
    assert not any(c.name == "renkei_session" for c in jar)


def test_a_disabled_account_is_shut_out_at_its_next_request(console):
    config, base = console
    name = "sato.jiro"
    assert run(config, "staff", "add", name, stdin="sato-jiro-password-1\n").returncode == 0
    jar, _ = signed_in_opener(base, name, "sato-jiro-password-1")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
    assert fetch(opener, f"{base}/approvals").status == 200
    assert run(config, "staff", "disable", name).returncode == 0
    answer = fetch(opener, f"{base}/approvals")
    assert answer.status == 303 and answer.headers["location"].startswith("/login")


def test_serve_refuses_a_non_loopback_address_without_allow_remote(tmp_path):
    config = write_config(tmp_path)
    done = run(config, "serve", "--host", "0.0.0.0", "--port", str(free_port()))
    assert done.returncode == 2 and "--allow-remote" in done.stderr and "Traceback" not in done.stderr


def test_the_explorers_sql_reads_no_password_or_session_hash(console):
    config, base = console
    _, opener = signed_in_opener(base)
    sql = urllib.parse.quote("SELECT name, password_hash FROM staff_accounts")
    rows = json.loads(fetch(opener, f"{base}/ledger.json?sql={sql}&_shape=array").text)
    assert STAFF in {row["name"] for row in rows}
    assert all(row["password_hash"] is None for row in rows)
    sql = urllib.parse.quote("SELECT token_sha256, name FROM console_sessions")
    rows = json.loads(fetch(opener, f"{base}/ledger.json?sql={sql}&_shape=array").text)
    assert rows and all(row["token_sha256"] is None for row in rows)
    stored = open_ledger(config).db.execute("SELECT password_hash FROM staff_accounts").fetchone()
    assert stored[0]  # the hash is there; only the explorer does not see it


def test_list_filters_and_search_answer_like_the_cli(console):
    config, base = console
    _, opener = signed_in_opener(base)

    def listed(query: str) -> set[str]:
        page = fetch(opener, f"{base}/?{query}").text
        return set(re.findall(r'<td><a href="/submissions/(\d+)">\1</a></td>', page))

    def cli_ids(*flags: str) -> set[str]:
        done = read(config, "ledger", "submissions", *flags, "--json")
        return {str(row["id"]) for row in json.loads(done)["rows"]}

    assert listed("") == cli_ids() and len(listed("")) >= 5
    assert listed("status=needs_review") == cli_ids("--status", "needs_review") != set()
    assert listed("missing=pledge") == cli_ids("--missing", "pledge") != set()
    assert listed("overdue=1") == cli_ids("--overdue")
    # The filter takes what `ledger submissions --status` takes: codes, Japanese names, display
    # states, and gives the same submissions.
    for value in ("awaiting_approval", "承認待ち", "deficient", "不備あり", "replied", "返信作成済"):
        assert listed("status=" + urllib.parse.quote(value)) == cli_ids("--status", value) != set()
    # A notice still waiting for approval has not been sent: 承認待ち on both faces, not 返信済.
    waiting = str(open_ledger(config).db.execute(
        "SELECT submission_id FROM replies WHERE status = 'awaiting_approval' "
        "ORDER BY id").fetchone()[0])
    assert "<dt>状態</dt><dd>承認待ち</dd>" in fetch(opener, f"{base}/submissions/{waiting}").text
    row = re.search(rf'<tr>\s*<td><a href="/submissions/{waiting}">.*?</tr>',
                    fetch(opener, f"{base}/").text, re.S)
    assert row and "<td>承認待ち</td>" in row.group(0)
    table = read(config, "ledger", "submissions", "--status", "承認待ち").splitlines()
    assert any(line.split()[:1] == [waiting] and "承認待ち" in line for line in table[1:])
    page = fetch(opener, f"{base}/?q=" + urllib.parse.quote("ひかり")).text
    search = json.loads(read(config, "ledger", "search", "ひかり", "--json"))["rows"]
    hits = {str(row["submission_id"]) for row in search}
    assert hits and set(re.findall(r'href="/submissions/(\d+)"', page)) == hits
    # The matched word is highlighted, and only our <mark> is markup in the snippet.
    snippets = re.findall(r'<td class="snippet">(.*?)</td>', page, re.S)
    assert len(snippets) == len(search)
    assert all("<mark>ひかり</mark>" in cell for cell in snippets)
    assert all(re.sub(r"</?mark>", "", cell).count("<") == 0 for cell in snippets)
    answer = fetch(opener, f"{base}/?q=" + urllib.parse.quote("ひ")).text  # one character
    search = json.loads(read(config, "ledger", "search", "ひ", "--json"))["rows"]
    hits = {str(row["submission_id"]) for row in search}
    assert hits and set(re.findall(r'href="/submissions/(\d+)"', answer)) == hits


def test_a_restart_of_serve_keeps_staff_signed_in_and_a_stale_form_says_so_in_japanese(
        chromium, tmp_path):
    config = season_ledger(tmp_path / "season")
    reply = reply_of(config, "みなと連携コンソーシアム")
    port = free_port()
    with browser(chromium, tmp_path / "profile") as page:
        with serving(config, port) as base:
            sign_in(page, base)
            page.open(f"{base}/approvals")
            assert "承認待ちの返信" in page.text()
            assert page.js(f"!!document.querySelector(\"form[action='/replies/{reply}/approve']\")")
        # `serve` stopped and started again (a new process, a new CSRF secret), same address
        with serving(config, port) as base:
            # the form on the page opened before the restart no longer matches its cookie
            refused = page.click(f"form[action='/replies/{reply}/approve'] button")
            text = page.text()
            assert "フォームの有効期限が切れています" in text and "何も変更していません" in text
            assert "CSRF" not in text and "did not match" not in text
            assert refused.endswith(f"/replies/{reply}/approve")
            assert page.js("document.querySelector('#sign-in').getAttribute('href')") == \
                "/login?next=/approvals"
            shot(page, "10-form-expired")
            assert open_ledger(config).db["replies"].get(reply)["status"] == "awaiting_approval"
            # the way back: the page opens again without a new sign-in, and the action works
            assert page.click("#reopen") == f"{base}/approvals"
            assert f"{STAFF} さん" in page.text()
            page.click(f"form[action='/replies/{reply}/approve'] button")
            assert f"返信 {reply} を承認しました" in page.text()
    assert open_ledger(config).db["replies"].get(reply)["status"] == "queued"
    stored = open_ledger(config).db.execute("SELECT token_sha256 FROM console_sessions").fetchall()
    assert stored and all(len(digest) == 64 for (digest,) in stored)


def test_a_form_whose_csrf_cookie_expired_gets_a_japanese_page_with_a_way_back(chromium, console,
                                                                              tmp_path):
    config, base = console
    with browser(chromium, tmp_path / "profile") as page:
        sign_in(page, base)
        page.open(f"{base}/quarantine")
        # the browser dropped the form's cookie (it lives only as long as the browser session)
        page.call("Network.deleteCookies", name="ds_csrftoken", url=base)
        page.click("form.who button[type=submit]")  # サインアウト
        text = page.text()
        assert "フォームの有効期限が切れています" in text and "画面を開き直す" in text
        assert_japanese_only(page)
        assert page.click("#reopen") == f"{base}/quarantine"
        assert f"{STAFF} さん" in page.text()  # still signed in: nothing was done
        # the sign-in form itself, left open until its cookie expired
        page.click("form.who button[type=submit]")
        assert "/login" in page.url
        page.call("Network.deleteCookies", name="ds_csrftoken", url=base)
        page.fill("input[name=username]", STAFF)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button[type=submit]")
        assert "フォームの有効期限が切れています" in page.text()
        assert page.click("#sign-in").split("?")[0] == f"{base}/login"
        assert sign_in(page, base) == f"{base}/"


def test_a_stranger_guessing_from_one_address_does_not_lock_the_owner_out(chromium, console,
                                                                         tmp_path):
    config, base = console
    name, password = "kato.yumi", "kato-yumi-password-7"
    assert run(config, "staff", "add", name, stdin=password + "\n").returncode == 0
    jar = http.cookiejar.CookieJar()
    stranger = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def guess(secret: str, account: str = name) -> Answer:
        form = csrf_form(stranger, f"{base}/login")
        form.update(username=account, password=secret)
        # from another machine, as the TLS reverse proxy on this host reports it
        request = urllib.request.Request(f"{base}/login", data=urllib.parse.urlencode(form).encode(),
                                         headers={"X-Forwarded-For": "203.0.113.77"})
        return fetch(stranger, request)

    answers = [guess(f"wrong guess {n}", account=name if n < 6 else f"someone{n}")
               for n in range(13)]
    # four tries at the account, then it waits; ten at any account from there, then all wait
    assert [a.status for a in answers] == [401] * 4 + [429] * 2 + [401] * 6 + [429]
    assert "待ってから" in answers[-1].text
    assert guess(password).status == 429  # the right password does not help the guesser now
    assert not any(c.name == "renkei_session" for c in jar)
    # the owner, at their own machine, signs in as usual
    with browser(chromium, tmp_path / "profile") as page:
        assert sign_in(page, base, name, password) == f"{base}/"
        assert f"{name} さん" in page.text()


def test_a_decision_a_colleague_made_meanwhile_is_refused_with_the_clis_sentence(
        chromium, console, tmp_path):
    config, base = console
    with browser(chromium, tmp_path / "profile") as page:
        sign_in(page, base)
        page.open(f"{base}/approvals")
        shown = [int(n) for n in re.findall(r"/replies/(\d+)/approve", page.html())]
        reply = shown[-1]
        # a colleague cancels it at the command line while the page is open
        assert run(config, "outbox", "cancel", str(reply), "--by", "suzuki").returncode == 0
        page.click(f"form[action='/replies/{reply}/approve'] button")
        text = page.text()
        assert f"返信 {reply} は取消のため承認できません" in text and "変更していません" in text
        assert "Traceback" not in text and "Error" not in text
        assert_japanese_only(page)
    assert open_ledger(config).db["replies"].get(reply)["status"] == "cancelled"


def test_failed_sign_ins_survive_a_restart_of_serve_and_the_window_then_ends(tmp_path):
    """The throttle is in the ledger: `serve` stopped and started again still holds the guesser
    back with the Japanese wait message; once the wait has passed, the right password works."""
    config = write_config(tmp_path)
    port = free_port()
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())

    def attempt(base: str, password: str) -> Answer:
        form = csrf_form(opener, f"{base}/login")
        form.update(username=STAFF, password=password)
        return fetch(opener, f"{base}/login", data=urllib.parse.urlencode(form).encode())

    def time_passes(seconds: int) -> None:
        """As the clock would move it: every recorded failure is older by `seconds`."""
        ledger = open_ledger(config)
        with ledger.transaction():
            ledger.db.execute("UPDATE console_sign_in_failures SET last_at = last_at - ?",
                              [seconds])
        ledger.close()

    with serving(config, port) as base:
        for _ in range(4):
            assert attempt(base, "wrong password!").status == 401
        refused = attempt(base, PASSWORD)
        said = re.search(r"サインインの失敗が続いたため、(\d+) 秒ほど待ってからもう一度お試し"
                         r"ください。", refused.text)
        assert refused.status == 429 and said and 1 <= int(said.group(1)) <= 30, refused.text
        # each wait sat out and guessed wrong again doubles the next, up to a quarter hour
        for wait in (30, 60, 120, 240, 480):
            time_passes(wait + 1)
            assert attempt(base, "wrong password!").status == 401
        assert attempt(base, PASSWORD).status == 429
    with serving(config, port) as base:  # a new process: nothing of the last one in memory
        refused = attempt(base, PASSWORD)
        assert refused.status == 429
        said = re.search(r"サインインの失敗が続いたため、(\d+) 分ほど待ってからもう一度お試し"
                         r"ください。", refused.text)
        assert said and 1 <= int(said.group(1)) <= 15, refused.text  # about a quarter hour
        assert not any(c.name == "renkei_session" for c in jar)
        time_passes(901)
        answer = attempt(base, PASSWORD)
        assert answer.status == 303 and any(c.name == "renkei_session" for c in jar)
    rows = {r[0] for r in open_ledger(config).db.execute(
        "SELECT account FROM console_sign_in_failures")}
    assert rows == {""}  # the account's count ended with the sign-in; the address's stays


def auto_reply_mail() -> bytes:
    """An out-of-office answer as Outlook sends one to the secretariat."""
    msg = EmailMessage()
    msg["From"] = "山本 花子 <yamamoto@kita.example.jp>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = "自動応答: 不在のお知らせ"
    msg["Message-ID"] = "<oof-1@kita.example.jp>"
    msg["Date"] = "Thu, 18 Aug 2022 08:00:00 +0900"
    msg["Auto-Submitted"] = "auto-replied"
    msg["Received"] = "from mx.kita.example.jp by mail.example.go.jp; Thu, 18 Aug 2022 08:00:00 +0900"
    msg.set_content("8月22日まで不在にしております。\n")
    return msg.as_bytes()


def test_a_findings_reason_is_read_without_its_machine_key_on_every_face(tmp_path):
    """A mail's reason such as 「auto-submitted: 自動送信されたメールです」 keeps its key for filters;
    staff read only the Japanese, on the console's detail page and in `ledger show`, whose
    finding column names the finding in Japanese, not by its code; `ledger daily` counts the
    outcomes under their labels."""
    folder = tmp_path / "mails"
    folder.mkdir()
    (folder / "oof.eml").write_bytes(auto_reply_mail())
    config = write_config(tmp_path)
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        assert cli.main(["--config", str(config), "replay", str(folder)]) == 0
    ledger = open_ledger(config)
    submission, detail = ledger.db.execute(
        "SELECT submission_id, detail FROM findings WHERE code = 'NOT_A_SUBMISSION'").fetchone()
    ledger.close()
    assert "auto-submitted: " in detail  # the key is there, for scripts
    shown = read(config, "ledger", "show", str(submission))
    section = shown.split("■ 指摘")[1].split("■")[0]
    assert "申請以外" in section and "自動送信されたメールです" in section
    assert "NOT_A_SUBMISSION" not in shown and "auto-submitted:" not in shown
    assert read(config, "ledger", "daily").splitlines()[0].split()[4:7] == [
        labels.label("outcome", o) for o in ("complete", "deficient", "not_submission")]
    with serving(config, free_port()) as base:
        _, opener = signed_in_opener(base)
        page = fetch(opener, f"{base}/submissions/{submission}").text
    assert "自動送信されたメールです" in page and "auto-submitted:" not in page
