"""The finding-code catalogue of SPEC §4: one place for every code, its meaning and its fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["deficiency", "notice"]


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    detail: str
    member: str | None = None
    document: str | None = None


@dataclass(frozen=True)
class CodeInfo:
    severity: Severity
    meaning: str  # what staff read in listings
    fix: str  # what the applicant is asked to do, quoted in the deficiency notice


CATALOG: dict[str, CodeInfo] = {
    "SUBJECT_FORMAT": CodeInfo(
        "deficiency",
        "件名が指定の形式になっていません",
        "件名を「<コンソーシアム名>令和4年度「共創型サービスIT連携支援補助金」 応募書類送付」として再送してください。",
    ),
    "SENDER_DETAILS_MISSING": CodeInfo(
        "deficiency",
        "本文に差出人情報(会社名・役職・氏名・メールアドレス・電話番号)の記載がありません",
        "メール本文に会社名、役職、氏名、メールアドレス、電話番号を記載して再送してください。",
    ),
    "SENDER_NOT_LEAD": CodeInfo(
        "deficiency",
        "送信者が申請書記載の幹事社ではありません",
        "幹事社のご担当者様から送付してください。",
    ),
    "OUTSIDE_PERIOD": CodeInfo(
        "deficiency",
        "交付申請期間外に受信しました",
        "交付申請期間内に受信したメールのみ受け付けます。",
    ),
    "DOCUMENT_MISSING": CodeInfo(
        "deficiency",
        "必要書類が添付されていません",
        "不足している書類を添付して送付してください。",
    ),
    "CHECKLIST_MISMATCH": CodeInfo(
        "deficiency",
        "提出書類チェックリストと添付書類が一致しません",
        "チェックリストと添付書類を確認し、一致させて送付してください。",
    ),
    "ARCHIVE_PASSWORD_MISSING": CodeInfo(
        "deficiency",
        "暗号化ファイルのパスワードが届いていません",
        "パスワードを別メールでお送りください。",
    ),
    "ARCHIVE_PASSWORD_WRONG": CodeInfo(
        "deficiency",
        "お送りいただいたパスワードでファイルを開けません",
        "正しいパスワードを別メールでお送りください。",
    ),
    "ATTACHMENT_UNREADABLE": CodeInfo(
        "deficiency",
        "添付ファイルを開けません(破損・非対応形式・暗号化・上限超過)",
        "zip形式(暗号化可。LZH・7z・RARは不可)または元のファイル形式(xlsx・pdf等)で送り直してください。"
        "パスワード付きのExcelファイルはパスワードを別メールでお送りください。",
    ),
    "FORM_FIELD_MISSING": CodeInfo(
        "deficiency",
        "様式の必須項目が空欄です",
        "該当項目を記入した様式を送付してください。",
    ),
    "CONSORTIUM_NAME_MISMATCH": CodeInfo(
        "deficiency",
        "件名のコンソーシアム名と様式のコンソーシアム名が一致しません",
        "件名と様式のコンソーシアム名を一致させてください。",
    ),
    "CONSORTIUM_COMPOSITION": CodeInfo(
        "deficiency",
        "コンソーシアムの構成が要件を満たしていません",
        "中小ユーザ企業・ITベンダの数と幹事社を確認してください。",
    ),
    "SME_INELIGIBLE": CodeInfo(
        "deficiency",
        "中小ユーザ企業が中小企業の定義を満たしていません",
        "業種・資本金・従業員数を確認してください。",
    ),
    "CORPORATE_NUMBER_INVALID": CodeInfo(
        "deficiency",
        "法人番号が正しくありません",
        "13桁の法人番号を確認して記入してください。",
    ),
    "AMOUNT_OVER_CAP": CodeInfo(
        "deficiency",
        "補助金申請額が上限を超えています",
        "補助上限額・補助率の範囲内で申請額を見直してください。",
    ),
    "AMOUNT_BELOW_MINIMUM": CodeInfo(
        "deficiency",
        "補助金申請額が下限(100万円)未満です",
        "補助下限額以上となるよう事業計画を見直してください。",
    ),
    "SOFTWARE_CLOUD_OVER_HALF": CodeInfo(
        "deficiency",
        "ソフトウェア購入費とクラウドサービス利用費の合計が補助対象経費総額の1/2を超えています",
        "経費の内訳を見直してください。",
    ),
    "SME_PERSONNEL_OVER_THIRD": CodeInfo(
        "deficiency",
        "中小ユーザ企業の人件費が委託費及び人件費の1/3を超えています",
        "中小ユーザ企業の人件費を見直してください。",
    ),
    "SUBCONTRACT_OVER_HALF": CodeInfo(
        "deficiency",
        "ITベンダの下請け発注が当該工程の補助対象経費の1/2以上です",
        "下請け発注の金額を見直してください。",
    ),
    "SUM_MISMATCH": CodeInfo(
        "deficiency",
        "様式内または様式間の合計額が一致しません",
        "合計額と内訳を確認してください。",
    ),
    "PROJECT_PERIOD": CodeInfo(
        "deficiency",
        "事業完了予定日が補助事業期間(交付決定日〜2023年2月10日)の後です",
        "事業完了予定日を補助事業期間の終わり(2023年2月10日)までとし、実施スケジュールを見直した"
        "事業計画書を送付してください。",
    ),
    "COST_NOT_ELIGIBLE": CodeInfo(
        "deficiency",
        "補助対象外の経費が計上されています(事業者の区分・工程で認められない経費、ハードウェア等)",
        "公募要領の補助対象経費(中小ユーザ企業の人件費は要件定義・受入テスト・研修のみ、ITベンダの"
        "委託費は設計・開発〜システムテストの下請け発注のみ、ハードウェアは対象外)に沿って経費の内訳を"
        "見直してください。",
    ),
    "DUPLICATE_SUBMISSION": CodeInfo(
        "notice",
        "同じコンソーシアムから再提出がありました(最新の提出を有効とします)",
        "対応は不要です。最新の提出内容で審査します。",
    ),
    "NOT_A_SUBMISSION": CodeInfo(
        "notice",
        "応募書類の送付ではないメールです(事務局で確認します)",
        "対応は不要です。",
    ),
}


def finding(
    code: str,
    detail: str,
    *,
    member: str | None = None,
    document: str | None = None,
    severity: Severity | None = None,
) -> Finding:
    """Build a finding whose severity defaults to the catalogue's; unknown codes fail loudly."""
    info = CATALOG[code]
    return Finding(code, severity or info.severity, detail, member, document)


def has_deficiency(findings: list[Finding]) -> bool:
    return any(f.severity == "deficiency" for f in findings)
