"""Drafting a spec from a questionnaire export (``riskmodel-sem init``).

:func:`draft_spec` reads an export as it comes from Wenjuanxing/SoJump, Qualtrics or Credamo
(question texts as headers, text answers, the platform's own columns) and writes a YAML spec
that loads and validates unedited:

* platform columns (序号, 提交答卷时间, 所用时间, 来源, 来源详情, 来自IP; StartDate, EndDate,
  Duration (in seconds), ResponseId, ...; Credamo's 作答时长, ...) are listed as ``metadata``,
  with the id and the completion-time column named;
* Likert item columns are those whose answers are all labels of an agreement scale or whole
  numbers on a 5- or 7-point range (numbers only in a run of at least three such columns,
  so that a coded demographic is not taken for an item); the scale is built from the labels
  found, in order (:func:`riskmodel_sem.survey.scales.infer_scale`);
* the other columns with few distinct answers are ``demographics`` (the report's sample
  table);
* constructs come from item codes in the headers ("FIN1 政府…" → construct FIN) when every
  item has one, otherwise from an exploratory factor analysis with parallel analysis
  (:func:`riskmodel_sem.psychometrics.validity.efa`): each item goes to the factor of its
  largest loading when that loading is at least .40, marked in the file as a proposal;
* items with a negative loading (on their EFA factor, or on the first principal component of
  their construct) are proposed as reverse-keyed.

Each item keeps its question text and its exact header (``column``), so the spec finds the
columns whatever the items are called.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import SurveyDataError
from ..psychometrics.validity import correlation_matrix, efa
from ..survey.headers import header_variants, normalize_header, question_number, strip_numbering
from ..survey.readers import ID_CANDIDATES, MISSING_TOKENS, SurveyTable, read_table
from ..survey.scales import infer_scale, label_position, numeric_scale
from ..survey.spec import Scale

__all__ = ["DraftSpec", "draft_spec", "METADATA_COLUMNS", "DURATION_COLUMNS",
           "MIN_LOADING"]

#: Platform columns (normal form, :func:`riskmodel_sem.survey.headers.normalize_header`):
#: Wenjuanxing/SoJump, Qualtrics, Credamo.
METADATA_COLUMNS = frozenset(normalize_header(h) for h in (
    "序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP", "来自ip", "总分", "答卷编号",
    "开始时间", "结束时间", "提交时间", "作答时长", "答题时长", "作答ID", "用户ID", "IP", "IP地址",
    "IP所在地", "IP属地", "地理位置", "设备", "浏览器", "操作系统", "渠道", "样本ID", "答题状态",
    "作答状态", "填写时间", "填写用时", "姓名", "手机号", "微信昵称",
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
    "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
    "RecipientEmail", "ExternalReference", "ExternalDataReference", "LocationLatitude",
    "LocationLongitude", "DistributionChannel", "UserLanguage", "Q_RecaptchaScore",
    "Q_RelevantIDDuplicate", "Q_RelevantIDDuplicateScore", "Q_RelevantIDFraudScore",
    "Q_RelevantIDLastStartDate", "Create New Field or Choose From Dropdown..."))
#: Completion-time columns, in order of preference.
DURATION_COLUMNS = tuple(normalize_header(h) for h in (
    "所用时间", "Duration (in seconds)", "作答时长", "答题时长", "填写用时"))
#: Words of demographic questions (normal form): a column whose header or question text holds
#: one is never taken for a Likert item, even when coded as small numbers next to the items.
DEMOGRAPHIC_WORDS = ("性别", "年龄", "学历", "文化程度", "受教育", "收入", "职业", "职务", "职称",
                     "婚姻", "户籍", "居住", "工作年限", "工龄", "年级", "专业", "民族", "政治面貌",
                     "所在地", "地区", "城市", "单位性质", "身份", "gender", "sex", "age",
                     "education", "income", "occupation", "marital", "ethnicity", "race",
                     "country", "state", "region", "employment", "job", "degree", "year of birth")
#: Longest question text taken for a demographic question.
MAX_DEMOGRAPHIC_CHARS = 30
#: Smallest absolute loading that assigns an item to an EFA factor.
MIN_LOADING = 0.40
#: Most distinct answers of a demographic column.
MAX_CATEGORIES = 20

_CODE_RE = re.compile(r"^([A-Za-z][A-Za-z]*?)_?(\d+)(?![A-Za-z0-9_])")
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class DraftSpec:
    """A drafted spec and what it was drafted from.

    Attributes
    ----------
    text : str
        The YAML spec, with comments saying what to edit.
    source : str
        The export read (file and sheet).
    items : tuple of str
        Headers of the item columns.
    constructs : dict
        ``{construct: (item codes)}``.
    method : str
        ``"codes"`` (constructs from item codes in the headers) or ``"efa"``.
    unassigned : tuple of str
        Item codes that no factor took (largest loading below :data:`MIN_LOADING`).
    reverse : tuple of str
        Item codes proposed as reverse-keyed.
    demographics, metadata : tuple of str
        Headers of those columns.
    id_column, duration_column : str or None
    scale : Scale
    """

    text: str
    source: str
    items: tuple[str, ...]
    constructs: dict
    method: str
    unassigned: tuple[str, ...] = ()
    reverse: tuple[str, ...] = ()
    demographics: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()
    id_column: str | None = None
    duration_column: str | None = None
    scale: Scale | None = None
    notes: tuple[str, ...] = field(default=())


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _cells(col) -> list:
    """Answers of a column: blanks and missing-answer tokens left out, numeric text as
    numbers."""
    out = []
    for v in col:
        if v is None:
            continue
        if isinstance(v, str):
            s = v.strip()
            if s.casefold() in MISSING_TOKENS:
                continue
            try:
                out.append(float(s))
                continue
            except ValueError:
                out.append(s)
                continue
        if isinstance(v, float) and v != v:
            continue
        out.append(v)
    return out


def _likert_kind(values: list) -> str | None:
    """"text" when every answer is a scale label (numbers allowed too), "number" when every
    answer is a whole number from 0 to 10, else None."""
    if not values:
        return None
    texts = [v for v in values if isinstance(v, str)]
    nums = [v for v in values if _is_number(v)]
    if len(texts) + len(nums) != len(values):
        return None
    if any(not (float(x).is_integer() and 0 <= x <= 10) for x in nums):
        return None
    if texts:
        return "text" if all(label_position(t) is not None for t in texts) else None
    return "number" if len(set(nums)) >= 2 else None


def _is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _demographic(header: str, question: str) -> bool:
    """Whether a column asks a demographic question: one of :data:`DEMOGRAPHIC_WORDS`
    (English words as whole words) in a header that is little more than the word ("性别",
    "Age") or in a question to the respondent ("您的年龄", "What is your age?"), at most
    :data:`MAX_DEMOGRAPHIC_CHARS` characters long (items are statements)."""
    for text in (header, question):
        norm = normalize_header(text) if text else ""
        if len(norm) > MAX_DEMOGRAPHIC_CHARS:
            continue
        if len(norm) > 8 and not re.search(r"您|你|\byour?\b", norm):
            continue
        for w in DEMOGRAPHIC_WORDS:
            if w.isascii():
                if re.search(rf"(?<![a-z]){re.escape(w)}(?![a-z])", norm):
                    return True
            elif w in norm:
                return True
    return False


def _quote(text: str) -> str:
    return json.dumps(str(text), ensure_ascii=False)  # a JSON string is a YAML scalar


def _item_text(header: str, question: str) -> str:
    """The question text of an item: its own row of a matrix question, without numbering."""
    text = question or header
    parts = header_variants(text)
    raw = strip_numbering(text).strip()
    if len(parts) > 1:  # a matrix row: keep the row's own wording as written
        for sep in (" - ", "—", "–"):
            if sep in raw:
                return raw.rsplit(sep, 1)[1].strip(" :：—–")
    return raw


def draft_spec(path: str | Path, sheet: str | None = None, *, seed: int = 20231,
               n_iter: int = 100) -> DraftSpec:
    """Draft a YAML spec from a questionnaire export.

    Parameters
    ----------
    path : str or Path
        The export (.xlsx, .csv or .sav), as the platform wrote it.
    sheet : str, optional
        Worksheet of an .xlsx file.
    seed, n_iter : int
        Parallel analysis settings when constructs are found by EFA.

    Returns
    -------
    DraftSpec

    Raises
    ------
    SurveyDataError
        When the file cannot be read, or fewer than three Likert item columns are found.

    Notes
    -----
    The EFA is principal-axis factoring with oblimin rotation on the correlations of the
    complete rows (``psych::fa(fm = "pa")``), with as many factors as Horn's parallel analysis
    retains; see :mod:`riskmodel_sem.workflow.draft` for the rules of every other choice.
    """
    table = read_table(path, sheet)
    header, texts = table.header, table.texts
    norms = [normalize_header(h) for h in header]
    cells = [_cells(col) for col in table.columns]

    id_j = next((j for c in ID_CANDIDATES for j, h in enumerate(header)
                 if h.casefold() == c.casefold()), None)
    duration_j = next((j for d in DURATION_COLUMNS for j, n in enumerate(norms) if n == d), None)
    demographic = [_demographic(h, t) for h, t in zip(header, texts)]
    kinds = [None if (n in METADATA_COLUMNS or j in (id_j, duration_j)) else _likert_kind(c)
             for j, (n, c) in enumerate(zip(norms, cells))]
    kinds = [None if (k == "number" and demographic[j]) else k for j, k in enumerate(kinds)]
    likert = [j for j, k in enumerate(kinds) if k == "text"]
    run: list[int] = []
    for j in range(len(header) + 1):  # numbers count only in runs of three or more columns
        if j < len(header) and kinds[j] in ("number", "text"):
            run.append(j)
            continue
        if sum(kinds[r] == "number" for r in run) and len(run) >= 3:
            likert += [r for r in run if kinds[r] == "number"]
        run = []
    likert.sort()
    if len(likert) < 3:
        raise SurveyDataError(
            f"{table.where}: Found {len(likert)} Likert item column(s) (answers that are all "
            "agreement labels such as 非常同意 / Strongly agree, or whole numbers in a run of "
            "at least three such columns); a spec needs at least three. Check the export's "
            "answer format (export answers as text or as scores).")

    # the answer scale --------------------------------------------------------------------
    labels = list(dict.fromkeys(v for j in likert for v in cells[j] if isinstance(v, str)))
    nums = [v for j in likert for v in cells[j] if _is_number(v)]
    notes: list[str] = []
    if labels:
        scale = infer_scale(labels)
        if scale is None:  # pragma: no cover - every label was checked by _likert_kind
            raise SurveyDataError(f"{table.where}: The answer labels {labels[:7]} do not form "
                                  "a known scale.")
        if nums and (min(nums) < scale.min or max(nums) > scale.max):
            raise SurveyDataError(f"{table.where}: The item columns mix labels of a "
                                  f"{scale.max}-point scale with numbers outside 1..{scale.max}.")
    else:
        low, high = int(min(nums)), int(max(nums))
        low = 0 if low == 0 else 1
        high = 5 if high <= 5 else 7 if high <= 7 else high
        scale = numeric_scale(low, high)

    # item codes -------------------------------------------------------------------------
    coded = {}
    for j in likert:
        m = _CODE_RE.match(strip_numbering(header[j]))
        if m and m.group(1).upper() not in ("Q", "QID", "V", "VAR", "ITEM") \
                and len(m.group(1)) >= 2:
            coded[j] = (m.group(0).replace("_", ""), m.group(1))
    by_code = pd.Series([c for c, _ in coded.values()])
    use_codes = (len(coded) == len(likert) and not by_code.duplicated().any()
                 and all(n >= 2 for n in pd.Series([p for _, p in coded.values()])
                         .value_counts()))
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for j in likert:
        if use_codes:
            code = coded[j][0]
        else:
            h = header[j].strip()
            qn = question_number(header[j])
            code = h if _NAME_RE.match(h) and len(h) <= 20 else (f"Q{qn}" if qn else "")
            if not code or code in taken:
                code = f"I{len(codes) + 1}"
        while code in taken:
            code += "_"
        taken.add(code)
        codes[j] = code

    # numbers for the EFA and the reverse-keyed check ----------------------------------
    lookup = {t: float(next(lab.value for lab in scale.labels
                            if t in (lab.zh, lab.en, *lab.aliases))) for t in labels}
    frame = pd.DataFrame({codes[j]: [(lookup.get(v) if isinstance(v, str) else
                                      (float(v) if _is_number(v) else np.nan))
                                     if v is not None else np.nan
                                     for v in _aligned(table.columns[j])]
                          for j in likert}, dtype=float)
    complete = frame.dropna()
    if len(complete) < len(likert) + 1:
        raise SurveyDataError(f"{table.where}: Only {len(complete)} respondents answered every "
                              f"one of the {len(likert)} item columns; too few to propose "
                              "constructs.")
    constant = [c for c in complete.columns if complete[c].nunique() < 2]
    if constant:
        raise SurveyDataError(f"{table.where}: Item column {header[likert[list(codes.values()).index(constant[0])]]!r} "
                              "has the same answer in every complete row; remove it or collect "
                              "more answers.")

    reverse: list[str] = []
    unassigned: list[str] = []
    loads: dict[str, float] = {}
    if use_codes:
        method = "codes"
        constructs: dict[str, list[str]] = {}
        for j in likert:
            constructs.setdefault(coded[j][1].upper(), []).append(codes[j])
        for items in constructs.values():
            sign = _first_component(complete[items])
            reverse += [i for i, s in zip(items, sign) if s < 0]
    else:
        method = "efa"
        corr = correlation_matrix(complete, "listwise")
        res = efa(corr, len(complete), n_iter=n_iter, seed=seed)
        lam = res.loadings[[c for c in res.loadings.columns if c.startswith("F")
                            and c[1:].isdigit()]]
        constructs = {}
        for item, row in lam.iterrows():
            k = int(np.argmax(np.abs(row.to_numpy())))
            value = float(row.iloc[k])
            loads[item] = value
            if abs(value) >= MIN_LOADING:
                constructs.setdefault(lam.columns[k], []).append(item)
            else:
                unassigned.append(item)
        for f in [f for f, its in constructs.items() if len(its) < 2]:
            unassigned += constructs.pop(f)
        if not constructs:  # no factor with two items: one factor for everything
            notes.append("No factor had two items loading at least .40; all items are put on "
                         "one factor.")
            constructs = {"F1": list(frame.columns)}
            unassigned = []
            sign = _first_component(complete[list(frame.columns)])
            reverse = [i for i, s in zip(frame.columns, sign) if s < 0]
        else:
            ordered = sorted(constructs, key=lambda f: int(f[1:]))
            constructs = {f"F{k + 1}": constructs[f] for k, f in enumerate(ordered)}
            reverse = [i for its in constructs.values() for i in its if loads[i] < 0]

    # demographics and metadata ---------------------------------------------------------
    item_cols = set(likert)
    demographics, metadata = [], []
    for j, h in enumerate(header):
        if j in item_cols or j == id_j or not h:
            continue
        if j == duration_j or norms[j] in METADATA_COLUMNS:
            metadata.append(h)
            continue
        values = [str(v) for v in cells[j]]
        distinct = len(set(values))
        if values and 2 <= distinct <= MAX_CATEGORIES and distinct <= max(2, len(values) // 2):
            demographics.append(h)
        else:
            metadata.append(h)

    language = "zh" if any(_is_zh(h) for h in header) or any(_is_zh(t) for t in labels) \
        else "en"
    text = _yaml(table, Path(path), language, scale, likert, codes, constructs, method,
                 unassigned, set(reverse), loads, header, texts, demographics, metadata,
                 None if id_j is None else header[id_j],
                 None if duration_j is None else header[duration_j], notes)
    return DraftSpec(text=text, source=table.where, items=tuple(header[j] for j in likert),
                     constructs={k: tuple(v) for k, v in constructs.items()}, method=method,
                     unassigned=tuple(unassigned), reverse=tuple(reverse),
                     demographics=tuple(demographics), metadata=tuple(metadata),
                     id_column=None if id_j is None else header[id_j],
                     duration_column=None if duration_j is None else header[duration_j],
                     scale=scale, notes=tuple(notes))


def _aligned(col) -> list:
    """A column's cells with missing-answer tokens as None and numeric text as numbers."""
    out = []
    for v in col:
        if isinstance(v, str):
            s = v.strip()
            if s.casefold() in MISSING_TOKENS:
                out.append(None)
                continue
            try:
                out.append(float(s))
            except ValueError:
                out.append(s)
        else:
            out.append(v)
    return out


def _first_component(block: pd.DataFrame) -> np.ndarray:
    """Signs of the items' loadings on the first principal component of their correlations,
    oriented so that most loadings are positive."""
    if block.shape[1] < 2:
        return np.ones(block.shape[1])
    r = np.corrcoef(block.to_numpy(dtype=float), rowvar=False)
    w, v = np.linalg.eigh(r)
    vec = v[:, -1]
    if (vec > 0).sum() < (vec < 0).sum() or ((vec > 0).sum() == (vec < 0).sum()
                                             and vec.sum() < 0):
        vec = -vec
    return np.sign(vec)


def _yaml(table: SurveyTable, path: Path, language, scale: Scale, likert, codes, constructs,
          method, unassigned, reverse, loads, header, texts, demographics, metadata, id_col,
          duration_col, notes) -> str:
    q = _quote
    name = re.sub(r"[^A-Za-z0-9_]+", "_", path.stem).strip("_") or "survey"
    lines = [
        f"# Spec drafted by `riskmodel-sem init` from {path.name}"
        + (f", sheet {table.sheet!r}" if table.sheet else "") + ".",
        "# It loads and validates as it is; edit it before reporting:",
        "#  - give each construct its name (zh/en) and check which items it has;",
    ]
    if method == "efa":
        lines += ["#  - PROPOSAL: the constructs F1, F2, ... come from an exploratory factor "
                  "analysis",
                  f"#    (parallel analysis, loadings >= {MIN_LOADING:.2f}); rename them and "
                  "move items where theory says;"]
    else:
        lines += ["#  - the constructs come from the item codes in the headers;"]
    lines += [
        "#  - check the items proposed as reverse-keyed (reverse: true, negative loadings);",
        "#  - add structural paths ('structural: [\"Y ~ X\"]'), hypotheses and effects to test",
        "#    a model (see specs/gcrm.yaml for every key);",
        "#  - items are found by 'column' (the exact header); the code is the name in results.",
    ]
    lines += [f"# Note: {n}" for n in notes]
    title = path.stem
    lines += ["", f"name: {q(name)}", "title:", f"  zh: {q(title)}", f"  en: {q(title)}",
              f"language: {language}", "",
              "# The answer scale, built from the answers found (edit the numbers if the order "
              "is wrong).",
              "scale:", f"  min: {scale.min}", f"  max: {scale.max}"]
    if scale.labels:
        lines.append("  labels:")
        for lab in scale.labels:
            lines.append(f"    - {{value: {lab.value}, zh: {q(lab.zh)}, en: {q(lab.en)}"
                         + (f", aliases: [{', '.join(q(a) for a in lab.aliases)}]"
                            if lab.aliases else "") + "}")
    lines += ["", "# Columns that are not items: the id, the completion time (screening flags "
              "speeders),", "# the demographics described in the report, and platform columns "
              "kept but not analysed.", "survey:"]
    if id_col:
        lines.append(f"  id: {q(id_col)}")
    if duration_col:
        lines.append(f"  duration: {q(duration_col)}")
    lines.append("  demographics: [" + ", ".join(q(h) for h in demographics) + "]")
    lines.append("  metadata: [" + ", ".join(q(h) for h in metadata) + "]")
    by_code = {codes[j]: j for j in likert}
    lines += ["", "constructs:"]
    for k, (c, items) in enumerate(constructs.items()):
        label = (f"因子{k + 1}（待命名）", f"Factor {k + 1} (to be named)") if method == "efa" \
            else (c, c)
        lines += [f"  - code: {c}", f"    zh: {q(label[0])}", f"    en: {q(label[1])}",
                  "    items:"]
        for code in items:
            j = by_code[code]
            text = _item_text(header[j], texts[j])
            lang = "zh" if _is_zh(text) else "en"
            extra = ""
            if code in loads:
                extra = f"  # EFA loading {loads[code]:.2f}"
            lines.append(f"      - code: {code}{extra}")
            lines.append(f"        column: {q(header[j])}")
            if text:
                lines.append(f"        {lang}: {q(text)}")
            if code in reverse:
                lines.append("        reverse: true  # proposed: negative loading")
    if unassigned:
        lines += ["", "# Items no factor took (largest EFA loading below "
                  f"{MIN_LOADING:.2f}); add them to a construct to use them:"]
        for code in unassigned:
            j = by_code[code]
            lines.append(f"#   {code}: {header[j]}  (loading {loads.get(code, float('nan')):.2f})")
    return "\n".join(lines) + "\n"
