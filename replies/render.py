"""Reply texts from Jinja2 templates (overridable by the secretariat), checked at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
)

KINDS = ("receipt", "deficiency", "out_of_period", "password_request")


class TemplateProblem(Exception):
    """A reply template is missing or broken; raised at start-up, never at send time."""


class Renderer:
    def __init__(self, override_dir: Path | None = None) -> None:
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        self.env = Environment(
            loader=ChoiceLoader([*loaders, PackageLoader("replies", "templates")]),
            undefined=StrictUndefined,  # an unknown variable is an error, not an empty string
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )

    def render(self, kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """Return (subject, body): a template's first line is the subject."""
        try:
            text = self.env.get_template(f"{kind}.j2").render(**context)
        except TemplateError as exc:
            raise TemplateProblem(f"返信テンプレート {kind}.j2 を描画できません: {exc}") from exc
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")

    def self_check(self, sample_context: Mapping[str, Any]) -> None:
        """Render every kind once so a broken override fails before anything is processed."""
        for kind in KINDS:
            self.render(kind, sample_context)
