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
from .limits import DEMO_BOOTSTRAP
from .errors import OptionError, OutputError, RiskModelWarning, SurveyDataError
from .outputs import check_output_path, prepare_dir, to_json_bytes, write_files
from .survey.bundled import bundled_spec, bundled_survey

__all__ = ["run", "run_fit", "run_validate", "run_compare", "run_invariance", "run_demo",
           "write_outputs", "load_inputs", "check_model_data", "BUNDLED_SPEC", "BUNDLED_SURVEY"]

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
    print(message, file=sys.stderr, flush=True)


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
        (``"您的性别"`` for ``"1.您的性别"``; :func:`riskmodel_sem.survey.readers.find_column`).
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
    from .survey.readers import find_column

    name = find_column(survey.extra.columns, group, where=_where(survey), what="group column")
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
        for code in frame.columns:
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
def run_fit(data, spec, *, estimator="ML", missing="listwise", bootstrap=0, seed=20231,
            jobs=1, scheduler=None, group=None, group_equal=(), group_partial=(),
            min_group_size=None, sheet=None, id_column=None,
            progress=None, crosscheck=None, anonymous=False) -> Analysis:
    """Fit the hypothesized model, judge the hypotheses, optionally bootstrap.

    Every warning of the run is raised once and held in ``Analysis.warnings`` (as for every
    ``run_*`` function).

    Parameters
    ----------
    data, spec : str or Path
        Survey file and spec (YAML or ``.lav``).
    estimator : {"ML", "MLR"}
    missing : {"listwise", "fiml"}
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

    Returns
    -------
    Analysis
        With ``crosscheck`` (a :class:`riskmodel_sem.sem.crosscheck.CrossCheck`) when asked.
    """
    from .sem.estimation import fit_model
    from .workflow.structural import analyze

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
    ngroups = 1
    if group is not None:
        group, survey = select_groups(survey, group, min_group_size=min_group_size,
                                      missing=missing)
        from .sem.data import group_label

        ngroups = survey.extra[group].dropna().map(group_label).nunique()
    frame = _model_frame(survey, group)
    check_model_data(survey, missing=missing, group=group)
    # one label per group, unless the paths are to be equal (group.equal "regressions": the
    # spec's labels are then shared, which holds them equal, as lavaan reads a plain label)
    syntax = (spec_obj.model_syntax(ngroups=ngroups)
              if ngroups > 1 and "regressions" not in group_equal else spec_obj.model_syntax())
    fit = fit_model(syntax, frame, estimator=estimator, missing=missing, group=group,
                    group_equal=group_equal, group_partial=group_partial,
                    source=str(getattr(spec_obj, "source", "model")))
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
    structural = analyze(fit, spec_obj, boot)
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
    if crosscheck is not None:
        options["crosscheck"] = crosscheck
    return Analysis("fit", spec_obj, survey, options, fit=fit, structural=structural,
                    groups=groups, crosscheck=checked)


@_collect_warnings
def run_validate(data, spec, *, missing="listwise", estimator="ML", duration=None,
                 drop_flagged=False, seed=20231, sheet=None, id_column=None,
                 anonymous=False) -> Analysis:
    """Screening, reliability, validity and the CFA of the measurement model."""
    from .workflow.validation import validate

    spec_obj, survey = load_inputs(data, spec, sheet=sheet, id_column=id_column,
                                   anonymous=anonymous)
    if duration is not None and duration not in survey.extra.columns:
        choices = ", ".join(map(str, survey.extra.columns)) or "none"
        raise OptionError(f"{_where(survey)}: No duration column {duration!r}; use one of the "
                          f"columns that are not items: {choices}.")
    check_model_data(survey, missing=missing)
    result = validate(survey, spec_obj, missing=missing, estimator=estimator,
                      duration=duration, drop_flagged=drop_flagged, seed=seed)  # ids: as read
    options = dict(missing=missing, estimator=estimator, duration=duration,
                   drop_flagged=drop_flagged, seed=seed)
    return Analysis("validate", spec_obj, survey, options, validation=result)


@_collect_warnings
def run_compare(data, specs, *, alternatives=False, estimator="ML", missing="listwise",
                sheet=None, id_column=None, anonymous=False) -> Analysis:
    """Fit several specifications (and the generated alternatives) on the same rows."""
    from .workflow.alternatives import declared_nesting, generate_alternatives, hypothesized_name
    from .sem.comparison import compare
    from .survey.spec import load_spec

    specs = list(specs)
    if not specs:
        raise OptionError("Give at least one --spec.")
    spec_objs = [load_spec(s) for s in specs]
    first, survey = load_inputs(data, spec_objs[0], sheet=sheet, id_column=id_column,
                                anonymous=anonymous)
    check_model_data(survey, missing=missing)
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
                frame[c] = other.data[c].to_numpy()
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
                     declared_nesting=declared, reference=reference)
    options = dict(estimator=estimator, missing=missing, alternatives=alternatives,
                   specs=[str(s) for s in specs])
    return Analysis("compare", first, survey, options, comparison=result)


@_collect_warnings
def run_invariance(data, spec, *, group, estimator="ML", missing="listwise", sheet=None,
                   id_column=None, anonymous=False, min_group_size=None) -> Analysis:
    """Configural, metric, scalar and strict invariance across the groups of a column (named
    by its header or its header without the question number; groups smaller than
    ``min_group_size`` left out with a warning)."""
    from .sem.comparison import invariance

    spec_obj, survey = load_inputs(data, spec, sheet=sheet, id_column=id_column,
                                   anonymous=anonymous)
    group, survey = select_groups(survey, group, min_group_size=min_group_size,
                                  missing=missing)
    frame = _model_frame(survey, group)
    check_model_data(survey, missing=missing, group=group)
    result = invariance(frame, spec_obj.measurement_syntax(), group, estimator=estimator,
                        missing=missing)
    options = dict(group=group, estimator=estimator, missing=missing)
    return Analysis("invariance", spec_obj, survey, options, invariance=result)


def _shown(path: Path) -> Path:
    """A bundled file's path relative to the working folder when it lies below it, so that
    reports made from the project folder do not depend on where the project is."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path




@_collect_warnings
def run_demo(*, bootstrap=DEMO_BOOTSTRAP, seed=20231, jobs=1) -> Analysis:
    """The bundled survey and the paper's spec: validation, the hypothesized model, the
    hypotheses and the comparison of the alternatives M0-M7."""
    from .workflow.alternatives import declared_nesting, generate_alternatives, hypothesized_name
    from .sem.comparison import compare
    from .workflow.validation import validate

    fitted = run_fit(_shown(BUNDLED_SURVEY), _shown(BUNDLED_SPEC), bootstrap=bootstrap,
                     seed=seed, jobs=jobs)
    spec, survey = fitted.spec, fitted.survey
    _progress("riskmodel-sem: validating the measurement model ...")
    validation = validate(survey, spec, seed=seed)
    _progress("riskmodel-sem: comparing the alternatives M0-M7 ...")
    comparison = compare(survey.data, generate_alternatives(spec),
                         declared_nesting=declared_nesting(spec),
                         reference=hypothesized_name(spec))
    options = dict(fitted.options)
    return Analysis("demo", spec, survey, options, validation=validation, fit=fitted.fit,
                    structural=fitted.structural, comparison=comparison,
                    warnings=fitted.warnings)


def write_outputs(analysis: Analysis, *, out=None, json_file=None, lang=None) -> list[Path]:
    """Write ``report.xlsx``, ``report.html`` and ``results.json`` into ``out`` and/or the JSON
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
    """Run one parsed command line; return the files written."""
    cmd = args.command
    if cmd != "simulate":
        _check_outputs(args)
    if cmd == "simulate":
        from .survey.simulate import run_simulate

        return [run_simulate(args.spec, args.n, args.seed, args.out)]
    if cmd == "demo":
        analysis = run_demo(bootstrap=args.bootstrap, seed=args.seed, jobs=args.jobs)
        out = args.out or Path("reports", "demo")  # below the current folder
        return write_outputs(analysis, out=out, lang=args.lang)
    common = dict(sheet=args.sheet, id_column=args.id_column, anonymous=args.no_ids)
    if cmd == "fit":
        progress = sys.stderr.isatty()
        analysis = run_fit(args.data, args.spec, estimator=args.estimator,
                           missing=args.missing, bootstrap=args.bootstrap, seed=args.seed,
                           jobs=args.jobs, scheduler=args.scheduler, group=args.group,
                           group_equal=args.group_equal or (),
                           group_partial=args.group_partial or (),
                           min_group_size=args.min_group_size,
                           progress=progress, crosscheck=args.crosscheck, **common)
        if analysis.crosscheck is not None:
            c = analysis.crosscheck
            _progress(f"riskmodel-sem: crosscheck with {c.engine} {c.version}: largest absolute "
                      f"difference {c.max_abs_diff:.2g} ({c.parameter}) over {c.n_compared} "
                      "free parameters.")
    elif cmd == "validate":
        analysis = run_validate(args.data, args.spec, missing=args.missing,
                                estimator=args.estimator, duration=args.duration,
                                drop_flagged=args.drop_flagged, seed=args.seed, **common)
    elif cmd == "compare":
        analysis = run_compare(args.data, args.spec, alternatives=args.alternatives,
                               estimator=args.estimator, missing=args.missing, **common)
    elif cmd == "invariance":
        analysis = run_invariance(args.data, args.spec, group=args.group,
                                  estimator=args.estimator, missing=args.missing,
                                  min_group_size=args.min_group_size, **common)
    else:  # pragma: no cover - argparse restricts the choices
        raise OptionError(f"Unknown command {cmd!r}.")
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
        targets += [folder / name for name in ("report.xlsx", "report.html", "results.json")]
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
