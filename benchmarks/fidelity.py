"""Regenerate docs/fidelity.md: our numbers against lavaan 0.6.14 / semTools / psych.

Usage::

    python benchmarks/fidelity.py [--reference tests/reference] [--out docs/fidelity.md]

For every reference case it fits the model as the reference's R call did and reports the
largest deviation per block. Deviation = |ours - lavaan| / max(|lavaan|, 1e-3): relative for
ordinary values, absolute (scaled by 1000) for values near zero such as p-values of 1e-40,
where only the absolute difference means anything. The tests assert 1e-4 on the same numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from riskmodel_sem.sem import bootstrap
from riskmodel_sem.psychometrics import reliability, validity  # noqa: E402
from riskmodel_sem.sem.comparison import compare, invariance  # noqa: E402
from riskmodel_sem.sem.estimation import fit_model  # noqa: E402


def _dev(ours, ref) -> float:
    if ref is None:
        return 0.0
    ours = float(ours)
    if not np.isfinite(ours):
        return np.inf
    return abs(ours - ref) / max(abs(ref), 1e-3)


def _estimates(res, rows) -> float:
    cols = ["lhs", "op", "rhs"] + (["group"] if "group" in res.estimates else [])
    est = res.estimates.set_index(cols)
    worst = 0.0
    for row in rows:
        key = tuple(row[c] for c in cols)
        mine = est.loc[key]
        for col, rcol in (("est", "est"), ("se", "se"), ("std_all", "std.all")):
            worst = max(worst, _dev(mine[col], row[rcol]))
    return worst


def _fit(res, ref_fit) -> float:
    return max(_dev(res.fit[k.replace(".", "_")], v) for k, v in ref_fit.items()
               if v is not None)


def _r2(res, ref_r2) -> float:
    return max(_dev(res.r2[k], v) for k, v in ref_r2.items())


def _mi(res, rows) -> float | None:
    if res.modindices.empty:
        return None  # comparisons skip modification indices
    keyed = {}
    for r in res.modindices.itertuples():
        keyed[(r.lhs, r.op, r.rhs)] = r
        if r.op == "~~":
            keyed[(r.rhs, r.op, r.lhs)] = r
    worst = 0.0
    for row in rows:
        mine = keyed[(row["lhs"], row["op"], row["rhs"])]
        worst = max(worst, _dev(mine.mi, row["mi"]), _dev(mine.epc, row["epc"]),
                    _dev(mine.sepc_all, row["sepc.all"]))
    return worst


def _reliability(res, rel, data) -> float:
    worst = 0.0
    for name, value in reliability.omega(res).items():
        worst = max(worst, _dev(value, rel["omega"][name]))
    for name, value in reliability.ave(res).items():
        worst = max(worst, _dev(value, rel["ave"][name]))
    for name, block in rel["psych_alpha"].items():
        alpha = reliability.cronbach_alpha(data[block["items"]])
        worst = max(worst, _dev(alpha.alpha, block["raw_alpha"]),
                    _dev(alpha.alpha_std, block["std.alpha"]),
                    _dev(alpha.alpha_ci_lower, block["ci95_feldt"]["lower"]),
                    _dev(alpha.alpha_ci_upper, block["ci95_feldt"]["upper"]))
    return worst


def _htmt(model_syntax, data, rel) -> float:
    constructs = {}
    for line in model_syntax.splitlines():
        if "=~" in line:
            lhs, rhs = line.split("=~")
            items = [t.split("*")[-1].strip() for t in rhs.split("+")]
            if all(i in data.columns for i in items):
                constructs[lhs.strip()] = items
    worst = 0.0
    for key, geometric in (("htmt", True), ("htmt_original", False)):
        ours = validity.htmt(data, constructs, geometric=geometric)
        for a, row in rel[key].items():
            for b, value in row.items():
                if value is not None and a in ours.index and b in ours.columns:
                    worst = max(worst, _dev(ours.loc[a, b], value))
    return worst


def _fmt(x) -> str:
    return "" if x is None else f"{x:.1e}"


def _corpus_lines() -> list[str]:
    """The differential corpus (tests/lavaan_cases/): one row per case, compared as
    tests/test_lavaan_cases.py compares it."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_lavaan_cases as corpus  # noqa: E402

    lines = ["", "## The differential corpus (`tests/lavaan_cases/`)", "",
             "Every case is fitted as its lavaan call (`case.json`) and compared on every "
             "parameterEstimates column, every fitMeasures entry, R² and the ten largest "
             "modification indices (`tests/test_lavaan_cases.py`). Cells: largest deviation "
             "as above; *differences* counts the entries outside the tests' tolerance.", "",
             "| case | description | estimates | fit measures | r² | modification indices "
             "| differences |", "|---|---|---:|---:|---:|---:|---:|"]
    for name in corpus._case_names():
        case = json.loads((corpus.CASES / name / "case.json").read_text(encoding="utf-8"))
        worst: dict = {}
        try:
            problems = corpus.compare_case(name, worst)
        except Exception as exc:  # a case we cannot fit is reported, not hidden
            lines.append(f"| {name} | {case['description']} | | | | | not fitted: "
                         f"{type(exc).__name__}: {exc} |")
            continue
        cells = [_fmt(worst.get(b)) for b in ("estimates", "fit", "r2", "modindices")]
        lines.append(f"| {name} | {case['description']} | " + " | ".join(cells)
                     + f" | {len(problems)} |")
    gaps = sorted(corpus.NOT_REPORTED_COLUMNS | corpus.NOT_REPORTED_FIT)
    lines += ["", "Not yet compared: " + (", ".join(f"`{g}`" for g in gaps) or "nothing") + "."]
    if corpus.KNOWN_DIFFERENCES:
        lines += ["", "Known differences (lavaan's optimizer stops before the optimum, unless "
                  "the entry says otherwise; each entry is left out of the comparison, "
                  "everything else in the case is compared):", ""]
        lines += [f"- `{case}`: {entry}: {why}."
                  for (case, entry), why in sorted(corpus.KNOWN_DIFFERENCES.items())]
        lines += ["", "The same stopping shows in models kept out of the corpus for it: with "
                  "two groups and observed covariates (`sem(model, group = \"school\")` with "
                  "`visual + textual + speed ~ ageyr + sex`) lavaan's small slopes differ from "
                  "the optimum by up to 3e-5 (5e-4 relative) at an objective 3e-10 higher than "
                  "riskmodel-sem's; a tighter `control = list(rel.tol = 1e-11)` makes nlminb "
                  "report no convergence. riskmodel-sem reports the optimum."]
    lines += ["", "Ordered items with observed covariates (lavaan's default `conditional.x = "
              "TRUE`): two behaviours of lavaan 0.6.14 are deliberately not copied. (1) The "
              "starting value of a residual polyserial correlation is computed from the "
              "thresholds at x = 0; with a covariate far from zero (age in years) it falls "
              "outside (-1, 1), nlminb starts on the bound 0.995, and its objective, which "
              "drops the cases whose likelihood falls below sqrt(eps), rises towards that "
              "bound, so lavaan reports a correlation of 0.995 (\"nearly 1.0\") where the "
              "likelihood equation has its root near 0.2 (x4 and x8 of hs_ordinal5_mixed.csv "
              "given sex and ageyr); riskmodel-sem reports the root. (2) An ordered item that "
              "is both an indicator and a predictor (`x4 ~ x1 + sex` with x1 an indicator) "
              "leaves lavaan with its slope at 0 and an information matrix it cannot invert; "
              "riskmodel-sem estimates the slope. Neither model is in the corpus. With age in "
              "years the thresholds at x = 0 are far from the data and weakly determined; in "
              "the theta parameterization and with thresholds equal across schools lavaan's "
              "nlminb then stops at gradients near 1e-6, up to 2e-4 relative from the "
              "optimum, so those two corpus cases use age in months."]
    lines += ["", "Constraints (`==`, `<`, `>`): lavaan estimates models with nonlinear or "
              "inequality constraints by `nlminb.constr`, an augmented Lagrangian whose default "
              "tolerances stop short of the constrained optimum (its chi-square is up to ~5e-6 "
              "above ours, or below it when an active bound is slightly violated), which moves "
              "weakly determined estimates by up to ~1e-4 relative. The corpus cases of those "
              "kinds therefore pass lavaan tighter tolerances (`control` in `case.json`: "
              "`rel.tol` 1e-12 (1e-10 with FIML), `control.outer$tol` 1e-12), with which "
              "lavaan's chi-square equals ours to 1e-9. A parameter that active constraints "
              "determine has SE 0 and no z here, as lavaan's rules give for a zero variance; "
              "lavaan itself prints 0 or NA there, depending on the sign of the rounding noise "
              "its generalized inverse leaves."]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=str(ROOT / "tests" / "reference"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "fidelity.md"))
    args = parser.parse_args(argv)
    ref_dir = Path(args.reference)
    load = lambda name: json.loads((ref_dir / name).read_text(encoding="utf-8"))  # noqa: E731
    data = lambda name: pd.read_csv(ref_dir / name)  # noqa: E731
    rows = []
    single = [("hs_cfa_ml.json", "holzinger1939.csv", "ML", "listwise"),
              ("hs_cfa_mlr.json", "holzinger1939.csv", "MLR", "listwise"),
              ("hs_cfa_fiml.json", "holzinger1939_missing.csv", "ML", "fiml"),
              ("poldem_sem_ml.json", "political_democracy.csv", "ML", "listwise"),
              ("hs_second_order.json", "holzinger1939.csv", "ML", "listwise")]
    for name, csv, estimator, missing in single:
        ref = load(name)
        frame = data(csv)
        res = fit_model(ref["model"], frame, estimator=estimator, missing=missing)
        rel = ref.get("reliability")
        rows.append((name, f"{estimator}, {missing}", _estimates(res, ref["estimates"]),
                     _fit(res, ref["fit"]), _r2(res, ref["r2"]),
                     _mi(res, ref["modindices"]),
                     _reliability(res, rel, frame) if rel and missing == "listwise" else None,
                     _htmt(ref["model"], frame, rel) if rel and missing == "listwise" else None,
                     None))
    comp = load("hs_compare.json")
    hs = data("holzinger1939.csv")
    for estimator in ("ml", "mlr"):
        names = [m for m in comp["models"] if m.endswith("_" + estimator)]
        result = compare(hs, {m: comp["model"][m.rsplit("_", 1)[0]] for m in names},
                         estimator=estimator.upper())
        last = comp["lrt"][estimator]["table"][-1]
        test = result.tests.iloc[0]
        test_dev = max(_dev(test["chisq_diff"], last["Chisq diff"]),
                       _dev(test["df_diff"], last["Df diff"]))
        for m in names:
            res = result.fits[m]
            rows.append((f"hs_compare.json: {m}", estimator.upper(),
                         _estimates(res, comp["estimates"][m]), _fit(res, comp["fit"][m]),
                         _r2(res, comp["r2"][m]), _mi(res, comp["modindices"][m]), None, None,
                         test_dev))
    inv = load("hs_invariance_school.json")
    result = invariance(hs, inv["model"], "school")
    tests = result.tests.set_index("model_a")
    for level in ("configural", "metric", "scalar"):
        res = result.fits[level]
        test_dev = None
        if level != "configural":
            t = tests.loc[level]
            r = next(x for x in inv["lrt"]["table"] if x["model"] == level)
            test_dev = max(_dev(t["chisq_diff"], r["Chisq diff"]),
                           _dev(t["df_diff"], r["Df diff"]), _dev(t["pvalue"], r["Pr(>Chisq)"]))
        rows.append((f"hs_invariance_school.json: {level}", "ML, group = school",
                     _estimates(res, inv["estimates"][level]), _fit(res, inv["fit"][level]),
                     None, None, None, None, test_dev))
    poldem = load("poldem_sem_ml.json")
    draws = pd.read_csv(ref_dir / "poldem_bootstrap_draws.csv")
    boot_dev = 0.0
    for name, item in poldem["bootstrap"]["defined"].items():
        col = draws[name].to_numpy()
        lo, hi = bootstrap.percentile_ci(col, level=0.95)
        blo, bhi = bootstrap.bca_simple_ci(col, item["est"], level=0.95)
        boot_dev = max(boot_dev, _dev(lo, item["perc"]["lower"]), _dev(hi, item["perc"]["upper"]),
                       _dev(blo, item["bca.simple"]["lower"]),
                       _dev(bhi, item["bca.simple"]["upper"]))
    lines = [
        "# Fidelity to lavaan 0.6.14, semTools 0.5.6 and psych 2.2.9",
        "",
        "Regenerate with `python benchmarks/fidelity.py` (reference files in "
        "`tests/reference/`). Each cell is the largest deviation in that block: "
        "|ours − reference| / max(|reference|, 1e-3). The tests assert 1e-4.",
        "",
        "| case | estimator | estimates (est, se, std_all) | fit measures | r² "
        "| modification indices | omega, AVE, alpha | HTMT, HTMT2 | difference tests |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | " + " | ".join(_fmt(x) for x in r[2:]) + " |")
    lines += ["", f"Bootstrap intervals (percentile and bca.simple) of `ind` and `total` computed "
              f"from lavaan's own 2000 draws (`poldem_bootstrap_draws.csv`): largest deviation "
              f"{boot_dev:.1e}.", "",
              "Blank cells: the reference has no such block for that case (FIML reliability is "
              "tested in `tests/test_reliability.py`). Not reproduced: `hs_ordinal_wlsmv.json` "
              "(ordinal WLSMV estimation is not implemented)."]
    lines += _corpus_lines()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
