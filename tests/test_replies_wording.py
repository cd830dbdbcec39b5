"""What an applicant reads: no reply contradicts itself, whatever the findings.

Every code of the catalogue, alone and with every other code, is rendered through the kind of
reply the pipeline would choose for it (and through the deficiency notice as well), and each
fixed sentence is checked against the findings it could contradict.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime

import pytest

from ingest.answering import reply_context
from ingest.config import Settings
from replies.outbox import reply_kind
from replies.render import Renderer
from rules.calendar import JST
from rules.findings import CATALOG, CodeInfo, Finding, finding

NAME = "港町DX連携コンソーシアム"
PASSWORD = {"ARCHIVE_PASSWORD_MISSING", "ARCHIVE_PASSWORD_WRONG"}
SUBJECT_CHANGES = {"SUBJECT_FORMAT", "CONSORTIUM_NAME_MISMATCH"}
IN_PERIOD = datetime(2022, 8, 10, 10, 15, tzinfo=JST)
AFTER = datetime(2022, 9, 10, 0, 3, tzinfo=JST)
BEFORE = datetime(2022, 8, 2, 23, 50, tzinfo=JST)
# Codes the catalogue is getting (SPEC §4); rendered here with their SPEC meaning until they land.
COMING = {
    "PROJECT_PERIOD": CodeInfo("deficiency", "完了予定日が補助事業期間の終了日より後です",
                               "完了予定日を補助事業期間内(終了日まで)としてください。",
                               "事業期間外"),
    "COST_NOT_ELIGIBLE": CodeInfo("deficiency", "補助対象外の経費が計上されています",
                                  "補助対象外の経費を除いて、経費の内訳を見直してください。",
                                  "対象外経費"),
}
RENDERER = Renderer()


@pytest.fixture(autouse=True)
def coming_codes(monkeypatch):
    for code, info in COMING.items():
        if code not in CATALOG:
            monkeypatch.setitem(CATALOG, code, info)


def sample(code: str) -> Finding:
    return finding(code, f"{CATALOG[code].meaning}(詳細)")


def render(kind: str, findings: list[Finding], *, consortium: str | None = NAME,
           received: datetime = IN_PERIOD) -> tuple[str, str]:
    context = reply_context(
        Settings(), {"id": 42, "consortium": consortium}, findings,
        {"sender": {"company": "株式会社テスト", "name": "山田 太郎"}}, received,
        ["申請書類.zip/4_交付申請書.xlsx"])
    return RENDERER.render(kind, context)


def combinations() -> list[tuple[str, ...]]:
    codes = sorted(set(CATALOG) | set(COMING))
    return [(c,) for c in codes] + list(itertools.combinations(codes, 2))


def contradictions(kind: str, codes: set[str], subject: str, body: str,
                   received: datetime) -> list[str]:
    """Every fixed sentence that the findings make wrong, as a list of reasons."""
    deficient = {c for c in codes if CATALOG[c].severity == "deficiency"}
    problems = []

    def forbid(text: str, reason: str, where: str = body) -> None:
        if text in where:
            problems.append(f"「{text}」: {reason}")

    if deficient & SUBJECT_CHANGES:
        forbid("同じ件名", "the subject itself must change")
        forbid("件名を変えずに", "the subject itself must change")
    if "CONSORTIUM_NAME_MISMATCH" in deficient:
        forbid(f"件名: <{NAME}>", "the subject's name is the one in question")
    if deficient and deficient <= PASSWORD:
        forbid("書類一式", "only a password is missing; the documents need not come again")
    if deficient:
        forbid("受け付けました", "a deficiency notice is not a receipt")
        forbid("審査の結果は", "nothing is examined before it is complete")
    if kind == "out_of_period":
        forbid("受付番号", "a mail out of the period is not accepted")
        forbid("ご対応", "nothing can be fixed after the deadline")
        if received > datetime(2022, 9, 9, 23, 59, 59, tzinfo=JST):
            forbid("お送りください", "nothing can be sent again after the deadline")
        forbid("書類一式", "nothing can be sent again after the period")
    for word in ("返信できません", "送信専用", "返信しないで", "ご返信はご遠慮", "返信は受け付けて"):
        forbid(word, "the reply tells the applicant to ask us")
    for match in re.findall(r"[A-Z]{2,}_[A-Z_]+|\bNone\b|\{\{|\}\}", subject + body):
        problems.append(f"「{match}」: a code or template syntax reaches the applicant")
    notes = body.partition("■ ご参考")[2].partition("■ 受信したファイル")[0]
    for code in deficient:
        if CATALOG[code].meaning in notes:
            problems.append(f"{code} listed under ご参考(ご対応は不要です)")
    return problems


def must_say(kind: str, codes: set[str], subject: str, body: str) -> list[str]:
    missing = [text for text in (
        "お世話になっております。", "何卒よろしくお願いいたします。",
        "令和4年度「共創型サービスIT連携支援補助金」事務局", "it-renkei@example.go.jp",
        f"■ コンソーシアム名: {NAME}", "株式会社テスト\n山田 太郎 様\n") if text not in body]
    if f"<{NAME}>令和4年度" not in subject:
        missing.append("the applicant's <…> in the subject")
    if kind == "deficiency":
        for code in codes:
            if CATALOG[code].severity == "deficiency":
                missing += [t for t in (CATALOG[code].meaning, CATALOG[code].fix) if t not in body]
        if "2022年9月9日(金) 23:59 までに" not in body:
            missing.append("by when")
    return missing


@pytest.mark.parametrize("codes", combinations(), ids="+".join)
def test_no_reply_contradicts_its_findings(codes):
    findings = [sample(c) for c in codes]
    kind = reply_kind(findings)
    if kind is None:
        return  # NOT_A_SUBMISSION: staff answer it, no template is rendered
    received = AFTER if kind == "out_of_period" else IN_PERIOD
    kinds = {kind, "deficiency"} if any(f.severity == "deficiency" for f in findings) else {kind}
    for each in kinds:
        subject, body = render(each, findings, received=received)
        assert contradictions(each, set(codes), subject, body, received) == [], (each, body)
        assert must_say(each, set(codes), subject, body) == [], (each, body)


def test_a_subject_format_notice_gives_the_subject_to_use_instead_of_keeping_it():
    subject, body = render("deficiency", [sample("SUBJECT_FORMAT")])
    assert "件名: <港町DX連携コンソーシアム>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付" in body
    assert "同じ件名" not in body and "件名を変えずに" not in body


def test_a_name_mismatch_asks_for_the_forms_name_in_the_subject():
    _, body = render("deficiency", [sample("CONSORTIUM_NAME_MISMATCH")])
    assert "件名: <コンソーシアム名>令和4年度" in body
    assert "< > 内には、様式に記載したものと同じコンソーシアム名をご記入ください" in body


def test_a_wrong_password_alone_asks_for_the_password_only():
    _, body = render("deficiency", [sample("ARCHIVE_PASSWORD_WRONG")])
    assert "■ パスワードの送り方" in body and "書類をお送りいただき直す必要はございません" in body
    assert "■ 再提出の方法" not in body


def test_a_wrong_password_among_other_deficiencies_comes_with_the_new_set():
    _, body = render("deficiency", [sample("ARCHIVE_PASSWORD_WRONG"), sample("DOCUMENT_MISSING")])
    assert "■ 再提出の方法" in body and "提出書類一式" in body
    assert "パスワードは、別のメールで、上記の件名にてお送りください" in body


def test_the_out_of_period_notice_states_time_and_period_once_and_a_contact():
    settings = Settings(inquiry_phone="03-1234-5678")
    context = reply_context(settings, {"id": 7, "consortium": NAME}, [sample("OUTSIDE_PERIOD")],
                            {"sender": {}}, AFTER, [])
    subject, body = RENDERER.render("out_of_period", context)
    assert subject.startswith(f"【受付期間外】<{NAME}>")
    assert body.count("2022年9月10日(土) 0:03") == 1
    assert body.count("2022年8月3日(水) 0:00〜2022年9月9日(金) 23:59") == 1
    assert not re.search(r"\d{1,2}:\d{2}", body.replace("0:03", "").replace("0:00", "")
                         .replace("23:59", "").replace("9:30", "").replace("17:30", ""))
    assert "締切後に届いた" in body and "受付番号" not in body
    assert "ご担当者 様" in body  # no sender block: still addressed
    assert "お問い合わせ先" in body and "メール: it-renkei@example.go.jp" in body
    assert "電話: 03-1234-5678(受付時間: 平日 9:30〜17:30)" in body


def test_a_mail_before_the_period_is_invited_to_come_again_in_it():
    _, body = render("out_of_period", [sample("OUTSIDE_PERIOD")], received=BEFORE)
    assert "受付開始前に届いた" in body and "受付期間に入りましてから、あらためてお送りください" in body


def test_a_reply_without_a_consortium_name_says_it_could_not_be_read():
    for kind in ("receipt", "deficiency", "out_of_period", "password_request"):
        subject, body = render(kind, [sample("SUBJECT_FORMAT")], consortium=None)
        assert "■ コンソーシアム名: (件名・様式・ファイル名から読み取れませんでした)" in body
        assert "<" not in subject and subject.endswith("令和4年度「共創型サービスIT連携支援補助金」 応募書類送付")


def test_control_characters_in_a_name_never_reach_subject_or_text():
    subject, body = render("receipt", [], consortium="港町\x0bDX\x1c連携\u2028コンソーシアム")
    assert subject.startswith("【受付確認】<港町 DX 連携 コンソーシアム>令和4年度「")
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]", subject + body)
