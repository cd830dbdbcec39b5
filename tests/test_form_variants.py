"""Each reading-corpus variant through the real `check` CLI: its finding codes, exactly.

The variants (tests/form_variants.py) are application files as applicants fill them, written
independently of the sample forms' generator. KNOWN_WRONG lists those the reader still gets
wrong, with what it gets wrong; they run as non-strict xfail so that a fix shows as XPASS and
the entry can be deleted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.form_variants import Variant, variants

ROOT = Path(__file__).resolve().parent.parent
_FINDING = re.compile(r"^  ([A-Z][A-Z_]+)\t", re.MULTILINE)

# variant name -> what the reader gets wrong today
KNOWN_WRONG: dict[str, str] = {
    "medical_corporation":
        "a 医療法人/社会福祉法人 is not judged by row ⑨ (300人, no capital): its 業種 gives FORM_FIELD_MISSING",
    "medical_corporation_over":
        "a 医療法人/社会福祉法人 is not judged by row ⑨ (300人, no capital): its 業種 gives FORM_FIELD_MISSING",
    "social_welfare_at_line":
        "a 医療法人/社会福祉法人 is not judged by row ⑨ (300人, no capital): its 業種 gives FORM_FIELD_MISSING",
    "zip_over_cap_corpnum_typo_app":
        "a mistyped 法人番号 in the 交付申請書 makes that member count twice, hiding AMOUNT_OVER_CAP",
    "zip_sole_proprietor":
        "個人事業主 in a submission: 「－」 capital, 「なし（個人事業主）」 法人番号 and no 履歴事項 are findings",
    "zip_application_split_files":
        "the 交付申請書・事業計画書・内訳書 sent as three workbooks are not read as one document 4",
    "xlsx_truncated":
        "rules still run on a workbook that could not be opened: false CONSORTIUM_COMPOSITION (0 members)",
    "label_value_one_cell":
        "a label and its value typed in one cell 「コンソーシアム名：…」 is not split: fields reported missing",
    "zip_ods_member_info":
        "an .ods 事業者情報入力シート is not recognised or read: DOCUMENT_MISSING and CHECKLIST_MISMATCH",
    "label_brackets":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "label_fullwidth_number":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "label_paren_number":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "label_circled_number":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "label_required_mark":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "label_required_mark_newline":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "many_habits_at_once":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "zip_member_info_label_decorated":
        "a decorated label (【】, １．, (1), ①, ※必須, Alt+Enter) is not matched: fields reported missing",
    "label_colon_cell":
        "the value is taken from the cell right of the label, so a 「：」 or blank spacer cell is read as the value",
    "label_blank_cell":
        "the value is taken from the cell right of the label, so a 「：」 or blank spacer cell is read as the value",
    "values_below_labels":
        "a value below its label is not found (only the cell to the right is read)",
    "units_row":
        "the units row 「(円)」「(人)」 under the headers is read as a member row with empty fields",
    "capital_header_page_words":
        "columns headed 資本金の額又は出資の総額 / 常時使用する従業員の数 not recognised: size undecidable",
    "costs_subtotals":
        "STEP heading / 小計 rows are read as cost rows and the table stops at the first 小計: only STEP1 counted",
    "costs_subtotals_blank_rows":
        "STEP heading / 小計 rows are read as cost rows and the table stops at the first 小計: only STEP1 counted",
    "sum_subtotal_wrong":
        "STEP heading / 小計 rows are read as cost rows and the table stops at the first 小計: only STEP1 counted",
    "costs_blank_rows":
        "the cost table stops at the first blank row: only STEP1 is counted (false cap, software/cloud, sum)",
    "total_sougoukei":
        "a total row labelled 総合計 or 計 is read as a cost row; the category summary below is read into the table",
    "total_kei":
        "a total row labelled 総合計 or 計 is read as a cost row; the category summary below is read into the table",
    "costs_template_rows":
        "numbered template rows left empty (No and 0) are read as cost rows with empty fields",
    "money_kin_yen":
        "amounts written 金…円 or ￥…- are not read as amounts",
    "money_yen_dash":
        "amounts written 金…円 or ￥…- are not read as amounts",
    "employees_as_of":
        "従業員数 with a note 「85名（2022年8月1日現在）」 is not read as a count",
    "no_mark_dash_minus":
        "a dash (− ‐ — ─) in 幹事社/下請け is read as a tick: several leads, false SUBCONTRACT_OVER_HALF",
    "no_mark_dash_hyphen":
        "a dash (− ‐ — ─) in 幹事社/下請け is read as a tick: several leads, false SUBCONTRACT_OVER_HALF",
    "no_mark_dash_emdash":
        "a dash (− ‐ — ─) in 幹事社/下請け is read as a tick: several leads, false SUBCONTRACT_OVER_HALF",
    "no_mark_dash_boxdraw":
        "a dash (− ‐ — ─) in 幹事社/下請け is read as a tick: several leads, false SUBCONTRACT_OVER_HALF",
    "sheets_yoshiki_name_mismatch":
        "sheets named 様式1/2/3: each field is searched in every sheet, so the 事業計画書's name is read from sheet 1",
    "other_cooperator_not_sme_user":
        "区分 「その他協力者(中小企業診断士)」 is counted as an SME user (composition and cap)",
    "other_cooperator_not_in_cap":
        "区分 「その他協力者(中小企業診断士)」 is counted as an SME user (composition and cap)",
    "industry_fudosan":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_johotsushin":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_inshokuten":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_iryo":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_kenchiku":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_sogo_koji":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_hotel":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_shukuhaku_over":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "industry_nogyo":
        "an industry outside the alias list gives FORM_FIELD_MISSING instead of its JSIC row (or ⑧ その他)",
    "vendor_industry_joho_service":
        "「情報サービス業」 is not read as ⑥ software/情報処理: the vendor is judged large",
    "vendor_large_unlisted_industry":
        "a vendor over every line under an unlisted industry gets 2/3 silently",
    "vendor_declared_sme_contradicts":
        "a declared 企業規模 「中小企業」 overrides the vendor's own large numbers: 2/3 silently",
    "vendor_capital_blank_many_employees":
        "a vendor with capital blank and 5,000人 gets 2/3 silently; the missing number decides the rate",
    "category_personnel_cloud_note":
        "経費区分 with a bracketed note is read by a word inside the brackets (cloud / software), not by its head term",
    "category_outsourcing_software_note":
        "経費区分 with a bracketed note is read by a word inside the brackets (cloud / software), not by its head term",
    "cost_hardware":
        "COST_NOT_ELIGIBLE is not checked (role × STEP, hardware); hardware is a FORM_FIELD_MISSING",
    "cost_vendor_personnel_step2":
        "COST_NOT_ELIGIBLE is not checked (role × STEP, hardware); hardware is a FORM_FIELD_MISSING",
    "cost_sme_personnel_step3":
        "COST_NOT_ELIGIBLE is not checked (role × STEP, hardware); hardware is a FORM_FIELD_MISSING",
    "cost_sme_personnel_step1":
        "COST_NOT_ELIGIBLE is not checked (role × STEP, hardware); hardware is a FORM_FIELD_MISSING",
    "cost_vendor_outsourcing_step4":
        "COST_NOT_ELIGIBLE is not checked (role × STEP, hardware); hardware is a FORM_FIELD_MISSING",
    "cost_vendor_subcontract_step2":
        "COST_NOT_ELIGIBLE is not checked (role × STEP, hardware); hardware is a FORM_FIELD_MISSING",
    "fraction_formula":
        "a request with a fraction of a yen is rounded up, not truncated: false AMOUNT_OVER_CAP",
    "fraction_typed":
        "a request with a fraction of a yen is rounded up, not truncated: false AMOUNT_OVER_CAP",
    "project_end_late":
        "PROJECT_PERIOD is not checked (完了予定日 after 2023-02-10)",
    "project_end_late_reiwa":
        "PROJECT_PERIOD is not checked (完了予定日 after 2023-02-10)",
    "sole_proprietor_dash":
        "個人事業主: 「－」「なし」 capital / 法人番号 are findings; size not judged by employees alone",
    "sole_proprietor_nashi":
        "個人事業主: 「－」「なし」 capital / 法人番号 are findings; size not judged by employees alone",
    "sole_proprietor_over_employees":
        "個人事業主: 「－」「なし」 capital / 法人番号 are findings; size not judged by employees alone",
    "xls_one_sme_user":
        ".xls application form is recognised but not read: its rules never run",
    "xls_over_rate":
        ".xls application form is recognised but not read: its rules never run",
    "ods_baseline":
        ".ods application form is unpacked as a zip submission (DOCUMENT_MISSING for everything), never read",
    "ods_one_sme_user":
        ".ods application form is unpacked as a zip submission (DOCUMENT_MISSING for everything), never read",
    "ods_over_rate":
        ".ods application form is unpacked as a zip submission (DOCUMENT_MISSING for everything), never read",
    "ods_habits":
        ".ods application form is unpacked as a zip submission (DOCUMENT_MISSING for everything), never read",
    "xlsx_encrypted":
        "a password-protected workbook gets no finding (never read, never reported)",
    "archive_lzh":
        "an .lzh/.7z/.rar archive gets no ATTACHMENT_UNREADABLE",
    "archive_7z":
        "an .lzh/.7z/.rar archive gets no ATTACHMENT_UNREADABLE",
    "archive_rar":
        "an .lzh/.7z/.rar archive gets no ATTACHMENT_UNREADABLE",
    "zip_one_sme_corpnum_absent":
        "no 法人番号 in the 交付申請書: 事業者情報 rows added as extra members (composition passes, cap grows)",
    "zip_over_cap_corpnum_absent":
        "no 法人番号 in the 交付申請書: 事業者情報 rows added as extra members (composition passes, cap grows)",
    "zip_over_cap_corpnum_typo":
        "a mistyped 法人番号 in the 事業者情報入力シート makes that member count twice, hiding AMOUNT_OVER_CAP",
}

# a rule's deficiency written with a filling habit: wrong for the reasons its two parts are
COMBINATIONS_WRONG = [
    "subcontract_over_half__label_colon_cell", "subcontract_over_half__costs_blank_rows",
    "subcontract_over_half__costs_subtotals", "software_cloud_over_half__costs_blank_rows",
    "software_cloud_over_half__costs_subtotals", "software_cloud_over_half__label_colon_cell",
    "sme_personnel_over_third__no_mark_dash_minus", "sme_personnel_over_third__employees_as_of",
    "vendor_large_by_numbers__costs_blank_rows", "vendor_large_by_numbers__label_brackets",
    "rate_over_by_one__label_colon_cell", "rate_over_by_one__money_kin_yen",
    "project_end_late__label_colon_cell", "project_end_late__dates_reiwa_text",
    "project_end_late__costs_blank_rows", "corpnum_check_digit__units_row",
    "corpnum_check_digit__costs_subtotals", "industry_retail_over__money_kin_yen",
    "one_vendor__label_colon_cell", "one_vendor__employees_as_of", "name_mismatch__employees_as_of",
    "name_mismatch__label_colon_cell", "name_mismatch__money_kin_yen",
    "sum_cost_total_wrong__no_mark_dash_minus", "sum_cost_total_wrong__total_sougoukei",
    "below_minimum__units_row", "below_minimum__total_sougoukei",
    "cost_vendor_personnel_step2__label_colon_cell",
    "cost_vendor_personnel_step2__no_mark_dash_minus",
    "cost_vendor_personnel_step2__label_required_mark",
]
KNOWN_WRONG.update({
    name: "; ".join(KNOWN_WRONG[part] for part in name.split("__") if part in KNOWN_WRONG)
    for name in COMBINATIONS_WRONG})

VARIANTS = variants()


def _run_check(paths: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "check", *paths], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert proc.returncode in (0, 1, 2), proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _write(variant: Variant, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in variant.files.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(str(path))
    return paths


def check_codes(variant: Variant, tmp_path: Path) -> tuple[set[str], str]:
    """The codes `check` reports for the variant's files alone."""
    proc = _run_check(_write(variant, tmp_path))
    return set(_FINDING.findall(proc.stdout)), proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def corpus_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One `check` run over every variant's file (each FILE is its own unit), split per file.

    Starting the CLI once keeps the corpus quick on a loaded machine; a variant whose section is
    absent (the run stopped early) is checked on its own by the test.
    """
    root = tmp_path_factory.mktemp("corpus")
    owner: dict[str, str] = {}
    paths: list[str] = []
    for variant in VARIANTS:
        for path in _write(variant, root / variant.name):
            owner[path] = variant.name
            paths.append(path)
    proc = subprocess.run([sys.executable, "-m", "ingest.cli", "check", *paths], cwd=ROOT,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    sections: dict[str, str] = {}
    current = None
    for line in proc.stdout.splitlines(keepends=True):
        if line.startswith("■ "):
            current = owner.get(line[2:].strip())
            sections.setdefault(current or "", "")
        if current:
            sections[current] += line
    return sections


def test_corpus_is_deterministic_and_broad() -> None:
    again = variants()
    assert [v.name for v in again] == [v.name for v in VARIANTS]
    assert [sorted(v.files) for v in again] == [sorted(v.files) for v in VARIANTS]
    assert len(VARIANTS) >= 80
    assert sum(1 for v in VARIANTS if not v.expected) >= 20
    stale = set(KNOWN_WRONG) - {v.name for v in VARIANTS}
    assert not stale, f"KNOWN_WRONG names no variant: {stale}"
    assert all(KNOWN_WRONG.values()), "each known-wrong variant says what the reader gets wrong"


@pytest.mark.parametrize("variant", [
    pytest.param(v, id=v.name, marks=[pytest.mark.xfail(strict=False, reason=KNOWN_WRONG[v.name])]
                 if v.name in KNOWN_WRONG else [])
    for v in VARIANTS])
def test_variant_codes(variant: Variant, corpus_output: dict[str, str], tmp_path: Path) -> None:
    if len(variant.files) == 1 and variant.name in corpus_output:
        output = corpus_output[variant.name]
        codes = set(_FINDING.findall(output))
    else:
        codes, output = check_codes(variant, tmp_path)
    unexpected = codes - variant.expected - variant.tolerated
    missing = variant.expected - codes
    assert not unexpected and not missing, (
        f"{variant.why}\nmissing {sorted(missing)}, unexpected {sorted(unexpected)}\n{output}")
    if not variant.expected:
        assert "不備なし" in output or set(codes) <= variant.tolerated
