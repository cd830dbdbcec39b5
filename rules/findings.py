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
    short: str  # a few words for listings and histories (申請一覧, 履歴)


CATALOG: dict[str, CodeInfo] = {
    "SUBJECT_FORMAT": CodeInfo(
        "deficiency",
        "件名が指定の形式になっていません",
        "件名を指定の形式(<コンソーシアム名>に続けて年度・補助金名・「応募書類送付」)にしてください。",
        "件名の形式",
    ),
    "SENDER_DETAILS_MISSING": CodeInfo(
        "deficiency",
        "本文の差出人情報(会社名・役職・氏名・メールアドレス・電話番号)に記載のない項目があります",
        "メール本文に会社名、役職、氏名、メールアドレス、電話番号をご記載ください。",
        "差出人情報なし",
    ),
    "SENDER_NOT_LEAD": CodeInfo(
        "deficiency",
        "送信者が申請書記載の幹事社ではありません",
        "申請書に記載の幹事社のご担当者様から、あらためてお送りください。",
        "幹事社以外から送信",
    ),
    "OUTSIDE_PERIOD": CodeInfo(
        "deficiency",
        "交付申請期間外に受信しました",
        "交付申請の受付期間内に事務局が受信したメールのみ受け付けております。",
        "期間外",
    ),
    "DOCUMENT_MISSING": CodeInfo(
        "deficiency",
        "必要書類が添付されていません",
        "不足している書類を添付してください。",
        "書類不足",
    ),
    "CHECKLIST_MISMATCH": CodeInfo(
        "deficiency",
        "提出書類チェックリストと添付書類が一致しません",
        "提出書類チェックリストの記載と添付する書類が一致するよう、ご確認ください。",
        "チェックリスト不一致",
    ),
    "ARCHIVE_PASSWORD_MISSING": CodeInfo(
        "deficiency",
        "暗号化ファイルのパスワードが届いていません",
        "暗号化ファイルのパスワードを、別のメールでお送りください。",
        "パスワード未着",
    ),
    "ARCHIVE_PASSWORD_WRONG": CodeInfo(
        "deficiency",
        "お送りいただいたパスワードでファイルを開けません",
        "正しいパスワードを、別のメールでお送りください。",
        "パスワード誤り",
    ),
    "ATTACHMENT_UNREADABLE": CodeInfo(
        "deficiency",
        "添付ファイルを開けません(破損・非対応形式・暗号化・上限超過)",
        "zip形式(パスワード付きも可。LZH・7z・RARは不可)または元のファイル形式(xlsx・pdf等)で"
        "添付してください。パスワード付きのExcelファイルは、パスワードを別のメールでお知らせください。",
        "添付を開けない",
    ),
    "FORM_FIELD_MISSING": CodeInfo(
        "deficiency",
        "様式の必須項目が空欄です",
        "空欄の項目をご記入ください。",
        "必須項目の空欄",
    ),
    "CONSORTIUM_NAME_MISMATCH": CodeInfo(
        "deficiency",
        "件名のコンソーシアム名と様式のコンソーシアム名が一致しません",
        "件名と各様式のコンソーシアム名を、同じ名称にそろえてください。",
        "コンソーシアム名不一致",
    ),
    "CONSORTIUM_COMPOSITION": CodeInfo(
        "deficiency",
        "コンソーシアムの構成が要件を満たしていません",
        "中小ユーザ企業・ITベンダの数と幹事社の記載をご確認ください。",
        "構成要件",
    ),
    "SME_INELIGIBLE": CodeInfo(
        "deficiency",
        "中小ユーザ企業が中小企業の定義を満たしていません",
        "該当企業の業種・資本金・常時使用する従業員数をご確認ください。",
        "中小企業の要件",
    ),
    "CORPORATE_NUMBER_INVALID": CodeInfo(
        "deficiency",
        "法人番号が正しくありません",
        "13桁の法人番号をご確認のうえ、正しくご記入ください。",
        "法人番号",
    ),
    "AMOUNT_OVER_CAP": CodeInfo(
        "deficiency",
        "補助金申請額が上限を超えています",
        "補助上限額・補助率の範囲内となるよう、申請額を見直してください。",
        "申請額が上限超",
    ),
    "AMOUNT_BELOW_MINIMUM": CodeInfo(
        "deficiency",
        "補助金申請額が下限(100万円)未満です",
        "補助下限額以上となるよう、事業計画を見直してください。",
        "申請額が下限未満",
    ),
    "SOFTWARE_CLOUD_OVER_HALF": CodeInfo(
        "deficiency",
        "ソフトウェア購入費とクラウドサービス利用費の合計が補助対象経費総額の1/2を超えています",
        "ソフトウェア購入費とクラウドサービス利用費の合計が補助対象経費総額の1/2以下となるよう、経費の内訳を見直してください。",
        "ソフト・クラウド費1/2超",
    ),
    "SME_PERSONNEL_OVER_THIRD": CodeInfo(
        "deficiency",
        "中小ユーザ企業の人件費が委託費及び人件費の1/3を超えています",
        "中小ユーザ企業の人件費が委託費及び人件費の1/3以下となるよう、見直してください。",
        "人件費1/3超",
    ),
    "SUBCONTRACT_OVER_HALF": CodeInfo(
        "deficiency",
        "ITベンダの下請け発注が当該工程の補助対象経費の1/2以上です",
        "下請け発注の金額が当該工程の補助対象経費の1/2未満となるよう、見直してください。",
        "下請1/2以上",
    ),
    "SUM_MISMATCH": CodeInfo(
        "deficiency",
        "様式内または様式間の合計額が一致しません",
        "合計額と内訳が一致するよう、ご確認ください。",
        "合計不一致",
    ),
    "PROJECT_PERIOD": CodeInfo(
        "deficiency",
        "事業完了予定日が補助事業期間の終了日より後です",
        "事業完了予定日を補助事業期間の終了日までとし、実施スケジュールを見直してください。",
        "完了予定日が期間外",
    ),
    "COST_NOT_ELIGIBLE": CodeInfo(
        "deficiency",
        "補助対象外の経費が計上されています(事業者の区分・工程で認められない経費、ハードウェア等)",
        "補助対象経費(中小ユーザ企業の人件費は要件定義・受入テスト・研修のみ、ITベンダの委託費は"
        "設計・開発〜システムテストの下請け発注のみ、ハードウェアは対象外)に沿って経費の内訳を"
        "見直してください。",
        "対象外の経費",
    ),
    "DUPLICATE_SUBMISSION": CodeInfo(
        "notice",
        "同じコンソーシアムから再提出がありました(最新の提出を有効とします)",
        "ご対応は不要です。最新のご提出の内容で審査いたします。",
        "再提出",
    ),
    "NOT_A_SUBMISSION": CodeInfo(
        "notice",
        "応募書類の送付ではないメールです(事務局で確認します)",
        "ご対応は不要です。",
        "申請以外",
    ),
    "SENDER_AUTH_FAILED": CodeInfo(
        "notice",
        "差出人ドメインの送信ドメイン認証(DMARC、または SPF と DKIM)に失敗しました"
        "(なりすましの可能性。事務局が確認するまで返信を保留します)",
        "送信に使用したメールサーバーの送信ドメイン認証(SPF・DKIM・DMARC)の設定をご確認ください。",
        "送信元の認証失敗",
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


def short_label(code: str) -> str:
    """The few words staff read for a finding code; an unknown code is still named in Japanese."""
    info = CATALOG.get(code)
    return info.short if info else "その他の指摘"


def has_deficiency(findings: list[Finding]) -> bool:
    return any(f.severity == "deficiency" for f in findings)
