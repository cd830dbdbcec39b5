"""examples/replies/ is what the templates render today: each example reply is made again from
the example mailbox (examples/make_replies.py) and its decoded text compared, so a template
change shows in review as a change of those files. Regenerate: python examples/make_replies.py"""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.conftest import REPO
from tests.mail_readers import read, rfc2047

EXAMPLES = REPO / "examples" / "replies"


def make_replies() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_replies", REPO / "examples/make_replies.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("replies")
    make_replies().write_examples(out)
    return out


def test_every_example_reply_is_what_the_templates_render(rendered):
    names = sorted(p.name for p in EXAMPLES.iterdir())
    assert names == sorted(p.name for p in rendered.iterdir())
    for name in names:
        if name.endswith(".txt"):
            assert (rendered / name).read_text("utf-8") == (EXAMPLES / name).read_text("utf-8"), (
                f"examples/replies/{name} differs from what the templates render now: "
                "run python examples/make_replies.py and review the change")


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.eml")))
def test_every_example_reply_decodes_without_a_replacement_character(name):
    raw = (EXAMPLES / f"{name}.eml").read_bytes()
    mail = read(raw)
    assert mail.texts and all("\ufffd" not in text for text in mail.texts)
    assert "\ufffd" not in mail.subject + mail.display_name
    assert rfc2047(mail.raw_headers["Subject"]) == mail.subject
    assert mail.display_name == "令和4年度「共創型サービスIT連携支援補助金」事務局"
    text = mail.texts[-1]
    assert "■ コンソーシアム名: " in text and "お世話になっております。" in text
