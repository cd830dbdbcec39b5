"""The plain-Japanese details of attachment problems: limits, damage, wrong passwords."""

from __future__ import annotations

import re

from parsers.containers import DeclaredCountTooLarge
from parsers.limits import Limits

_METHOD_NAMES = {9: "Deflate64", 98: "PPMd", 95: "XZ", 93: "Zstandard", 6: "Implode"}


def limit_detail(path: str, reason: str) -> str:
    return f"安全上の上限を超えたため展開を中止しました（「{path}」：{reason}）。"


def member_size_reason(lim: Limits) -> str:
    return f"1ファイルの大きさが上限（{lim.max_member_bytes // (1024 * 1024)}MB）を超えています"


def ratio_reason(lim: Limits) -> str:
    return f"圧縮率が異常に高くなっています（{lim.max_ratio:g}倍超）"


def total_reason(lim: Limits) -> str:
    return f"展開後の合計が上限（{lim.max_total_bytes // (1024 * 1024)}MB）を超えています"


def broken_detail(path: str, exc: BaseException) -> str:
    if isinstance(exc, NotImplementedError):
        return f"「{path}」は対応していない形式のため開けませんでした。"
    return f"「{path}」は壊れているため開けませんでした。ファイルを作り直して送付してください。"


def member_broken_detail(path: str, exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, NotImplementedError):
        method = re.search(r"(?:method|compression type) (\d+)", text)
        if method:
            label = _METHOD_NAMES.get(int(method.group(1)), f"方式{method.group(1)}")
            return (
                f"「{path}」は対応していない圧縮方式（{label}）のため開けませんでした。"
                "通常のzip形式で圧縮し直して送付してください。"
            )
        if "encryption" in text:
            return f"「{path}」は対応していない暗号化方式のため開けませんでした。"
        return f"「{path}」は対応していない形式のため開けませんでした。"
    if "CRC" in text or "HMAC" in text or "verify" in text:
        return f"「{path}」はデータが壊れている（検査値が一致しない）ため開けませんでした。"
    return f"「{path}」は壊れているため開けませんでした。ファイルを作り直して送付してください。"


def wrong_password_detail(path: str, members: list[str]) -> str:
    which = ""
    if members:
        shown = "、".join(f"「{m}」" for m in members[:3])
        more = f"ほか{len(members) - 3}件" if len(members) > 3 else ""
        which = f"（{shown}{more}）"
    return f"「{path}」{which}は、お送りいただいたパスワードでは開けませんでした。"


def office_unreadable_detail(path: str) -> str:
    return (
        f"「{path}」はパスワード付き（暗号化）のOfficeファイルですが、開けませんでした。"
        "パスワードを解除したファイルを、暗号化zipに入れて送付してください。"
    )


def office_spin_detail(path: str, rounds: int, lim: Limits) -> str:
    return (
        f"「{path}」はパスワードの鍵の計算回数（{rounds:,}回）が安全上の上限"
        f"（{lim.max_office_spin_count:,}回）を超えているため開けませんでした。"
        "パスワードを解除したファイルを、暗号化zipに入れて送付してください。"
    )


def declared_count_reason(exc: DeclaredCountTooLarge) -> str:
    return f"{exc.what}（{exc.count:,}個）がデータの大きさを超えて宣言されています"
