"""What each command does, callable from Python: load, run the stages, collect an Analysis.

The command line (:mod:`riskmodel_sem.cli`) only parses arguments and calls :func:`run`; every
function here can be used directly, e.g. ``run_fit("survey.xlsx", "specs/gcrm.yaml")``.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import warnings
from pathlib import Path

import numpy as np

from .workflow.analysis import Analysis
from .workflow.estimator import estimator_choice
from .limits import DEMO_BOOTSTRAP
from .errors import OptionError, OutputError, RiskModelWarning, SurveyDataError
from .outputs import check_output_path, prepare_dir, to_json_bytes, write_files
from .survey.bundled import bundled_spec, bundled_survey

__all__ = ["run", "run_init", "run_fit", "run_validate", "run_compare", "run_invariance",
           "run_report", "run_demo", "demo_estimator",
           "write_outputs", "load_inputs", "check_model_data", "BUNDLED_SPEC", "BUNDLED_SURVEY"]

#: The cleaned data written beside a report with --drop-flagged.
CLEANED_FILE = "cleaned.xlsx"

#: The paper's model and the synthetic survey shipped inside the package (package data).
BUNDLED_SPEC = bundled_spec()
BUNDLED_SURVEY = bundled_survey()


def _collect_warnings(run_stages):
    """Run the stages of one command and put every warning they raise in the Analysis.

    This is the one place where a command's warnings are collected: the
    :class:`~riskmodel_sem.errors.RiskModelWarning` warnings raised while the stages run
    (``warnings.catch_warnings(record=True)``) come first, in the order raised, then the
    remarks that the stage results recorded without raising them (the survey's
    ``warnings``, a fit's ``warnings``, ...); repeated texts are kept once. The merged tuple
    becomes ``Analysis.warnings`` (``results.json["warnings"]``) and each text is raised
    again, once, with its original category, so that the command line prints exactly the
    warnings that the results hold. Other warnings are passed on unchanged.
    """
    @functools.wraps(run_stages)
    def run_collecting(*args, **kwargs) -> Analysis:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RiskModelWarning)
            analysis = run_stages(*args, **kwargs)
        categories: dict[str, type] = {}
        for w in caught:
            if issubclass(w.category, RiskModelWarning):
                categories.setdefault(str(w.message), w.category)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        recorded = [analysis.warnings, *analysis.stage_warnings().values()]
        for text in (t for texts in recorded for t in texts):
            categories.setdefault(str(text), RiskModelWarning)
        for text, category in categories.items():
            warnings.warn(text, category, stacklevel=2)
        return dataclasses.replace(analysis, warnings=tuple(categories))

    return run_collecting


def _progress(message: str) -> None:
    from .progress import progress_enabled

    if progress_enabled(True):  # step messages go, as the bars, with --quiet
        print(message, file=sys.stderr, flush=True)


def _column(survey, name: str, what: str) -> str:
    """The column of ``survey.extra`` named ``name`` by its header or by its header without
    the platform's question number (:func:`riskmodel_sem.survey.headers.find_column`)."""
    from .survey.headers import find_column

    cols = list(survey.extra.columns)
    try:
        return cols[find_column(name, [str(c) for c in cols], where=_where(survey), what=what)]
    except SurveyDataError:
        questions = getattr(survey, "questions", {}) or {}
        texts = [str(questions.get(c, "")) for c in cols]
        if not any(texts):
            raise
        try:  # a Qualtrics column named by its question text ("What is your age?")
            return cols[find_column(name, texts, where=_where(survey), what=what)]
        except SurveyDataError:
            pass
        raise


def _duration_column(survey, spec, duration):
    """``--duration`` or else the spec's ``survey.duration``, as a column of the data."""
    if duration is not None:
        return _column(survey, duration, "duration column")
    named = getattr(getattr(spec, "survey", None), "duration", None)
    if named:
        return _column(survey, named, "duration column (the spec's survey.duration)")
    return None


def _screened(survey, spec, *, duration=None, drop_flagged=False):
    """Screen the respondents when flagged rows are to be dropped and drop them; return the
    data to analyse and the :class:`~riskmodel_sem.workflow.sample.Cleaning` record (None
    when nothing was asked)."""
    if not drop_flagged:
        return survey, None
    from .psychometrics.screening import screen
    from .workflow.sample import clean

    duration = _duration_column(survey, spec, duration)
    return clean(survey, screen(survey, spec, duration=duration), drop_flagged=True,
                 duration=duration)


def _power_command() -> bool:
    """Whether this installation has ``riskmodel-sem power`` (its ``run_power`` lives here,
    beside the other commands)."""
    return "run_power" in globals()


def _sample(survey, spec, fit=None, *, group=None, planned_n=None):
    """The sample stage: frequencies of the demographic columns (the spec's
    ``survey.demographics``, else the group column) and the sample-size advice."""
    from .workflow.sample import SampleReport, describe_sample, sample_size_advice

    names = list(getattr(getattr(spec, "survey", None), "demographics", ()) or ())
    cols = [_column(survey, n, "demographic column (the spec's survey.demographics)")
            for n in names]
    if group is not None and group not in cols:
        cols.append(group)
    description = describe_sample(survey.extra, cols) if cols else None
    advice = None
    if fit is not None and "npar" in fit.fit:
        advice = sample_size_advice(int(fit.n_obs), int(fit.fit["npar"]), planned_n=planned_n,
                                    power_command=_power_command())
    return SampleReport(description, advice)


def load_inputs(data, spec, *, sheet=None, id_column=None, anonymous=False):
    """Load a spec (YAML or lavaan syntax) and a survey file read through it (with
    ``anonymous``, respondents are named by their row, and ids are not read)."""
    from .survey.spec import load_spec
    from .survey.readers import read_survey

    spec_obj = spec if hasattr(spec, "model_syntax") else load_spec(spec)
    survey = read_survey(data, spec_obj, sheet=sheet, id_column=id_column, anonymous=anonymous)
    return spec_obj, survey


def _model_frame(survey, group=None):
    frame = survey.data.copy()
    if group is not None:
        if group not in survey.extra.columns:
            choices = ", ".join(map(str, survey.extra.columns)) or "none"
            raise OptionError(f"{_where(survey)}: No group column {group!r}; use one of the "
                              f"columns that are not items: {choices}.")
        frame[group] = survey.extra[group].to_numpy()
    return frame


def select_groups(survey, group, *, min_group_size=None, missing="listwise"):
    """The group column a user named, and the survey without the groups too small to fit.

    Parameters
    ----------
    survey : riskmodel_sem.survey.readers.SurveyData
    group : str
        The column's header, or its header without the platform's question number
        (``"您的性别"`` for ``"1.您的性别"``; :func:`riskmodel_sem.survey.headers.find_column`).
    min_group_size : int, optional
        Groups with fewer usable rows (complete rows under listwise deletion, rows with an
        answer under FIML) are left out, with a warning naming them and their sizes.
    missing : {"listwise", "fiml"}

    Returns
    -------
    (str, SurveyData)
        The column's name as read and the survey with the rows of the groups kept (rows with
        a blank group label stay: the fit leaves them out with a warning counting them).

    Raises
    ------
    SurveyDataError
        When no column or more than one matches ``group``.
    OptionError
        When fewer than two groups remain.
    """
    from .sem.data import group_label

    name = _column(survey, group, "group column")
    labels = survey.extra[name]
    blank = labels.isna() | labels.map(lambda v: isinstance(v, str) and not v.strip())
    usable = (survey.data.notna().all(axis=1) if missing == "listwise"
              else survey.data.notna().any(axis=1))
    text = labels.map(group_label)
    sizes = text[~blank & usable].value_counts(sort=False)
    present = list(dict.fromkeys(text[~blank]))
    if min_group_size:
        small = [g for g in present if sizes.get(g, 0) < min_group_size]
        if small:
            shown = ", ".join(f"{g!r} (n = {int(sizes.get(g, 0))})" for g in small)
            warnings.warn(f"{_where(survey)}, column {name!r}: group(s) {shown} have fewer than "
                          f"{min_group_size} usable rows and were left out "
                          f"(--min-group-size {min_group_size}).", RiskModelWarning,
                          stacklevel=2)
            keep = ~text.isin(small).to_numpy() | blank.to_numpy()
            survey = dataclasses.replace(survey, data=survey.data[keep], ids=survey.ids[keep],
                                         extra=survey.extra[keep])
            present = [g for g in present if g not in small]
    if len(present) < 2:
        raise OptionError(f"{_where(survey)}, column {name!r}: {len(present)} group(s) "
                          f"{'left ' if min_group_size else ''}({', '.join(map(repr, present))}); "
                          "a multi-group analysis needs at least two.")
    return name, survey




def _where(survey) -> str:
    return f"{survey.source}" + (f", sheet {survey.sheet!r}" if survey.sheet else "")


def _constant_columns(rows):
    """The columns of ``rows`` that may hold a single distinct answer: those whose smallest
    and largest answers are equal (every column when the answers are not all numbers)."""
    try:
        block = rows.to_numpy(dtype=float)
    except (TypeError, ValueError):
        return list(rows.columns)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column without answers
        same = np.nanmin(block, axis=0) == np.nanmax(block, axis=0)
    return [rows.columns[k] for k in np.flatnonzero(same)]


def check_model_data(survey, *, missing="listwise", group=None) -> None:
    """Check that the item answers can support a model before anything is fitted.

    Parameters
    ----------
    survey : riskmodel_sem.survey.readers.SurveyData
        The data as read.
    missing : {"listwise", "fiml"}
        With "listwise" only complete rows count; with "fiml" every row with an answer.
    group : str, optional
        Column of ``survey.extra`` whose groups are checked one by one.

    Raises
    ------
    SurveyDataError
        Naming the file (and sheet) and, for an item without variance, its column: when fewer
        usable rows than items + 1 remain (the sample covariance matrix cannot be positive
        definite then), when an item has the same answer in every usable row, when two items
        are perfectly correlated in the complete rows (a copied column) or when the items are
        otherwise linearly dependent (smallest eigenvalue of their correlation matrix
        <= 1e-10).
    """
    from .sem.data import group_label

    frame = survey.data
    p = frame.shape[1]
    where = _where(survey)
    book = survey.codebook.set_index("item")
    parts = [("", frame)]
    if group is not None:
        gvals = survey.extra[group]
        keep = gvals.notna().to_numpy()
        labels = gvals[keep].map(group_label).to_numpy()
        parts = [(f" in group {lab!r} of column {group!r}",
                  frame[keep][labels == lab]) for lab in dict.fromkeys(labels)]
    for in_group, part in parts:
        if missing == "listwise":
            rows, kind = part.dropna(), "complete rows (every item answered)"
        else:
            rows, kind = part[part.notna().any(axis=1)], "rows with an answer"
        if len(rows) < p + 1:
            raise SurveyDataError(
                f"{where}: Only {len(rows)} {kind}{in_group} for {p} items; the model needs at "
                f"least {p + 1}. Collect more answers or remove items from the spec.")
        for code in _constant_columns(rows):
            answers = rows[code].dropna()
            if answers.nunique() == 1:
                value = float(answers.iloc[0])
                if code in book.index and book.at[code, "reverse"]:  # as written in the file
                    value = book.at[code, "scale_min"] + book.at[code, "scale_max"] - value
                shown = int(value) if float(value).is_integer() else value
                column = book.at[code, "column"] if code in book.index else code
                raise SurveyDataError(
                    f"{where}, column {column!r}: Item {code} has the same "
                    f"answer ({shown}) in all {len(answers)} usable rows{in_group}, so it has no "
                    "variance. Check the column or remove the item from the spec.")
        complete = part.dropna().to_numpy(dtype=float)
        with np.errstate(all="ignore"):
            spread = np.var(complete, axis=0) if len(complete) else np.zeros(p)
        if not np.isfinite(spread).all():
            code = frame.columns[int(np.flatnonzero(~np.isfinite(spread))[0])]
            column = book.at[code, "column"] if code in book.index else code
            raise SurveyDataError(
                f"{where}, column {column!r}: The values of item {code} are too large to "
                "compute with (their variance overflows); divide the column by a power of 10.")
        if len(complete) > p:
            corr = np.corrcoef(complete, rowvar=False)
            twins = np.argwhere(np.triu(np.abs(corr) > 1 - 1e-12, k=1))
            if len(twins):
                a, b = (frame.columns[k] for k in twins[0])
                cols = [book.at[c, "column"] if c in book.index else c for c in (a, b)]
                raise SurveyDataError(
                    f"{where}, columns {cols[0]!r} and {cols[1]!r}: Items {a} and {b} are "
                    f"perfectly correlated in the complete rows{in_group} (a copied column?), so "
                    "the covariance matrix is singular. Check the columns or remove one item "
                    "from the spec.")
            if np.linalg.eigvalsh(corr).min() <= 1e-10:
                raise SurveyDataError(
                    f"{where}: Some items are exact linear combinations of others in the "
                    f"complete rows{in_group} (a sum or total column read as an item?), so the "
                    "covariance matrix is singular. Check the item columns.")


def _dask_client(address: str):
    """Connect to the Dask scheduler at ``address`` or raise OptionError naming it."""
    if not address.strip():
        raise OptionError("--scheduler needs an address such as tcp://10.0.0.5:8786.")
    scheme = address.split("://", 1)[0].lower() if "://" in address else "tcp"
    if scheme not in ("tcp", "tls"):
        raise OptionError(f"--scheduler {address!r}: the {scheme}:// protocol is not supported; "
                          "give a tcp:// or tls:// address such as tcp://10.0.0.5:8786.")
    try:
        from distributed import Client
    except ImportError:
        raise OptionError("Running the bootstrap on a Dask cluster needs the 'dask' extra: "
                          "pip install \"dask[distributed]\".") from None
    try:
        return Client(address, timeout="20s")
    except (OSError, ValueError, TimeoutError) as exc:
        raise OptionError(f"Cannot connect to the Dask scheduler at {address!r} "
                          f"({str(exc).rstrip('.') or type(exc).__name__}); check --scheduler, or "
                          "leave it out to run the bootstrap in local processes.") from None


@_collect_warnings
def run_fit(data, spec, *, estimator=None, missing="listwise", bootstrap=0, seed=20231,
            jobs=1, scheduler=None, group=None, group_equal=(), group_partial=(),
            min_group_size=None, sheet=None, id_column=None,
            progress=None, crosscheck=None, anonymous=False, duration=None,
            drop_flagged=False, ordered=None) -> Analysis:
    """Fit the hypothesized model, judge the hypotheses, optionally bootstrap.

    Every warning of the run is raised once and held in ``Analysis.warnings`` (as for every
    ``run_*`` function).

    Parameters
    ----------
    data, spec : str or Path
        Survey file and spec (YAML or ``.lav``).
    estimator : {"ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"}, optional
        None: ML, or WLSMV with ``ordered``.
    missing : {"listwise", "fiml", "pairwise"}
    ordered : "all", True or sequence of item names, optional
        Ordered items (lavaan's ``ordered =``); every item with an ordinal estimator.
    bootstrap : int
        Number of bootstrap draws (0: none).
    seed : int
        Seed of the bootstrap.
    jobs : int
        Worker processes for the bootstrap.
    scheduler : str, optional
        Address of a Dask scheduler for the bootstrap.
    group : str, optional
        Column of the survey file defining groups (multi-group fit, lavaan's ``group =``),
        named by its header or its header without the question number. The spec's path
        labels become one per group (never equal across groups unless ``group_equal`` says
        so); every structural path is then compared between every pair of groups
        (:func:`riskmodel_sem.sem.multigroup.compare_groups`, ``Analysis.groups``).
    group_equal : sequence of str or str
        lavaan's ``group.equal`` (``"loadings,intercepts"`` or a sequence).
    group_partial : sequence of str
        lavaan's ``group.partial`` (``"GIV=~SYM"``).
    min_group_size : int, optional
        Leave out groups with fewer usable rows, with a warning naming them.
    crosscheck : {"semopy"}, optional
        Refit the model with semopy and compare the free estimates
        (:func:`riskmodel_sem.sem.crosscheck.crosscheck_semopy`); needs ``missing="listwise"``
        and no ``group``.
    duration : str, optional
        Completion-time column for screening (default: the spec's ``survey.duration``).
    drop_flagged : bool
        Leave out the respondents that screening flags (``Analysis.cleaning`` records them).

    Returns
    -------
    Analysis
        With ``crosscheck`` (a :class:`riskmodel_sem.sem.crosscheck.CrossCheck`) when asked.
    """
    from .sem.estimation import fit_model, resolve_estimator
    from .workflow.structural import analyze

    given = estimator is not None
    estimator, ordered = resolve_estimator(estimator, ordered)
    from .sem.estimation import check_group_equal

    group_equal = check_group_equal(group_equal)
    if isinstance(group_partial, str):
        group_partial = [p for p in group_partial.split(",") if p.strip()]
    group_partial = tuple(group_partial)
    if group is None and (group_equal or group_partial or min_group_size):
        raise OptionError("--group-equal, --group-partial and --min-group-size need --group.")
    if crosscheck is not None:
        from .sem.crosscheck import check_crosscheck_options

        check_crosscheck_options(crosscheck, missing=missing, group=group, estimator=estimator)
    spec_obj, survey = load_inputs(data, spec, sheet=sheet, id_column=id_column,
                                   anonymous=anonymous)
    check_model_data(survey, missing=missing)
    checked = survey
    survey, cleaning = _screened(survey, spec_obj, duration=duration, drop_flagged=drop_flagged)
    ngroups = 1
    if group is not None:
        group, survey = select_groups(survey, group, min_group_size=min_group_size,
                                      missing=missing)
        from .sem.data import group_label

        ngroups = survey.extra[group].dropna().map(group_label).nunique()
    frame = _model_frame(survey, group)
    if survey is not checked or group is not None:  # rows dropped, or groups to check
        check_model_data(survey, missing=missing, group=group)
    # one label per group, unless the paths are to be equal (group.equal "regressions": the
    # spec's labels are then shared, which holds them equal, as lavaan reads a plain label)
    syntax = (spec_obj.model_syntax(ngroups=ngroups)
              if ngroups > 1 and "regressions" not in group_equal else spec_obj.model_syntax())
    fit = fit_model(syntax, frame, estimator=estimator, missing=missing, group=group,
                    group_equal=group_equal, group_partial=group_partial,
                    source=str(getattr(spec_obj, "source", "model")),
                    ordered=ordered)
    boot = None
    if bootstrap:
        from .sem.bootstrap import bootstrap as run_bootstrap

        client = _dask_client(scheduler) if isinstance(scheduler, str) else None
        try:
            boot = run_bootstrap(fit, frame, bootstrap, seed=seed, jobs=jobs,
                                 scheduler=client if client is not None else scheduler,
                                 progress=progress, group=group,
                                 spec=spec_obj if group is None else None)
        finally:
            if client is not None:
                client.close()
    structural = analyze(fit, spec_obj, boot, data=frame if group is None else None)
    groups = None
    if group is not None:
        from .sem.multigroup import compare_groups

        _progress("riskmodel-sem: testing the differences of the paths between groups ...")
        groups = compare_groups(fit, frame, group, group_equal=group_equal,
                                group_partial=group_partial)
    checked = None
    if crosscheck is not None:
        from .sem.crosscheck import crosscheck_semopy

        checked = crosscheck_semopy(fit, frame)
    options = dict(estimator=estimator, missing=missing, bootstrap=bootstrap, seed=seed,
                   jobs=jobs, group=group)
    if group is not None:
        options.update(group_equal=list(group_equal), group_partial=list(group_partial),
                       min_group_size=min_group_size)
    if ordered is not None:
        options["ordered"] = "all" if ordered is True else list(ordered)
    if crosscheck is not None:
        options["crosscheck"] = crosscheck
    if drop_flagged:
        options.update(drop_flagged=True, duration=cleaning.duration)
    return Analysis("fit", spec_obj, survey, options, fit=fit, structural=structural,
                    groups=groups, crosscheck=checked, cleaning=cleaning,
                    sample=_sample(survey, spec_obj, fit if group is None else None),
                    estimator_choice=estimator_choice(fit.estimator, given=given, fit=fit))


@_collect_warnings
def run_validate(data, spec, *, missing="listwise", estimator=None, duration=None,
                 drop_flagged=False, seed=20231, sheet=None, id_column=None,
                 anonymous=False, ordered=None) -> Analysis:
    """Screening, reliability, validity and the CFA of the measurement model."""
    from .sem.estimation import resolve_estimator
    from .workflow.validation import validate

    given = estimator is not None
    estimator, ordered = resolve_estimator(estimator, ordered)
    from .workflow.sample import clean

    spec_obj, survey = load_inputs(data, spec, sheet=sheet, id_column=id_column,
                                   anonymous=anonymous)
    duration = _duration_column(survey, spec_obj, duration)
    check_model_data(survey, missing=missing)
    result = validate(survey, spec_obj, missing=missing, estimator=estimator,
                      duration=duration, drop_flagged=drop_flagged, seed=seed,
                      ordered=ordered)  # ids: as read
    kept, cleaning = clean(survey, result.screening, drop_flagged=drop_flagged,
                           duration=duration)
    options = dict(missing=missing, estimator=estimator, duration=duration,
                   drop_flagged=drop_flagged, seed=seed)
    if ordered is not None:
        options["ordered"] = "all" if ordered is True else list(ordered)
    choice = estimator_choice(estimator, given=given, normality=result.screening.normality,
                              fit=result.cfa)
    return Analysis("validate", spec_obj, survey, options, validation=result,
                    cleaning=cleaning, sample=_sample(kept, spec_obj), estimator_choice=choice)


@_collect_warnings
def run_compare(data, specs, *, alternatives=False, estimator="ML", missing="listwise",
                sheet=None, id_column=None, anonymous=False, duration=None,
                drop_flagged=False, ordered=None) -> Analysis:
    """Fit several specifications (and the generated alternatives) on the same rows."""
    from .sem.estimation import resolve_estimator
    from .workflow.alternatives import declared_nesting, generate_alternatives, hypothesized_name
    from .sem.comparison import compare
    from .survey.spec import load_spec

    estimator, ordered = resolve_estimator(estimator, ordered)
    specs = list(specs)
    if not specs:
        raise OptionError("Give at least one --spec.")
    spec_objs = [load_spec(s) for s in specs]
    first, survey = load_inputs(data, spec_objs[0], sheet=sheet, id_column=id_column,
                                anonymous=anonymous)
    check_model_data(survey, missing=missing)
    survey, cleaning = _screened(survey, first, duration=duration, drop_flagged=drop_flagged)
    dropped = cleaning.dropped_positions if cleaning is not None else ()
    syntaxes = {}
    for s in spec_objs:
        name = getattr(s, "name", None) or Path(str(s.source)).stem
        if name in syntaxes:
            name = Path(str(s.source)).stem
        syntaxes[name] = s.model_syntax()
    frame = survey.data.copy()
    for s in spec_objs[1:]:
        missing_items = [c for c in s.item_codes if c not in frame.columns]
        if missing_items:
            other = load_inputs(data, s, sheet=sheet, id_column=id_column,
                                anonymous=anonymous)[1]
            for c in missing_items:
                frame[c] = np.delete(other.data[c].to_numpy(), dropped)
    declared, reference = (), next(iter(syntaxes))
    if alternatives:
        generated = generate_alternatives(first)
        # the first spec's own model is the hypothesized alternative (M3): list it once
        own = syntaxes.pop(next(iter(syntaxes)))
        if own not in generated.values():
            syntaxes = {reference: own, **syntaxes}
        syntaxes.update(generated)
        declared = declared_nesting(first)
        reference = hypothesized_name(first)
    result = compare(frame, syntaxes, estimator=estimator, missing=missing,
                     declared_nesting=declared, reference=reference, progress=None,
                     ordered=ordered)
    options = dict(estimator=estimator, missing=missing, alternatives=alternatives,
                   specs=[str(s) for s in specs])
    if ordered is not None:
        options["ordered"] = "all" if ordered is True else list(ordered)
    if drop_flagged:
        options.update(drop_flagged=True, duration=cleaning.duration)
    return Analysis("compare", first, survey, options, comparison=result, cleaning=cleaning)


@_collect_warnings
def run_invariance(data, spec, *, group, estimator="ML", missing="listwise", sheet=None,
                   id_column=None, anonymous=False, duration=None,
                   drop_flagged=False, ordered=None, min_group_size=None) -> Analysis:
    """Configural, metric, scalar and strict invariance across the groups of a column
    (with ordered items: configural, thresholds, metric, scalar as Wu & Estabrook 2016); the
    column is named by its header or its header without the question number, and groups
    smaller than ``min_group_size`` are left out with a warning."""
    from .sem.comparison import invariance
    from .sem.estimation import resolve_estimator

    estimator, ordered = resolve_estimator(estimator, ordered)
    spec_obj, survey = load_inputs(data, spec, sheet=sheet, id_column=id_column,
                                   anonymous=anonymous)
    survey, cleaning = _screened(survey, spec_obj, duration=duration, drop_flagged=drop_flagged)
    group, survey = select_groups(survey, group, min_group_size=min_group_size,
                                  missing=missing)
    frame = _model_frame(survey, group)
    check_model_data(survey, missing=missing, group=group)
    result = invariance(frame, spec_obj.measurement_syntax(), group, estimator=estimator,
                        missing=missing, ordered=ordered)
    options = dict(group=group, estimator=estimator, missing=missing)
    if ordered is not None:
        options["ordered"] = "all" if ordered is True else list(ordered)
    if drop_flagged:
        options.update(drop_flagged=True, duration=cleaning.duration)
    return Analysis("invariance", spec_obj, survey, options, invariance=result,
                    cleaning=cleaning, sample=_sample(survey, spec_obj, group=group))


def _shown(path: Path) -> Path:
    """A bundled file's path relative to the working folder when it lies below it, so that
    reports made from the project folder do not depend on where the project is."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path




def demo_estimator(survey, spec) -> tuple[str, str, str]:
    """The estimator the demo runs: screening's recommendation (WLSMV for items with fewer
    than five categories or strongly asymmetric answers, MLR otherwise; see
    :func:`riskmodel_sem.psychometrics.screening.screen`) when this version can estimate it,
    MLR otherwise. Returns ``(recommended, used, sentence)``."""
    from .psychometrics.screening import screen
    from .sem.estimation import check_options

    with warnings.catch_warnings():
        # validation screens again and reports these remarks itself
        warnings.simplefilter("ignore", RiskModelWarning)
        normality = screen(survey, spec).normality
    recommended = str(normality["recommendation"])
    used = recommended
    try:
        check_options(recommended, "listwise")
    except OptionError:
        used = "MLR"
    sentence = (f"Screening recommends {recommended}: {normality['reason']} The demo runs "
                f"{used}" + (" as recommended." if used == recommended else
                             f", because {recommended} is not available in this version."))
    return recommended, used, sentence


def _alternative_models(spec):
    """The alternatives M0-M7 generated from a YAML spec, each distinct model once (a spec
    without structural paths has M3 = M1), or None when fewer than two remain."""
    from .workflow.alternatives import declared_nesting, generate_alternatives, hypothesized_name

    if getattr(spec, "lavaan_text", None) is not None or len(spec.constructs) < 1:
        return None
    models: dict[str, str] = {}
    for name, syntax in generate_alternatives(spec).items():
        if syntax not in models.values():
            models[name] = syntax
    if len(models) < 2:
        return None
    reference = hypothesized_name(spec)
    if reference not in models:
        reference = next((n for n, x in models.items() if x == spec.model_syntax()),
                         next(iter(models)))
    nesting = [pair for pair in declared_nesting(spec) if all(p in models for p in pair)]
    return models, nesting, reference


@_collect_warnings
def run_report(data, spec, *, group=None, bootstrap=0, estimator=None, missing="listwise",
               drop_flagged=False, duration=None, seed=20231, jobs=1, sheet=None,
               id_column=None, anonymous=False, planned_n=None, command="report",
               ordered=None, by_screening=False) -> Analysis:
    """The whole analysis of a survey in one report.

    Sample description and screening (with ``drop_flagged``, the flagged respondents are left
    out of everything after screening), reliability and validity, the hypothesized model with
    its hypotheses and indirect effects (bootstrap CIs with ``bootstrap`` draws), the
    alternative models M0-M7 and, with ``group``, measurement invariance across its groups and
    the comparison of the hypothesized paths between them.

    Parameters
    ----------
    data, spec : str or Path
        Survey file and spec (YAML or ``.lav``).
    group : str, optional
        Column whose groups the invariance analysis compares.
    bootstrap : int
        Draws for the indirect effects (0: delta-method intervals).
    estimator : {"ML", "MLR", "WLSMV", "ULSMV", "DWLS", "ULS"}, optional
        Default lavaan's: ML, or WLSMV with ``ordered``.
    missing : {"listwise", "fiml", "pairwise"}
    drop_flagged : bool
        Leave out the respondents flagged by screening.
    duration : str, optional
        Completion-time column (default: the spec's ``survey.duration``).
    seed, jobs : int
        Seed of the parallel analysis and the bootstrap; worker processes of the bootstrap.
    planned_n : int, optional
        The N a power analysis asked for; the sample-size note cites it.
    command : str
        Name recorded in the results (``"demo"`` for the bundled files).
    by_screening : bool
        The estimator is the screening's recommendation, run as such (``demo``); the
        methods text then says so (:class:`~riskmodel_sem.workflow.estimator.EstimatorChoice`).

    Returns
    -------
    Analysis
        With ``sample``, ``cleaning``, ``validation``, ``fit``, ``structural``,
        ``comparison``, (with population values in the spec) ``power`` and (with ``group``)
        ``invariance`` and ``groups`` (the hypothesized paths compared across the groups).
    """
    from .errors import ModelError
    from .sem.comparison import compare, invariance
    from .sem.estimation import fit_model
    from .workflow.sample import clean
    from .workflow.structural import analyze
    from .workflow.validation import validate

    spec_obj, survey = load_inputs(data, spec, sheet=sheet, id_column=id_column,
                                   anonymous=anonymous)
    duration = _duration_column(survey, spec_obj, duration)
    if group is not None:
        group = _column(survey, group, "group column")
    check_model_data(survey, missing=missing)
    _progress("riskmodel-sem: screening and validating the measurement model ...")
    validation = validate(survey, spec_obj, missing=missing, estimator=estimator,
                          duration=duration, drop_flagged=drop_flagged, seed=seed,
                          bootstrap=bootstrap, ordered=ordered)
    survey, cleaning = clean(survey, validation.screening, drop_flagged=drop_flagged,
                             duration=duration)
    check_model_data(survey, missing=missing)
    _progress("riskmodel-sem: fitting the hypothesized model ...")
    frame = survey.data
    fit = fit_model(spec_obj.model_syntax(), frame, estimator=estimator, missing=missing,
                    source=str(getattr(spec_obj, "source", "model")), ordered=ordered)
    boot = None
    if bootstrap:
        from .sem.bootstrap import bootstrap as run_bootstrap

        boot = run_bootstrap(fit, frame, bootstrap, seed=seed, jobs=jobs, spec=spec_obj)
    structural = analyze(fit, spec_obj, boot, data=frame)
    comparison = None
    alternatives = _alternative_models(spec_obj)
    if alternatives is not None:
        models, nesting, reference = alternatives
        _progress(f"riskmodel-sem: comparing the alternative models {', '.join(models)} ...")
        try:
            comparison = compare(frame, models, estimator=estimator, missing=missing,
                                 declared_nesting=nesting, reference=reference,
                                 ordered=ordered)
        except ModelError as exc:
            warnings.warn(f"The alternative models were not compared: {exc}", RiskModelWarning,
                          stacklevel=2)
    inv = None
    if group is not None:
        _progress(f"riskmodel-sem: measurement invariance across {group!r} ...")
        n_groups = survey.extra[group].dropna().astype(str).nunique()
        if n_groups < 2:
            raise OptionError(f"{_where(survey)}: The group column {group!r} has {n_groups} "
                              "group(s); invariance needs at least two.")
        check_model_data(survey, missing=missing, group=group)
        inv = invariance(_model_frame(survey, group), spec_obj.measurement_syntax(), group,
                         estimator=estimator, missing=missing, ordered=ordered)
    groups = _report_groups(survey, spec_obj, group, estimator=fit.estimator, missing=missing,
                            ordered=ordered if fit.ordinal is not None else None)
    power = _report_power(spec_obj, fit)
    if planned_n is None and power is not None:
        planned_n = _planned_n(power)
    sample = _sample(survey, spec_obj, fit, group=group, planned_n=planned_n)
    options = dict(estimator=fit.estimator, missing=missing, bootstrap=bootstrap, seed=seed,
                   jobs=jobs, group=group, drop_flagged=bool(drop_flagged), duration=duration)
    if planned_n is not None:
        options["planned_n"] = int(planned_n)
    choice = estimator_choice(fit.estimator, given=estimator is not None,
                              normality=validation.screening.normality, fit=fit,
                              by_screening=by_screening)
    return Analysis(command, spec_obj, survey, options, validation=validation, fit=fit,
                    structural=structural, comparison=comparison, invariance=inv,
                    cleaning=cleaning, sample=sample, power=power, groups=groups,
                    estimator_choice=choice)


def _report_groups(survey, spec, group, *, estimator, missing, ordered=None):
    """The hypothesized paths compared across the groups of ``group`` (``fit --group``'s
    :func:`~riskmodel_sem.sem.multigroup.compare_groups`, every parameter free per group,
    ``ordered`` items as in the report's fit); None without a group column."""
    if group is None:
        return None
    from .errors import ModelError
    from .sem.data import group_label
    from .sem.estimation import fit_model
    from .sem.multigroup import compare_groups

    _progress(f"riskmodel-sem: the hypothesized paths across {group!r} ...")
    frame = _model_frame(survey, group)
    k = survey.extra[group].dropna().map(group_label).nunique()
    try:
        fit = fit_model(spec.model_syntax(ngroups=k), frame, estimator=estimator,
                        missing=missing, group=group, compute_modindices=False,
                        source=str(getattr(spec, "source", "model")), ordered=ordered)
        return compare_groups(fit, frame, group)
    except ModelError as exc:
        warnings.warn(f"The paths were not compared across the groups of {group!r}: {exc}",
                      RiskModelWarning, stacklevel=2)
        return None


def _report_power(spec, fit):
    """The analytic power analysis of a spec with population values, at the survey's N (None
    without population values)."""
    if getattr(spec, "population", None) is None:
        return None
    from .errors import ModelError, SpecError
    from .workflow.power import power_analysis

    try:
        return power_analysis(spec, ns=(max(int(fit.n_obs), 10),))
    except (ModelError, SpecError, OptionError) as exc:
        warnings.warn(f"The power analysis of the spec's population values was skipped: {exc}",
                      RiskModelWarning, stacklevel=2)
        return None


def _planned_n(power) -> int | None:
    """The N every hypothesized path needs for the target power (None when one never gets
    there or the model has none)."""
    kinds = dict(zip(power.paths["label"], power.paths["kind"]))
    needed = [n for label, n in zip(power.paths_required["label"],
                                    power.paths_required["n_required"])
              if kinds.get(label) == "path"]
    if not needed or any(n is None or n != n for n in needed):
        return None
    return int(max(needed))


def run_demo(*, bootstrap=DEMO_BOOTSTRAP, seed=20231, jobs=1) -> Analysis:
    """``report`` on the bundled survey and the paper's spec: sample, screening, validation,
    the hypothesized model, the hypotheses, the indirect effects and the alternatives M0-M7,
    all with the estimator the demo's own screening recommends (:func:`demo_estimator`); the
    choice and its reason are printed and kept in the options (``estimator_recommended``,
    ``estimator_choice``)."""
    spec0, survey0 = load_inputs(BUNDLED_SURVEY, BUNDLED_SPEC)
    recommended, estimator, sentence = demo_estimator(survey0, spec0)
    _progress(f"riskmodel-sem: {sentence}")
    analysis = run_report(_shown(BUNDLED_SURVEY), _shown(BUNDLED_SPEC), bootstrap=bootstrap,
                          seed=seed, jobs=jobs, estimator=estimator, command="demo",
                          by_screening=estimator == recommended)
    options = dict(analysis.options)
    options["estimator_recommended"] = recommended
    options["estimator_choice"] = sentence
    return dataclasses.replace(analysis, options=options)


def run_init(data, out, *, sheet=None, seed=20231) -> list[Path]:
    """Draft a spec from a questionnaire export and write it to ``out`` (whole or not at all).

    See :func:`riskmodel_sem.workflow.draft.draft_spec` for how columns, the scale and the
    constructs are found. The draft is loaded again before it is written, so a file that is
    written always loads.
    """
    import tempfile

    from .survey.spec import load_spec
    from .workflow.draft import draft_spec

    target = check_output_path(out, folder=False)
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise OptionError(f"{out}: The spec must be a .yaml file (--out spec.yaml).")
    if Path(data).resolve() == target.resolve():
        raise OutputError(f"{target}: This output would replace the input file {data}; "
                          "choose another --out.")
    draft = draft_spec(data, sheet, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:  # the draft must load as written
        check = Path(tmp) / target.name
        check.write_text(draft.text, encoding="utf-8")
        load_spec(check)
    n_items = sum(len(v) for v in draft.constructs.values())
    how = ("item codes in the headers" if draft.method == "codes" else
           "an exploratory factor analysis (a proposal: edit the constructs)")
    _progress(f"riskmodel-sem: {n_items} items on {len(draft.constructs)} constructs from {how}"
              + (f"; {len(draft.unassigned)} item(s) left out" if draft.unassigned else "")
              + (f"; reverse-keyed proposed: {', '.join(draft.reverse)}" if draft.reverse
                 else "")
              + f"; {len(draft.demographics)} demographic column(s).")
    return write_files({target: draft.text.encode("utf-8")})


@_collect_warnings
def run_power(spec, *, ns=(150, 300, 600), reps=0, seed=20231, alpha=0.05, target=0.80,
              estimator="ML", likert=True, jobs=1, scheduler=None, progress=None) -> Analysis:
    """Analytic and Monte Carlo power of the spec's hypothesized model (no survey needed)."""
    from .survey.spec import load_spec
    from .workflow.power import power_analysis

    spec_obj = load_spec(spec)
    client = _dask_client(scheduler) if scheduler else None
    try:
        result = power_analysis(spec_obj, ns=ns, reps=reps, seed=seed, alpha=alpha,
                                target=target, estimator=estimator, likert=likert, jobs=jobs,
                                scheduler=client, progress=progress)
    finally:
        if client is not None:
            client.close()
    options = {"ns": list(ns), "reps": reps, "seed": seed, "alpha": alpha,
               "target_power": target, "estimator": estimator,
               "data": "likert" if likert else "continuous", "jobs": jobs}
    return Analysis("power", spec_obj, None, options, power=result)


def write_outputs(analysis: Analysis, *, out=None, json_file=None, lang=None) -> list[Path]:
    """Write ``report.xlsx``, ``report.html``, ``report.docx``, ``diagram.svg``, ``diagram.png``
    and ``results.json`` into ``out`` and/or the JSON
    to ``json_file``, all whole or not at all."""
    payloads: dict[Path, bytes] = {}
    results = to_json_bytes(analysis.to_dict())
    if json_file:
        payloads[Path(json_file)] = results
    if out:
        from .report import render_reports

        folder = prepare_dir(out)
        for name, payload in render_reports(analysis, lang=lang).items():
            payloads[folder / name] = payload
        payloads[folder / "results.json"] = results
        cleaning = analysis.cleaning
        if cleaning is not None and cleaning.drop_flagged and analysis.survey is not None:
            from .report.cleaned import cleaned_workbook
            from .survey.readers import read_table

            table = read_table(analysis.survey.source, analysis.survey.sheet)
            payloads[folder / CLEANED_FILE] = cleaned_workbook(
                table, cleaning, lang=lang or getattr(analysis.spec, "language", "en"))
    if not payloads:
        return []
    _refuse_inputs(analysis, payloads)
    return write_files(payloads)


def _refuse_inputs(analysis: Analysis, payloads: dict) -> None:
    """Raise OutputError when an output would replace one of the run's input files."""
    inputs = []
    if analysis.survey is not None:
        inputs.append(analysis.survey.source)
    inputs.append(getattr(analysis.spec, "source", None))
    inputs.extend(analysis.options.get("specs", ()))
    resolved = {}
    for src in inputs:
        if src is not None:
            try:
                resolved[Path(src).resolve()] = src
            except OSError:
                pass
    for target in payloads:
        src = resolved.get(Path(target).resolve())
        if src is not None:
            raise OutputError(f"{target}: This output would replace the input file {src}; "
                              "choose another --out or --json.")


def run(args) -> list[Path]:
    """Run one parsed command line; return the files written.

    The command runs with BLAS limited to one thread: its matrices are small (tens of items),
    and threaded BLAS makes each product several times slower (a resample's item
    correlations: 1.3 ms on two threads, 0.35 ms on one)."""
    from .sem._blas import one_blas_thread

    with one_blas_thread():
        return _run(args)


def _run(args) -> list[Path]:
    cmd = args.command
    if cmd not in ("simulate", "init"):
        _check_outputs(args)
    if cmd == "init":
        return run_init(args.data, args.out, sheet=args.sheet, seed=args.seed)
    if cmd == "simulate":
        from .survey.simulate import run_simulate

        return [run_simulate(args.spec, args.n, args.seed, args.out)]
    if cmd == "demo":
        analysis = run_demo(bootstrap=args.bootstrap, seed=args.seed, jobs=args.jobs)
        out = args.out or Path("reports", "demo")  # below the current folder
        return write_outputs(analysis, out=out, lang=args.lang)
    if cmd == "power":
        analysis = run_power(args.spec, ns=args.ns, reps=args.reps, seed=args.seed,
                             alpha=args.alpha, target=args.target, estimator=args.estimator,
                             likert=not args.continuous, jobs=args.jobs,
                             scheduler=args.scheduler, progress=sys.stderr.isatty())
        if not (args.out or args.json):
            _progress("riskmodel-sem: no --out or --json given; printing the power summary "
                      "only.")
            _print_power(analysis.power)
            return []
        return write_outputs(analysis, out=args.out, json_file=args.json, lang=args.lang)
    common = dict(sheet=args.sheet, id_column=args.id_column, anonymous=args.no_ids)
    screening = dict(duration=args.duration, drop_flagged=args.drop_flagged)
    if cmd == "report":
        analysis = run_report(args.data, args.spec, group=args.group, bootstrap=args.bootstrap,
                              estimator=args.estimator, missing=args.missing, seed=args.seed,
                              jobs=args.jobs, ordered=args.ordered, **screening, **common)
        return write_outputs(analysis, out=args.out, json_file=args.json, lang=args.lang)
    if cmd == "fit":
        progress = None  # a bar on a terminal, none in a pipe or with --quiet
        analysis = run_fit(args.data, args.spec, estimator=args.estimator,
                           missing=args.missing, bootstrap=args.bootstrap, seed=args.seed,
                           jobs=args.jobs, scheduler=args.scheduler, group=args.group,
                           group_equal=args.group_equal or (),
                           group_partial=args.group_partial or (),
                           min_group_size=args.min_group_size,
                           progress=progress, crosscheck=args.crosscheck, **screening,
                           ordered=args.ordered, **common)
        if analysis.crosscheck is not None:
            c = analysis.crosscheck
            _progress(f"riskmodel-sem: crosscheck with {c.engine} {c.version}: largest absolute "
                      f"difference {c.max_abs_diff:.2g} ({c.parameter}) over {c.n_compared} "
                      "free parameters.")
    elif cmd == "validate":
        analysis = run_validate(args.data, args.spec, missing=args.missing,
                                estimator=args.estimator, seed=args.seed, **screening,
                                ordered=args.ordered, **common)
    elif cmd == "compare":
        analysis = run_compare(args.data, args.spec, alternatives=args.alternatives,
                               estimator=args.estimator, missing=args.missing, **screening,
                               ordered=args.ordered, **common)
    elif cmd == "invariance":
        analysis = run_invariance(args.data, args.spec, group=args.group,
                                  estimator=args.estimator, missing=args.missing,
                                  min_group_size=args.min_group_size,
                                  **screening, ordered=args.ordered, **common)
    else:  # pragma: no cover - argparse restricts the choices
        raise OptionError(f"Unknown command {cmd!r}.")
    if getattr(args, "summary", False) and analysis.fit is not None:
        sys.stdout.write(analysis.fit.summary())
        if not (args.out or args.json):
            return []
    if not (args.out or args.json):
        _progress("riskmodel-sem: no --out or --json given; printing the fit summary only.")
        _print_summary(analysis)
        return []
    return write_outputs(analysis, out=args.out, json_file=args.json, lang=args.lang)


def _check_outputs(args) -> None:
    """Fail before any work when --out or --json cannot be used or would replace an input."""
    targets = []
    if getattr(args, "out", None):
        folder = check_output_path(args.out, folder=True)
        from .report import REPORT_FILES

        targets += [folder / name for name in (*REPORT_FILES.values(), "results.json",
                                               CLEANED_FILE)]
    if getattr(args, "json", None):
        targets.append(check_output_path(args.json, folder=False))
    specs = getattr(args, "spec", None)
    inputs = [getattr(args, "data", None)] + (specs if isinstance(specs, list) else [specs])
    resolved = {Path(p).resolve(): p for p in inputs if p}
    for target in targets:
        src = resolved.get(target.resolve())
        if src is not None:
            raise OutputError(f"{target}: This output would replace the input file {src}; "
                              "choose another --out or --json.")


def _print_summary(analysis: Analysis) -> None:
    fit = analysis.fit
    if fit is not None:
        keys = ["chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"]
        print("  ".join(f"{k}={fit.fit[k]:.3f}" if k != "df" else f"df={fit.fit[k]}"
                        for k in keys if k in fit.fit))


def _print_power(result) -> None:
    print(f"df={result.df}  N required: close fit {result.n_required_close}, not-close fit "
          f"{result.n_required_notclose}")
    for _, r in result.paths_required.iterrows():
        print(f"{r['label']}: N required {r['n_required']}")
