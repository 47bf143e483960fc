"""Traditional → simplified Chinese, for matching only.

Some mirror hosts serve government tables converted to traditional characters
(產出指標, 數量指標 …). Readers compare labels and header words after
``kg.readers.vocabulary.key`` (which simplifies with :func:`to_simplified`); the records keep the text as printed and put the
simplified form in ``name_simplified`` when it differs.

The conversion is OpenCC's ``t2s`` (phrases first, then characters) from the
pure-Python package ``opencc-python-reimplemented`` (Apache-2.0). Without that
package installed the conversion is the identity (``available()`` is False):
simplified tables read the same, traditional ones fail to match their labels.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _converter() -> Any:
    try:
        import opencc  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - the dependency is declared
        return None
    return opencc.OpenCC("t2s")


def available() -> bool:
    """True when traditional characters are converted (the converter is installed)."""
    return _converter() is not None


@cache
def to_simplified(text: str) -> str:
    """``text`` in simplified characters (unchanged when it has none to convert)."""
    conv = _converter()
    if conv is None or text.isascii():
        return text
    return str(conv.convert(text))


def simplified_chars(text: str) -> str:
    """``text`` simplified one character at a time: the same length, offsets kept (phrases
    are not converted as phrases)."""
    return "".join(to_simplified(c) for c in text)
