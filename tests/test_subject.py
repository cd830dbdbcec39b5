"""parse_subject against the subject variants applicants really type (SPEC §1)."""

from __future__ import annotations

from email.header import decode_header, make_header

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.subject import consortium_key, parse_subject
from rules.program import Program

CORE = Program().subject_core
STD = "令和4年度「共創型サービスIT連携支援補助金」 応募書類送付"

# (subject, consortium as written, part, parts_total, prefixes)
READABLE = [
    (f"<ABCコンソーシアム>{STD}", "ABCコンソーシアム", None, None, ()),
    (f"＜ABCコンソーシアム＞{STD}", "ABCコンソーシアム", None, None, ()),
    (f"【ABCコンソーシアム】{STD}", "ABCコンソーシアム", None, None, ()),
    (f"〈北陸DX連携会〉{STD}", "北陸DX連携会", None, None, ()),
    (f"ABCコンソーシアム{STD}", "ABCコンソーシアム", None, None, ()),
    (f"ABCコンソーシアム　{STD}", "ABCコンソーシアム", None, None, ()),
    (" <ABC コンソーシアム> 令和4年度 「共創型サービスIT連携支援補助金」　応募書類送付 ",
     "ABC コンソーシアム", None, None, ()),
    (f"Re: <ABC>{STD}", "ABC", None, None, ("Re",)),
    (f"RE: RE: <ABC>{STD}", "ABC", None, None, ("Re", "Re")),
    (f"Re[2]: <ABC>{STD}", "ABC", None, None, ("Re",)),
    (f"Fwd: <ABC>{STD}", "ABC", None, None, ("Fwd",)),
    (f"FW: <ABC>{STD}", "ABC", None, None, ("Fwd",)),
    (f"転送: <ABC>{STD}", "ABC", None, None, ("転送",)),
    (f"転送：Re：<ABC>{STD}", "ABC", None, None, ("転送", "Re")),
    (f"【再送】<ABC>{STD}", "ABC", None, None, ("再送",)),
    (f"【パスワード】<ABC>{STD}", "ABC", None, None, ("パスワード",)),
    (f"[PW] Re: <ABC>{STD}", "ABC", None, None, ("PW", "Re")),
    (f"自動応答: 【受付確認】<ABC>{STD}", "ABC", None, None, ("自動応答", "受付確認")),
    (f"【事務局様】<ABC連携(東京)>{STD}", "ABC連携(東京)", None, None, ("事務局様",)),
    (f"ABC連携【東京】{STD}", "ABC連携【東京】", None, None, ()),
    (f"Automatic reply: ＜㈱北斗①＞{STD}", "㈱北斗①", None, None, ("Automatic reply",)),
    (f"ABC連携(東京){STD}", "ABC連携(東京)", None, None, ()),
    ("＜ＡＢＣコンソーシアム＞令和４年度「共創型サービスＩＴ連携支援補助金」　応募書類送付",
     "ＡＢＣコンソーシアム", None, None, ()),
    ("<ABC>令和4年度『共創型サービスIT連携支援補助金』応募書類送付", "ABC", None, None, ()),
    ("<ABC>令和4年度 共創型サービスIT連携支援補助金 応募書類送付", "ABC", None, None, ()),
    ("<ABC>令和4年度“共創型サービスIT連携支援補助金”応募書類の送付", "ABC", None, None, ()),
    ("<ABC>令和4年度「共創型ｻｰﾋﾞｽIT連携支援補助金」応募書類送付", "ABC", None, None, ()),
    ("<ABC>令和4年度「共創型サービスit連携支援補助金」応募書類送付", "ABC", None, None, ()),
    (f"<㈱山田製作所①コンソーシアム>{STD}", "㈱山田製作所①コンソーシアム", None, None, ()),
    (f"<株式会社A & B・C (東京)>{STD}", "株式会社A & B・C (東京)", None, None, ()),
    (f"<ABC>{STD}(1/3)", "ABC", 1, 3, ()),
    (f"<ABC>{STD}（２／３）", "ABC", 2, 3, ()),
    (f"<ABC>{STD} [3/3]", "ABC", 3, 3, ()),
    (f"(1/2)<ABC>{STD}", "ABC", 1, 2, ()),
    (f"<ABC>{STD} その2", "ABC", 2, None, ()),
    (f"<ABC>{STD}（その②）", "ABC", 2, None, ()),
    (f"<ABC>{STD} 2通目", "ABC", 2, None, ()),
    (f"<ABC>{STD}【3通中2通目】", "ABC", 2, 3, ()),
    (f"<ABC>{STD} 第2便", "ABC", 2, None, ()),
    (f"Re: (2/2) <ABC>{STD}", "ABC", 2, 2, ("Re",)),
    (f"<第2地域連携コンソーシアム>{STD}", "第2地域連携コンソーシアム", None, None, ()),
    (f"{STD}【XYZコンソーシアム】", "XYZコンソーシアム", None, None, ()),
    (f"{STD}＜XYZ＞（1/2）", "XYZ", 1, 2, ()),
    (f"<ABC>_{STD}", "ABC", None, None, ()),
]

# (subject, a word the reason must contain)
UNREADABLE = [
    ("", "件名がありません"),
    ("   ", "件名がありません"),
    ("応募書類送付", "見当たりません"),
    ("交付申請書類の送付について", "見当たりません"),
    ("<ABC>令和5年度「共創型サービスIT連携支援補助金」 応募書類送付", "年度"),
    ("<ABC>令和4年度「共創型サービスIT連携支援補助金」", "年度"),
    ("<ABC>令和3年度「共創型サービスIT連携支援補助金」 応募書類送付", "年度"),
    ("<ABC>令和4年度「IT導入補助金」 応募書類送付", "見当たりません"),
    (f"<コンソーシアム名>{STD}", "コンソーシアム名"),
    (f"＜コンソーシアム名＞{STD}", "コンソーシアム名"),
    (STD, "コンソーシアム名がありません"),
    (f"<>{STD}", "コンソーシアム名がありません"),
    (f"Re: {STD}", "コンソーシアム名がありません"),
    (f"<ABC>{STD}について質問", "お問い合わせ"),
    (f"<ABC>{STD}の書き方についてのお問い合わせ", "お問い合わせ"),
    (f"<ABC>{STD}？", "お問い合わせ"),
    ("共創型サービスIT連携支援補助金について教えてください", "年度"),
    ("Automatic reply: hello", "見当たりません"),
]


@pytest.mark.parametrize(("subject", "name", "part", "total", "prefixes"), READABLE)
def test_readable_variants(subject: str, name: str, part: int | None, total: int | None,
                           prefixes: tuple[str, ...]) -> None:
    info = parse_subject(subject, CORE)
    assert info.matches, info.reason
    assert info.reason is None
    assert info.consortium == name
    assert info.consortium_key == consortium_key(name)
    assert (info.part, info.parts_total) == (part, total)
    assert info.prefixes == prefixes


@pytest.mark.parametrize(("subject", "word"), UNREADABLE)
def test_unreadable_subjects_say_why(subject: str, word: str) -> None:
    info = parse_subject(subject, CORE)
    assert not info.matches
    assert info.consortium is None and info.consortium_key is None
    assert info.reason and word in info.reason


def test_enough_variants_for_the_brief() -> None:
    assert len(READABLE) + len(UNREADABLE) >= 25
    assert len(UNREADABLE) >= 8


def test_keys_equal_across_width_brackets_and_spaces() -> None:
    plain = parse_subject(f"<ABC コンソーシアム>{STD}", CORE)
    wide = parse_subject(f"【ＡＢＣ　コンソーシアム】{STD}", CORE)
    assert plain.consortium != wide.consortium  # as written
    assert plain.consortium_key == wide.consortium_key == "abcコンソーシアム"


def test_circled_and_parenthesised_characters_normalise_in_key() -> None:
    info = parse_subject(f"<㈱ABC①>{STD}", CORE)
    assert info.consortium == "㈱ABC①"
    assert info.consortium_key == consortium_key("(株)ABC1")


def test_split_marker_does_not_eat_a_date_in_the_name() -> None:
    info = parse_subject(f"<24/7サポート連合>{STD}", CORE)
    assert info.matches and info.consortium == "24/7サポート連合" and info.part is None


def test_split_like_text_inside_a_name_stays_in_the_name() -> None:
    info = parse_subject(f"<関西1/2連合その3会>{STD}", CORE)
    assert info.matches and info.consortium == "関西1/2連合その3会"
    assert info.part is None


def test_other_program_year_is_read_with_its_own_core() -> None:
    core5 = Program(year_label="令和5年度").subject_core
    info = parse_subject("<ABC>令和5年度「共創型サービスIT連携支援補助金」 応募書類送付", core5)
    assert info.matches and info.consortium == "ABC"
    assert not parse_subject(f"<ABC>{STD}", core5).matches


def test_decoded_iso2022jp_encoded_word() -> None:
    # What an ISO-2022-JP mailer puts on the wire, decoded the way parsers/mime will.
    encoded = "=?iso-2022-jp?b?GyRCIWMbKEJBQkMbJEIhZE5hT0IbKEI0GyRCRy9FWRsoQg==?="
    decoded = str(make_header(decode_header(encoded)))
    info = parse_subject(decoded + "「共創型サービスIT連携支援補助金」 応募書類送付", CORE)
    assert decoded == "＜ABC＞令和4年度"
    assert info.matches and info.consortium == "ABC"


def test_folded_subject_with_newline() -> None:
    info = parse_subject("<ABC>令和4年度「共創型サービスIT連携支援補助金」\r\n 応募書類送付", CORE)
    assert info.matches and info.consortium == "ABC"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    info = parse_subject(text, CORE)
    assert info.matches == (info.reason is None)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1,
               max_size=30))
def test_any_bracketed_name_is_read_back(name: str) -> None:
    info = parse_subject(f"<{name}>{STD}", CORE)
    if info.matches:
        # Whatever was read is a piece of what the applicant wrote, never invented.
        assert info.consortium and info.consortium in f"<{name}>"
