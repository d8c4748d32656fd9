"""Column headers of questionnaire-platform exports: one normal form, and look-ups by it.

Platforms write a question's number and text into the header: Wenjuanxing/SoJump "1.您的性别"
or "3、政府…", Credamo "Q3.…", others "(3)…", "第3题…"; Qualtrics puts the text of a matrix
row after the question, "Please rate each statement - The platform…", and Wenjuanxing after
"—". Full-width letters, digits and spaces ("ＦＩＮ１", "\u3000") are common in Chinese
exports. :func:`normalize_header` turns a header or a question text into one comparable form;
:func:`find_column` finds a column by its header or its header without the number, and every
reader and command uses these two, so a column is named the same way everywhere.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence

from ..errors import SurveyDataError

__all__ = ["normalize_header", "strip_numbering", "header_variants", "closest_headers",
           "find_column", "question_number"]

# A question number at the start: "3.", "3、", "3:", "3)", "Q3.", "Q3_1", "Q3 ", "(3)", "（3）",
# "第3题". A bare number needs a separator after it ("2023年…" keeps its number).
_NUMBERING_RE = re.compile(
    r"^\s*(?:"
    r"第\s*\d+\s*题\s*[.、:：\-)]?"
    r"|[(（]\s*\d+\s*[)）]\s*[.、:：\-]?"
    r"|Q\s*\d+(?:[._]\d+)*\s*[.、:：)\-]?(?=\s|[^\x00-\x7f]|$)"
    r"|Q\s*\d+(?:[._]\d+)*\s*[.、:：)\-]"
    r"|\d+(?:\.\d+)*\s*[.、:：)\-]"
    r")\s*", re.IGNORECASE)
_NUMBER_RE = re.compile(r"^\s*(?:第\s*(\d+)\s*题|[(（]\s*(\d+)\s*[)）]|Q\s*(\d+)|(\d+))",
                        re.IGNORECASE)
# Qualtrics "Question - Statement", Wenjuanxing "Question:—Statement" / "Question—Statement"
_SUBQUESTION_RE = re.compile(r"\s+-\s+|[:：]?\s*[—–]+\s*")
_TRAILING_RE = re.compile(r"[\s.。:：?？!！,，;；]+$")
# Wenjuanxing's matrix rows "5(政府需要…)" / "5（政府需要…）": the number, then the row's text
_BRACKETED_RE = re.compile(r"^\s*\d+\s*[(（](.+)[)）]\s*$", re.DOTALL)


def strip_numbering(text: str) -> str:
    """``text`` without a platform's question number at its start ("3.", "Q3.", "3、",
    "(3)", "第3题"); the rest is kept as written (full-width punctuation too).

    Examples
    --------
    >>> strip_numbering("1.您的性别"), strip_numbering("Q3. Age"), strip_numbering("第3题 年龄")
    ('您的性别', 'Age', '年龄')
    """
    text = str(text)
    folded = unicodedata.normalize("NFKC", text)
    b = _BRACKETED_RE.match(folded)
    if b is not None:  # "5(政府需要…)": the row's text, as written when the places agree
        return text[b.start(1):b.end(1)] if len(folded) == len(text) else b.group(1)
    m = _NUMBERING_RE.match(folded)
    if m is None or not folded[m.end():].strip():  # "Q3_1" alone is a name, not a number
        return text.strip() if m is not None else text
    if len(folded) == len(text):  # the same places in the text as written
        return text[m.end():]
    return folded[m.end():]


def normalize_header(text: str) -> str:
    """The comparable form of a header or a question text.

    Full-width characters become their ASCII forms (Unicode NFKC), a leading question number
    is removed (:func:`strip_numbering`), runs of white space become one space, trailing
    punctuation ("：", "?", "。") goes and case is folded.

    Examples
    --------
    >>> normalize_header("３、政府　财政负担较重。")
    '政府 财政负担较重'
    >>> normalize_header("Q12. The platform is slow ")
    'the platform is slow'
    """
    text = unicodedata.normalize("NFKC", strip_numbering(text))
    text = " ".join(text.split())
    return _TRAILING_RE.sub("", text).casefold()


def header_variants(text: str) -> tuple[str, ...]:
    """The normal forms a header can be matched by: the whole header and, for a matrix row
    ("Please rate… - The platform is slow", "请评价：—平台反应慢"), the row's own text.

    Examples
    --------
    >>> header_variants("Q5_1. Please rate each statement - The platform is slow")
    ('please rate each statement - the platform is slow', 'the platform is slow')
    """
    whole = normalize_header(text)
    out = [whole] if whole else []
    parts = _SUBQUESTION_RE.split(unicodedata.normalize("NFKC", strip_numbering(text)))
    if len(parts) > 1:
        last = normalize_header(parts[-1])
        if last and last not in out:
            out.append(last)
    return tuple(out)


def question_number(text: str) -> int | None:
    """The platform's question number at the start of a header, or None.

    Examples
    --------
    >>> question_number("12、您的年龄"), question_number("Q3_2"), question_number("性别")
    (12, 3, None)
    """
    text = unicodedata.normalize("NFKC", str(text))
    if not _NUMBERING_RE.match(text) or _NUMBERING_RE.match(text).end() == 0:
        return None
    m = _NUMBER_RE.match(text)
    if m is None:
        return None
    return int(next(g for g in m.groups() if g is not None))


def closest_headers(name: str, headers: Sequence[str], n: int = 3) -> list[str]:
    """Up to ``n`` headers most similar to ``name`` (compared in normal form), best first."""
    target = normalize_header(name)
    scored = []
    for h in dict.fromkeys(h for h in headers if h):
        best = max((difflib.SequenceMatcher(None, target, v).ratio()
                    for v in header_variants(h)), default=0.0)
        scored.append((best, h))
    scored.sort(key=lambda x: -x[0])
    return [h for score, h in scored[:n] if score > 0.3] or [h for _, h in scored[:n]]


def find_column(name: str, headers: Sequence[str], *, where: str = "", what: str = "column"
                ) -> int:
    """The position of the column named ``name``: by its exact header, then by the header
    without the platform's question number and spacing (:func:`normalize_header`), then by the
    one header whose normal form contains ``name``'s ("性别" for "1.您的性别").

    Parameters
    ----------
    name : str
        What the user wrote: "2.您的性别", "您的性别" or "性别" for the header "2.您的性别".
    headers : sequence of str
        The file's headers.
    where : str
        File (and sheet) for the message.
    what : str
        What the column is ("group column", "duration column") for the message.

    Raises
    ------
    SurveyDataError
        When no header or more than one header matches; the message lists the closest headers.
    """
    prefix = f"{where}: " if where else ""
    hits = [j for j, h in enumerate(headers) if h == name]
    target = normalize_header(name)
    if not hits:
        hits = [j for j, h in enumerate(headers) if target and normalize_header(h) == target]
    if not hits and target:  # "性别" for "1.您的性别", when only one header holds it
        within = [j for j, h in enumerate(headers) if target in normalize_header(h)]
        hits = within if len(within) == 1 else []
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        shown = ", ".join(repr(headers[j]) for j in hits)
        raise SurveyDataError(f"{prefix}The {what} {name!r} matches more than one column "
                              f"({shown}); give the whole header.")
    close = ", ".join(repr(h) for h in closest_headers(name, headers))
    raise SurveyDataError(f"{prefix}No {what} {name!r}; the closest headers are {close}.")
