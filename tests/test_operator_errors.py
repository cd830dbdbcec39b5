"""Mistakes an operator makes, through the real command in a subprocess: each ends in one
Japanese sentence on stderr and exit status 2, never a traceback, and nothing is created."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAILBOX = REPO / "examples" / "mailbox"


def run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([sys.executable, "-m", "ingest.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def one_sentence(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    assert lines[0].startswith("renkei-intake")
    return lines[0]


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- paths ----------------------------------------------------------------------------------------


def test_config_naming_a_folder(tmp_path):
    (tmp_path / "conf").mkdir()
    one_sentence(run(tmp_path, "--config", "conf", "status"), "フォルダ", "conf")


def test_config_that_is_missing_or_unreadable(tmp_path):
    """A missing file (or a link to nothing) is named, not replaced by the defaults; a file the
    program may not read is named with the reason, and nothing is created."""
    one_sentence(run(tmp_path, "--config", "nowhere.toml", "status"), "nowhere.toml", "ありません")
    (tmp_path / "link.toml").symlink_to(tmp_path / "gone.toml")
    one_sentence(run(tmp_path, "--config", "link.toml", "replay", str(MAILBOX)), "link.toml",
                 "ありません")
    # chmod 000 stops everyone but root; /proc/self/mem refuses a plain read even to root
    locked = write(tmp_path / "locked.toml", "[replies]\n")
    locked.chmod(0)
    unreadable = "locked.toml" if os.geteuid() != 0 else "/proc/self/mem"
    one_sentence(run(tmp_path, "--config", unreadable, "replay", str(MAILBOX)), unreadable,
                 "読めません")
    assert tree(tmp_path) == ["link.toml", "locked.toml"]


def test_ledger_under_a_path_that_is_a_file(tmp_path):
    write(tmp_path / "plain.txt", "x")
    one_sentence(run(tmp_path, "replay", str(MAILBOX), "--ledger", "plain.txt/ledger.db"),
                 "plain.txt", "ファイルがある")


def test_ledger_that_is_not_a_database(tmp_path):
    write(tmp_path / "config.toml", "[replies]\n")
    one_sentence(run(tmp_path, "replay", str(MAILBOX), "--ledger", "config.toml"),
                 "SQLite データベース")
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == "[replies]\n"


def test_ledger_that_is_a_folder(tmp_path):
    (tmp_path / "var").mkdir()
    one_sentence(run(tmp_path, "replay", str(MAILBOX), "--ledger", "var"), "フォルダ")


@pytest.mark.parametrize("path", ["/proc/renkei-intake-test/ledger.db", "N" * 300 + "/l.db"])
def test_impossible_ledger_paths(tmp_path, path):
    one_sentence(run(tmp_path, "replay", str(MAILBOX), "--ledger", path), "台帳")


def test_ledger_where_nobody_may_write(tmp_path):
    # sysfs refuses new files even to root: an unwritable folder on any machine
    one_sentence(run(tmp_path, "replay", str(MAILBOX), "--ledger", "/sys/renkei-intake.db"),
                 "/sys", "権限")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_unwritable_ledger_folder(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    one_sentence(run(tmp_path, "replay", str(MAILBOX), "--ledger", "locked/sub/ledger.db"),
                 "権限")


@pytest.mark.parametrize("argv", [
    ["status"], ["ledger", "submissions"], ["ledger", "show", "1"], ["ledger", "search", "山田"],
    ["outbox", "list"], ["outbox", "show", "1"], ["quarantine", "list"],
    ["export", "submissions"], ["export", "submissions", "--format", "csv"],
    ["serve", "--port", "1"],
])
def test_read_only_verbs_never_create_a_ledger(tmp_path, argv):
    before = tree(tmp_path)
    one_sentence(run(tmp_path, *argv), "台帳がありません: var/ledger.db")
    assert tree(tmp_path) == before


def test_export_output_that_cannot_be_a_file(tmp_path):
    assert run(tmp_path, "replay", str(MAILBOX)).returncode == 0
    one_sentence(run(tmp_path, "export", "submissions", "--format", "csv", "--output", "."),
                 "フォルダ")
    one_sentence(run(tmp_path, "export", "submissions", "--format", "xlsx", "--output",
                     "none/x.xlsx"), "none", "ありません")
    assert not (tmp_path / "none").exists()


def test_ledger_option_keeps_blobs_and_outbox_beside_that_ledger(tmp_path):
    result = run(tmp_path, "replay", str(MAILBOX), "--ledger", "season/a.db")
    assert result.returncode == 0, result.stderr
    other = run(tmp_path, "replay", str(MAILBOX), "--ledger", "season/b.db")
    assert other.returncode == 0, other.stderr
    names = set(os.listdir(tmp_path / "season"))
    assert {"a.db", "a-blobs", "a-outbox", "b.db", "b-blobs", "b-outbox"} <= names
    assert not (tmp_path / "var").exists()
    assert sorted(os.listdir(tmp_path / "season" / "a-outbox")) == \
        sorted(os.listdir(tmp_path / "season" / "b-outbox"))


# --- config ---------------------------------------------------------------------------------------


def test_every_unknown_key_is_reported_at_once_with_the_nearest_key(tmp_path):
    write(tmp_path / "c.toml", "[replies]\napprove_deficiency = true\nbuisness_hours_only = false\n"
                               "[daemon]\npoll_interval = 30\n[programme]\nx = 1\n"
                               "[program]\nsubsidy_nam = \"x\"\n[limits]\nmax_deph = 3\n")
    line = one_sentence(run(tmp_path, "--config", "c.toml", "status"))
    for wrong, right in (("approve_deficiency", "approve_deficiencies"),
                         ("buisness_hours_only", "business_hours_only"),
                         ("poll_interval", "poll_interval_seconds"),
                         ("[programme]", "program"), ("subsidy_nam", "subsidy_name"),
                         ("max_deph", "max_depth")):
        assert wrong in line and f"{right} のことですか" in line, (wrong, line)


@pytest.mark.parametrize("text, named", [
    ('[replies]\napprove_deficiencies = "yes"\n', "approve_deficiencies は true か false"),
    ('[daemon]\npoll_interval_seconds = "60"\n', "poll_interval_seconds は整数"),
    ("[imap]\nhost = \"h\"\nport = \"993\"\npassword_env = \"X\"\n", "port は整数"),
    ("[submissions]\nsettle_minutes = true\n", "settle_minutes は数値"),
    ('[limits]\nmax_depth = "3"\n', "max_depth は整数"),
])
def test_a_value_of_the_wrong_type_is_refused_with_its_key_and_type(tmp_path, text, named):
    write(tmp_path / "c.toml", text)
    one_sentence(run(tmp_path, "--config", "c.toml", "status"), named)


def test_toml_syntax_error_in_japanese_with_line_and_column(tmp_path):
    write(tmp_path / "c.toml", "[replies]\n\napprove_deficiencies = yes\n")
    line = one_sentence(run(tmp_path, "--config", "c.toml", "status"), "3 行目", "文字目")
    assert "Invalid" not in line


# --- commands -------------------------------------------------------------------------------------


def test_poll_alone_explains_once(tmp_path):
    one_sentence(run(tmp_path, "poll"), "--once", "run")


def test_serve_on_a_port_in_use_says_so_without_announcing_the_address(tmp_path):
    assert run(tmp_path, "replay", str(MAILBOX)).returncode == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(tmp_path, "serve", "--port", str(port))
    one_sentence(result, f"ポート {port}", "使用中")
    assert "http://" not in result.stderr + result.stdout


def test_argument_mistakes_are_japanese(tmp_path):
    one_sentence(run(tmp_path, "ledger", "show", "abc"), "整数")
    one_sentence(run(tmp_path, "exportt"), "指定できません")
    one_sentence(run(tmp_path, "reprocess"), "どれか1つ")
    one_sentence(run(tmp_path, "--bogus"), "不明な引数")
    one_sentence(run(tmp_path, "serve", "--port", "99999"), "1〜65535")


def test_help_is_japanese_throughout(tmp_path):
    for argv in (["--help"], ["poll", "--help"], ["ledger", "--help"],
                 ["ledger", "search", "--help"], ["outbox", "approve", "--help"],
                 ["export", "--help"], ["serve", "--help"]):
        result = run(tmp_path, *argv)
        assert result.returncode == 0
        text = result.stdout
        assert text.startswith("使い方: renkei-intake"), text
        assert "このヘルプを表示して終了する" in text
        for english in ("usage:", "options:", "positional arguments", "show this help"):
            assert english not in text, (argv, english)
    version = run(tmp_path, "--version")
    assert version.returncode == 0 and version.stdout.startswith("renkei-intake ")


def test_check_reads_a_maildir_file_as_a_mail_and_says_why_a_file_cannot_be_read(tmp_path):
    maildir_name = next((MAILBOX / "cur").iterdir())
    assert not maildir_name.name.endswith(".eml")
    result = run(tmp_path, "check", str(maildir_name))
    assert "Traceback" not in result.stderr
    assert "書類:" in result.stdout  # read as a mail: its attachments were recognised
    missing = run(tmp_path, "check", "no-such-file.xlsx")
    assert missing.returncode == 2
    assert "ファイルまたはフォルダがありません" in missing.stdout
    assert "No such file" not in missing.stdout


# --- IDs and values that are not there ------------------------------------------------------------


@pytest.fixture(scope="module")
def season(tmp_path_factory) -> Path:
    """A ledger of the example mailbox, shared by the cases that only read or are refused."""
    where = tmp_path_factory.mktemp("season")
    assert run(where, "replay", str(MAILBOX)).returncode == 0
    return where


@pytest.mark.parametrize("argv, named", [
    (["outbox", "approve", "99999"], "返信 99999"),
    (["outbox", "hold", "99999", "--reason", "確認中"], "返信 99999"),
    (["outbox", "cancel", "99998", "99999"], "99998、99999"),
    (["outbox", "approve", "0"], "返信 0"),
    (["outbox", "show", "99999"], "返信 99999"),
    (["quarantine", "release", "99999"], "メール ID 99999"),
    (["quarantine", "release", "1"], "隔離されていません"),
    (["quarantine", "show", "99999"], "メール ID 99999"),
    (["ledger", "show", "99999"], "申請 ID 99999"),
    (["ledger", "show", "99999", "--json"], "申請 ID 99999"),
    (["reprocess", "--submission", "99999"], "申請 99999"),
    (["staff", "disable", "nobody"], "nobody"),
    (["staff", "add", "yamada", "--password-file", "no-such-file"], "ファイルまたはフォルダがありません"),
    (["ledger", "submissions", "--limit", "-1"], "0 以上"),
    (["ledger", "search", "山田", "--limit", "-5"], "0 以上"),
    (["outbox", "list", "--status", "どこにもない"], "どこにもない"),
    (["serve", "--idle-minutes", "-5"], "0 より大きく"),
    (["serve", "--idle-minutes", "nan"], "0 より大きく"),
])
def test_an_unknown_id_or_value_is_one_sentence_and_exit_2(season, argv, named):
    before = run(season, "outbox", "list", "--json").stdout
    one_sentence(run(season, *argv), named)
    assert run(season, "outbox", "list", "--json").stdout == before  # nothing was changed


def test_a_known_id_among_unknown_ones_is_left_alone(tmp_path):
    assert run(tmp_path, "replay", str(MAILBOX)).returncode == 0
    waiting = [line for line in run(tmp_path, "outbox", "list", "--json").stdout.splitlines()
               if '"awaiting_approval"' in line]
    reply = waiting[0].split('"id": ')[1].split(",")[0]
    one_sentence(run(tmp_path, "outbox", "approve", reply, "99999"), "99999", "変更していません")
    assert '"awaiting_approval"' in next(
        line for line in run(tmp_path, "outbox", "list", "--json").stdout.splitlines()
        if f'"id": {reply},' in line)
    # in a state where approving makes no sense: refused like an unknown ID (one sentence,
    # exit 2, nothing changed)
    assert run(tmp_path, "outbox", "approve", reply).returncode == 0
    one_sentence(run(tmp_path, "outbox", "approve", reply), f"返信 {reply} は", "承認できません")


def test_every_staff_action_in_a_state_where_it_makes_no_sense_is_one_sentence_and_exit_2(
        tmp_path):
    """Approving a sent reply, holding or cancelling a cancelled one, releasing a mail that is
    not quarantined, disabling a disabled account: refused like an unknown ID, nothing changed."""
    assert run(tmp_path, "replay", str(MAILBOX)).returncode == 0
    listed = run(tmp_path, "outbox", "list", "--json").stdout.splitlines()
    waiting = [line.split('"id": ')[1].split(",")[0] for line in listed
               if '"awaiting_approval"' in line]
    first, second = waiting[:2]
    assert run(tmp_path, "outbox", "cancel", first).returncode == 0
    before = run(tmp_path, "outbox", "list", "--json").stdout
    for action in ("approve", "hold", "cancel"):
        said = one_sentence(run(tmp_path, "outbox", action, second, first),
                            f"返信 {first} は取消のため", "どの返信も変更していません")
        assert f"返信 {second}" not in said  # only the one in the wrong state is named
    assert run(tmp_path, "outbox", "list", "--json").stdout == before  # the other one too
    one_sentence(run(tmp_path, "quarantine", "release", "1"), "メール 1 は隔離されていません")
    pw = tmp_path / "pw.txt"
    pw.write_text("a long enough password\n", encoding="utf-8")
    assert run(tmp_path, "staff", "add", "yamada", "--password-file", str(pw)).returncode == 0
    assert run(tmp_path, "staff", "disable", "yamada").returncode == 0
    one_sentence(run(tmp_path, "staff", "disable", "yamada"), "yamada は既に無効です")
    one_sentence(run(tmp_path, "staff", "add", "yamada", "--password-file", str(pw)),
                 "yamada は既にあります")
