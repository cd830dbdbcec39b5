"""法人番号: 13 digits whose first digit is a check digit over the 12-digit 基礎番号.

Formula (法人番号の指定等に関する省令, 平成26年財務省令第70号 第2条, as the 国税庁 applies it):
    check = 9 − ((Σ_{n=1..12} P_n × Q_n) mod 9)
where P_n is the n-th digit of the 基礎番号 counted from its lowest (rightmost) digit and Q_n is
1 for odd n, 2 for even n. Worked example from the 国税庁 material: 7123456789012 → 7.
"""

from __future__ import annotations

import unicodedata

__all__ = ["check_digit", "is_valid_corporate_number", "normalise_corporate_number"]


def check_digit(base: str) -> int:
    """Check digit for a 12-digit 基礎番号 (ASCII digits only)."""
    if len(base) != 12 or not base.isascii() or not base.isdigit():
        raise ValueError(f"基礎番号は12桁の数字です: {base!r}")
    total = sum(int(d) * (1 if n % 2 == 1 else 2) for n, d in enumerate(reversed(base), start=1))
    return 9 - total % 9


def normalise_corporate_number(text: str) -> str:
    """NFKC (full-width digits) and drop the spaces and hyphens people type between groups."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if ch not in " -\u2010\u2011\u2012\u2013\u2212\u30fc\t")


def is_valid_corporate_number(s: str) -> bool:
    """True when `s` is 13 digits (full-width and group separators allowed) and verifies."""
    digits = normalise_corporate_number(s)
    if len(digits) != 13 or not digits.isascii() or not digits.isdigit():
        return False
    return int(digits[0]) == check_digit(digits[1:])
