"""Model specifications: the YAML spec format and plain lavaan model files.

A spec says which Likert items measure which risk factor (first-order construct), which
factors make up which risk dimension (second-order factor), the structural paths among
dimensions, the hypotheses to test, the indirect effects of interest, optional population
values for simulating surveys and the alternative models to compare. ``specs/gcrm.yaml``
is the annotated example of the format.

Everything is validated when the file is loaded: a mistake raises :class:`SpecError` with one
line naming the file, the line and the key path (``specs/x.yaml, line 12:
constructs[3].items[1].code: ...``). Indexes in key paths start at 0, as in Python.

A file that is not ``.yaml``/``.yml`` is read as lavaan model syntax: every observed variable
of the model becomes an item on its own scale and nothing is reverse-keyed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError, SurveyDataError
from ..sem.syntax import parse_syntax

__all__ = [
    "FrozenMap",
    "ScaleLabel",
    "Scale",
    "Item",
    "Construct",
    "Dimension",
    "Hypothesis",
    "Effect",
    "Population",
    "Alternative",
    "SurveyColumns",
    "Spec",
    "load_spec",
    "questionnaire_markdown",
    "ALTERNATIVE_KINDS",
]

#: The largest spec file read (a model of hundreds of items is a few kilobytes).
MAX_SPEC_BYTES = 4 * 2**20

#: Kinds of alternative model a spec can name (see :class:`Alternative`).
ALTERNATIVE_KINDS = (
    "one_factor",
    "first_order",
    "second_order",
    "hypothesized",
    "drop_paths",
    "reverse_path",
    "flat_dimensions",
)

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_DEFAULT_THRESHOLDS = (-1.5, -0.5, 0.5, 1.5)


class FrozenMap(Mapping):
    """A read-only, hashable mapping (used for the nested population values).

    Examples
    --------
    >>> m = FrozenMap({"FIN1": 0.8})
    >>> m["FIN1"]
    0.8
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping | Sequence = ()) -> None:
        object.__setattr__(self, "_data", dict(data))

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(self._data.items()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return dict(self._data) == dict(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"


# ---------------------------------------------------------------------------------------------
# Scale
# ---------------------------------------------------------------------------------------------

def _norm_text(text: str) -> str:
    """Casefold, strip and collapse inner whitespace (full-width spaces included)."""
    return " ".join(text.replace("\u3000", " ").split()).casefold()


_NUM_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
# "5 非常同意", "5. 非常同意", "5、非常同意", "5-非常同意"
_NUM_LABEL_RE = re.compile(r"^(\d+)\s*[.、:：\-．)）]?\s*(\D.*)$")
# "非常同意(5)", "非常同意（5）", "非常同意 5"
_LABEL_NUM_RE = re.compile(r"^(.*?\D)\s*[(（]?\s*(\d+)\s*[)）]?$")


@dataclass(frozen=True)
class ScaleLabel:
    """One answer category of a Likert scale.

    Parameters
    ----------
    value : int
        The number coded for the answer.
    zh, en : str
        Chinese and English wording of the answer ("非常同意", "Strongly agree").
    aliases : tuple of str, optional
        Other wordings accepted when reading text answers (for example "中立" for "一般").
    """

    value: int
    zh: str
    en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scale:
    """A Likert response scale with numbers ``min..max`` and labelled answers.

    Parameters
    ----------
    min, max : int
        Lowest and highest answer code.
    labels : tuple of ScaleLabel
        Wording of (some or all of) the answers.
    """

    min: int
    max: int
    labels: tuple[ScaleLabel, ...] = ()

    def _lookup(self) -> dict[str, int]:
        table: dict[str, int] = {}
        for lab in self.labels:
            for text in (lab.zh, lab.en, *lab.aliases):
                if text:
                    table[_norm_text(text)] = lab.value
        return table

    def to_number(self, text: Any) -> float | None:
        """Convert one answer (number, numeric text or label) to its scale value.

        Parameters
        ----------
        text : str, int, float or None
            An answer as found in a survey file: ``5``, ``"5"``, ``" 5.0 "``, ``"非常同意"``,
            ``"Strongly agree"`` (case and whitespace do not matter), or a questionnaire-platform
            form such as ``"5 非常同意"`` or ``"非常同意(5)"``.

        Returns
        -------
        float or None
            The number (not checked against ``min..max``: the caller does that), or ``None`` for
            an empty answer (``None``, NaN or blank text).

        Raises
        ------
        SurveyDataError
            If the text is neither a number nor one of the scale's labels, or if a number and a
            label in the same answer disagree. The caller adds file, row and column.

        Examples
        --------
        >>> s = Scale(1, 5, (ScaleLabel(5, "非常同意", "Strongly agree"),))
        >>> s.to_number("strongly  AGREE"), s.to_number(" 5 "), s.to_number("非常同意(5)")
        (5.0, 5.0, 5.0)
        """
        if text is None:
            return None
        if isinstance(text, bool):
            raise SurveyDataError(f"Answer {text!r} is not a number or a scale label.")
        if isinstance(text, (int, float)):
            return None if isinstance(text, float) and math.isnan(text) else float(text)
        if not isinstance(text, str):
            raise SurveyDataError(f"Answer {text!r} is not a number or a scale label.")
        norm = _norm_text(text)
        if not norm:
            return None
        if _NUM_RE.match(norm):
            return float(norm)
        table = self._lookup()
        if norm in table:
            return float(table[norm])
        for regex, num_group, lab_group in ((_NUM_LABEL_RE, 1, 2), (_LABEL_NUM_RE, 2, 1)):
            m = regex.match(norm)
            if m:
                lab = _norm_text(m.group(lab_group))
                lab = lab.strip("()（）.、:：- ")
                if lab in table:
                    num = int(m.group(num_group))
                    if num != table[lab]:
                        raise SurveyDataError(
                            f"Answer {text!r} has number {num} but label {m.group(lab_group)!r} "
                            f"means {table[lab]}."
                        )
                    return float(num)
        known = ", ".join(f"{lab.value}={lab.zh}/{lab.en}" for lab in self.labels)
        raise SurveyDataError(f"Answer {text!r} is not a number or a scale label ({known}).")

    def label(self, value: int, language: str = "zh") -> str:
        """Return the wording of answer ``value`` in ``language`` ("zh" or "en").

        Raises
        ------
        KeyError
            If the scale has no label for ``value``.
        """
        for lab in self.labels:
            if lab.value == value:
                return lab.zh if language == "zh" else lab.en
        raise KeyError(value)


# ---------------------------------------------------------------------------------------------
# Model pieces
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Item:
    """A questionnaire item (observed indicator).

    ``construct`` is the code of the first-order factor it measures ("" if none, possible
    only for lavaan files). ``reverse`` items are recoded as ``min + max - x`` on reading.
    ``column`` is the item's header in the survey file when it is neither the code nor the
    question text (``zh``/``en``), by which the item is found otherwise.
    """

    code: str
    construct: str
    zh: str = ""
    en: str = ""
    reverse: bool = False
    column: str = ""


@dataclass(frozen=True)
class Construct:
    """A first-order factor (a risk factor) measured by its items."""

    code: str
    zh: str
    en: str
    items: tuple[Item, ...]

    @property
    def item_codes(self) -> tuple[str, ...]:
        """Codes of the construct's items, in order."""
        return tuple(i.code for i in self.items)


@dataclass(frozen=True)
class Dimension:
    """A second-order factor (a risk dimension) loading on first-order factors."""

    code: str
    zh: str
    en: str
    factors: tuple[str, ...]


@dataclass(frozen=True)
class Hypothesis:
    """A hypothesis to test.

    ``kind == "path"``: the regression ``lhs ~ rhs`` (rhs → lhs, lavaan's convention) with the
    expected ``sign`` ("+", "-" or "none" for a non-directional claim).

    ``kind == "loading_order"``: the standardized loading of indicator ``strongest`` on
    ``dimension`` (a dimension or a construct) exceeds those of the indicators in ``others``.
    For this kind ``lhs == dimension``, ``rhs == strongest`` and ``sign == "none"``.
    """

    id: str
    kind: str
    lhs: str
    rhs: str
    sign: str
    zh: str = ""
    en: str = ""
    dimension: str | None = None
    strongest: str | None = None
    others: tuple[str, ...] = ()


@dataclass(frozen=True)
class Effect:
    """An indirect effect of interest along ``path`` (e.g. ("PLT", "SOL", "GIV"))."""

    id: str
    path: tuple[str, ...]
    zh: str = ""
    en: str = ""


@dataclass(frozen=True)
class Population:
    """Standardized population values for simulating surveys.

    Attributes
    ----------
    loadings : FrozenMap
        First-order loadings ``{factor: {item: value}}``.
    second_order : FrozenMap
        Second-order loadings ``{dimension: {factor: value}}``.
    regressions : FrozenMap
        Structural coefficients ``{lhs: {rhs: value}}`` (rhs → lhs).
    covariances : tuple of (str, str, float)
        Covariances (= correlations) among exogenous latent variables; others are zero.
    thresholds : tuple of float
        Cut points turning continuous responses into ``min..max``.

    Notes
    -----
    Every latent and observed variable has variance 1; residual variances are what remains
    (for an item, ``1 - loading**2``).
    """

    loadings: FrozenMap
    second_order: FrozenMap = field(default_factory=FrozenMap)
    regressions: FrozenMap = field(default_factory=FrozenMap)
    covariances: tuple[tuple[str, str, float], ...] = ()
    thresholds: tuple[float, ...] = _DEFAULT_THRESHOLDS


@dataclass(frozen=True)
class Alternative:
    """An alternative model to compare, described by kind (syntax is generated by rule).

    Kinds: ``one_factor`` (all items on one factor), ``first_order`` (correlated first-order
    factors), ``second_order`` (first-order factors on correlated dimensions),
    ``hypothesized`` (the spec's model), ``drop_paths`` (the hypothesized model without
    ``paths``), ``reverse_path`` (the hypothesized model with each of ``paths`` reversed:
    ``lhs ~ rhs`` becomes ``rhs ~ lhs``), ``flat_dimensions`` (each dimension measured directly
    by the items of its factors).
    """

    id: str
    zh: str
    en: str
    kind: str
    paths: tuple[tuple[str, str], ...] = ()
    nested_in: str | None = None
    equivalent_to: str | None = None


@dataclass(frozen=True)
class SurveyColumns:
    """The survey file's columns that are not items, as a spec names them (key ``survey``).

    Attributes
    ----------
    id : str or None
        Respondent id column ("序号", "ResponseId").
    duration : str or None
        Completion-time column ("所用时间", "Duration (in seconds)"), used by screening.
    demographics : tuple of str
        Columns described in the report's sample table (counts and percentages).
    metadata : tuple of str
        Platform columns kept but not analysed (submission time, source, IP address, ...).

    Columns are named by their header or their header without the platform's question
    number (:func:`riskmodel_sem.survey.headers.find_column`).
    """

    id: str | None = None
    duration: str | None = None
    demographics: tuple[str, ...] = ()
    metadata: tuple[str, ...] = ()


@dataclass(frozen=True)
class Spec:
    """A validated model specification (from YAML or from a lavaan model file)."""

    name: str
    title_zh: str
    title_en: str
    language: str
    scale: Scale | None
    constructs: tuple[Construct, ...]
    dimensions: tuple[Dimension, ...] = ()
    hypotheses: tuple[Hypothesis, ...] = ()
    effects: tuple[Effect, ...] = ()
    population: Population | None = None
    alternatives: tuple[Alternative, ...] = ()
    structural: tuple[tuple[str, str], ...] = ()
    covariances: tuple[tuple[str, str], ...] = ()
    source: Path | None = None
    lavaan_text: str | None = None
    extra_items: tuple[Item, ...] = ()
    item_order: tuple[str, ...] = ()
    description_zh: str = ""
    description_en: str = ""
    survey: SurveyColumns = field(default_factory=SurveyColumns)

    # -- look-ups ---------------------------------------------------------------------------
    @property
    def items(self) -> tuple[Item, ...]:
        """All items, construct by construct, in the order of the spec.

        For a lavaan file: every observed variable, in order of first appearance.
        """
        items = tuple(i for c in self.constructs for i in c.items) + self.extra_items
        if self.item_order:
            by_code = {i.code: i for i in items}
            return tuple(by_code[c] for c in self.item_order)
        return items

    @property
    def item_codes(self) -> tuple[str, ...]:
        """Codes of :attr:`items`."""
        return tuple(i.code for i in self.items)

    @property
    def construct_codes(self) -> tuple[str, ...]:
        """Codes of the first-order factors."""
        return tuple(c.code for c in self.constructs)

    @property
    def dimension_codes(self) -> tuple[str, ...]:
        """Codes of the second-order dimensions."""
        return tuple(d.code for d in self.dimensions)

    def item(self, code: str) -> Item:
        """Return the item with ``code`` (KeyError if none)."""
        for i in self.items:
            if i.code == code:
                return i
        raise KeyError(code)

    def construct(self, code: str) -> Construct:
        """Return the first-order factor with ``code`` (KeyError if none)."""
        for c in self.constructs:
            if c.code == code:
                return c
        raise KeyError(code)

    def dimension(self, code: str) -> Dimension:
        """Return the dimension with ``code`` (KeyError if none)."""
        for d in self.dimensions:
            if d.code == code:
                return d
        raise KeyError(code)

    def dimension_of(self, factor: str) -> str | None:
        """Return the dimension a first-order factor belongs to, or None."""
        for d in self.dimensions:
            if factor in d.factors:
                return d.code
        return None

    def alternative(self, alt_id: str) -> Alternative:
        """Return the alternative model with ``alt_id`` (KeyError if none)."""
        for a in self.alternatives:
            if a.id == alt_id:
                return a
        raise KeyError(alt_id)

    def path_label(self, lhs: str, rhs: str) -> str:
        """Label of the regression ``lhs ~ rhs`` in :meth:`model_syntax`.

        The id of the path hypothesis on that regression if there is one (``H1``), otherwise
        ``b_<lhs>_<rhs>``.
        """
        for h in self.hypotheses:
            if h.kind == "path" and h.lhs == lhs and h.rhs == rhs:
                return h.id
        return f"b_{lhs}_{rhs}"

    # -- syntax -----------------------------------------------------------------------------
    def measurement_syntax(self) -> str:
        """Lavaan syntax of the correlated first-order factors model (M1).

        Returns
        -------
        str
            One ``F =~ x1 + x2 + ...`` line per construct, ending with a newline.
        """
        lines = ["# first-order factors"]
        for c in self.constructs:
            lines.append(f"{c.code} =~ " + " + ".join(c.item_codes))
        return "\n".join(lines) + "\n"

    def model_syntax(self, structural: Sequence[tuple[str, str]] | None = None,
                     ngroups: int = 1) -> str:
        """Lavaan syntax of the hypothesized model.

        Parameters
        ----------
        structural : sequence of (lhs, rhs), optional
            Regressions to use instead of the spec's (for alternative models). Defined
            effects whose links are not all among them are left out.
        ngroups : int
            Number of groups of a multi-group fit. With two or more, every path label gets
            one label per group (``c(H1_g1, H1_g2)*PLT``: a label shared by the groups would
            make the paths equal across them), each effect one definition per group
            (``PLT_SOL_GIV_g1 := H2_g1*H5_g1``) and one difference per pair of groups
            (``PLT_SOL_GIV_g1_g2 := PLT_SOL_GIV_g1 - PLT_SOL_GIV_g2``), as a lavaan user
            writes them. A spec loaded from a lavaan file keeps its text: there, labels keep
            lavaan's meaning.

        Returns
        -------
        str
            First-order factors, second-order dimensions, labelled structural paths (labels
            from :meth:`path_label`), extra covariances and ``:=`` definitions of the effects.
            For a spec loaded from a lavaan file (and ``structural`` None), the file's text.

        Examples
        --------
        >>> spec = load_spec("specs/gcrm.yaml")            # doctest: +SKIP
        >>> print(spec.model_syntax().splitlines()[13])     # doctest: +SKIP
        GIV =~ FIN + SYM + MGT
        """
        if self.lavaan_text is not None and structural is None:
            return self.lavaan_text
        groups = [f"_g{g}" for g in range(1, int(ngroups) + 1)] if ngroups > 1 else [""]

        def labelled(lhs, rhs):
            names = [self.path_label(lhs, rhs) + suffix for suffix in groups]
            return names[0] if len(names) == 1 else f"c({', '.join(names)})"

        paths = tuple(self.structural if structural is None else structural)
        text = self.measurement_syntax()
        lines = text.rstrip("\n").split("\n")
        if self.dimensions:
            lines.append("# second-order dimensions")
            for d in self.dimensions:
                lines.append(f"{d.code} =~ " + " + ".join(d.factors))
        if paths:
            lines.append("# structural paths")
            by_lhs: dict[str, list[str]] = {}
            for lhs, rhs in paths:
                by_lhs.setdefault(lhs, []).append(rhs)
            for lhs, rhss in by_lhs.items():
                terms = [f"{labelled(lhs, r)}*{r}" for r in rhss]
                lines.append(f"{lhs} ~ " + " + ".join(terms))
        if self.covariances:
            lines.append("# covariances")
            for a, b in self.covariances:
                lines.append(f"{a} ~~ {b}")
        have = set(paths)
        defs = []
        for e in self.effects:
            links = list(zip(e.path[1:], e.path[:-1]))  # (lhs, rhs) pairs along the path
            if all(link in have for link in links):
                defs.extend(f"{e.id}{sfx} := " + "*".join(self.path_label(a, b) + sfx
                                                          for a, b in links) for sfx in groups)
                defs.extend(f"{e.id}{a}{b} := {e.id}{a} - {e.id}{b}"
                            for i, a in enumerate(groups) for b in groups[i + 1:])
        if defs:
            lines.append("# indirect effects")
            lines.extend(defs)
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# YAML loading with line numbers
# ---------------------------------------------------------------------------------------------

class _Ctx:
    """Holds the source name and the line of every key path, and formats errors."""

    def __init__(self, source: str, lines: dict[str, int]) -> None:
        self.source = source
        self.lines = lines

    def line(self, path: str) -> int:
        p = path
        while p:
            if p in self.lines:
                return self.lines[p]
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        return self.lines.get("", 1)

    def error(self, path: str, message: str) -> SpecError:
        message = message.rstrip(".") + "."
        where = f"{path}: " if path else ""
        return SpecError(f"{self.source}, line {self.line(path)}: {where}{message}")


_MAX_YAML_VALUES = 100_000


def _walk(node: yaml.Node, path: str, lines: dict[str, int], ctx_source: str,
          state: tuple[set[int], list[int]] | None = None) -> None:
    # ``state``: ids of the nodes on the current path and the number of values visited. An
    # alias (*name) is the same node again, so a recursive alias is a cycle and nested aliases
    # ("billion laughs") multiply the values: both are refused before the data are used.
    on_path, count = state if state is not None else (set(), [0])
    if id(node) in on_path:
        raise SpecError(f"{ctx_source}, line {node.start_mark.line + 1}: {path or 'The spec'}: "
                        "An alias (*name) refers to a value that contains it.")
    count[0] += 1
    if count[0] > _MAX_YAML_VALUES:
        raise SpecError(f"{ctx_source}: The spec expands to more than {_MAX_YAML_VALUES} values "
                        "(through aliases *name); write it out without nested aliases.")
    lines.setdefault(path, node.start_mark.line + 1)
    on_path.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            sub = f"{path}.{key}" if path else key
            if key in seen:
                raise SpecError(
                    f"{ctx_source}, line {key_node.start_mark.line + 1}: {sub}: duplicate key "
                    f"(first given on line {seen[key]})."
                )
            seen[key] = key_node.start_mark.line + 1
            lines[sub] = key_node.start_mark.line + 1
            _walk(value_node, sub, lines, ctx_source, (on_path, count))
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _walk(child, f"{path}[{i}]", lines, ctx_source, (on_path, count))
    on_path.discard(id(node))


#: Above this bound on the nesting depth (lines plus flow and block indicators) a spec is
#: parsed by PyYAML's pure-Python loader only: the C loader crashes on very deeply nested input.
_C_LOADER_MAX_DEPTH = 1000


def _c_loader_safe(text: str) -> bool:
    """Whether PyYAML's C loader (libyaml) may parse ``text``: it is available, the nesting is
    shallow and every character is one the pure-Python reader accepts."""
    if not getattr(yaml, "__with_libyaml__", False):
        return False
    depth = text.count("\n") + sum(text.count(c) for c in "[{-?")
    return depth <= _C_LOADER_MAX_DEPTH and not yaml.reader.Reader.NON_PRINTABLE.search(text)


def _yaml_load(text: str, source: str) -> tuple[Any, _Ctx]:
    """Parse once with PyYAML's safe loader (only plain data types): compose the node tree,
    record the line of every key path (refusing alias cycles and alias bombs), then build the
    data. The C loader (six times faster) reads shallow specs; the pure-Python loader reads
    the others, and re-reads any spec the C loader refuses so that errors read the same."""
    if _c_loader_safe(text):
        try:
            return _yaml_load_with(yaml.CSafeLoader, text, source)
        except SpecError:
            pass
    return _yaml_load_with(yaml.SafeLoader, text, source)


def _yaml_load_with(loader_class, text: str, source: str) -> tuple[Any, _Ctx]:
    lines: dict[str, int] = {}
    loader = None
    try:
        loader = loader_class(text)  # the pure-Python reader checks the characters already
        node = loader.get_single_node()
        if node is None:
            return None, _Ctx(source, lines)
        _walk(node, "", lines, source)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(f"{source}, line {line}: Invalid YAML: {problem}.") from None
    except RecursionError:
        raise SpecError(f"{source}: The YAML is nested too deeply to be a spec.") from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, _Ctx(source, lines)


# -- typed readers ----------------------------------------------------------------------------

def _mapping(ctx: _Ctx, value: Any, path: str, required: Sequence[str],
             optional: Sequence[str] = ()) -> dict:
    if not isinstance(value, dict):
        raise ctx.error(path, f"Expected a mapping with keys {', '.join(required)}, "
                              f"got {type(value).__name__}")
    allowed = list(required) + list(optional)
    for key in value:
        if key not in allowed:
            sub = f"{path}.{key}" if path else str(key)
            raise ctx.error(sub, f"Unknown key {key!r} (allowed: {', '.join(allowed)})")
    for key in required:
        if key not in value:
            raise ctx.error(path, f"Missing required key {key!r}")
    return value


def _sub(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _text(ctx: _Ctx, value: Any, path: str, allow_empty: bool = False) -> str:
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ctx.error(path, f"Expected non-empty text, got {value!r}")
    return value.strip()


def _name(ctx: _Ctx, value: Any, path: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.match(value):
        raise ctx.error(path, f"Expected a code made of letters, digits and '_' starting with "
                              f"a letter, got {value!r}")
    return value


def _int(ctx: _Ctx, value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ctx.error(path, f"Expected an integer, got {value!r}")
    return value


def _real(ctx: _Ctx, value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ctx.error(path, f"Expected a finite number, got {value!r}")
    return float(value)


def _list(ctx: _Ctx, value: Any, path: str, allow_empty: bool = True) -> list:
    if not isinstance(value, list):
        raise ctx.error(path, f"Expected a list, got {type(value).__name__}")
    if not value and not allow_empty:
        raise ctx.error(path, "Expected a non-empty list")
    return value


def _zh_en(ctx: _Ctx, m: dict, path: str) -> tuple[str, str]:
    return (_text(ctx, m.get("zh"), _sub(path, "zh"), allow_empty=True),
            _text(ctx, m.get("en"), _sub(path, "en"), allow_empty=True))


_REGRESSION_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*~\s*(.+?)\s*$")


def _regressions(ctx: _Ctx, value: Any, path: str) -> list[tuple[str, str, str]]:
    """Read ``"Y ~ X1 + X2"`` strings or ``{lhs: Y, rhs: [X1, X2]}`` mappings.

    Returns (lhs, rhs, key path) triples.
    """
    out: list[tuple[str, str, str]] = []
    for i, entry in enumerate(_list(ctx, value, path)):
        p = f"{path}[{i}]"
        if isinstance(entry, str):
            m = _REGRESSION_RE.match(entry)
            if not m or "~~" in entry or "=~" in entry:
                raise ctx.error(p, f"Expected a regression like 'Y ~ X1 + X2', got {entry!r}")
            lhs = m.group(1)
            rhss = [t.strip() for t in m.group(2).split("+")]
            for r in rhss:
                _name(ctx, r, p)
        else:
            m2 = _mapping(ctx, entry, p, ["lhs", "rhs"])
            lhs = _name(ctx, m2["lhs"], _sub(p, "lhs"))
            rv = m2["rhs"]
            rhss = [rv] if isinstance(rv, str) else _list(ctx, rv, _sub(p, "rhs"), False)
            rhss = [_name(ctx, r, f"{_sub(p, 'rhs')}") for r in rhss]
        for r in rhss:
            if any((lhs, r) == (a, b) for a, b, _ in out):
                raise ctx.error(p, f"Regression {lhs} ~ {r} is given twice")
            if lhs == r:
                raise ctx.error(p, f"{lhs} cannot be regressed on itself")
            out.append((lhs, r, p))
    return out


def _path_pair(ctx: _Ctx, value: Any, path: str) -> tuple[str, str]:
    if isinstance(value, str):
        m = _REGRESSION_RE.match(value)
        if m and "+" not in m.group(2) and _NAME_RE.match(m.group(2)) and "~~" not in value:
            return m.group(1), m.group(2)
    raise ctx.error(path, f"Expected one regression like 'GIV ~ SOL', got {value!r}")


_TOP_REQUIRED = ["name", "title", "language", "scale", "constructs"]
_TOP_OPTIONAL = ["description", "survey", "dimensions", "structural", "covariances",
                 "hypotheses", "effects", "population", "alternatives"]


def _spec_from_data(data: Any, ctx: _Ctx, source: Path) -> Spec:
    top = _mapping(ctx, data, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    name = _text(ctx, top["name"], "name")
    desc_zh = desc_en = ""
    if top.get("description") is not None:
        dm = _mapping(ctx, top["description"], "description", [], ["zh", "en"])
        desc_zh, desc_en = _zh_en(ctx, dm, "description")
    title = _mapping(ctx, top["title"], "title", ["zh", "en"])
    title_zh, title_en = _zh_en(ctx, title, "title")
    language = top["language"]
    if language not in ("zh", "en"):
        raise ctx.error("language", f"Expected 'zh' or 'en', got {language!r}")

    # scale
    sm = _mapping(ctx, top["scale"], "scale", ["min", "max"], ["labels"])
    smin, smax = _int(ctx, sm["min"], "scale.min"), _int(ctx, sm["max"], "scale.max")
    if smin >= smax:
        raise ctx.error("scale.max", f"Scale max ({smax}) must be greater than min ({smin})")
    labels: list[ScaleLabel] = []
    seen_text: dict[str, int] = {}
    for i, lab in enumerate(_list(ctx, sm.get("labels", []) or [], "scale.labels")):
        p = f"scale.labels[{i}]"
        lm = _mapping(ctx, lab, p, ["value", "zh", "en"], ["aliases"])
        v = _int(ctx, lm["value"], _sub(p, "value"))
        if not smin <= v <= smax:
            raise ctx.error(_sub(p, "value"), f"Label value {v} is outside the scale {smin}..{smax}")
        if any(x.value == v for x in labels):
            raise ctx.error(_sub(p, "value"), f"Label value {v} is given twice")
        zh, en = _text(ctx, lm["zh"], _sub(p, "zh")), _text(ctx, lm["en"], _sub(p, "en"))
        aliases = tuple(_text(ctx, a, f"{p}.aliases[{j}]")
                        for j, a in enumerate(_list(ctx, lm.get("aliases", []) or [],
                                                    _sub(p, "aliases"))))
        for t in (zh, en, *aliases):
            key = _norm_text(t)
            if key in seen_text and seen_text[key] != v or _NUM_RE.match(key):
                raise ctx.error(p, f"Label text {t!r} is ambiguous (numeric or used twice)")
            seen_text[key] = v
        labels.append(ScaleLabel(v, zh, en, aliases))
    scale = Scale(smin, smax, tuple(labels))

    # constructs and items
    names: dict[str, str] = {}  # code -> description of where defined

    def claim(code: str, what: str, path: str) -> None:
        if code in names:
            raise ctx.error(path, f"Code {code!r} is already used by {names[code]}")
        names[code] = f"{what} (line {ctx.line(path)})"

    constructs: list[Construct] = []
    item_owner: dict[str, str] = {}
    for ci, cdata in enumerate(_list(ctx, top["constructs"], "constructs", False)):
        p = f"constructs[{ci}]"
        cm = _mapping(ctx, cdata, p, ["code", "items"], ["zh", "en"])
        code = _name(ctx, cm["code"], _sub(p, "code"))
        claim(code, f"construct {code}", _sub(p, "code"))
        czh, cen = _zh_en(ctx, cm, p)
        items: list[Item] = []
        for ii, idata in enumerate(_list(ctx, cm["items"], _sub(p, "items"), False)):
            ip = f"{p}.items[{ii}]"
            im = _mapping(ctx, idata, ip, ["code"], ["zh", "en", "reverse", "column"])
            icode = _name(ctx, im["code"], _sub(ip, "code"))
            if icode in item_owner:
                raise ctx.error(_sub(ip, "code"), f"Item {icode} already belongs to construct "
                                                  f"{item_owner[icode]}")
            claim(icode, f"item {icode}", _sub(ip, "code"))
            item_owner[icode] = code
            rev = im.get("reverse", False)
            if not isinstance(rev, bool):
                raise ctx.error(_sub(ip, "reverse"), f"Expected true or false, got {rev!r}")
            izh, ien = _zh_en(ctx, im, ip)
            column = ""
            if im.get("column") is not None:
                column = _text(ctx, str(im["column"]) if isinstance(im["column"], (int, float))
                               and not isinstance(im["column"], bool) else im["column"],
                               _sub(ip, "column"))
            items.append(Item(icode, code, izh, ien, rev, column))
        constructs.append(Construct(code, czh, cen, tuple(items)))
    construct_codes = [c.code for c in constructs]

    # dimensions
    dimensions: list[Dimension] = []
    factor_owner: dict[str, str] = {}
    for di, ddata in enumerate(_list(ctx, top.get("dimensions") or [], "dimensions")):
        p = f"dimensions[{di}]"
        dm = _mapping(ctx, ddata, p, ["code", "factors"], ["zh", "en"])
        code = _name(ctx, dm["code"], _sub(p, "code"))
        claim(code, f"dimension {code}", _sub(p, "code"))
        factors = []
        for fi, f in enumerate(_list(ctx, dm["factors"], _sub(p, "factors"), False)):
            fp = f"{p}.factors[{fi}]"
            f = _name(ctx, f, fp)
            if f not in construct_codes:
                raise ctx.error(fp, f"Unknown factor {f!r} (constructs: "
                                    f"{', '.join(construct_codes)})")
            if f in factor_owner:
                raise ctx.error(fp, f"Factor {f} already belongs to dimension {factor_owner[f]}")
            factor_owner[f] = code
            factors.append(f)
        dzh, den = _zh_en(ctx, dm, p)
        dimensions.append(Dimension(code, dzh, den, tuple(factors)))
    latents = construct_codes + [d.code for d in dimensions]

    # structural and covariances
    triples = _regressions(ctx, top.get("structural") or [], "structural")
    for lhs, rhs, p in triples:
        for n in (lhs, rhs):
            if n not in latents:
                raise ctx.error(p, f"Unknown latent variable {n!r} in {lhs} ~ {rhs} "
                                   f"(known: {', '.join(latents)})")
    structural = [(lhs, rhs) for lhs, rhs, _ in triples]
    covariances: list[tuple[str, str]] = []
    for i, cv in enumerate(_list(ctx, top.get("covariances") or [], "covariances")):
        p = f"covariances[{i}]"
        if (not isinstance(cv, list) or len(cv) != 2
                or not all(isinstance(x, str) and x in latents + list(item_owner) for x in cv)):
            raise ctx.error(p, f"Expected a pair of known variables like [PLT, ENV], got {cv!r}")
        covariances.append((cv[0], cv[1]))

    # hypotheses
    hypotheses: list[Hypothesis] = []
    hyp_ids: set[str] = set()
    for hi, hdata in enumerate(_list(ctx, top.get("hypotheses") or [], "hypotheses")):
        p = f"hypotheses[{hi}]"
        if not isinstance(hdata, dict):
            raise ctx.error(p, "Expected a mapping")
        kind = hdata.get("kind", "path")
        if kind == "path":
            hm = _mapping(ctx, hdata, p, ["id", "lhs", "rhs"], ["kind", "sign", "zh", "en"])
        elif kind == "loading_order":
            hm = _mapping(ctx, hdata, p, ["id", "dimension", "strongest", "others"],
                          ["kind", "zh", "en"])
        else:
            raise ctx.error(_sub(p, "kind"), f"Expected 'path' or 'loading_order', got {kind!r}")
        hid = _name(ctx, hm["id"], _sub(p, "id"))
        if hid in hyp_ids:
            raise ctx.error(_sub(p, "id"), f"Hypothesis id {hid} is given twice")
        if hid in names:
            raise ctx.error(_sub(p, "id"), f"Hypothesis id {hid} is already used by {names[hid]}")
        hyp_ids.add(hid)
        hzh, hen = _zh_en(ctx, hm, p)
        if kind == "path":
            lhs = _name(ctx, hm["lhs"], _sub(p, "lhs"))
            rhs = _name(ctx, hm["rhs"], _sub(p, "rhs"))
            for key, n in (("lhs", lhs), ("rhs", rhs)):
                if n not in latents:
                    raise ctx.error(_sub(p, key), f"Unknown latent variable {n!r}")
            if (lhs, rhs) not in structural:
                raise ctx.error(p, f"Path {lhs} ~ {rhs} is not among the structural regressions")
            sign = hm.get("sign", "+")
            if sign not in ("+", "-", "none"):
                raise ctx.error(_sub(p, "sign"), f"Expected '+', '-' or 'none', got {sign!r}")
            hypotheses.append(Hypothesis(hid, "path", lhs, rhs, sign, hzh, hen))
        else:
            dim = _name(ctx, hm["dimension"], _sub(p, "dimension"))
            if dim in [d.code for d in dimensions]:
                indicators = list(next(d for d in dimensions if d.code == dim).factors)
            elif dim in construct_codes:
                indicators = list(next(c for c in constructs if c.code == dim).item_codes)
            else:
                raise ctx.error(_sub(p, "dimension"), f"Unknown dimension or construct {dim!r}")
            strongest = _name(ctx, hm["strongest"], _sub(p, "strongest"))
            if strongest not in indicators:
                raise ctx.error(_sub(p, "strongest"), f"{strongest!r} is not an indicator of "
                                                      f"{dim} ({', '.join(indicators)})")
            others = []
            for oi, o in enumerate(_list(ctx, hm["others"], _sub(p, "others"), False)):
                op_ = f"{p}.others[{oi}]"
                o = _name(ctx, o, op_)
                if o not in indicators or o == strongest:
                    raise ctx.error(op_, f"{o!r} is not another indicator of {dim}")
                others.append(o)
            hypotheses.append(Hypothesis(hid, "loading_order", dim, strongest, "none", hzh, hen,
                                         dim, strongest, tuple(others)))

    # effects
    effects: list[Effect] = []
    labels_used = set(hyp_ids) | {f"b_{lhs}_{rhs}" for lhs, rhs in structural}
    for ei, edata in enumerate(_list(ctx, top.get("effects") or [], "effects")):
        p = f"effects[{ei}]"
        em = _mapping(ctx, edata, p, ["path"], ["id", "zh", "en"])
        path_v = em["path"]
        if isinstance(path_v, str):
            chain = [t.strip() for t in path_v.replace("→", "->").split("->")]
        else:
            chain = _list(ctx, path_v, _sub(p, "path"))
        if len(chain) < 3:
            raise ctx.error(_sub(p, "path"), "An indirect effect needs at least three variables, "
                                             "like 'PLT -> SOL -> GIV'")
        for n in chain:
            if not isinstance(n, str) or n not in latents:
                raise ctx.error(_sub(p, "path"), f"Unknown latent variable {n!r}")
        for a, b in zip(chain[:-1], chain[1:]):
            if (b, a) not in structural:
                raise ctx.error(_sub(p, "path"), f"Link {a} -> {b} is not a structural path "
                                                 f"(no regression {b} ~ {a})")
        eid = em.get("id", "_".join(chain))
        eid = _name(ctx, eid, _sub(p, "id"))
        if eid in names or eid in labels_used:
            raise ctx.error(_sub(p, "id"), f"Effect id {eid} clashes with another name")
        labels_used.add(eid)
        ezh, een = _zh_en(ctx, em, p)
        effects.append(Effect(eid, tuple(chain), ezh, een))

    # population
    population = None
    if top.get("population") is not None:
        population = _population(ctx, top["population"], constructs, dimensions, structural,
                                 scale)

    # alternatives
    alternatives: list[Alternative] = []
    alt_ids: list[str] = []
    refs: list[tuple[str, str]] = []
    for ai, adata in enumerate(_list(ctx, top.get("alternatives") or [], "alternatives")):
        p = f"alternatives[{ai}]"
        am = _mapping(ctx, adata, p, ["id", "kind"], ["zh", "en", "paths", "nested_in",
                                                      "equivalent_to"])
        aid = _text(ctx, am["id"], _sub(p, "id"))
        if aid in alt_ids:
            raise ctx.error(_sub(p, "id"), f"Alternative id {aid} is given twice")
        alt_ids.append(aid)
        kind = am["kind"]
        if kind not in ALTERNATIVE_KINDS:
            raise ctx.error(_sub(p, "kind"), f"Expected one of {', '.join(ALTERNATIVE_KINDS)}, "
                                             f"got {kind!r}")
        paths: list[tuple[str, str]] = []
        if kind in ("drop_paths", "reverse_path"):
            if "paths" not in am:
                raise ctx.error(p, f"Kind {kind} needs 'paths', like ['GIV ~ SOL']")
            for pi, pv in enumerate(_list(ctx, am["paths"], _sub(p, "paths"), False)):
                pp = f"{p}.paths[{pi}]"
                pair = _path_pair(ctx, pv, pp)
                if pair not in structural:
                    raise ctx.error(pp, f"Path {pair[0]} ~ {pair[1]} is not among the structural "
                                        "regressions")
                paths.append(pair)
        elif "paths" in am:
            raise ctx.error(_sub(p, "paths"), f"Kind {kind} takes no paths")
        if kind in ("second_order", "flat_dimensions") and not dimensions:
            raise ctx.error(_sub(p, "kind"), f"Kind {kind} needs dimensions")
        for key in ("nested_in", "equivalent_to"):
            if am.get(key) is not None:
                refs.append((_sub(p, key), _text(ctx, am[key], _sub(p, key))))
        azh, aen = _zh_en(ctx, am, p)
        alternatives.append(Alternative(aid, azh, aen, kind, tuple(paths),
                                        am.get("nested_in"), am.get("equivalent_to")))
    for rp, ref in refs:
        if ref not in alt_ids:
            raise ctx.error(rp, f"Unknown alternative {ref!r}")

    return Spec(
        name=name, title_zh=title_zh, title_en=title_en, language=language, scale=scale,
        constructs=tuple(constructs), dimensions=tuple(dimensions),
        hypotheses=tuple(hypotheses), effects=tuple(effects), population=population,
        alternatives=tuple(alternatives), structural=tuple(structural),
        covariances=tuple(covariances), source=source, lavaan_text=None,
        description_zh=desc_zh, description_en=desc_en,
        survey=_survey_columns(ctx, top.get("survey")),
    )


def _survey_columns(ctx: _Ctx, value: Any) -> SurveyColumns:
    """The optional ``survey`` block: ``id``, ``duration``, ``demographics``, ``metadata``."""
    if value is None:
        return SurveyColumns()
    m = _mapping(ctx, value, "survey", [], ["id", "duration", "demographics", "metadata"])

    def one(key: str) -> str | None:
        v = m.get(key)
        if v is None:
            return None
        return _text(ctx, str(v) if isinstance(v, int) and not isinstance(v, bool) else v,
                     _sub("survey", key))

    def many(key: str) -> tuple[str, ...]:
        path = _sub("survey", key)
        out = []
        for i, v in enumerate(_list(ctx, m.get(key) or [], path)):
            v = str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            out.append(_text(ctx, v, f"{path}[{i}]"))
        return tuple(out)

    return SurveyColumns(one("id"), one("duration"), many("demographics"), many("metadata"))


def _loading_block(ctx: _Ctx, value: Any, path: str, parents: dict[str, tuple[str, ...]],
                   what: str) -> FrozenMap:
    block = _mapping(ctx, value, path, [], list(parents))
    out = {}
    for parent, children in block.items():
        pp = _sub(path, parent)
        cm = _mapping(ctx, children, pp, [], list(parents[parent]))
        vals = {}
        for child, v in cm.items():
            x = _real(ctx, v, _sub(pp, child))
            if not -1 < x < 1:
                raise ctx.error(_sub(pp, child), f"A standardized loading must lie strictly "
                                                 f"between -1 and 1, got {x}")
            vals[child] = x
        missing = [c for c in parents[parent] if c not in vals]
        if missing:
            raise ctx.error(pp, f"Missing {what} for {', '.join(missing)}")
        out[parent] = FrozenMap(vals)
    missing = [p for p in parents if p not in out]
    if missing:
        raise ctx.error(path, f"Missing {what} for {', '.join(missing)}")
    return FrozenMap(out)


def _population(ctx: _Ctx, value: Any, constructs: list[Construct],
                dimensions: list[Dimension], structural: list[tuple[str, str]],
                scale: Scale) -> Population:
    pm = _mapping(ctx, value, "population", ["loadings"],
                  ["second_order", "regressions", "covariances", "thresholds"])
    loadings = _loading_block(ctx, pm["loadings"], "population.loadings",
                              {c.code: c.item_codes for c in constructs}, "loadings")
    second = FrozenMap()
    if dimensions:
        second = _loading_block(ctx, pm.get("second_order"), "population.second_order",
                                {d.code: d.factors for d in dimensions}, "second-order loadings")
    elif pm.get("second_order"):
        raise ctx.error("population.second_order", "The spec has no dimensions")
    rhs_of: dict[str, list[str]] = {}
    for lhs, rhs in structural:
        rhs_of.setdefault(lhs, []).append(rhs)
    regs = {}
    if structural:
        rm = _mapping(ctx, pm.get("regressions"), "population.regressions", [], list(rhs_of))
        for lhs, rhss in rm.items():
            p = _sub("population.regressions", lhs)
            cm = _mapping(ctx, rhss, p, [], rhs_of[lhs])
            regs[lhs] = FrozenMap({r: _real(ctx, v, _sub(p, r)) for r, v in cm.items()})
        missing = [f"{lhs} ~ {rhs}" for lhs, rhs in structural
                   if rhs not in regs.get(lhs, {})]
        if missing:
            raise ctx.error("population.regressions", f"Missing values for {', '.join(missing)}")
    elif pm.get("regressions"):
        raise ctx.error("population.regressions", "The spec has no structural regressions")
    # exogenous latents: top-level latents that are not regressed on anything
    top = [d.code for d in dimensions] + [c.code for c in constructs
                                          if not any(c.code in d.factors for d in dimensions)]
    exog = [n for n in top if n not in rhs_of]
    covs = []
    for i, cv in enumerate(_list(ctx, pm.get("covariances") or [], "population.covariances")):
        p = f"population.covariances[{i}]"
        if (not isinstance(cv, list) or len(cv) != 3 or not all(isinstance(x, str) for x in cv[:2])):
            raise ctx.error(p, f"Expected [A, B, value] like [PLT, ENV, 0.30], got {cv!r}")
        a, b = cv[0], cv[1]
        for n in (a, b):
            if n not in exog:
                raise ctx.error(p, f"{n!r} is not an exogenous latent variable "
                                   f"({', '.join(exog)})")
        x = _real(ctx, cv[2], p)
        if not -1 < x < 1 or a == b:
            raise ctx.error(p, f"Expected a correlation strictly between -1 and 1 between two "
                               f"different variables, got {cv!r}")
        covs.append((a, b, x))
    thr = _DEFAULT_THRESHOLDS
    if pm.get("thresholds") is not None:
        tl = _list(ctx, pm["thresholds"], "population.thresholds", False)
        thr = tuple(_real(ctx, t, f"population.thresholds[{i}]") for i, t in enumerate(tl))
    if any(b <= a for a, b in zip(thr[:-1], thr[1:])):
        raise ctx.error("population.thresholds", "Thresholds must increase strictly")
    if len(thr) != scale.max - scale.min:
        raise ctx.error("population.thresholds", f"Expected {scale.max - scale.min} thresholds "
                                                 f"for the scale {scale.min}..{scale.max}, "
                                                 f"got {len(thr)}")
    return Population(loadings, second, FrozenMap(regs), tuple(covs), thr)


# ---------------------------------------------------------------------------------------------
# lavaan model files
# ---------------------------------------------------------------------------------------------

def _spec_from_lavaan(text: str, source: Path) -> Spec:
    src = str(source)
    parsed = parse_syntax(text, src)  # the one parser: every syntax error with line and column
    if not any(st.op in ("=~", "~", "~~", "~1") for st in parsed):
        raise SpecError(f"{src}, line {parsed[0].line}: The model has no =~, ~ or ~~ statement, "
                        "only definitions or constraints.")
    loads: list[tuple[int, str, list[str]]] = []
    others: list[tuple[int, str, str, list[str]]] = []
    order: list[str] = []
    for st in parsed:
        if st.op not in ("=~", "~", "~~", "~1"):
            continue  # definitions and constraints name parameters, not variables
        names = [st.rhs] if st.rhs else []
        for name in [st.lhs, *names]:
            if name not in order:
                order.append(name)
        if st.op == "=~":
            loads.append((st.line, st.lhs, names))
        else:
            others.append((st.line, st.op, st.lhs, names))
    latents = []
    for _, lhs, _names in loads:
        if lhs not in latents:
            latents.append(lhs)
    observed = [n for n in order if n not in latents]
    owner: dict[str, str] = {}
    indicators: dict[str, list[str]] = {lat: [] for lat in latents}
    for _, lhs, names in loads:
        for n in names:
            if n not in indicators[lhs]:
                indicators[lhs].append(n)
            if n not in latents and n not in owner:
                owner[n] = lhs
    constructs = []
    dimensions = []
    for lat in latents:
        obs = [n for n in indicators[lat] if n not in latents and owner.get(n) == lat]
        lat_ind = [n for n in indicators[lat] if n in latents]
        if obs:
            constructs.append(Construct(lat, "", "", tuple(Item(n, lat) for n in obs)))
        elif lat_ind:
            dimensions.append(Dimension(lat, "", "", tuple(lat_ind)))
    extra = tuple(Item(n, "") for n in observed if n not in owner)
    structural = []
    for _, op, lhs, names in others:
        if op == "~" and lhs in latents:
            structural.extend((lhs, n) for n in names if n in latents)
    return Spec(
        name=source.stem, title_zh=source.stem, title_en=source.stem, language="en",
        scale=None, constructs=tuple(constructs), dimensions=tuple(dimensions),
        structural=tuple(structural), source=source, lavaan_text=text, extra_items=extra,
        item_order=tuple(observed),
    )


# ---------------------------------------------------------------------------------------------
# entry point
# ---------------------------------------------------------------------------------------------

def load_spec(path: str | Path) -> Spec:
    """Load and validate a model specification.

    Parameters
    ----------
    path : str or Path
        A ``.yaml``/``.yml`` spec in this package's format, or any other file read as lavaan
        model syntax (conventionally ``.lav``).

    Returns
    -------
    Spec
        The validated, immutable specification.

    Raises
    ------
    SpecError
        If the file is missing or unreadable, is not valid YAML, or breaks a rule of the format
        (unknown or missing key, duplicate code, unknown factor, label outside the scale, ...).
        The message is one line: ``file, line N: key.path: What is wrong.``

    Examples
    --------
    >>> spec = load_spec("specs/gcrm.yaml")  # doctest: +SKIP
    >>> len(spec.items), len(spec.constructs), len(spec.dimensions)  # doctest: +SKIP
    (33, 11, 4)
    """
    p = Path(path)
    if p.suffix.lower() in (".xlsx", ".xlsm", ".xls", ".csv", ".sav"):
        raise SpecError(f"{p}: This is a survey file, not a spec; give a .yaml or .lav model file "
                        "as the spec and the survey as the data.")
    try:
        if not p.is_file():  # a device (/dev/zero), a pipe or a folder would never end or fail
            raise SpecError(f"{p}: Spec file not found." if not p.exists() else
                            f"{p}: The spec is not a regular file; give a .yaml or .lav file.")
        with open(p, "rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        raise SpecError(f"{p}: Spec file not found.") from None
    except OSError as exc:
        raise SpecError(f"{p}: Spec file cannot be read ({exc.strerror}).") from None
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError(f"{p}: The spec file is larger than {MAX_SPEC_BYTES // 2**20} MB; a spec "
                        "is a short text file (is this the right file?).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpecError(f"{p}: Spec file is not UTF-8 text.") from None
    if p.suffix.lower() in (".yaml", ".yml"):
        data, ctx = _yaml_load(text, str(p))
        if data is None:
            raise SpecError(f"{p}, line 1: The spec file is empty.")
        return _spec_from_data(data, ctx, p)
    return _spec_from_lavaan(text, p)


def questionnaire_markdown(spec: Spec, command: str | None = None) -> str:
    """Render the spec's questionnaire as a Markdown document, Chinese and English side by side.

    Parameters
    ----------
    spec : Spec
        A YAML spec (with item wording and a labelled scale).
    command : str, optional
        The command that regenerates the document, quoted in its header.

    Returns
    -------
    str
        Title, introduction (the spec's ``description``), the answer scale and one table per
        factor, grouped by dimension.

    Examples
    --------
    >>> text = questionnaire_markdown(load_spec("specs/gcrm.yaml"))  # doctest: +SKIP
    """
    out = [f"# {spec.title_zh}", "", f"**{spec.title_en}**", ""]
    if command:
        out += [f"<!-- Generated from the spec by riskmodel_sem.survey.spec.questionnaire_markdown; regenerate with {command}. -->", ""]
    if spec.description_zh or spec.description_en:
        out += ["## 说明 / Introduction", ""]
        if spec.description_zh:
            out += [spec.description_zh.strip(), ""]
        if spec.description_en:
            out += [spec.description_en.strip(), ""]
    if spec.scale is not None:
        out += ["## 答题量表 / Answer scale", "", "| 分值 Value | 中文 | English |", "|---|---|---|"]
        out += [f"| {lab.value} | {lab.zh} | {lab.en} |" for lab in spec.scale.labels]
        out.append("")
    out += ["## 题项 / Items", ""]
    groups: list[tuple[Dimension | None, list[Construct]]] = []
    for d in spec.dimensions:
        groups.append((d, [spec.construct(f) for f in d.factors]))
    loose = [c for c in spec.constructs if spec.dimension_of(c.code) is None]
    if loose:
        groups.append((None, loose))
    for dim, constructs in groups:
        if dim is not None:
            out += [f"### {dim.zh} / {dim.en} ({dim.code})", ""]
        for c in constructs:
            out += [f"#### {c.zh} / {c.en} ({c.code})", "",
                    "| 编号 Code | 题项（中文） | Item (English) |", "|---|---|---|"]
            for i in c.items:
                mark = " (R)" if i.reverse else ""
                out.append(f"| {i.code}{mark} | {i.zh} | {i.en} |")
            out.append("")
    if any(i.reverse for i in spec.items):
        out += ["(R) 反向计分题 / reverse-keyed item.", ""]
    return "\n".join(out)
