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
        "件名を指定の形式(<コンソーシアム名>に続けて年度・補助金名・「応募書類送付」)にしてください。",
    ),
    "SENDER_DETAILS_MISSING": CodeInfo(
        "deficiency",
        "本文に差出人情報(会社名・役職・氏名・メールアドレス・電話番号)の記載がありません",
        "メール本文に会社名、役職、氏名、メールアドレス、電話番号をご記載ください。",
    ),
    "SENDER_NOT_LEAD": CodeInfo(
        "deficiency",
        "送信者が申請書記載の幹事社ではありません",
        "申請書に記載の幹事社のご担当者様から、あらためてお送りください。",
    ),
    "OUTSIDE_PERIOD": CodeInfo(
        "deficiency",
        "交付申請期間外に受信しました",
        "交付申請の受付期間内に事務局が受信したメールのみ受け付けております。",
    ),
    "DOCUMENT_MISSING": CodeInfo(
        "deficiency",
        "必要書類が添付されていません",
        "不足している書類を添付してください。",
    ),
    "CHECKLIST_MISMATCH": CodeInfo(
        "deficiency",
        "提出書類チェックリストと添付書類が一致しません",
        "提出書類チェックリストの記載と添付する書類が一致するよう、ご確認ください。",
    ),
    "ARCHIVE_PASSWORD_MISSING": CodeInfo(
        "deficiency",
        "暗号化ファイルのパスワードが届いていません",
        "暗号化ファイルのパスワードを、別のメールでお送りください。",
    ),
    "ARCHIVE_PASSWORD_WRONG": CodeInfo(
        "deficiency",
        "お送りいただいたパスワードでファイルを開けません",
        "正しいパスワードを、別のメールでお送りください。",
    ),
    "ATTACHMENT_UNREADABLE": CodeInfo(
        "deficiency",
        "添付ファイルを開けません(破損・非対応形式・暗号化・上限超過)",
        "zip形式(パスワード付きも可)または元のファイル形式で添付してください。",
    ),
    "FORM_FIELD_MISSING": CodeInfo(
        "deficiency",
        "様式の必須項目が空欄です",
        "空欄の項目をご記入ください。",
    ),
    "CONSORTIUM_NAME_MISMATCH": CodeInfo(
        "deficiency",
        "件名のコンソーシアム名と様式のコンソーシアム名が一致しません",
        "件名と各様式のコンソーシアム名を、同じ名称にそろえてください。",
    ),
    "CONSORTIUM_COMPOSITION": CodeInfo(
        "deficiency",
        "コンソーシアムの構成が要件を満たしていません",
        "中小ユーザ企業・ITベンダの数と幹事社の記載をご確認ください。",
    ),
    "SME_INELIGIBLE": CodeInfo(
        "deficiency",
        "中小ユーザ企業が中小企業の定義を満たしていません",
        "該当企業の業種・資本金・常時使用する従業員数をご確認ください。",
    ),
    "CORPORATE_NUMBER_INVALID": CodeInfo(
        "deficiency",
        "法人番号が正しくありません",
        "13桁の法人番号をご確認のうえ、正しくご記入ください。",
    ),
    "AMOUNT_OVER_CAP": CodeInfo(
        "deficiency",
        "補助金申請額が上限を超えています",
        "補助上限額・補助率の範囲内となるよう、申請額を見直してください。",
    ),
    "AMOUNT_BELOW_MINIMUM": CodeInfo(
        "deficiency",
        "補助金申請額が下限(100万円)未満です",
        "補助下限額以上となるよう、事業計画を見直してください。",
    ),
    "SOFTWARE_CLOUD_OVER_HALF": CodeInfo(
        "deficiency",
        "ソフトウェア購入費とクラウドサービス利用費の合計が補助対象経費総額の1/2を超えています",
        "ソフトウェア購入費とクラウドサービス利用費の合計が補助対象経費総額の1/2以下となるよう、経費の内訳を見直してください。",
    ),
    "SME_PERSONNEL_OVER_THIRD": CodeInfo(
        "deficiency",
        "中小ユーザ企業の人件費が委託費及び人件費の1/3を超えています",
        "中小ユーザ企業の人件費が委託費及び人件費の1/3以下となるよう、見直してください。",
    ),
    "SUBCONTRACT_OVER_HALF": CodeInfo(
        "deficiency",
        "ITベンダの下請け発注が当該工程の補助対象経費の1/2以上です",
        "下請け発注の金額が当該工程の補助対象経費の1/2未満となるよう、見直してください。",
    ),
    "SUM_MISMATCH": CodeInfo(
        "deficiency",
        "様式内または様式間の合計額が一致しません",
        "合計額と内訳が一致するよう、ご確認ください。",
    ),
    "DUPLICATE_SUBMISSION": CodeInfo(
        "notice",
        "同じコンソーシアムから再提出がありました(最新の提出を有効とします)",
        "ご対応は不要です。最新のご提出の内容で審査いたします。",
    ),
    "NOT_A_SUBMISSION": CodeInfo(
        "notice",
        "応募書類の送付ではないメールです(事務局で確認します)",
        "ご対応は不要です。",
    ),
    "SENDER_AUTH_FAILED": CodeInfo(
        "notice",
        "差出人ドメインの送信ドメイン認証(DMARC、または SPF と DKIM)に失敗しました"
        "(なりすましの可能性。事務局が確認するまで返信を保留します)",
        "送信に使用したメールサーバーの送信ドメイン認証(SPF・DKIM・DMARC)の設定をご確認ください。",
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
