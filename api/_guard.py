"""Refuse SPARQL that would make the server send requests elsewhere (``SERVICE``, ``LOAD``).

pyoxigraph executes ``SERVICE <iri> { … }`` (and update ``LOAD <iri>``) by fetching the IRI
over HTTP, so an open endpoint would become a proxy into whatever network it runs in.
pyoxigraph exposes no algebra, so the check is made on the text, at token level:

1. One pass lexes the text as oxigraph does, blanking IRIs (``<…>``), string literals (all
   four quote styles, with escapes) and ``#`` comments, in the order they start; a ``#``
   inside an IRI or a string is thus not a comment, and a quote inside a comment is not a
   string. oxigraph does not expand ``\\uXXXX`` escapes outside strings, and neither do we.
2. In what is left, every case-insensitive occurrence of the keyword is refused unless it
   sits inside a variable name or a prefixed name / blank node label, that is, unless the
   run of name characters it belongs to has a ``?``, ``$`` or ``:`` before it.

The rule errs towards refusing: ``ex:a.service`` or ``"x"@service`` are refused although
they are names, while ``ex:publicService``, ``?service`` and ``"SERVICE"`` pass. Anything the
lexer cannot close (an unterminated string, say) stays as code and is scanned, and such a
query is a syntax error for oxigraph anyway.
"""

from __future__ import annotations

import re

_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_STRINGS = (
    re.compile(r"'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''", re.S),
    re.compile(r'"""(?:(?:"|"")?(?:[^"\\]|\\.))*"""', re.S),
    re.compile(r"'(?:[^'\\\n\r]|\\.)*'"),
    re.compile(r'"(?:[^"\\\n\r]|\\.)*"'),
)
_COMMENT = re.compile(r"#[^\n\r]*")
# characters that continue a variable, prefixed name or blank node label token ('.' and '-'
# are left out on purpose: '?x.SERVICE' is a variable, a dot, then the keyword).
_NAME_CHAR = re.compile(r"[\w:?$%\\]")


def code_only(text: str) -> str:
    """The text with IRIs, string literals and comments replaced by spaces (same length)."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        m = None
        if c == "<":
            m = _IRIREF.match(text, i)
        elif c in "'\"":
            for pattern in _STRINGS:
                m = pattern.match(text, i)
                if m:
                    break
        elif c == "#":
            m = _COMMENT.match(text, i)
        if m:
            out.append(" " * (m.end() - i))
            i = m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _keyword_positions(code: str, keyword: str) -> list[int]:
    found = []
    for m in re.finditer(re.escape(keyword), code, re.IGNORECASE):
        j = m.start()
        while j > 0 and _NAME_CHAR.match(code, j - 1):
            j -= 1
        if not any(ch in "?$:" for ch in code[j : m.start()]):
            found.append(m.start())
    return found


def forbidden_keyword(text: str, *, update: bool = False) -> str | None:
    """``"SERVICE"`` (or ``"LOAD"`` for an update) if the text may use it, else None."""
    code = code_only(text)
    keywords = ("SERVICE", "LOAD") if update else ("SERVICE",)
    for keyword in keywords:
        if _keyword_positions(code, keyword):
            return keyword
    return None
