"""`renkei-intake check` on the committed example forms, zips and mails, as a new user runs it."""

from __future__ import annotations

import io
import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
import pyzipper

from ingest.check_cmd import check_bytes, print_catalog, run_check
from parsers.forms import load_form_map
from rules.findings import CATALOG
from rules.program import Program
from tests.mails import make_forms

REPO = Path(__file__).resolve().parents[1]
FORMS = REPO / "examples" / "forms"
PROGRAM = Program()
FORM_MAP = load_form_map()
EXAMPLES = sorted(p for p in FORMS.iterdir() if p.suffix in (".xlsx", ".zip"))
NAME = "みなとDX連携コンソーシアム"
LEAD = "tanaka@minato-seiki.example.jp"


def intended_codes(path: Path) -> set[str]:
    """broken-AMOUNT_OVER_CAP-rate.xlsx → {"AMOUNT_OVER_CAP"}; valid-*.xlsx → set()."""
    match = re.match(r"broken-([A-Z_]+)", path.name)
    return {match.group(1)} if match else set()


def test_there_is_a_valid_form_and_a_broken_one_for_each_money_eligibility_and_form_rule() -> None:
    codes = {code for p in EXAMPLES for code in intended_codes(p)}
    assert {"AMOUNT_OVER_CAP", "AMOUNT_BELOW_MINIMUM", "SOFTWARE_CLOUD_OVER_HALF",
            "SME_PERSONNEL_OVER_THIRD", "SUBCONTRACT_OVER_HALF", "SUM_MISMATCH",
            "CONSORTIUM_COMPOSITION", "SME_INELIGIBLE", "CORPORATE_NUMBER_INVALID",
            "FORM_FIELD_MISSING", "CONSORTIUM_NAME_MISMATCH", "DOCUMENT_MISSING",
            "CHECKLIST_MISMATCH", "PROJECT_PERIOD", "COST_NOT_ELIGIBLE"} <= codes
    assert {p.name for p in EXAMPLES} >= {"valid-application.xlsx", "valid-member-info.xlsx",
                                          "valid-checklist.xlsx", "valid-submission.zip"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_each_example_gives_exactly_its_intended_findings(path: Path) -> None:
    result = check_bytes(path.name, path.read_bytes(), PROGRAM, FORM_MAP)
    assert {f.code for f in result.findings} == intended_codes(path)
    assert all(f.detail for f in result.findings)
    assert all(r.key for _, r in result.recognised)  # every file is a known document


def test_committed_examples_are_what_the_script_writes() -> None:
    built = make_forms().build_all()
    assert sorted(built) == [p.name for p in EXAMPLES]
    for name, data in built.items():
        assert (FORMS / name).read_bytes() == data, f"{name}: run python examples/make_forms.py"


def test_exit_status_zero_for_valid_forms_and_one_for_a_deficiency() -> None:
    out = io.StringIO()
    assert run_check([FORMS / "valid-application.xlsx", FORMS / "valid-submission.zip"],
                     PROGRAM, FORM_MAP, out) == 0
    assert "不備なし" in out.getvalue()
    out = io.StringIO()
    assert run_check([FORMS / "valid-application.xlsx", FORMS / "broken-SME_INELIGIBLE.xlsx"],
                     PROGRAM, FORM_MAP, out) == 1
    text = out.getvalue()
    line = next(x for x in text.splitlines() if x.strip().startswith("SME_INELIGIBLE"))
    # code, severity, member, document and detail, in Japanese
    assert "不備" in line and "有限会社さくら商店" in line and "交付申請書" in line
    assert "小売業" in line and "50人" in line


def test_exit_status_two_when_a_file_cannot_be_read(tmp_path: Path) -> None:
    out = io.StringIO()
    status = run_check([tmp_path / "ない.xlsx", FORMS / "broken-SUM_MISMATCH.xlsx"], PROGRAM,
                       FORM_MAP, out)
    assert status == 2
    assert "読み込めません" in out.getvalue() and "SUM_MISMATCH" in out.getvalue()


def test_output_names_how_each_document_was_recognised() -> None:
    out = io.StringIO()
    run_check([FORMS / "valid-submission.zip"], PROGRAM, FORM_MAP, out)
    text = out.getvalue()
    assert "シート名" in text and "PDFの本文" in text
    assert text.count("7. 誓約書") == 4


def test_finding_catalogue_lists_every_code_with_its_meaning() -> None:
    out = io.StringIO()
    print_catalog(out)
    lines = out.getvalue().splitlines()
    assert [line.split("\t")[0] for line in lines] == list(CATALOG)
    assert all(CATALOG[line.split("\t")[0]].meaning in line for line in lines)


def test_encrypted_zip_without_its_password() -> None:
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(b"secret")
        archive.writestr("4_交付申請書.xlsx", (FORMS / "valid-application.xlsx").read_bytes())
    result = check_bytes("申請書類.zip", buffer.getvalue(), PROGRAM, FORM_MAP)
    assert "ARCHIVE_PASSWORD_MISSING" in {f.code for f in result.findings}
    opened = check_bytes("申請書類.zip", buffer.getvalue(), PROGRAM, FORM_MAP,
                         passwords=["secret"])
    assert [r.key for _, r in opened.recognised] == ["application"]
    assert "ARCHIVE_PASSWORD_MISSING" not in {f.code for f in opened.findings}


# --- a whole mail ------------------------------------------------------------------------------


def mail(*, sender: str = LEAD, consortium: str = NAME, received: str = "10 Aug 2022 10:00:00",
         attachment: str = "valid-submission.zip") -> bytes:
    msg = EmailMessage()
    msg["Received"] = f"from mx.example.jp by it-renkei.example.go.jp; Wed, {received} +0900"
    msg["From"] = f"田中 一郎 <{sender}>"
    msg["To"] = "it-renkei@example.go.jp"
    msg["Subject"] = f"<{consortium}>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"
    msg.set_content(
        "令和4年度「共創型サービスIT連携支援事業」事務局 御中\n\n応募書類を送付いたします。\n\n"
        "会社名：株式会社みなと精機\n役職：DX推進課長\n氏名：田中 一郎\n"
        f"メールアドレス：{sender}\n電話番号：045-000-1234\n")
    msg.add_attachment((FORMS / attachment).read_bytes(), maintype="application",
                       subtype="zip", filename="申請書類.zip")
    return bytes(msg)


def test_complete_mail_from_the_lead_has_no_finding() -> None:
    result = check_bytes("mail.eml", mail(), PROGRAM, FORM_MAP)
    assert result.findings == []
    assert len(result.recognised) == 16


def test_mail_from_another_member_and_naming_another_consortium() -> None:
    raw = mail(sender="info@sakura-shoten.example.jp", consortium="さくら連携コンソーシアム")
    codes = {f.code for f in check_bytes("mail.eml", raw, PROGRAM, FORM_MAP).findings}
    assert codes == {"SENDER_NOT_LEAD", "CONSORTIUM_NAME_MISMATCH"}


def test_mail_after_the_deadline() -> None:
    raw = mail(received="10 Sep 2022 00:00:01")
    codes = {f.code for f in check_bytes("mail.eml", raw, PROGRAM, FORM_MAP).findings}
    assert codes == {"OUTSIDE_PERIOD"}


def _blocks(text: str) -> dict[str, list[str]]:
    """`■ PATH` opens a file's block; the lines under it up to the next one belong to it."""
    blocks: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("■ "):
            current = blocks.setdefault(line[2:], [])
        elif line.startswith("  "):
            current.append(line.strip())
    return blocks


def test_a_folder_is_checked_file_by_file_with_one_result_each_and_a_summary(tmp_path: Path) -> None:
    folder = tmp_path / "届いたファイル"
    (folder / "sub").mkdir(parents=True)
    (folder / "valid-application.xlsx").write_bytes((FORMS / "valid-application.xlsx").read_bytes())
    (folder / "sub" / "sum.xlsx").write_bytes((FORMS / "broken-SUM_MISMATCH.xlsx").read_bytes())
    (folder / "メモ.txt").write_text("明日送ります", encoding="utf-8")
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")  # what a Mac leaves in a folder
    (tmp_path / "空").mkdir()
    out = io.StringIO()
    assert run_check([folder, tmp_path / "空"], PROGRAM, FORM_MAP, out) == 2
    text = out.getvalue()
    blocks = _blocks(text)
    assert sorted(Path(p).name for p in blocks) == ["sum.xlsx", "valid-application.xlsx",
                                                      "メモ.txt", "空"]
    for path, lines in blocks.items():
        results = [line for line in lines if line.startswith("結果: ")]
        assert len(results) == 1 and lines[-1] == results[0], (path, lines)
    memo = blocks[str(folder / "メモ.txt")]
    assert memo == [line for line in memo if line.startswith("結果: 確認できず")]  # said once
    assert "書類の種類を判別できません" in memo[0]
    assert blocks[str(folder / "valid-application.xlsx")][-1] == "結果: 不備なし"
    assert blocks[str(folder / "sub" / "sum.xlsx")][-1] == "結果: 不備あり(不備 1 件)"
    assert "フォルダの中にファイルがありません" in blocks[str(tmp_path / "空")][0]
    assert text.splitlines()[-1] == "4 件を確認しました: 不備なし 1、不備あり 1、確認できず(要確認) 2"

    out = io.StringIO()
    run_check([folder], PROGRAM, FORM_MAP, out, as_json=True)
    objects = [json.loads(line) for line in out.getvalue().splitlines()]
    assert sorted(Path(o["file"]).name for o in objects) == ["sum.xlsx", "valid-application.xlsx",
                                                            "メモ.txt"]
    assert all(set(o) >= {"file", "codes", "findings"} for o in objects)  # one object per file
