"""Authentication-Results (RFC 8601): what the receiving server found about SPF, DKIM, DMARC.

Only headers added by the secretariat's own server count: anyone can write this header into a
mail. Servers prepend theirs, so ours are the topmost ones with our authserv-id; a header with
another id, and everything below it, came from somewhere else (RFC 8601 §5, §7.2).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AuthResult:
    method: str  # "spf", "dkim", "dmarc", … (lower case)
    result: str  # "pass", "fail", "softfail", "none", … (lower case)
    properties: tuple[tuple[str, str], ...] = ()  # ("header.from", "example.jp"), …

    def prop(self, name: str) -> str | None:
        return next((v for k, v in self.properties if k == name), None)


@dataclass(frozen=True)
class AuthHeader:
    authserv_id: str
    results: tuple[AuthResult, ...]


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[^\s;=]+|=|;')


def _strip_comments(value: str) -> str:
    """Remove (nested) comments, leaving quoted strings alone."""
    out, depth, quoted, escaped = [], 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            quoted = ch != '"'
            out.append(ch)
        elif ch == '"' and depth == 0:
            quoted = True
            out.append(ch)
        elif ch == "(":
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(" ")
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def parse_authentication_results(value: str) -> AuthHeader | None:
    """One header value; None when it has no authserv-id. Never raises."""
    try:
        tokens = _TOKEN.findall(_strip_comments(" ".join(str(value).split())))
    except Exception:
        return None
    statements: list[list[str]] = [[]]
    for token in tokens:
        if token == ";":
            statements.append([])
        else:
            statements[-1].append(token.strip('"') if token.startswith('"') else token)
    head = statements[0]
    if not head or head[0] == "=":
        return None
    results = []
    for statement in statements[1:]:
        result = _result(statement)
        if result is not None:
            results.append(result)
    return AuthHeader(head[0].lower(), tuple(results))


def _result(tokens: list[str]) -> AuthResult | None:
    # method[/version] = result  [reason=…]  ptype.property = value …
    if len(tokens) < 3 or tokens[1] != "=":
        return None
    method = tokens[0].split("/")[0].lower()
    if method == "none":
        return None
    props = []
    rest = tokens[3:]
    for i in range(len(rest) - 2):
        if rest[i + 1] == "=" and rest[i] != "=" and rest[i + 2] != "=":
            props.append((rest[i].lower(), rest[i + 2]))
    return AuthResult(method, tokens[2].lower(), tuple(props))


def trusted_results(headers: Sequence[tuple[str, str]],
                    authserv_id: str | None) -> tuple[AuthResult, ...]:
    """The results our own server (`authserv_id`) added: the topmost Authentication-Results
    headers carrying our id, up to the first one that does not. Nothing without an id."""
    if not authserv_id:
        return ()
    ours = authserv_id.strip().lower()
    found: list[AuthResult] = []
    for name, value in headers:  # top to bottom, as the mail arrived
        if str(name).strip().lower() != "authentication-results":
            continue
        parsed = parse_authentication_results(value)
        if parsed is None or parsed.authserv_id != ours:
            break  # another server's header: it and all below it are not ours to trust
        found.extend(parsed.results)
    return tuple(found)
