"""Both report languages are complete: the zh and en pages of the demo's analysis show no
internal identifier (a result field, column, criterion or option value as the code names it)
and the zh page no English value word; ids are unique and every section heading appears once."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from html.parser import HTMLParser

import pandas as pd
import pytest

from riskmodel_sem.report import render_reports
from riskmodel_sem.report.labels import TEXT
from riskmodel_sem.workflow.thresholds import CRITERIA

from _report_fixtures import gcrm_analysis

pytestmark = pytest.mark.slow

#: Columns whose cells are the user's own text or bibliographic references (shown as written).
_FREE_COLUMNS = {"来源", "Source", "英文", "English", "语法", "Syntax", "表述", "Statement",
                 "描述", "Description", "题项名称", "Item wording", "中文", "Chinese", "警告",
                 "Warnings", "未达标对象", "Failing targets"}


class _Page(HTMLParser):
    """Visible texts of the page with where they stand: (kind, column header, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str, str]] = []
        self.ids: list[str] = []
        self._stack: list[str] = []
        self._skip = 0
        self._headers: list[str] = []
        self._col = -1
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.append(a["id"])
        self._stack.append(tag)
        if tag in ("style", "svg", "title", "footer") or "code" in (a.get("class") or "").split():
            self._skip += 1
            self._stack[-1] = tag + "!"
        if tag == "thead":
            self._in_head, self._headers = True, []
        if tag == "tr":
            self._col = -1
        if tag in ("td", "th"):
            self._col += 1

    def handle_endtag(self, tag):
        while self._stack:
            t = self._stack.pop()
            if t.endswith("!"):
                self._skip -= 1
                t = t[:-1]
            if t == tag:
                break
        if tag == "thead":
            self._in_head = False

    def handle_data(self, data):
        text = data.strip()
        if self._skip or not text or not self._stack:
            return
        tag = self._stack[-1]
        if tag == "th" and self._in_head:
            self._headers.append(text)
            self.items.append(("th", "", text))
        elif tag == "td":
            header = self._headers[self._col] if 0 <= self._col < len(self._headers) else ""
            self.items.append(("td", header, text))
        else:
            self.items.append((tag, "", text))


def _internal_names(a) -> set[str]:
    """Every field, column and criterion name of the results, and the options' values."""
    names = set(CRITERIA)
    stack = [getattr(a, s) for s in ("validation", "fit", "structural", "comparison",
                                      "invariance")]
    seen = set()
    while stack:
        obj = stack.pop()
        if obj is None or id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, pd.DataFrame):
            names.update(str(c) for c in obj.columns)
        elif isinstance(obj, dict):
            names.update(str(k) for k in obj if isinstance(k, str))
        elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            for f in dataclasses.fields(obj):
                names.add(f.name)
                stack.append(getattr(obj, f.name))
    names.update(str(v) for v in a.options.values() if isinstance(v, str))
    return {n for n in names if re.fullmatch(r"[a-z][a-z0-9_]*[a-z0-9]", n) and len(n) > 2}


@pytest.fixture(scope="module")
def gcrm():
    return gcrm_analysis()


@pytest.fixture(scope="module")
def pages(gcrm):
    out = {}
    for lang in ("zh", "en"):
        page = _Page()
        page.feed(render_reports(gcrm, lang, ("html",))["report.html"].decode("utf-8"))
        out[lang] = page
    return out


def _spec_ids(a) -> set[str]:
    spec = a.spec
    ids = {e.id for e in spec.effects} | {h.id for h in spec.hypotheses}
    ids |= {x.id for x in spec.alternatives}
    if a.structural is not None:
        ids |= set(a.structural.indirect["id"]) | set(a.structural.contrasts.get("name", []))
    return ids


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_untranslated_identifier(gcrm, pages, lang):
    internal = _internal_names(gcrm)
    allowed = _spec_ids(gcrm)
    bad = []
    for kind, header, text in pages[lang].items:
        if header in _FREE_COLUMNS:
            continue
        shown = re.sub(r"[\w./-]+\.(xlsx|csv|sav|lav|yaml)\b", " ", text)  # file names
        for token in re.findall(r"[A-Za-z][A-Za-z0-9_]*", shown):
            if token in allowed:
                continue
            if "_" in token and any(c.islower() for c in token):
                bad.append((kind, header, text))
            elif lang == "zh" and token in internal and text.strip(" :") == token:
                bad.append((kind, header, text))
    assert not bad, bad[:20]


def test_zh_page_has_no_english_value_words(pages):
    words = {TEXT["en"][k].lower() for k in ("yes", "no", "good", "acceptable", "poor", "pass",
                                             "fail", "supported", "not_supported", "none",
                                             "opposite_sign", "f2_small", "f2_medium",
                                             "f2_large", "f2_negligible", "effect_indirect",
                                             "effect_total")}
    words |= {"true", "false", "listwise", "configural", "metric", "scalar", "strict", "items",
              "respondents", "normality", "verdict", "n_obs"}
    bad = [(k, h, t) for k, h, t in pages["zh"].items
           if h not in _FREE_COLUMNS and t.strip().lower() in words]
    assert not bad, bad[:20]


def test_same_as_section_class_is_markup(gcrm):
    html = render_reports(gcrm, "en", ("html",))["report.html"].decode("utf-8")
    assert 'class="same-as-section"' in html and "&#34;same-as-section&#34;" not in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ids_unique_and_headings_once(pages, lang):
    page = pages[lang]
    dup = [i for i, n in Counter(page.ids).items() if n > 1]
    assert not dup, dup
    headings = [t for k, _, t in page.items if k == "h2"]
    assert len(headings) == len(set(headings))
