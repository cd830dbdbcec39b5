"""Reply texts from Jinja2 templates (overridable by the secretariat), checked at start-up.

A secretariat that copies `receipt.j2` into its own template folder and mistypes a variable
must find out when the program starts, with the file, the line and the names it may use, not
from an applicant who never got a receipt. `self_check` therefore checks every template twice:
statically (every name and attribute it reads exists in the context) and by rendering it.
"""

from __future__ import annotations

import traceback
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    nodes,
)

KINDS = ("receipt", "deficiency", "out_of_period", "password_request")
# Names Jinja itself provides inside templates; never "unknown variables".
_CONTROL = {"Cc", "Cf", "Zl", "Zp", "Cs"}
_JINJA_NAMES = {"loop", "range", "dict", "lipsum", "cycler", "joiner", "namespace", "super",
                "self", "varargs", "kwargs", "caller", "true", "false", "none", "True",
                "False", "None"}


class TemplateProblem(Exception):
    """A reply template is missing or broken; raised at start-up, never at send time."""


class Renderer:
    def __init__(self, override_dir: Path | None = None) -> None:
        self.override_dir = override_dir
        if override_dir is not None:
            _check_override_dir(override_dir)
        loaders = [FileSystemLoader(str(override_dir))] if override_dir else []
        self.env = Environment(
            loader=ChoiceLoader([*loaders, PackageLoader("replies", "templates")]),
            undefined=StrictUndefined,  # an unknown variable is an error, not an empty string
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.env.filters["by_code"] = by_code

    def render(self, kind: str, context: Mapping[str, Any]) -> tuple[str, str]:
        """Return (subject, body): a template's first line is the subject."""
        try:
            text = self.env.get_template(f"{kind}.j2").render(**context)
        except TemplateError as exc:
            raise TemplateProblem(
                f"返信テンプレート {self._where(exc, f'{kind}.j2')} を描画できません: "
                f"{_message(exc)}"
            ) from exc
        subject, _, body = text.partition("\n")
        subject, body = _clean(subject, keep=""), _clean(body, keep="\n\t")
        if not subject.strip():
            raise TemplateProblem(
                f"返信テンプレート {self.origin(f'{kind}.j2')}: 1行目(件名)が空です。"
                "テンプレートの1行目にメールの件名を書いてください"
            )
        return subject.strip(), body.lstrip("\n")

    def self_check(self, sample_context: Mapping[str, Any]) -> None:
        """Check and render every kind so a broken override fails before anything is processed."""
        for kind in KINDS:
            for name in self._template_names(f"{kind}.j2"):
                self._check_names(name, sample_context)
            for context in _variants(sample_context):
                self.render(kind, context)

    def origin(self, name: str) -> str:
        """Where a template comes from: the override file, or the built-in one."""
        if self.override_dir is not None and (self.override_dir / name).is_file():
            return str(self.override_dir / name)
        return f"{name}(組み込み)"

    # --- static check -----------------------------------------------------------------------

    def _parse(self, name: str) -> nodes.Template:
        try:
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            return self.env.parse(source, name=name)
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                f"返信テンプレート {self.origin(name)} {exc.lineno} 行目の書き方が正しくありません: "
                f"{exc.message}"
            ) from exc
        except TemplateError as exc:
            raise TemplateProblem(
                f"返信テンプレート {name} が見つかりません: {_message(exc)}"
            ) from exc

    def _template_names(self, name: str, seen: set[str] | None = None) -> Iterator[str]:
        """The template and every template it includes, extends or imports."""
        seen = seen if seen is not None else set()
        if name in seen:
            return
        seen.add(name)
        yield name
        for node in self._parse(name).find_all((nodes.Include, nodes.Extends, nodes.Import,
                                                nodes.FromImport)):
            if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
                yield from self._template_names(node.template.value, seen)

    def _check_names(self, name: str, context: Mapping[str, Any]) -> None:
        tree = self._parse(name)
        bound = _bound_names(tree, context)
        for node in tree.find_all(nodes.Name):
            if node.ctx == "load" and node.name not in bound and node.name not in _JINJA_NAMES:
                raise TemplateProblem(
                    f"返信テンプレート {self.origin(name)} {node.lineno} 行目: 不明な変数 "
                    f"「{node.name}」があります。使える変数: {', '.join(sorted(context))}"
                )
        for node in tree.find_all(nodes.Getattr):
            sample = _sample_of(node.node, bound)
            if sample is _UNKNOWN or _has(sample, node.attr):
                continue
            raise TemplateProblem(
                f"返信テンプレート {self.origin(name)} {node.lineno} 行目: "
                f"「{_dotted(node.node)}」に「{node.attr}」という項目はありません。"
                f"使える項目: {', '.join(_fields(sample))}"
            )

    def _where(self, exc: TemplateError, fallback: str) -> str:
        if isinstance(exc, TemplateSyntaxError) and exc.name:
            return f"{self.origin(exc.name)} {exc.lineno} 行目"
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename and frame.filename.endswith(".j2"):
                return f"{self.origin(Path(frame.filename).name)} {frame.lineno} 行目"
        return self.origin(fallback)


def _clean(text: str, keep: str) -> str:
    """Control characters (VT, FS, U+2028 …) that came with a name or file name never reach
    a header or the text: a header with them cannot be sent, a reader shows them as breaks."""
    return "".join(c if c in keep or unicodedata.category(c) not in _CONTROL else " "
                   for c in text)


def by_code(findings: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings grouped by code in order of first appearance, so a notice says "様式の必須項目が
    空欄です" once with its fix and lists the fourteen fields under it (template filter)."""
    groups: dict[str, dict[str, Any]] = {}
    for f in findings:
        group = groups.setdefault(f["code"], {"code": f["code"], "meaning": f["meaning"],
                                              "fix": f["fix"], "findings": []})
        group["findings"].append(f)
    return list(groups.values())


_UNKNOWN = object()


def _check_override_dir(directory: Path) -> None:
    if not directory.is_dir():
        raise TemplateProblem(
            f"replies.templates_dir に指定したフォルダ {directory} がありません"
        )
    known = {f"{k}.j2" for k in KINDS}
    for path in sorted(directory.glob("*.j2")):
        if path.name not in known and not path.name.startswith("_"):
            raise TemplateProblem(
                f"テンプレートフォルダの {path} は使われません(名前の誤りではありませんか)。"
                f"返信テンプレートの名前は {', '.join(sorted(known))}、"
                "部品は _ で始まる名前にしてください"
            )


def _bound_names(tree: nodes.Template, context: Mapping[str, Any]) -> dict[str, Any]:
    """Context variables plus names the template binds itself ({% set %}, loops, macros),
    the latter with a sample value when it can be told (a loop over a context list)."""
    bound: dict[str, Any] = dict(context)
    for node in tree.find_all(nodes.For):
        items = _sample_of(node.iter, bound)
        element = items[0] if isinstance(items, list | tuple) and items else _UNKNOWN
        for target in _targets(node.target):
            # `for f in deficiencies`: f looks like the first item; tuple unpacking: unknown
            bound[target] = element if isinstance(node.target, nodes.Name) else _UNKNOWN
    for node in tree.find_all((nodes.Assign, nodes.AssignBlock)):
        for target in _targets(node.target):
            bound[target] = _UNKNOWN
    for node in tree.find_all(nodes.With):
        for with_target in node.targets:
            for target in _targets(with_target):
                bound[target] = _UNKNOWN
    for node in tree.find_all((nodes.Macro, nodes.CallBlock)):
        for arg in node.args:
            bound[arg.name] = _UNKNOWN
        if isinstance(node, nodes.Macro):
            bound[node.name] = _UNKNOWN
    for node in tree.find_all((nodes.Import, nodes.FromImport)):
        if isinstance(node, nodes.Import):
            bound[node.target] = _UNKNOWN
        else:
            for name in node.names:
                bound[name[1] if isinstance(name, tuple) else name] = _UNKNOWN
    return bound


def _targets(target: nodes.Node) -> list[str]:
    if isinstance(target, nodes.Name):
        return [target.name]
    return [n.name for n in target.find_all(nodes.Name)]


def _sample_of(node: nodes.Node, bound: Mapping[str, Any]) -> Any:
    if isinstance(node, nodes.Name):
        return bound.get(node.name, _UNKNOWN)
    if isinstance(node, nodes.Getattr):
        parent = _sample_of(node.node, bound)
        if parent is _UNKNOWN or not _has(parent, node.attr):
            return _UNKNOWN
        return parent[node.attr] if isinstance(parent, Mapping) else getattr(parent, node.attr)
    return _UNKNOWN


def _has(sample: Any, attr: str) -> bool:
    if isinstance(sample, Mapping):
        return attr in sample
    if isinstance(sample, str | list | tuple | int | float):
        return True  # methods such as .startswith() / .upper(): Jinja allows them
    return sample is None or hasattr(sample, attr)


def _fields(sample: Any) -> list[str]:
    if isinstance(sample, Mapping):
        return sorted(sample)
    return sorted(a for a in dir(sample) if not a.startswith("_"))


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    return "…"


def _variants(context: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The sample as given, then with every list emptied, so both branches of `{% if files %}`
    and `{% for %}…{% else %}` are rendered once."""
    yield context
    yield {k: ([] if isinstance(v, list) else v) for k, v in context.items()}


def _message(exc: TemplateError) -> str:
    text = exc.message if getattr(exc, "message", None) else str(exc)
    if "is undefined" in text:
        return f"{text}(テンプレートで使っている名前が返信の内容にありません)"
    return text
