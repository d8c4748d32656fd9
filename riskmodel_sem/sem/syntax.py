"""lavaan model syntax: parsing and the parameter table.

:func:`parse_syntax` reads lavaan's model syntax (``=~``, ``~``, ``~~``, ``~ 1``, ``:=``, ``==``,
``<``, ``>``, labels ``a*x``, fixed values ``1*x``, free ``NA*x``, start values ``start(.5)*x``,
group-wise modifiers ``c(a, b)*x``, comments with ``#`` or ``!``) into statements that remember
their line. :func:`build_partable` turns them into a lavaan-style parameter table with the defaults
of lavaan's ``sem()``/``cfa()`` (``lavaanify(..., auto = TRUE)``): the first loading of each
factor fixed to one, residual variances free, covariances among exogenous latent variables free,
residual covariances among endogenous latent variables that are not predictors free, exogenous
observed covariates fixed at their sample values (``fixed.x = TRUE``), and intercepts when a mean
structure is requested.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from types import SimpleNamespace

import numpy as np
import pandas as pd

from ..errors import ModelError, SpecError

__all__ = ["Statement", "parse_syntax", "build_partable", "VariableRoles", "variable_roles",
           "equal_kind", "partial_keys"]

_OPERATORS = ("=~", "~~", ":=", "==", "<~", "~*~", "~", "<", ">", "|")
_IDENT = r"[A-Za-z_.\u4e00-\u9fff][A-Za-z0-9_.\u4e00-\u9fff]*"
_IDENT_RE = re.compile(rf"^{_IDENT}$")
_NUMBER_RE = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


@dataclass(frozen=True)
class Modifier:
    """What stands before ``*`` on a right-hand term, per group where ``c(...)`` is used."""

    fixed: tuple[float | None, ...] = ()
    labels: tuple[str | None, ...] = ()
    starts: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class Statement:
    """One ``lhs op rhs`` element of the model syntax."""

    lhs: str
    op: str
    rhs: str
    modifier: Modifier
    line: int
    text: str = ""


def _strip_comment(line: str) -> str:
    out, quote = [], None
    for ch in line:
        if quote:
            out.append(ch)
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
            out.append(ch)
        elif ch in "#!":
            break
        else:
            out.append(ch)
    return "".join(out).strip()


def _logical_lines(text: str) -> list[tuple[int, str, list[tuple[int, int, int]]]]:
    """Join continued lines; a formula continues when a line ends or the next begins with an
    operator or ``+``, as lavaan allows.

    Returns ``(line, text, segments)`` per statement; ``segments`` maps positions in ``text``
    back to the file: ``(offset in text, line, column of that offset)``.
    """
    pieces: list[tuple[int, int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        code = _strip_comment(raw)
        pos = len(raw) - len(raw.lstrip())  # where ``code`` starts in the raw line
        for part in code.split(";"):
            lead = len(part) - len(part.lstrip())
            if part.strip():
                pieces.append((number, pos + lead + 1, part.strip()))
            pos += len(part) + 1
    merged: list[tuple[int, str, list[tuple[int, int, int]]]] = []
    for number, col, part in pieces:
        if merged and (
            merged[-1][1].endswith(("+", "*", "=~", "~", ":=", "==", "<", ">", ","))
            or part.startswith(("+", "*"))
        ):
            first, joined, segments = merged[-1]
            segments.append((len(joined) + 1, number, col))
            merged[-1] = (first, joined + " " + part, segments)
        else:
            merged.append((number, part, [(0, number, col)]))
    return merged


def _locate(segments: list[tuple[int, int, int]], index: int) -> str:
    """``line L, column C`` of position ``index`` of a logical line."""
    offset, line, col = segments[0]
    for seg in segments:
        if seg[0] <= index:
            offset, line, col = seg
    return f"line {line}, column {col + index - offset}"


#: Characters that, written next to an operator, make an operator lavaan does not know
#: (``->``, ``=>``, ``<-``, ``~~~``, ``=~~``).
_OPERATOR_CHARS = "=~<>:-|"


def _top_level(text: str):
    """``(index, character, outside)`` for each character of ``text``; ``outside`` is True
    for characters outside quotes and parentheses (the brackets and quotes themselves are
    not outside)."""
    depth, quote = 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = None
            yield i, ch, False
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        else:
            yield i, ch, depth == 0
            continue
        yield i, ch, False


def _find_operator(line: str) -> tuple[int, str] | None:
    for i, _, outside in _top_level(line):
        if outside:
            for op in _OPERATORS:
                if line.startswith(op, i):
                    return i, op
    return None


def _check_expression(expr: str, where: str) -> None:
    """Check that a ``:=``/``==``/``<``/``>`` expression can be evaluated (see
    :func:`riskmodel_sem.sem.defined.compile_definition`); evaluate it once with every label at 1,
    so that an expression too long or too deeply nested fails here, not during the fit."""
    from .defined import compile_definition

    shown = expr if len(expr) <= 60 else expr[:57] + "..."
    try:
        func = compile_definition(expr, where)
        func(defaultdict(lambda: 1.0))
    except SpecError:
        raise SpecError(f"{where}: Cannot read the expression {shown!r}; use parameter labels, "
                        "numbers, + - * / ^ and exp, log, sqrt, abs, sin, cos, tan.") from None
    except (MemoryError, RecursionError):
        raise SpecError(f"{where}: The expression {shown!r} is too long or nested too "
                        "deeply.") from None
    except (ArithmeticError, ValueError, TypeError):
        pass  # log(0), 1/0, ... at the trial values: only the form is checked here


def _split_plus_at(expr: str) -> list[tuple[str, int]]:
    """Terms of ``expr`` split at top-level ``+``, each with the index where it starts."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(expr + "+"):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "+" and (depth == 0 or i == len(expr)):
            piece = expr[start:i]
            out.append((piece.strip(), start + len(piece) - len(piece.lstrip())))
            start = i + 1
    return out


def _split_plus(expr: str) -> list[str]:
    terms, depth, current = [], 0, []
    for ch in expr:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "+" and depth == 0:
            terms.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    terms.append("".join(current).strip())
    return terms


#: Operators lavaan 0.6.14 reads that this package does not implement, with lavaan's name.
_UNSUPPORTED_OPERATORS = {
    "<~": "formative indicators (composites)",
    "~*~": "scaling factors (delta parameterization)",
    "|": "thresholds",
}

#: Modifiers lavaan 0.6.14 reads that this package does not implement, with lavaan's name.
_UNSUPPORTED_MODIFIERS = {
    "lower": "lower bounds (lower())",
    "upper": "upper bounds (upper())",
    "rv": "random variances (rv())",
    "prior": "Bayesian priors (prior(), blavaan)",
    "efa": "exploratory SEM blocks (efa())",
}


def _split_top(text: str, sep: str) -> list[str]:
    """``text`` split at ``sep`` outside quotes and parentheses."""
    out, start = [], 0
    for i, ch, outside in _top_level(text):
        if outside and ch == sep:
            out.append(text[start:i])
            start = i + 1
    out.append(text[start:])
    return out


def _split_args(text: str) -> list[str]:
    """Comma-separated arguments of ``c(...)`` (commas inside quotes or parentheses kept)."""
    return _split_top(text, ",")


def _vector(text: str) -> list[str] | None:
    """The elements of ``c(...)``, or None when ``text`` is not a ``c()`` vector."""
    m = re.fullmatch(r"c\s*\((.*)\)", text.strip(), flags=re.S)
    return [v.strip() for v in _split_args(m.group(1))] if m else None


def _parse_factor(token: str, where: str) -> list[tuple[str, object]]:
    """One factor of a modifier chain (``a``, ``0.5``, ``NA``, ``start(0.5)``,
    ``label("a")``, ``equal("a")``, ``c(...)`` of those) as a list (one entry per group, or
    one for all) of ``(kind, value)`` with kind "fixed", "free", "label" or "start"."""
    token = token.strip()
    if not token:
        raise SpecError(f"{where}: Empty modifier (two '*' in a row?).")
    m = re.fullmatch(r"([A-Za-z_.]+)\s*\((.*)\)", token, flags=re.S)
    if m and m.group(1) in _UNSUPPORTED_MODIFIERS:
        raise SpecError(f"{where}: lavaan's {_UNSUPPORTED_MODIFIERS[m.group(1)]} are not "
                        f"supported; remove {m.group(1)}(...) from {token!r}.")
    if m and m.group(1) in ("start", "label", "equal"):
        kind = "start" if m.group(1) == "start" else "label"
        inner = m.group(2).strip()
        items = _vector(inner) or [inner]
        out = []
        for item in items:
            item = item.strip()
            if item.upper() == "NA":
                out.append(("free", None))
            elif kind == "start":
                if not _NUMBER_RE.match(item):
                    raise SpecError(f"{where}: start() needs a number, got {item!r}.")
                out.append(("start", float(item)))
            else:
                name = item.strip("\"'")
                if not _IDENT_RE.match(name):
                    raise SpecError(f"{where}: {m.group(1)}() needs a label, got {item!r}.")
                out.append(("label", name))
        return out
    items = _vector(token)
    if items is not None:
        out = [_parse_factor(item, where)[0] if item.upper() != "NA" else ("free", None)
               for item in items]
        kinds = {k for k, _ in out}
        if "label" in kinds and "free" in kinds:
            raise SpecError(f"{where}: {token!r} mixes labels and NA; lavaan then gives every "
                            "group the label, which is not supported: give one label per group "
                            "(c(a1, a2)) or one label for all.")
        return out
    if token.upper() == "NA":
        return [("free", None)]
    if _NUMBER_RE.match(token):
        return [("fixed", float(token))]
    name = token.strip("\"'")
    if _IDENT_RE.match(name):
        return [("label", name)]
    raise SpecError(f"{where}: Cannot read the modifier {token!r}.")


def _parse_modifier(text: str, where: str, start_text: str = "") -> Modifier:
    """The modifiers of one term: factors joined by ``*`` (fixed value or NA, label, start
    value, each possibly a ``c()`` vector over groups), and the start value written with
    lavaan's ``?`` operator (``0.5?x1``)."""
    factors = [_parse_factor(t, where) for t in _split_star(text)] if text.strip() else []
    if start_text:
        value = start_text.strip()
        items = _vector(value) or [value]
        for item in items:
            if not _NUMBER_RE.match(item.strip()):
                raise SpecError(f"{where}: A start value before '?' must be a number, got "
                                f"{item!r}.")
        factors.append([("start", float(item)) for item in items])
    n = max((len(f) for f in factors), default=1)
    for f in factors:
        if len(f) not in (1, n):
            raise SpecError(f"{where}: Modifiers c(...) have different lengths.")
    fixed: list = [None] * n
    labels: list = [None] * n
    starts: list = [None] * n
    kinds_seen: dict[str, int] = {}
    for f in factors:
        for group in {"value" if k in ("fixed", "free") else k for k, _ in f}:
            kinds_seen[group] = kinds_seen.get(group, 0) + 1
            if kinds_seen[group] > 1:
                raise SpecError(f"{where}: Two {'values' if group == 'value' else group + 's'} "
                                f"in the modifiers {text!r}; give one.")
        for g in range(n):
            kind, value = f[0] if len(f) == 1 else f[g]
            if kind == "fixed":
                fixed[g] = value
            elif kind == "label":
                labels[g] = value
            elif kind == "start":
                starts[g] = value
    if any(fixed[g] is not None and labels[g] is not None for g in range(n)):
        raise SpecError(f"{where}: A fixed value and a label on one term ({text!r}): lavaan then "
                        "frees the parameter and keeps the label, which is not supported; write "
                        "the value (2*x) or the label (a*x).")
    has_value = "value" in kinds_seen
    return Modifier(tuple(fixed) if has_value else (),
                    tuple(labels) if "label" in kinds_seen else (),
                    tuple(starts) if "start" in kinds_seen else ())


def _split_star(text: str) -> list[str]:
    """Factors of a modifier chain split at top-level ``*``."""
    return _split_top(text, "*")


def parse_syntax(text: str, source: str = "model") -> tuple[Statement, ...]:
    """Parse lavaan model syntax into statements.

    Parameters
    ----------
    text : str
        Model syntax as lavaan reads it.
    source : str
        Name used in error messages (usually the file name).

    Returns
    -------
    tuple of Statement
        One statement per ``lhs op rhs`` element, in the order written.

    Raises
    ------
    SpecError
        When a line has no operator, an unsupported operator, or a malformed term; the message
        names the source and line.

    Examples
    --------
    >>> [(s.lhs, s.op, s.rhs) for s in parse_syntax("f =~ x1 + a*x2")]
    [('f', '=~', 'x1'), ('f', '=~', 'x2')]
    """
    statements: list[Statement] = []
    for number, line, segments in _logical_lines(text):

        def at(index: int) -> str:
            return f"{source}, {_locate(segments, max(index, 0))}"

        block = re.match(r"(group|level|block|class)\s*:", line)
        if block and not line.startswith(block.group(0) + "="):
            hint = ("fit multiple groups with the group option (the same model in every "
                    "group, with c() modifiers where groups differ)" if block.group(1) == "group"
                    else "multilevel and mixture models are not implemented")
            raise SpecError(f"{at(0)}: lavaan's {block.group(1)}: blocks ('{block.group(0)} "
                            f"...') are not supported; {hint}.")
        found = _find_operator(line)
        if found is None:
            raise SpecError(f"{source}, line {number}: No lavaan operator (=~, ~, ~~, :=) in "
                            f"{line!r}.")
        pos, op = found
        before = len(line[:pos]) - len(line[:pos].rstrip(_OPERATOR_CHARS))
        after_text = line[pos + len(op):]
        after = len(after_text) - len(after_text.lstrip(_OPERATOR_CHARS.replace("-", "")))
        if before or after:
            token = line[pos - before:pos + len(op) + after]
            raise SpecError(f"{at(pos - before)}: Unknown operator {token!r}; lavaan's operators "
                            "are =~, ~, ~~, ~ 1, :=, ==, < and >.")
        lhs_text, rhs_text = line[:pos].strip(), line[pos + len(op):].strip()
        if op in _UNSUPPORTED_OPERATORS:
            hint = ("" if op == "<~" else
                    "; ordered items get their thresholds and scaling factors from the "
                    "ordered option (held equal across groups with group_equal thresholds, "
                    "released one by one with group_partial, e.g. x1|t2)")
            raise SpecError(f"{at(pos)}: lavaan's {_UNSUPPORTED_OPERATORS[op]} ({op!r}) are "
                            f"not supported in model syntax{hint}.")
        if not lhs_text or not rhs_text:
            raise SpecError(f"{at(pos)}: {op!r} needs something on both sides, got {line!r}.")
        if op in (":=", "==", "<", ">"):
            if op == ":=" and not _IDENT_RE.match(lhs_text):
                raise SpecError(f"{at(0)}: {lhs_text!r} is not a valid parameter name.")
            rhs_text = re.sub(r"\s+", "", rhs_text)  # lavaan stores "c+a*b"
            if op != ":=":
                lhs_text = re.sub(r"\s+", "", lhs_text)
            rhs_at = pos + len(op) + len(line[pos + len(op):]) - len(line[pos + len(op):].lstrip())
            if op != ":=":
                _check_expression(lhs_text, at(0))
            _check_expression(rhs_text, at(rhs_at))
            statements.append(Statement(lhs_text, op, rhs_text, Modifier(), number, line))
            continue
        lhs_names = _split_plus(lhs_text)
        for name in lhs_names:
            if re.match(r"efa\s*\(", name):
                raise SpecError(f"{at(line.find(name))}: lavaan's exploratory SEM blocks "
                                "(efa()) are not supported.")
            if not _IDENT_RE.match(name):
                raise SpecError(f"{at(line.find(name) if name else 0)}: {name!r} is not a valid "
                                "variable name.")
        rhs_start = pos + len(op)
        terms = []
        for term, offset in _split_plus_at(line[rhs_start:]):
            term_at = rhs_start + offset
            if not term:
                raise SpecError(f"{at(term_at)}: Empty term (two '+' in a row or a '+' at the "
                                f"end) in {line!r}.")
            mod_text, star, var = term.rpartition("*")
            start_text, question, var = var.rpartition("?")
            var = var.strip()
            if star and not mod_text.strip():
                raise SpecError(f"{at(term_at)}: Nothing before '*' in {term!r}; write a "
                                "label, a value or NA, as in a*x1, 0.5*x1 or NA*x1.")
            if question and not start_text.strip():
                raise SpecError(f"{at(term_at)}: Nothing before '?' in {term!r}; write a start "
                                "value, as in 0.5?x1.")
            if op == "~" and var == "1":
                op_eff, var = "~1", ""
            else:
                op_eff = op
                if not _IDENT_RE.match(var):
                    var_at = term_at + (term.rfind(var) if var else len(term))
                    hint = " (a '+' missing between two terms?)" if " " in var.strip() else ""
                    raise SpecError(f"{at(var_at)}: {var!r} is not a valid variable name{hint}.")
            modifier = (_parse_modifier(mod_text, at(term_at), start_text)
                        if mod_text.strip() or start_text.strip() else Modifier())
            terms.append((op_eff, var, modifier))
        # lavaan's order: every right-hand term of the first left-hand name, then the next
        for name in lhs_names:
            for op_eff, var, modifier in terms:
                statements.append(Statement(name, op_eff, var, modifier, number, line))
    if not statements:
        raise SpecError(f"{source}: The model syntax is empty.")
    return tuple(statements)


@dataclass(frozen=True)
class VariableRoles:
    """Variable names by role, as lavaan's ``lav_partable_vnames`` defines them."""

    observed: tuple[str, ...]
    latent: tuple[str, ...]
    lv_x: tuple[str, ...]
    lv_y: tuple[str, ...]
    ov_x: tuple[str, ...]
    ov_y: tuple[str, ...]
    indicators: tuple[str, ...]


def _unique(seq) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for s in seq if s))


def variable_roles(statements, data_columns=None) -> VariableRoles:
    """Classify variables as lavaan does (ov, lv, lv.x, lv.y, ov.x, ov.y)."""
    model = [s for s in statements if s.op in ("=~", "~", "~~", "~1")]
    latent = _unique(s.lhs for s in model if s.op == "=~")
    indicators = _unique(s.rhs for s in model if s.op == "=~")
    eqs_y = _unique(s.lhs for s in model if s.op == "~")
    eqs_x = _unique(s.rhs for s in model if s.op == "~")
    names = _unique(
        [s.rhs for s in model if s.op == "=~"]
        + [v for s in model if s.op in ("~", "~~") for v in (s.lhs, s.rhs)]
        + [s.lhs for s in model if s.op == "~1"]
    )
    observed = tuple(v for v in names if v not in latent)
    lv_x = tuple(v for v in latent if v not in indicators and v not in eqs_y)
    lv_y = tuple(v for v in latent if v in eqs_y and v not in indicators and v not in eqs_x)
    ov_y = tuple(v for v in observed if v in eqs_y and v not in indicators and v not in eqs_x)
    # exogenous observed covariates: predictors only, with no variance/covariance/intercept
    # statement of their own (lavaan then treats them as fixed.x)
    touched = {v for s in model if s.op in ("~~", "~1") for v in (s.lhs, s.rhs)}
    ov_x = tuple(
        v for v in observed
        if v in eqs_x and v not in eqs_y and v not in indicators and v not in touched
    )
    return VariableRoles(observed, latent, lv_x, lv_y, ov_x, ov_y, indicators)


PARTABLE_COLUMNS = [
    "id", "lhs", "op", "rhs", "user", "group", "free", "ustart", "exo", "label", "plabel", "start",
]


def build_partable(
    statements,
    *,
    meanstructure: bool = False,
    ngroups: int = 1,
    fixed_x: bool = True,
    std_lv: bool = False,
    orthogonal: bool = False,
    group_equal: tuple[str, ...] = (),
    group_partial: tuple = (),
    source: str = "model",
) -> pd.DataFrame:
    """Build a lavaan-style parameter table from parsed statements.

    Parameters
    ----------
    statements : sequence of Statement
        Output of :func:`parse_syntax`.
    meanstructure : bool
        Add intercepts of observed variables (free) and latent means (fixed at zero).
    ngroups : int
        Number of groups; every model element is repeated per group.
    fixed_x : bool
        Exogenous observed covariates are fixed at their sample (co)variances, as lavaan's default.
    std_lv : bool
        Identify factors by unit variance instead of a fixed first loading (lavaan's
        ``std.lv``; with ``"loadings"`` in ``group_equal`` the variances of groups 2..G are
        free, as in lavaan).
    orthogonal : bool
        lavaan's ``orthogonal = TRUE``: the covariances that would be free by default among
        exogenous latent variables and among the residuals of endogenous latent variables
        are fixed to zero instead (a covariance written in the syntax stays as written).
    group_equal : tuple of str
        Any of ``"loadings"``, ``"intercepts"``, ``"means"``, ``"residuals"``,
        ``"residual.covariances"``, ``"lv.variances"``, ``"lv.covariances"``,
        ``"regressions"``: free parameters of that kind share one value across groups (lavaan's
        ``group.equal``). With ``"intercepts"`` but not ``"means"``, the latent means of groups
        2..G are free, as in lavaan.
    group_partial : tuple
        Parameters exempt from ``group_equal`` (lavaan's ``group.partial``), each a
        ``(lhs, op, rhs)`` tuple or a string such as ``"visual=~x2"`` or ``"x1~1"``.
    source : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, lhs, op, rhs, user, group, free, ustart, exo, label, plabel, start``.
        ``free`` numbers the free parameters 1..q (0 for fixed); rows sharing a label share the
        number, so equality constraints reduce the parameter count. ``ustart`` holds fixed values
        (NaN where free). ``:=`` rows come last with ``free == 0``.

    Raises
    ------
    SpecError
        On duplicate elements with conflicting modifiers, variables that are both latent and
        regressed as observed, or definitions using unknown labels.
    ModelError
        When a latent variable has no scale (every loading free and its variance free), in a
        single-group model without ``==`` constraints: it cannot be identified.

    Notes
    -----
    Follows ``lavaan::lavaanify`` with the options of ``sem()``: ``auto.fix.first``,
    ``auto.var``, ``auto.cov.lv.x``, ``auto.cov.y``, ``int.ov.free`` and ``fixed.x``.
    Parameters made equal by ``group_equal`` carry the ``plabel`` of their group-1 row as label
    in every group (``.p2.``), as ``parameterEstimates`` shows them; their free number is shared,
    so ``max(free)`` is lavaan's ``fitMeasures(fit, "npar")`` (equality-constrained parameters
    counted once).
    """
    roles = variable_roles(statements)
    model = [s for s in statements if s.op in ("=~", "~", "~~", "~1")]
    if not model:
        raise SpecError(f"{source}: The model has no =~, ~ or ~~ statement, only definitions "
                        "or constraints.")
    rows: list[dict] = []
    keys: dict[tuple[str, str, str, int], int] = {}

    def add(lhs, op, rhs, group, user, fixed=None, label=None, start=None, exo=0, line=None):
        key = (lhs, op, rhs, group)
        if op == "~~" and (rhs, op, lhs, group) in keys:
            key = (rhs, op, lhs, group)
            lhs, rhs = rhs, lhs
        if key in keys:
            row = rows[keys[key]]
            if user and row["user"]:
                raise SpecError(
                    f"{source}, line {line}: {lhs} {op} {rhs} is specified twice."
                )
            if user:  # a user statement overrides a default element
                row.update(user=1, ustart=np.nan if fixed is None else fixed, label=label or "",
                           start=start, exo=exo)
            return
        keys[key] = len(rows)
        rows.append(dict(lhs=lhs, op=op, rhs=rhs, user=int(user), group=group,
                         ustart=np.nan if fixed is None else float(fixed), exo=exo,
                         label=label or "", start=start, line=line))

    for g in range(1, ngroups + 1):
        first_loading_seen: set[str] = set()
        for s in model:
            mod = s.modifier
            k = g - 1

            def pick(values):
                if not values:
                    return None
                if len(values) == 1:
                    return values[0]
                if len(values) != ngroups:
                    raise SpecError(
                        f"{source}, line {s.line}: c(...) has {len(values)} values for "
                        f"{ngroups} groups."
                    )
                return values[k]

            fixed, label, start = pick(mod.fixed), pick(mod.labels), pick(mod.starts)
            if s.op == "=~" and s.lhs not in first_loading_seen:
                first_loading_seen.add(s.lhs)
                if fixed is None and not mod.fixed and not std_lv:
                    fixed = 1.0  # auto.fix.first, unless NA* was written
            add(s.lhs, s.op, s.rhs, g, True, fixed, label, start, line=s.line)
        # defaults: residual variances of ov (not fixed.x) and lv
        ov_x = roles.ov_x if fixed_x else ()
        for v in roles.observed:
            if v not in ov_x:
                add(v, "~~", v, g, False)
        for v in roles.latent:
            # std.lv: unit (residual) variances; with equal loadings only in group 1 (lavaan
            # frees them in the other groups)
            unit = std_lv and not (g > 1 and "loadings" in group_equal)
            add(v, "~~", v, g, False, fixed=1.0 if unit else None)
        zero = 0.0 if orthogonal else None
        for a, b in combinations(roles.lv_x, 2):
            add(a, "~~", b, g, False, fixed=zero)
        for a, b in combinations(roles.lv_y + roles.ov_y, 2):
            add(a, "~~", b, g, False, fixed=zero if a in roles.lv_y and b in roles.lv_y
                else None)
        for i, a in enumerate(roles.ov_x):
            for b in roles.ov_x[i:]:
                if fixed_x:
                    add(a, "~~", b, g, False, fixed=np.nan, exo=1)
                else:  # fixed.x = FALSE: the covariates' (co)variances are free parameters
                    add(a, "~~", b, g, False)
        if meanstructure:
            for v in roles.observed:
                add(v, "~1", "", g, False, fixed=np.nan if v in ov_x else None,
                    exo=int(v in ov_x))
            # lavaan frees the latent means of groups 2..G when the intercepts are equal
            # across groups and the means are not (lavaanify, int.lv.free = FALSE)
            free_means = (g > 1 and "intercepts" in group_equal and "means" not in group_equal)
            for v in roles.latent:
                add(v, "~1", "", g, False, fixed=None if free_means else 0.0)
    _number_free(rows, roles, group_equal, ngroups, group_partial)
    defined = [s for s in statements if s.op in (":=", "==", "<", ">")]
    if ngroups == 1 and not any(s.op == "==" for s in defined):
        _check_scales(rows, roles, source)
    rows += [dict(lhs=s.lhs, op=s.op, rhs=s.rhs, user=1, group=0, ustart=np.nan, exo=0,
                  label=s.lhs if s.op == ":=" else "", start=None, line=s.line, free=0)
             for s in defined]
    _check_definitions(rows, source)
    for i, row in enumerate(rows, start=1):
        row["id"], row["plabel"] = i, f".p{i}."
    return pd.DataFrame(rows, columns=PARTABLE_COLUMNS + ["line"])


def _check_scales(rows: list[dict], roles, source: str) -> None:
    """Raise ModelError for a latent variable with no fixed loading and a free variance.

    Such a factor has no scale: multiplying its loadings by c and its variance by 1/c gives
    the same implied covariances, so the model is not identified whatever the data (lavaan
    fits it and warns that the information matrix is singular; here it is refused before
    fitting). Models with ``==`` constraints are not checked (they may set the scale).
    """
    latent = set(roles.latent)
    fixed_loading, free_variance, first_line = set(), set(), {}
    for r in rows:
        if r["lhs"] not in latent:
            continue
        if r["op"] == "=~":
            first_line.setdefault(r["lhs"], r["line"])
            if r["free"] <= 0:
                fixed_loading.add(r["lhs"])
        elif r["op"] == "~~" and r["rhs"] == r["lhs"] and r["free"] > 0:
            free_variance.add(r["lhs"])
    for lv in roles.latent:
        if lv in first_line and lv not in fixed_loading and lv in free_variance:
            line = first_line[lv]
            where = f"{source}, line {int(line)}" if line is not None else source
            raise ModelError(
                f"{where}: The latent variable {lv} has no fixed loading and a free variance, "
                f"so its scale is not identified; fix one loading (drop NA* from its first "
                f"indicator) or its variance ({lv} ~~ 1*{lv}).")


def equal_kind(row, roles) -> str | None:
    """The ``group.equal`` kind of a parameter-table row (``lav_partable_labels``)."""
    op, lhs, rhs = row["op"], row["lhs"], row["rhs"]
    observed = lhs in roles.observed
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "intercepts" if observed else "means"
    if op == "~~":
        if observed:
            return "residuals" if lhs == rhs else "residual.covariances"
        return "lv.variances" if lhs == rhs else "lv.covariances"
    return None


def partial_keys(group_partial) -> set[tuple[str, str, str]]:
    """lavaan's ``group.partial`` entries (``"visual=~x2"``, ``"x1~1"``, ``"x1|t2"`` or
    (lhs, op, rhs) tuples) as a set of (lhs, op, rhs), covariances both ways round."""
    keys = set()
    for item in group_partial:
        if isinstance(item, str):
            text = item.replace(" ", "")
            for op in ("=~", "~~", "~1", "~", "|"):
                if op in text:
                    lhs, _, rhs = text.partition(op)
                    if op == "~" and rhs == "1":
                        op, rhs = "~1", ""
                    keys.add((lhs, op, rhs))
                    if op == "~~":
                        keys.add((rhs, op, lhs))
                    break
        else:
            lhs, op, rhs = item
            keys.add((lhs, op, rhs))
            if op == "~~":
                keys.add((rhs, op, lhs))
    return keys


def _number_free(rows: list[dict], roles, group_equal, ngroups, group_partial=()) -> None:
    """Number the free parameters 1..q in ``row["free"]`` (0 for fixed); shared labels and
    ``group_equal`` kinds share a number."""
    by_label: dict[str, int] = {}
    by_equal: dict[tuple, tuple[int, str]] = {}
    partial = partial_keys(group_partial)
    counter = 0
    for i, row in enumerate(rows):
        row["free"] = 0
        if not np.isnan(row["ustart"]) or row["exo"]:
            continue
        key = (row["lhs"], row["op"], row["rhs"])
        if row["label"]:
            if row["label"] not in by_label:
                counter += 1
                by_label[row["label"]] = counter
            row["free"] = by_label[row["label"]]
        elif (ngroups > 1 and equal_kind(row, roles) in group_equal
              and key not in partial):
            if key not in by_equal:
                counter += 1
                # lavaan labels the equal parameters with the plabel of the first row
                by_equal[key] = (counter, f".p{i + 1}.")
            row["free"], row["equal_label"] = by_equal[key]
        else:
            counter += 1
            row["free"] = counter
    if ngroups > 1 and group_equal:
        # a label is only shown when the parameter is shared by another row
        counts: dict[int, int] = {}
        for row in rows:
            counts[row["free"]] = counts.get(row["free"], 0) + 1
        for row in rows:
            equal = row.pop("equal_label", "")
            if equal and counts[row["free"]] > 1 and not row["label"]:
                row["label"] = equal


# names in expressions, not the exponent of a number such as 1e308
_WORD_RE = re.compile(rf"(?<![0-9A-Za-z_.\u4e00-\u9fff]){_IDENT}")


def _check_definitions(rows: list[dict], source: str) -> None:
    labels = {r["label"] for r in rows if r["op"] != ":=" and r["label"]}
    defined: set[str] = set()
    for row in (SimpleNamespace(**r) for r in rows if r["op"] in (":=", "==", "<", ">")):
        names = set(_WORD_RE.findall(row.rhs)) | (set() if row.op == ":=" else
                                                   set(_WORD_RE.findall(row.lhs)))
        unknown = sorted(n for n in names if n not in labels and n not in defined
                         and n not in _MATH_NAMES)
        if unknown:
            raise SpecError(
                f"{source}, line {int(row.line)}: {row.lhs} {row.op} {row.rhs} uses unknown "
                f"parameter label(s) {', '.join(unknown)}."
            )
        if row.op == ":=":
            defined.add(row.lhs)


_MATH_NAMES = {"exp", "log", "sqrt", "abs", "sin", "cos", "tan", "pi"}
