"""Answer scales recognised from the labels found in an export (for drafting a spec).

Questionnaire platforms export Likert answers as their labels ("非常同意", "Somewhat agree",
"5 非常同意"). :func:`infer_scale` orders the labels found by their place on the agreement
(or satisfaction) continuum and numbers them 1..k, for the usual 5- and 7-point scales in
Chinese and English; :func:`label_position` says whether one text is such a label.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .spec import Scale, ScaleLabel

__all__ = ["label_position", "infer_scale", "numeric_scale", "SCALE_WORDS"]

#: Position on the continuum (-3 strongly disagree ... 3 strongly agree) of the labels known,
#: in normal form (NFKC, no spaces, case folded). "比较" sits between "有点" and the plain word.
SCALE_WORDS: dict[str, float] = {}
_CANONICAL: dict[float, tuple[str, str]] = {
    -3: ("非常不同意", "Strongly disagree"), -2: ("不同意", "Disagree"),
    -1.5: ("比较不同意", "Mostly disagree"), -1: ("有点不同意", "Somewhat disagree"),
    0: ("一般", "Neither agree nor disagree"),
    1: ("有点同意", "Somewhat agree"), 1.5: ("比较同意", "Mostly agree"), 2: ("同意", "Agree"),
    3: ("非常同意", "Strongly agree"),
}
_WORDS = {
    -3: ["非常不同意", "完全不同意", "极不同意", "很不同意", "强烈不同意", "strongly disagree",
         "completely disagree", "totally disagree", "非常不满意", "very dissatisfied",
         "非常不符合", "完全不符合", "非常不赞同", "完全不赞同", "非常不认同", "完全不认同"],
    -2: ["不同意", "disagree", "不满意", "dissatisfied", "不符合", "不赞同", "不认同",
         "moderately disagree"],
    -1.5: ["比较不同意", "较不同意", "比较不满意", "比较不符合", "mostly disagree"],
    -1: ["有点不同意", "有些不同意", "稍微不同意", "略不同意", "somewhat disagree",
         "slightly disagree", "有点不满意", "somewhat dissatisfied", "有点不符合"],
    0: ["一般", "说不清", "不确定", "中立", "中等", "无所谓", "既不同意也不反对",
        "既不同意也不不同意", "同意与不同意之间", "neither agree nor disagree", "neutral",
        "undecided", "not sure", "neither satisfied nor dissatisfied", "一般/说不清",
        "说不清/一般", "不好说", "neither agree or disagree", "neither disagree nor agree",
        "neutral/undecided", "neither", "uncertain", "一般/中立", "中立/一般"],
    1: ["有点同意", "有些同意", "稍微同意", "略同意", "somewhat agree", "slightly agree",
        "有点满意", "somewhat satisfied", "有点符合"],
    1.5: ["比较同意", "较同意", "比较满意", "比较符合", "mostly agree"],
    2: ["同意", "agree", "满意", "satisfied", "符合", "赞同", "认同", "moderately agree"],
    3: ["非常同意", "完全同意", "极同意", "很同意", "强烈同意", "strongly agree",
        "completely agree", "totally agree", "非常满意", "very satisfied", "非常符合",
        "完全符合", "非常赞同", "完全赞同", "非常认同", "完全认同"],
}
for _pos, _texts in _WORDS.items():
    for _t in _texts:
        SCALE_WORDS["".join(_t.split()).casefold()] = float(_pos)

# "5 非常同意", "5. 非常同意", "非常同意(5)", "(5)非常同意"
_NUMBERED_RE = re.compile(r"^\(?(\d+)\)?[.、:\-)]?(\D+)$|^(\D+?)\(?(\d+)\)?$")


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def label_position(text: str) -> float | None:
    """The position of an answer label on the agreement continuum, or None.

    Examples
    --------
    >>> label_position("非常同意"), label_position("Somewhat  disagree"), label_position("男")
    (3.0, -1.0, None)
    >>> label_position("5 非常同意")
    3.0
    """
    norm = _norm(text)
    if norm in SCALE_WORDS:
        return SCALE_WORDS[norm]
    m = _NUMBERED_RE.match(norm)
    if m:
        words = (m.group(2) or m.group(3) or "").strip(".、:-()")
        return SCALE_WORDS.get(words)
    return None


def _is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def infer_scale(labels: Iterable[str]) -> Scale | None:
    """The answer scale that the labels found in an export belong to.

    Parameters
    ----------
    labels : iterable of str
        Distinct answer texts of the item columns.

    Returns
    -------
    Scale or None
        ``Scale(1, k)`` with the labels in order of their position, numbered from 1: k is the
        number of distinct positions when it is 5 or 7; with fewer (an answer nobody chose) k
        is 7 when a "somewhat"/"有点" label is among them, else 5, and the labels take their
        places on that scale. Each label keeps the wording found (in its language) and gets the
        standard wording in the other language; other wordings found for the same position are
        aliases. None when some text is not a known label.
    """
    found: dict[float, list[str]] = {}
    for text in labels:
        pos = label_position(text)
        if pos is None:
            return None
        found.setdefault(pos, [])
        if text.strip() not in found[pos]:
            found[pos].append(text.strip())
    if not found:
        return None
    positions = sorted(found)
    if len(positions) in (5, 7):
        values = {p: k + 1 for k, p in enumerate(positions)}
        k = len(positions)
    else:
        seven = any(abs(p) == 1 for p in positions) or len(positions) > 5
        k = 7 if seven else 5
        slots = [-3, -2, -1, 0, 1, 2, 3] if seven else [-3, -2, 0, 2, 3]
        values = {}
        for p in positions:
            # "比较" (±1.5) is the plain word's place on a 5-point scale, "有点"'s on a 7-point one
            q = p if p in slots else (p / abs(p)) * (1 if seven else 2)
            values[p] = slots.index(q) + 1
        if len(set(values.values())) < len(values):
            return None
    out: list[ScaleLabel] = []
    for p in positions:
        texts = found[p]
        zh = next((t for t in texts if _is_zh(t)), _CANONICAL[p][0])
        en = next((t for t in texts if not _is_zh(t)), _CANONICAL[p][1])
        aliases = tuple(t for t in texts if t not in (zh, en))
        out.append(ScaleLabel(values[p], zh, en, aliases))
    return Scale(1, k, tuple(out))


def numeric_scale(low: int, high: int) -> Scale:
    """A numbered scale ``low..high`` with the standard labels when it has 5 or 7 points.

    Examples
    --------
    >>> numeric_scale(1, 5).labels[0].en
    'Strongly disagree'
    """
    n = high - low + 1
    slots = {5: [-3, -2, 0, 2, 3], 7: [-3, -2, -1, 0, 1, 2, 3]}.get(n)
    if slots is None:
        return Scale(low, high, ())
    return Scale(low, high, tuple(ScaleLabel(low + k, *_CANONICAL[p])
                                  for k, p in enumerate(slots)))
