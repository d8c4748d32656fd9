"""Alternative specifications generated from a spec by general rules (DESIGN.md §1, M0-M7).

A spec names its alternatives by kind (``one_factor``, ``first_order``, ``second_order``,
``hypothesized``, ``drop_paths``, ``reverse_path``, ``flat_dimensions``); this module turns
each kind into lavaan syntax from the spec's constructs, dimensions and structural paths, so
that any spec in our format gets the same comparison. A spec without an ``alternatives`` list
gets the default set M0-M7 by the same rules.
"""

from __future__ import annotations

from itertools import combinations

from ..errors import SpecError
from ..survey.spec import Alternative, Spec
from ..sem.syntax import parse_syntax, variable_roles

__all__ = ["generate_alternatives", "default_alternatives", "declared_nesting",
           "hypothesized_name", "alternative_syntax"]


def _common_factor_name(spec: Spec) -> str:
    taken = set(spec.item_codes) | set(spec.construct_codes) | set(spec.dimension_codes)
    name = "GEN"
    while name in taken:
        name += "_"
    return name


def _mediators(spec: Spec) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Mediating paths (mediator -> outcome) and direct paths that bypass a mediator."""
    paths = list(spec.structural)
    outcomes = {lhs for lhs, _ in paths}
    predictors = {rhs for _, rhs in paths}
    mediators = outcomes & predictors
    mediating = [(lhs, rhs) for lhs, rhs in paths if rhs in mediators]
    direct = []
    for lhs, rhs in paths:
        if rhs in mediators:
            continue
        # x -> y is direct when some mediator m has x -> m and m -> y
        if any((m, rhs) in paths and (lhs, m) in paths for m in mediators):
            direct.append((lhs, rhs))
    return mediating, direct


def default_alternatives(spec: Spec) -> tuple[Alternative, ...]:
    """The M0-M7 set of DESIGN.md §1 for any spec, by general rules.

    Parameters
    ----------
    spec : Spec

    Returns
    -------
    tuple of Alternative
        ``M0`` one factor (nested in M1); ``M1`` correlated first-order factors; ``M2``
        first-order factors on correlated dimensions (when the spec has dimensions); ``M3``
        the hypothesized model; ``M4`` M3 without the mediating paths (mediator -> outcome);
        ``M5`` M3 without the direct paths that bypass a mediator (full mediation); ``M6`` M3
        with the mediating paths reversed; ``M7`` each dimension measured directly by the items
        of its factors (nested in M1). Kinds that do not apply (no dimensions, no mediator)
        are left out; the numbering stays that of DESIGN.md.
    """
    alts = [Alternative("M0", "单因子模型", "One factor for all items", "one_factor",
                        nested_in="M1"),
            Alternative("M1", "一阶因子测量模型", "Correlated first-order factors", "first_order")]
    if spec.dimensions:
        alts.append(Alternative("M2", "二阶维度模型", "First-order factors on correlated "
                                "second-order dimensions", "second_order"))
    alts.append(Alternative("M3", "假设模型", "Hypothesized model", "hypothesized"))
    mediating, direct = _mediators(spec)
    if mediating:
        alts.append(Alternative("M4", "无中介模型", "Hypothesized model without the mediating "
                                "paths", "drop_paths", tuple(mediating), nested_in="M3"))
    if direct:
        alts.append(Alternative("M5", "完全中介模型", "Hypothesized model without the direct "
                                "paths (full mediation)", "drop_paths", tuple(direct),
                                nested_in="M3"))
    if mediating:
        alts.append(Alternative("M6", "反向路径模型", "Hypothesized model with the mediating "
                                "paths reversed", "reverse_path", tuple(mediating)))
    if spec.dimensions:
        alts.append(Alternative("M7", "维度一阶模型", "Dimensions measured directly by their "
                                "items", "flat_dimensions", nested_in="M1"))
    return tuple(alts)


def alternative_syntax(spec: Spec, alt: Alternative) -> str:
    """lavaan syntax of one alternative model.

    Parameters
    ----------
    spec : Spec
    alt : Alternative

    Returns
    -------
    str
        The model syntax (see :func:`generate_alternatives` for the rule of each kind).

    Raises
    ------
    SpecError
        For a kind that needs dimensions when the spec has none, or an unknown kind.
    """
    if not spec.constructs:
        raise SpecError(f"Alternative {alt.id}: the spec has no constructs to build it from.")
    kind = alt.kind
    if kind == "one_factor":
        name = _common_factor_name(spec)
        items = [i for c in spec.constructs for i in c.item_codes]
        return f"# {alt.id}: one factor\n{name} =~ " + " + ".join(items) + "\n"
    if kind == "first_order":
        return spec.measurement_syntax()
    if kind in ("second_order", "flat_dimensions") and not spec.dimensions:
        raise SpecError(f"Alternative {alt.id} ({kind}) needs dimensions in the spec.")
    if kind == "second_order":
        return spec.model_syntax(structural=())
    if kind == "hypothesized":
        return spec.model_syntax()
    if kind == "drop_paths":
        drop = set(alt.paths)
        text = spec.model_syntax(structural=tuple(p for p in spec.structural if p not in drop))
        return _keep_residual_covariances(spec, text)
    if kind == "reverse_path":
        rev = set(alt.paths)
        return spec.model_syntax(structural=tuple((rhs, lhs) if (lhs, rhs) in rev else
                                                  (lhs, rhs) for lhs, rhs in spec.structural))
    if kind == "flat_dimensions":
        lines = [f"# {alt.id}: dimensions measured directly by their items"]
        grouped = set()
        for d in spec.dimensions:
            items = [i for f in d.factors for i in spec.construct(f).item_codes]
            grouped.update(d.factors)
            lines.append(f"{d.code} =~ " + " + ".join(items))
        for c in spec.constructs:
            if c.code not in grouped:
                lines.append(f"{c.code} =~ " + " + ".join(c.item_codes))
        return "\n".join(lines) + "\n"
    raise SpecError(f"Alternative {alt.id}: unknown kind {kind!r}.")


def _keep_residual_covariances(spec: Spec, text: str) -> str:
    """Fix to zero the residual covariances that lavaan would add only because paths were
    dropped (``auto.cov.y``: outcomes that predict nothing covary freely), so that the model
    stays nested in the hypothesized one: without ``SOL -> GIV``, GIV and SOL are related only
    through their common predictors."""
    hyp = variable_roles(parse_syntax(spec.model_syntax()))
    alt = variable_roles(parse_syntax(text))
    before = {frozenset(p) for p in combinations(hyp.lv_y + hyp.ov_y, 2)}
    before |= {frozenset(p) for p in spec.covariances}
    extra = [(a, b) for a, b in combinations(alt.lv_y + alt.ov_y, 2)
             if frozenset((a, b)) not in before]
    if not extra:
        return text
    lines = ["# no residual covariance where the hypothesized model has none"]
    lines += [f"{a} ~~ 0*{b}" for a, b in extra]
    return text + "\n".join(lines) + "\n"


def generate_alternatives(spec: Spec) -> dict[str, str]:
    """Alternative models of a spec as lavaan syntax, by general rules.

    Parameters
    ----------
    spec : Spec
        A loaded spec (:func:`riskmodel_sem.survey.spec.load_spec`). Its ``alternatives`` are used
        when present, otherwise :func:`default_alternatives`.

    Returns
    -------
    dict of str to str
        Alternative id -> lavaan syntax, in the spec's order. Rules by kind:
        ``one_factor``: every item on one factor; ``first_order``: the correlated
        first-order factors; ``second_order``: the factors on their dimensions, dimensions
        correlated, no regressions; ``hypothesized``: the spec's model; ``drop_paths``: the
        hypothesized model without ``paths`` (residual covariances that lavaan's
        ``auto.cov.y`` would add between outcomes left unconnected are fixed to zero, so the
        model stays nested in the hypothesized one); ``reverse_path``: with each of ``paths``
        reversed; ``flat_dimensions``: each dimension measured by the items of its factors
        (factors outside any dimension kept), all factors correlated. Defined effects whose
        paths are missing are left out.

    Raises
    ------
    SpecError
        When a kind cannot be built from the spec (see :func:`alternative_syntax`).

    Examples
    --------
    >>> alts = generate_alternatives(load_spec("specs/gcrm.yaml"))  # doctest: +SKIP
    >>> list(alts)  # doctest: +SKIP
    ['M0', 'M1', 'M2', 'M3', 'M4', 'M5', 'M6', 'M7']
    """
    alts = spec.alternatives or default_alternatives(spec)
    return {a.id: alternative_syntax(spec, a) for a in alts}


def hypothesized_name(spec: Spec) -> str:
    """Name of the hypothesized model among the alternatives (``M3`` in the defaults), the
    reference of ΔCFI and ΔRMSEA in a comparison."""
    alts = spec.alternatives or default_alternatives(spec)
    return next((a.id for a in alts if a.kind == "hypothesized"), alts[0].id)


def declared_nesting(spec: Spec) -> tuple[tuple[str, str], ...]:
    """``(restricted, general)`` pairs from the alternatives' ``nested_in`` entries (or the
    defaults'), to pass to :func:`riskmodel_sem.sem.comparison.compare`."""
    alts = spec.alternatives or default_alternatives(spec)
    return tuple((a.id, a.nested_in) for a in alts if a.nested_in)
