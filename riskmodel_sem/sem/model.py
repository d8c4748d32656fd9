"""The compiled model: parameter table -> RAM matrices, implied moments and their derivatives.

Every variable, observed or latent, is one entry of ``v = A v + u`` with ``Cov(u) = S`` and
intercepts ``m``; the observed variables are selected by ``F``. With ``E = (I - A)^{-1}``:

    Sigma = F E S E' F',    mu = F E m.

Loadings (``=~``) and regressions (``~``) live in ``A``, (residual) variances and covariances in
``S``, intercepts and latent means in ``m``. This is the reticular action model of McArdle &
McDonald (1984); it gives the same implied moments as lavaan's LISREL matrices for every model
lavaan's ``sem()`` accepts without thresholds. Nothing here touches pandas inside the loops that
estimation runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np
import pandas as pd

from .defined import compile_definition
from ..errors import ModelError
from .syntax import build_partable, parse_syntax, variable_roles

__all__ = ["CompiledModel", "compile_model", "compile_partable", "SampleMoments",
           "rank_two_information"]


@dataclass(frozen=True)
class SampleMoments:
    """Sufficient statistics of one group: n, mean and covariance with divisor n.

    ``patterns`` holds, for data with missing values, one entry per missing-data pattern:
    ``(observed index array, n, mean, covariance)`` of the rows with that pattern.
    """

    n: int
    mean: np.ndarray
    cov: np.ndarray
    patterns: tuple = ()
    complete: bool = True


@dataclass(frozen=True)
class _Block:
    """Index arrays of one group's free and fixed matrix entries."""

    a_rows: np.ndarray
    a_cols: np.ndarray
    a_par: np.ndarray  # index into theta, -1 for fixed
    a_val: np.ndarray
    s_rows: np.ndarray
    s_cols: np.ndarray
    s_par: np.ndarray
    s_val: np.ndarray
    m_rows: np.ndarray
    m_par: np.ndarray
    m_val: np.ndarray


@dataclass(frozen=True)
class _Rows:
    """The model rows of the parameter table (``=~``, ``~``, ``~~``, ``~1``) as arrays.

    ``kind`` is 0 for ``=~``, 1 for ``~``, 2 for ``~~``, 3 for ``~1``; ``i``/``j`` index the
    matrices (for ``=~``: i the indicator, j the factor; for ``~``: i the outcome); ``free``
    is the 0-based parameter index or -1; ``labels`` maps each label to its first row.
    """

    kind: np.ndarray
    i: np.ndarray
    j: np.ndarray
    group: np.ndarray
    free: np.ndarray
    labels: dict
    definitions: tuple = ()
    constraints: tuple = ()  # (op, lhs, rhs) of the ==, <, > rows


_ROW_CODES = {"=~": 0, "~": 1, "~~": 2, "~1": 3}


def _row_arrays(pt: pd.DataFrame, observed, latent) -> _Rows:
    index = {v: k for k, v in enumerate(tuple(observed) + tuple(latent))}
    ops, lhs_all, rhs_all = pt["op"].tolist(), pt["lhs"].tolist(), pt["rhs"].tolist()
    model_rows = [k for k, op in enumerate(ops) if op in _ROW_CODES]
    kind, ii, jj = [], [], []
    for k in model_rows:
        op, lhs, rhs = ops[k], lhs_all[k], rhs_all[k]
        kind.append(_ROW_CODES[op])
        if op == "=~":
            ii.append(index[rhs])
            jj.append(index[lhs])
        elif op == "~1":
            ii.append(index[lhs])
            jj.append(-1)
        else:
            ii.append(index[lhs])
            jj.append(index[rhs])
    labels = {}
    label_all = pt["label"].tolist()
    for k, row in enumerate(model_rows):
        lab = label_all[row]
        if lab and lab not in labels:
            labels[lab] = k
    line_all = pt["line"].tolist()
    definitions = tuple(
        (lhs_all[k], compile_definition(rhs_all[k], f"line {int(line_all[k])}"))
        for k, op in enumerate(ops) if op == ":=")
    constraints = tuple((op, lhs_all[k], rhs_all[k]) for k, op in enumerate(ops)
                        if op in ("==", "<", ">"))
    return _Rows(np.array(kind, int), np.array(ii, int), np.array(jj, int),
                 pt["group"].to_numpy(dtype=int)[model_rows] - 1,
                 pt["free"].to_numpy(dtype=int)[model_rows] - 1,
                 labels, definitions, constraints)


def rank_two_information(U, V, scale, par, inv, mean, n_free: int) -> np.ndarray:
    """Unit expected information of one group from the factored derivatives of its implied
    moments (:meth:`CompiledModel.entry_terms`): I[k, l] = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1
    dSigma_l) + dmu_k' Sigma^-1 dmu_l, with ``inv`` = Sigma^-1.

    Notes
    -----
    Every matrix entry contributes dSigma = u v' + v u' (rank two), so with
    M = U Sigma^-1 V', UU = U Sigma^-1 U' and VV = V Sigma^-1 V' the traces are
    1/2 tr(...) = M o M' + UU o VV entrywise; entries are then summed per parameter
    (``scale`` times the entry's term into row and column ``par``). This avoids forming the
    (q, p, p) Jacobian and costs O(r p^2 + r^2 q) for r entries. lavaan computes the same
    matrix as Delta' W Delta (``lav_model_information_expected``).
    """
    Ui, Vi = U @ inv, V @ inv
    M = Ui @ V.T
    entry = M * M.T + (Ui @ U.T) * (Vi @ V.T)
    C = np.zeros((n_free, len(par)))
    np.add.at(C, (par, np.arange(len(par))), scale)
    info = C @ entry @ C.T
    if mean is not None:
        Dmu, pm = mean
        Cm = np.zeros((n_free, len(pm)))
        np.add.at(Cm, (pm, np.arange(len(pm))), 1.0)
        D = Cm @ Dmu
        info += D @ inv @ D.T
    return info


@dataclass(frozen=True)
class CompiledModel:
    """A parameter table compiled to index arrays for fast evaluation.

    Attributes
    ----------
    partable : pandas.DataFrame
        The lavaan-style parameter table (see :func:`riskmodel_sem.sem.syntax.build_partable`).
    observed, latent : tuple of str
        Variable order of the matrices (observed first).
    ngroups : int
    n_free : int
        Number of free parameters q.
    meanstructure : bool
    ov_x : tuple of str
        The observed covariates fixed at their sample moments (fixed.x).
    exogenous : tuple of str
        lavaan's ``ov.x``: observed variables that only predict (fixed or not); ``std_nox``
        leaves them unstandardized.
    """

    partable: pd.DataFrame
    observed: tuple[str, ...]
    latent: tuple[str, ...]
    ngroups: int
    n_free: int
    meanstructure: bool
    blocks: tuple[_Block, ...] = field(repr=False)
    syntax: str = ""
    ov_x: tuple[str, ...] = ()
    rows: _Rows | None = field(default=None, repr=False)
    exogenous: tuple[str, ...] = ()

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """Value of every model row of the parameter table (free and fixed) at ``theta``."""
        r = self.rows
        out = np.empty(len(r.kind))
        for g in range(self.ngroups):
            A, S, m = self.matrices(theta, g)
            k = r.group == g
            out[k] = np.select(
                [r.kind[k] == 0, r.kind[k] == 1, r.kind[k] == 2],
                [A[r.i[k], r.j[k]], A[r.i[k], r.j[k]], S[r.i[k], np.maximum(r.j[k], 0)]],
                m[r.i[k]])
        return out

    @property
    def n_vars(self) -> int:
        return len(self.observed) + len(self.latent)

    # --- matrices -----------------------------------------------------------------------
    def matrices(self, theta: np.ndarray, group: int = 0):
        """Return ``(A, S, m)`` for one group at parameter vector ``theta``."""
        b = self.blocks[group]
        n = self.n_vars
        theta_ext = np.append(theta, 0.0)
        A = np.zeros((n, n))
        A[b.a_rows, b.a_cols] = np.where(b.a_par >= 0, theta_ext[b.a_par], b.a_val)
        S = np.zeros((n, n))
        sv = np.where(b.s_par >= 0, theta_ext[b.s_par], b.s_val)
        S[b.s_rows, b.s_cols] = sv
        S[b.s_cols, b.s_rows] = sv
        m = np.zeros(n)
        m[b.m_rows] = np.where(b.m_par >= 0, theta_ext[b.m_par], b.m_val)
        return A, S, m

    def matrices_batch(self, thetas: np.ndarray, group: int = 0):
        """``(A, S, m)`` stacked for each row of ``thetas`` (B, q)."""
        b = self.blocks[group]
        n, nb = self.n_vars, thetas.shape[0]
        ext = np.concatenate([thetas, np.zeros((nb, 1))], axis=1)
        A = np.zeros((nb, n, n))
        A[:, b.a_rows, b.a_cols] = np.where(b.a_par >= 0, ext[:, b.a_par], b.a_val)
        S = np.zeros((nb, n, n))
        sv = np.where(b.s_par >= 0, ext[:, b.s_par], b.s_val)
        S[:, b.s_rows, b.s_cols] = sv
        S[:, b.s_cols, b.s_rows] = sv
        m = np.zeros((nb, n))
        m[:, b.m_rows] = np.where(b.m_par >= 0, ext[:, b.m_par], b.m_val)
        return A, S, m

    def implied(self, theta: np.ndarray, group: int = 0, all_vars: bool = False):
        """Model-implied covariance matrix and mean vector of the observed variables.

        With ``all_vars=True`` return those of all variables (observed then latent).
        """
        A, S, m = self.matrices(theta, group)
        E = np.linalg.inv(np.eye(self.n_vars) - A)
        full = E @ S @ E.T
        mu = E @ m
        if all_vars:
            return full, mu
        p = len(self.observed)
        return full[:p, :p], mu[:p]

    def jacobian(self, theta: np.ndarray, group: int = 0):
        """Derivatives of the implied moments: ``dSigma`` (q, p, p) and ``dmu`` (q, p).

        Notes
        -----
        For an ``A`` entry (i, j): dSigma = u v' + v u' with u = (FE)[:, i], v = (FESE')[:, j];
        for an ``S`` entry (i, j): dSigma = a_i a_j' + a_j a_i' (once when i = j), a = FE;
        for an ``m`` entry i: dmu = (FE)[:, i].
        """
        A, S, m = self.matrices(theta, group)
        b = self.blocks[group]
        p, q = len(self.observed), self.n_free
        E = np.linalg.inv(np.eye(self.n_vars) - A)
        FE = E[:p, :]
        FESE = FE @ S @ E.T
        Em = E @ m
        d_sigma = np.zeros((q, p, p))
        d_mu = np.zeros((q, p))
        k = b.a_par >= 0
        if k.any():
            u = FE[:, b.a_rows[k]].T  # (r, p)
            v = FESE[:, b.a_cols[k]].T
            outer = u[:, :, None] * v[:, None, :]
            np.add.at(d_sigma, b.a_par[k], outer + outer.transpose(0, 2, 1))
            np.add.at(d_mu, b.a_par[k], u * Em[b.a_cols[k]][:, None])
        k = b.s_par >= 0
        if k.any():
            ui = FE[:, b.s_rows[k]].T
            uj = FE[:, b.s_cols[k]].T
            outer = ui[:, :, None] * uj[:, None, :]
            diag = (b.s_rows[k] == b.s_cols[k])[:, None, None]
            np.add.at(d_sigma, b.s_par[k], np.where(diag, outer, outer + outer.transpose(0, 2, 1)))
        k = b.m_par >= 0
        if k.any():
            np.add.at(d_mu, b.m_par[k], FE[:, b.m_rows[k]].T)
        return d_sigma, d_mu

    def entry_terms(self, theta: np.ndarray, group: int = 0):
        """The derivatives of the implied moments in factored form, one term per free matrix
        entry: ``(U, V, scale, par, mean)`` with dSigma = scale (u v' + v u') for the rows u, v
        of U, V (observed variables) and parameter ``par``; ``mean = (Dmu, par_mu)`` the rows
        dmu of the entries that move the means (None without a mean structure). Summing the
        terms of each parameter gives :meth:`jacobian`; nothing (q, p, p) is formed.
        """
        A, S, m = self.matrices(theta, group)
        b = self.blocks[group]
        p = len(self.observed)
        E = np.linalg.inv(np.eye(self.n_vars) - A)
        FE = E[:p, :]
        FESE = FE @ S @ E.T
        ka = b.a_par >= 0
        ks = b.s_par >= 0
        U = np.concatenate([FE[:, b.a_rows[ka]].T, FE[:, b.s_rows[ks]].T])
        V = np.concatenate([FESE[:, b.a_cols[ka]].T, FE[:, b.s_cols[ks]].T])
        scale = np.concatenate([np.ones(ka.sum()),
                                np.where(b.s_rows[ks] == b.s_cols[ks], 0.5, 1.0)])
        par = np.concatenate([b.a_par[ka], b.s_par[ks]])
        mean = None
        if self.meanstructure:
            km = b.m_par >= 0
            Em = E @ m
            Dmu = np.concatenate([FE[:, b.a_rows[ka]].T * Em[b.a_cols[ka]][:, None],
                                  FE[:, b.m_rows[km]].T])
            mean = (Dmu, np.concatenate([b.a_par[ka], b.m_par[km]]))
        return U, V, scale, par, mean

    def _entry_terms(self, theta, group):
        """:meth:`entry_terms` and Sigma^-1."""
        U, V, scale, par, mean = self.entry_terms(theta, group)
        sigma, _ = self.implied(theta, group)
        return U, V, scale, par, np.linalg.inv(sigma), mean

    def expected_information(self, theta: np.ndarray, group: int = 0) -> np.ndarray:
        """Unit expected information of one group's ML discrepancy.

        I[k, l] = 1/2 tr(Sigma^-1 dSigma_k Sigma^-1 dSigma_l) + dmu_k' Sigma^-1 dmu_l.

        Notes
        -----
        Every matrix entry contributes dSigma = u v' + v u' (rank two), so with
        M = U Sigma^-1 V', UU = U Sigma^-1 U' and VV = V Sigma^-1 V' the traces are
        1/2 tr(...) = M o M' + UU o VV entrywise; entries are then summed per parameter. This
        avoids forming the (q, p, p) Jacobian and costs O(r p^2 + r^2) for r entries.
        """
        U, V, scale, par, inv, mean = self._entry_terms(theta, group)
        return rank_two_information(U, V, scale, par, inv, mean, self.n_free)

    def candidate_information(self, theta: np.ndarray, q: int, group: int = 0):
        """The blocks of :meth:`expected_information` that score tests need, for a model
        whose parameters q, q+1, ... are candidates with one matrix entry each and no mean
        structure: ``I[candidates, :q]`` and the diagonal ``I[candidates, candidates]``.

        Costs O(c q p) instead of O(c^2 p) for c candidates.
        """
        if self.meanstructure:
            full = self.expected_information(theta, group)
            return full[q:, :q], np.diag(full)[q:]
        U, V, scale, par, inv, _ = self._entry_terms(theta, group)
        own = par < q
        cand = ~own
        order = np.argsort(par[cand])
        Uc, Vc, sc = U[cand][order], V[cand][order], scale[cand][order]
        Uo, Vo = U[own], V[own]
        Uci, Vci = Uc @ inv, Vc @ inv
        cross = ((Uci @ Vo.T) * (Uo @ inv @ Vc.T).T + (Uci @ Uo.T) * (Vci @ Vo.T))
        # summed per parameter: row k of C Y, C (q, entries) holding each entry's scale in
        # its parameter's row, adds scale * y over the entries of parameter k in their order
        summed = np.zeros((q, cross.shape[0]))
        np.add.at(summed, par[own], scale[own][:, None] * (sc[:, None] * cross).T)
        cross = summed.T
        diag = sc ** 2 * (np.sum(Uci * Vc, axis=1) ** 2
                          + np.sum(Uci * Uc, axis=1) * np.sum(Vci * Vc, axis=1))
        return cross, diag

    def theta_from_table(self, column: str = "est") -> np.ndarray:
        """The free-parameter vector read from a column of the parameter table."""
        pt = self.partable
        free = pt[pt["free"] > 0]
        theta = np.zeros(self.n_free)
        theta[free["free"].to_numpy() - 1] = free[column].to_numpy(dtype=float)
        return theta


def compile_model(
    syntax: str,
    observed_order=None,
    *,
    meanstructure: bool = False,
    ngroups: int = 1,
    group_equal: tuple[str, ...] = (),
    moments: list[SampleMoments] | None = None,
    group_partial: tuple = (),
    fixed_x: bool = True,
    orthogonal: bool = False,
    std_lv: bool = False,
    source: str = "model",
) -> CompiledModel:
    """Parse lavaan syntax, build the parameter table and compile it.

    Parameters
    ----------
    syntax : str
        lavaan model syntax.
    observed_order : sequence of str, optional
        Order of the observed variables in the data; defaults to their order in the syntax.
    meanstructure : bool
        Model intercepts (needed for FIML and multiple groups).
    ngroups : int
        Number of groups.
    group_equal : tuple of str
        lavaan's ``group.equal`` (``"loadings"``, ``"intercepts"``, ``"residuals"``, ``"means"``).
    moments : list of SampleMoments, optional
        Sample moments per group; used to fix exogenous covariates at their sample values
        (``fixed.x``). Without them those entries are NaN until :func:`with_moments` is used.
    group_partial : tuple
        Parameters exempt from ``group_equal`` (lavaan's ``group.partial``); see
        :func:`riskmodel_sem.sem.syntax.build_partable`.
    fixed_x : bool
        lavaan's ``fixed.x``: observed exogenous covariates fixed at their sample moments
        (default) or their variances, covariances (and means) free parameters.
    orthogonal : bool
        lavaan's ``orthogonal``: default latent covariances fixed to zero.
    std_lv : bool
        lavaan's ``std.lv``: latent (residual) variances fixed to one, first loadings free.
    source : str
        Name for error messages.

    Returns
    -------
    CompiledModel

    Raises
    ------
    SpecError
        For syntax errors.
    ModelError
        When the model has more free parameters than sample moments (not identified).
    """
    statements = parse_syntax(syntax, source)
    roles = variable_roles(statements)
    # lavaan switches the mean structure on whenever the syntax has an intercept (``~ 1``)
    meanstructure = meanstructure or any(s.op == "~1" for s in statements)
    pt = build_partable(statements, meanstructure=meanstructure, ngroups=ngroups,
                        group_equal=tuple(group_equal), group_partial=tuple(group_partial),
                        fixed_x=fixed_x, orthogonal=orthogonal, std_lv=std_lv,
                        source=source)
    observed = roles.observed
    if observed_order is not None:
        order = {v: i for i, v in enumerate(observed_order)}
        missing = [v for v in observed if v not in order]
        if missing:
            raise ModelError(
                f"{source}: variable(s) {', '.join(missing)} of the model are not in the data."
            )
        observed = tuple(sorted(observed, key=order.__getitem__))
    latent = roles.latent
    q = int(pt["free"].max()) if len(pt) else 0
    p = len(observed)
    n_moments = ngroups * (p * (p + 1) // 2 + (p if meanstructure else 0))
    if q > n_moments:
        raise ModelError(
            f"{source}: the model has {q} free parameters but the data give only {n_moments} "
            "sample moments, so it is not identified."
        )
    exogenous = tuple(v for v in observed if v in roles.ov_x)
    return compile_partable(pt, observed, latent, ngroups=ngroups, meanstructure=meanstructure,
                            moments=moments, syntax=syntax, ov_x=exogenous if fixed_x else (),
                            exogenous=exogenous, source=source)


def _blocks(pt, observed, latent, ngroups, moments) -> tuple[_Block, ...]:
    index = {v: i for i, v in enumerate(observed + latent)}
    columns = ["op", "lhs", "rhs", "free", "ustart", "exo", "group"]
    table = list(zip(*(pt[c].tolist() for c in columns)))
    blocks = []
    for g in range(1, ngroups + 1):
        mom = moments[g - 1] if moments is not None else None
        a, s, mm = [], [], []
        for op, lhs, rhs, free, ustart, exo, group in table:
            if group != g:
                continue
            par = int(free) - 1
            val = ustart
            if exo and mom is not None:
                if op == "~~":
                    val = mom.cov[observed.index(lhs), observed.index(rhs)]
                else:
                    val = mom.mean[observed.index(lhs)]
            if op == "=~":
                a.append((index[rhs], index[lhs], par, val))
            elif op == "~":
                a.append((index[lhs], index[rhs], par, val))
            elif op == "~~":
                s.append((index[lhs], index[rhs], par, val))
            elif op == "~1":
                mm.append((index[lhs], par, val))
        a = np.array(a, dtype=float).reshape(-1, 4)
        s = np.array(s, dtype=float).reshape(-1, 4)
        mm = np.array(mm, dtype=float).reshape(-1, 3)
        blocks.append(_Block(
            a[:, 0].astype(int), a[:, 1].astype(int), a[:, 2].astype(int), np.nan_to_num(a[:, 3]),
            s[:, 0].astype(int), s[:, 1].astype(int), s[:, 2].astype(int), np.nan_to_num(s[:, 3]),
            mm[:, 0].astype(int), mm[:, 1].astype(int), np.nan_to_num(mm[:, 2]),
        ))
    return tuple(blocks)


def compile_partable(pt: pd.DataFrame, observed, latent=None, *, ngroups: int | None = None,
                     meanstructure: bool | None = None, moments=None, syntax: str = "",
                     ov_x=None, exogenous=None, source: str = "model") -> CompiledModel:
    """Compile a lavaan-style parameter table (as :func:`~riskmodel_sem.sem.syntax.build_partable`
    makes it, possibly edited) without going back to syntax.

    Parameters
    ----------
    pt : pandas.DataFrame
        Columns lhs, op, rhs, user, group, free, ustart, exo, label, start (and line for ``:=``
        rows). ``free`` numbers the free parameters 1..q (shared numbers are equality
        constraints), 0 for fixed rows whose value is ``ustart`` (or the sample moment for
        ``exo`` rows).
    observed : sequence of str
        Observed variables in data order.
    latent : sequence of str, optional
        Latent variables; by default the left-hand sides of ``=~`` rows in order.
    ngroups, meanstructure : optional
        Default: from the table (``group`` maximum; any ``~1`` row).
    moments : list of SampleMoments, optional
        Values of the ``exo`` (fixed.x) rows.
    syntax, ov_x, exogenous, source : optional
        Kept on the compiled model for messages and fit measures; ``exogenous`` (lavaan's
        ``ov.x``) defaults to the observed variables that only predict (by the table's user
        rows) and ``ov_x`` to the variables of ``exo`` rows.

    Returns
    -------
    CompiledModel

    Raises
    ------
    ModelError
        When the table uses a variable that is neither observed nor latent.
    """
    if "line" not in pt.columns:
        pt = pt.assign(line=0)
    pt = pt.reset_index(drop=True)
    observed = tuple(observed)
    ops, lhs, rhs = pt["op"].tolist(), pt["lhs"].tolist(), pt["rhs"].tolist()
    if latent is None:
        latent = tuple(dict.fromkeys(l for o, l in zip(ops, lhs) if o == "=~"))
    latent = tuple(latent)
    known = set(observed) | set(latent)
    used = {l for o, l in zip(ops, lhs) if o in ("=~", "~", "~~", "~1")}
    used |= {r for o, r in zip(ops, rhs) if o in ("=~", "~", "~~")}
    unknown = sorted(used - known)
    if unknown:
        raise ModelError(f"{source}: the parameter table uses unknown variable(s) "
                         f"{', '.join(unknown)}.")
    if ngroups is None:
        ngroups = int(pt["group"].max()) if len(pt) else 1
    if meanstructure is None:
        meanstructure = "~1" in ops
    q = int(pt["free"].max()) if len(pt) else 0
    blocks = _blocks(pt, observed, latent, ngroups, moments)
    if ov_x is None:
        exo = {l for o, l, e in zip(ops, lhs, pt["exo"].tolist()) if e == 1 and o == "~~"}
        ov_x = tuple(v for v in observed if v in exo)
    if exogenous is None:
        user = (pt["user"].to_numpy() == 1 if "user" in pt.columns
                else np.ones(len(pt), dtype=bool))
        roles = variable_roles([SimpleNamespace(lhs=a, op=b, rhs=c) for a, b, c, u in
                                zip(lhs, ops, rhs, user.tolist()) if u])
        exogenous = tuple(v for v in observed if v in roles.ov_x or v in ov_x)
    return CompiledModel(pt, observed, latent, ngroups, q, bool(meanstructure), blocks, syntax,
                         tuple(ov_x), _row_arrays(pt, observed, latent), tuple(exogenous))
