"""Fixed texts of the reports in Chinese and English, and the names of model elements.

Everything a report says that does not come from the spec or the results lives here: sheet and
section titles, notes on method, column headers and yes/no words. The published thresholds
the numbers are shown against, their sources and verdict words live in the one thresholds table
(:mod:`riskmodel_sem.workflow.thresholds`). Names of constructs, dimensions and items come from
the spec (:func:`element_name`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..workflow.thresholds import CRITERIA

if TYPE_CHECKING:  # pragma: no cover - annotations only
    from ..survey.spec import Spec

__all__ = [
    "LANGUAGES",
    "TEXT",
    "COLUMN_HEADERS",
    "text",
    "column_header",
    "name_text",
    "warning_text",
    "NAMES",
    "element_name",
    "localized",
    "spec_title",
    "resolve_language",
]

#: Report languages.
LANGUAGES = ("zh", "en")

#: Fixed texts, by key, in each language.
TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "report_title": "结构方程分析报告",
        "generated_by": "由 riskmodel-sem 生成",
        "nav": "目录",
        "summary": "摘要",
        "power": "统计检验力与样本量",
        "power_rmsea": "RMSEA 检验的检验力",
        "power_rmsea_note": ("解析计算（MacCallum, Browne & Sugawara, 1996）：近似拟合检验 H0 RMSEA = .05 对 "
                             "H1 RMSEA = .08；非近似拟合检验 H0 RMSEA = .05 对 H1 RMSEA = .01。非中心参数取 "
                             "(N − 1)·df·RMSEA²（与 semTools::findRMSEApower 相同）。"),
        "power_paths": "假设路径与间接效应的检验力（解析）",
        "power_paths_note": ("总体模型拟合其自身协方差矩阵所得的渐近标准误（期望信息矩阵），"
                             "SE(N) = SE₁/√N；双侧 Wald 检验。估计值为模型量尺（标记变量识别），"
                             "标准化值为总体值。"),
        "power_required": "所需样本量",
        "power_required_note": "达到目标检验力的最小 N（解析）。",
        "power_mc": "蒙特卡洛检验力",
        "power_mc_note": ("按 simulate 的方式从总体值抽取问卷（含李克特分类），每个样本量重复拟合；"
                          "检验力为 p < α 的比例，mcse 为其蒙特卡洛标准误，偏差与 95% 区间覆盖率"
                          "相对于伪真值（模型拟合总体作答协方差矩阵所得）。只统计收敛的重复。"),
        "power_mc_chisq": "模型 χ² 检验的拒绝率（蒙特卡洛）",
        "power_mc_chisq_note": "在 α 水平下拒绝模型 χ² 检验的重复比例。",
        "power_curves": "检验力曲线",
        "power_curves_note": "解析检验力随 N 变化（对数刻度）；虚线为目标检验力，圆点为所需 N。",
        "power_methods": "方法部分可用的表述",
        "power_methods_note": "可用于论文方法部分的表述，数值来自下列解析结果。",
        "power_sentence": ("先验统计检验力分析（MacCallum, Browne & Sugawara, 1996）表明：假设模型"
                           "（df = {p_df}）在 α = {p_alpha} 时，近似拟合检验（RMSEA .05 对 .08）达到 {p_target} "
                           "的检验力需要 N = {p_n_close}，非近似拟合检验（RMSEA .05 对 .01）需要 N = {p_n_not}；"
                           "{p_weakest}。"),
        "power_sentence_weakest": "检验力最低的假设路径 {p_label} 的 Wald 检验达到 {p_target} 的检验力需要 N = {p_n}",
        "power_sentence_none": "没有带标签的结构路径",
        "power_more_than": "超过 1,000,000",
        "power_series_close": "近似拟合（RMSEA .05 对 .08）",
        "power_series_notclose": "非近似拟合（RMSEA .05 对 .01）",
        "summary_note": "数据、估计方法与各项检验结论一览。详细数值见各工作表。",
        "warnings": "警告",
        "warnings_note": "运行中记录的警告；请在解读结果前阅读。",
        "screening": "数据筛查",
        "screening_note": "取值范围、缺失、粗心作答、异常值与正态性检查。",
        "items": "题项",
        "items_note": "题项描述统计与题项层面的检验。",
        "reliability": "信度",
        "reliability_note": ("Cronbach's α、McDonald's ω 与组合信度 CR 应 ≥ {alpha}，平均方差抽取量 AVE 应 "
                             "≥ {ave}（Fornell & Larcker, 1981; Hair et al., 2019）。未达标者以红色标出。"),
        "validity": "效度",
        "fl_title": "Fornell–Larcker 判别效度",
        "fl_note": ("对角线为 AVE 的平方根，非对角线为因子间相关；对角线应大于同行同列的相关"
                    "（Fornell & Larcker, 1981）。未达标者以红色标出。"),
        "htmt_title": "HTMT 异质-单质比",
        "htmt_note": ("HTMT 应 < {htmt}（严格）或 < {htmt_liberal}（宽松）（Henseler et al., 2015）。"
                      "≥ {htmt} 者以红色标出。"),
        "htmt2_title": "HTMT2（几何均值）",
        "htmt2_note": "HTMT2 使用几何均值，阈值同 HTMT（Roemer et al., 2021）。≥ {htmt} 者以红色标出。",
        "kmo_title": "KMO 与 Bartlett 球形检验",
        "kmo_note": "KMO ≥ {kmo} 适合做因子分析（Kaiser, 1974）；Bartlett 检验应显著。",
        "efa_title": "探索性因子分析",
        "efa_note": "探索性因子分析的载荷。",
        "verdicts_title": "检验结论",
        "verdicts_note": "各项检验的阈值、来源与结论。",
        "fit": "模型拟合",
        "fit_note": ("每个拟合指标与其阈值、结论及来源：{rules}。"
                     "大样本下 χ² 检验几乎总是显著，仅供参考。"),
        "loadings": "因子载荷",
        "loadings_note": ("假设模型（含结构路径）的一阶与二阶因子载荷；测量模型的载荷见“测量模型”表。标准化载荷（std.all）应 ≥ {loading_std}，理想 ≥ 0.70（Hair et al., 2019）；"
                          "< {loading_std} 者以红色标出。标记变量的载荷固定为 1，无标准误。"),
        "paths": "路径与假设",
        "paths_note": "结构路径的非标准化与标准化估计；p < 0.05 为显著。",
        "hypotheses_title": "假设检验",
        "hypotheses_note": "每个假设的路径、预期方向、估计值、检验所用区间与结论。",
        "contrasts_title": "载荷大小比较",
        "contrasts_note": "最强指标与其他指标的标准化载荷之差；区间不含 0 即差异显著。",
        "indirect": "间接效应",
        "indirect_note": ("间接效应为路径系数之积；置信区间为 bootstrap 百分位区间（若运行了 bootstrap），"
                          "否则为 delta 法区间。区间不含 0 即为显著。"),
        "comparison": "模型比较",
        "comparison_note": ("各备择模型的拟合与嵌套模型的 χ² 差异检验。等价模型拟合完全相同，"
                            "无法用数据区分，只能依理论取舍。"),
        "comparison_tests": "嵌套模型检验",
        "comparison_equivalent": "等价模型",
        "groups": "多组比较",
        "groups_title": "各组样本",
        "groups_note": "分组变量 {column} 的各组（按数据中出现的顺序）与参与拟合的样本量。",
        "path_differences": "路径的组间差异",
        "path_differences_note": ("每条结构路径在每对组之间的差异：Wald 检验（delta 法，等同 lavaan 的 "
                                  "d := b1 - b2）与约束该路径在两组相等的卡方差异检验（ML：似然比检验；"
                                  "MLR：Satorra–Bentler 2001 校正）。组间等同约束：{equal}。"),
        "omnibus_title": "全部结构路径组间相等的检验",
        "metric_title": "度量（载荷）不变性检验",
        "metric_note": ("载荷在各组相等与否的卡方差异检验及 ΔCFI、ΔRMSEA；载荷不等时各组路径系数不可直接比较"
                        "（ΔCFI ≥ −0.01 支持度量不变性，Chen, 2007）。"),
        "equal_paths_title": "模型本身使各组相等的路径",
        "equal_paths_note": ("lavaan 语法中各组共用的普通标签（或 group.equal 的 regressions）使这些路径在各组相等，"
                             "其组间差异不作检验；如需各组自由估计，请用 c() 为每组给出不同标签。"),
        "path_diagram_group": "路径图：{group}（n = {n}）",
        "no_equal": "无",
        "invariance": "测量不变性",
        "invariance_note": ("逐步增加组间等同约束（形态、载荷、截距……）；ΔCFI ≥ −0.01 支持不变性"
                            "（Cheung & Rensvold, 2002），χ² 差异检验见表。"),
        "modindices": "修正指数",
        "modindices_note": ("修正指数 ≥ {modindex}（χ²(1) 的 0.05 临界值）的参数，按大小排列（最多 100 行）。"
                            "仅在理论支持时才据此修改模型。"),
        "specification": "模型设定",
        "specification_note": "分析所用的 lavaan 模型语法与题项编码表。",
        "syntax_title": "lavaan 模型语法",
        "codebook_title": "编码表",
        "figures": "图",
        "path_diagram": "路径图",
        "path_diagram_note": ("标准化估计（std.all）。实线：p < 0.05；虚线：不显著；* p < .05，** p < .01，"
                              "*** p < .001。标记变量的载荷固定，以实线表示。"),
        "loadings_heatmap": "标准化载荷热图",
        "htmt_heatmap": "HTMT 热图",
        "distributions": "题项作答分布",
        "distributions_note": "每个题项各选项的作答比例（原始数据的频数，未经统计处理）。",
        "bootstrap_plot": "间接效应的 bootstrap 分布",
        "bootstrap_note": "bootstrap 抽样的间接效应分布；竖线为 0（灰）与置信区间界限（红）。",
        "key": "项目",
        "value": "值",
        "spec": "模型",
        "data_file": "数据文件",
        "sheet": "工作表",
        "n_rows": "数据行数",
        "n_used": "分析所用样本量",
        "estimator": "估计方法",
        "missing": "缺失值处理",
        "converged": "是否收敛",
        "bootstrap": "bootstrap 次数",
        "seed": "随机种子",
        "group": "分组变量",
        "command": "命令",
        "yes": "是",
        "no": "否",
        "good": "良好",
        "acceptable": "可接受",
        "poor": "不达标",
        "pass": "达标",
        "fail": "不达标",
        "supported": "支持",
        "not_supported": "不支持",
        "none": "无",
        "threshold": "阈值",
        "verdict": "结论",
        "source": "来源",
        "index": "指标",
        "first_order": "一阶因子",
        "second_order": "二阶维度",
        "line": "行",
        "syntax": "语法",
        "note_label": "说明",
        "fit_overall": "整体拟合",
        "fit_version_robust": "稳健", "fit_version_scaled": "校正",
        "hypotheses_supported": "得到支持的假设",
        "crosscheck": "独立复核：与另一软件估计值的最大绝对差（比较的自由参数数）",
        "reliability_overall": "信度",
        "validity_overall": "判别效度",
        "equivalent_warning": "等价模型：{a} 与 {b} 拟合相同，数据无法区分二者。",
        "no_data": "（无数据）",
        "r2": "R²",
        "legend_solid": "显著 (p < .05)",
        "legend_dashed": "不显著",
        "cov": "协方差",
        "options_title": "设置",
    },
    "en": {
        "report_title": "Structural equation analysis report",
        "generated_by": "Generated by riskmodel-sem",
        "nav": "Contents",
        "summary": "Summary",
        "power": "Power and sample size",
        "power_rmsea": "Power of the RMSEA tests",
        "power_rmsea_note": ("Analytic (MacCallum, Browne & Sugawara, 1996): test of close fit, H0 RMSEA "
                             "= .05 against RMSEA = .08; test of not-close fit, H0 RMSEA = .05 against "
                             "RMSEA = .01. Noncentrality (N − 1)·df·RMSEA², as semTools::findRMSEApower."),
        "power_paths": "Power of the hypothesized paths and indirect effects (analytic)",
        "power_paths_note": ("Asymptotic standard errors of the population model fitted to its own "
                             "covariance matrix (expected information), SE(N) = SE₁/√N; two-sided "
                             "Wald test. Estimates on the model's scale (marker identification); "
                             "std is the population standardized value."),
        "power_required": "Required sample size",
        "power_required_note": "Smallest N reaching the target power (analytic).",
        "power_mc": "Monte Carlo power",
        "power_mc_note": ("Surveys drawn from the population values as simulate draws them (Likert "
                          "categories included), refitted at each N; power is the share of p < α, "
                          "mcse its Monte Carlo standard error; bias and the coverage of the 95% "
                          "interval are relative to the pseudo-true value (the model fitted to the "
                          "population covariance of the answers). Converged replications only."),
        "power_mc_chisq": "Rejection rate of the model χ² test (Monte Carlo)",
        "power_mc_chisq_note": "Share of replications in which the model χ² test rejects at α.",
        "power_curves": "Power curves",
        "power_curves_note": ("Analytic power against N (log scale); the dashed line is the target "
                              "power, dots mark the required N."),
        "power_methods": "For the methods section",
        "power_methods_note": "A sentence for the methods section of a paper, from the analytic results below.",
        "power_sentence": ("An a priori power analysis (MacCallum, Browne & Sugawara, 1996) showed "
                           "that the hypothesized model (df = {p_df}) needs N = {p_n_close} for a power "
                           "of {p_target} in the test of close fit (RMSEA .05 against .08, α = {p_alpha}) "
                           "and N = {p_n_not} in the test of not-close fit (RMSEA .05 against .01); "
                           "{p_weakest}."),
        "power_sentence_weakest": ("the Wald test of the least powerful hypothesized path, {p_label}, "
                                   "needs N = {p_n} for a power of {p_target}"),
        "power_sentence_none": "the model has no labelled structural path",
        "power_more_than": "more than 1,000,000",
        "power_series_close": "Close fit (RMSEA .05 vs .08)",
        "power_series_notclose": "Not-close fit (RMSEA .05 vs .01)",
        "summary_note": "Data, estimation and the verdicts of every check at a glance. Details are on the other sheets.",
        "warnings": "Warnings",
        "warnings_note": "Warnings recorded during the run; read them before interpreting the results.",
        "screening": "Screening",
        "screening_note": "Ranges, missingness, careless responding, outliers and normality.",
        "items": "Items",
        "items_note": "Item descriptives and item-level checks.",
        "reliability": "Reliability",
        "reliability_note": ("Cronbach's alpha, McDonald's omega and composite reliability CR should be "
                             "≥ {alpha}, average variance extracted AVE ≥ {ave} (Fornell & Larcker, 1981; "
                             "Hair et al., 2019). Values that fail are highlighted in red."),
        "validity": "Validity",
        "fl_title": "Fornell–Larcker discriminant validity",
        "fl_note": ("The diagonal holds the square root of AVE, the off-diagonal cells the factor "
                    "correlations; each diagonal value should exceed the correlations in its row and "
                    "column (Fornell & Larcker, 1981). Failures are highlighted in red."),
        "htmt_title": "HTMT (heterotrait-monotrait ratio)",
        "htmt_note": ("HTMT should be < {htmt} (strict) or < {htmt_liberal} (liberal) (Henseler et "
                      "al., 2015). Values ≥ {htmt} are highlighted in red."),
        "htmt2_title": "HTMT2 (geometric mean)",
        "htmt2_note": ("HTMT2 uses geometric means; same thresholds as HTMT (Roemer et al., 2021). "
                       "Values ≥ {htmt} are highlighted in red."),
        "kmo_title": "KMO and Bartlett's test of sphericity",
        "kmo_note": "KMO ≥ {kmo} suits factor analysis (Kaiser, 1974); Bartlett's test should be significant.",
        "efa_title": "Exploratory factor analysis",
        "efa_note": "Loadings of the exploratory factor analysis.",
        "verdicts_title": "Verdicts",
        "verdicts_note": "Every check with its threshold, source and verdict.",
        "fit": "Model fit",
        "fit_note": ("Every fit index with its threshold, verdict and source: {rules}. In large "
                     "samples the χ² test is nearly always significant and is shown for "
                     "reference."),
        "loadings": "Loadings",
        "loadings_note": ("First- and second-order loadings of the hypothesized model (with the structural "
                          "paths); the measurement model's loadings are in the measurement table. Standardized loadings (std.all) should be "
                          "≥ {loading_std}, ideally ≥ 0.70 (Hair et al., 2019); those below {loading_std} are highlighted "
                          "in red. Marker loadings are fixed to 1 and have no standard error."),
        "paths": "Paths and hypotheses",
        "paths_note": "Unstandardized and standardized estimates of the structural paths; p < 0.05 is significant.",
        "hypotheses_title": "Hypothesis tests",
        "hypotheses_note": ("Each hypothesis with its path, expected sign, estimate, the interval "
                            "the verdict uses, and the verdict."),
        "contrasts_title": "Loading contrasts",
        "contrasts_note": ("Differences between the standardized loading of the strongest indicator "
                           "and those of the others; an interval that excludes 0 is significant."),
        "indirect": "Indirect effects",
        "indirect_note": ("Indirect effects are products of path coefficients; intervals are bootstrap "
                          "percentile intervals when a bootstrap was run, delta-method intervals "
                          "otherwise. An interval that excludes 0 is significant."),
        "comparison": "Model comparison",
        "comparison_note": ("Fit of every alternative model and χ² difference tests of nested models. "
                            "Equivalent models fit identically: the data cannot tell them apart, only "
                            "theory can."),
        "comparison_tests": "Nested model tests",
        "comparison_equivalent": "Equivalent models",
        "groups": "Groups",
        "groups_title": "Groups",
        "groups_note": "The groups of {column} (in their order in the data) and the rows fitted in each.",
        "path_differences": "Path differences between groups",
        "path_differences_note": ("Each structural path compared between each pair of groups: the Wald "
                                  "test (delta method, lavaan's d := b1 - b2) and the chi-square "
                                  "difference test of the path held equal in the two groups (ML: "
                                  "likelihood-ratio test; MLR: Satorra-Bentler 2001 scaled). Equal "
                                  "across groups: {equal}."),
        "omnibus_title": "All structural paths equal across groups",
        "metric_title": "Metric (loading) invariance",
        "metric_note": ("Chi-square difference test of equal against free loadings, with the changes in "
                        "CFI and RMSEA; paths are comparable across groups only if the loadings are "
                        "(delta CFI >= -0.01 supports metric invariance, Chen, 2007)."),
        "equal_paths_title": "Paths the model itself holds equal across groups",
        "equal_paths_note": ("A plain label shared by the groups in lavaan syntax (or group.equal "
                             "regressions) makes these paths equal, so their differences are not tested; "
                             "give one label per group with c() to estimate them freely."),
        "path_diagram_group": "Path diagram: {group} (n = {n})",
        "no_equal": "nothing",
        "invariance": "Invariance",
        "invariance_note": ("Equality constraints across groups added step by step (configural, loadings, "
                            "intercepts, ...); ΔCFI ≥ −0.01 supports invariance (Cheung & Rensvold, 2002); "
                            "χ² difference tests are shown."),
        "modindices": "Modification indices",
        "modindices_note": ("Parameters with a modification index ≥ {modindex} (the 0.05 critical value of "
                            "χ²(1)), largest first (at most 100 rows). Change a model on them only when "
                            "theory supports it."),
        "specification": "Specification",
        "specification_note": "The lavaan model syntax analysed and the codebook of the items.",
        "syntax_title": "lavaan model syntax",
        "codebook_title": "Codebook",
        "figures": "Figures",
        "path_diagram": "Path diagram",
        "path_diagram_note": ("Standardized estimates (std.all). Solid: p < 0.05; dashed: not significant; "
                              "* p < .05, ** p < .01, *** p < .001. Fixed marker loadings are drawn solid."),
        "loadings_heatmap": "Standardized loadings heatmap",
        "htmt_heatmap": "HTMT heatmap",
        "distributions": "Item response distributions",
        "distributions_note": "Share of each answer per item (counts of the raw data, no statistics).",
        "bootstrap_plot": "Bootstrap distributions of the indirect effects",
        "bootstrap_note": "Bootstrap draws of each indirect effect; vertical lines at 0 (grey) and at the interval limits (red).",
        "key": "Item",
        "value": "Value",
        "spec": "Model",
        "data_file": "Data file",
        "sheet": "Sheet",
        "n_rows": "Rows in data",
        "n_used": "N used",
        "estimator": "Estimator",
        "missing": "Missing data",
        "converged": "Converged",
        "bootstrap": "Bootstrap draws",
        "seed": "Seed",
        "group": "Group variable",
        "command": "Command",
        "yes": "yes",
        "no": "no",
        "good": "good",
        "acceptable": "acceptable",
        "poor": "poor",
        "pass": "pass",
        "fail": "fail",
        "supported": "supported",
        "not_supported": "not supported",
        "none": "none",
        "threshold": "Threshold",
        "verdict": "Verdict",
        "source": "Source",
        "index": "Index",
        "first_order": "first-order factor",
        "second_order": "second-order dimension",
        "line": "Line",
        "syntax": "Syntax",
        "note_label": "Note",
        "fit_overall": "Overall fit",
        "fit_version_robust": "robust", "fit_version_scaled": "scaled",
        "hypotheses_supported": "Hypotheses supported",
        "crosscheck": "Independent refit: largest absolute difference of the estimates (free parameters compared)",
        "reliability_overall": "Reliability",
        "validity_overall": "Discriminant validity",
        "equivalent_warning": "Equivalent models: {a} and {b} fit identically; the data cannot tell them apart.",
        "no_data": "(no data)",
        "r2": "R²",
        "legend_solid": "significant (p < .05)",
        "legend_dashed": "not significant",
        "cov": "covariance",
        "options_title": "Settings",
    },
}

#: Texts of the paper tables, the Word document and the summary (merged into :data:`TEXT`).
PAPER_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "measurement": "测量模型",
        "measurement_title": "测量模型：标准化载荷、信度与收敛效度",
        "measurement_note": ("λ 为{model}的标准化载荷（std.all），SE、z、p 为非标准化载荷的标准误与检验；"
                             "每个因子的标记变量载荷固定为 1，记为“—”。α、CR、AVE、ω 每个构念一行。"
                             "λ 应 ≥ {loading_std}，α、CR、ω ≥ {alpha}，AVE ≥ {ave}（Fornell & Larcker, 1981; "
                             "Hair et al., 2019）；未达标者以红色标出。"),
        "measurement_note_second": "二阶部分为各维度对其一阶因子的载荷（二阶验证性因子分析），ω 为高阶 ω。",
        "model_cfa": "测量模型（一阶因子相关的验证性因子分析 M1）",
        "model_hypothesized": "假设模型",
        "model_cfa_short": "测量模型",
        "model_hypothesized_short": "结构模型",
        "fit_table_title": "模型拟合指标",
        "fit_table_note": ("每个指标的阈值、结论与来源。大样本下 χ² 检验几乎总是显著，仅供参考；"
                           "RMSEA 后方括号内为 90% 置信区间。"),
        "fl_paper_note": ("对角线（粗体）为 AVE 的平方根，下三角为因子间相关；对角线应大于同行同列的相关"
                          "（Fornell & Larcker, 1981）。未达标者以红色标出。"),
        "htmt_paper_note": ("下三角为 HTMT；应 < {htmt}（严格）或 < {htmt_liberal}（宽松）"
                            "（Henseler et al., 2015）。≥ {htmt} 者以红色标出。"),
        "htmt_paper_note_ci": ("下三角为 HTMT，方括号内为 bootstrap 百分位 95% 置信区间（同 SmartPLS）；"
                               "HTMT 应 < {htmt}，区间上限 < 1 表明判别效度成立（Henseler et al., 2015）。"
                               "≥ {htmt} 者以红色标出。"),
        "hypothesis": "假设",
        "statement": "表述",
        "paths_table_title": "结构路径与假设检验",
        "paths_table_note": ("β 为标准化路径系数，b 为非标准化系数；区间方法见“区间方法”列。"
                             "载荷大小假设（最强指标）一行给出标准化载荷之差（与最接近的指标比较），"
                             "其 b 不适用（—）。"),
        "ci_method": "区间方法",
        "ci_wald": "Wald（delta 法）",
        "ci_delta": "delta 法",
        "ci_boot_perc": "bootstrap 百分位",
        "ci_boot_bc": "偏差校正 bootstrap",
        "opposite_sign": "方向相反",
        "not_in_model": "模型中无此路径",
        "predictor": "预测变量",
        "effect_size": "效应量",
        "r2_table_title": "解释方差 R² 与效应量 f²",
        "r2_table_note": ("R² 为内生构念被解释的方差比例。f² = (R²含 − R²不含) / (1 − R²含)，"
                          "R²不含 为去掉该预测路径后重新拟合模型所得（同 SmartPLS 的做法）；"
                          "f² ≥ .02、.15、.35 分别为小、中、大效应（Cohen, 1988）。"),
        "f2_small": "小",
        "f2_medium": "中",
        "f2_large": "大",
        "f2_negligible": "可忽略",
        "effect_kind": "类型",
        "effect_indirect": "间接效应",
        "effect_total": "总效应",
        "effect_defined": "自定义参数",
        "indirect_table_note": ("间接效应为路径系数之积，总效应为所有路径之和。b 的区间为 delta 法区间；"
                                "未运行 bootstrap，标准化效应 β 无区间。区间不含 0 即为显著。"),
        "indirect_table_note_boot": ("间接效应为路径系数之积，总效应为所有路径之和。每个区间标明方法："
                                     "delta 法、bootstrap 百分位与偏差校正 bootstrap（{draws} 次抽样）；"
                                     "β 为标准化效应，其区间为 bootstrap 百分位区间。区间不含 0 即为显著。"),
        "comparison_table_note": ("各模型的拟合；ΔCFI 为与参照模型 {reference} 之差。AIC/BIC 权重仅在拟合同一组"
                                  "变量与样本的模型之间计算。等价模型拟合完全相同，只能依理论取舍。"),
        "nested_note": "嵌套模型的 χ² 差异检验；ΔCFI 为受限模型减一般模型。",
        "method_lrt": "似然比检验",
        "method_sb2001": "Satorra–Bentler (2001) 校正差异检验",
        "invariance_level": "不变性水平",
        "level_configural": "形态等同",
        "level_thresholds": "阈值等同",
        "level_metric": "载荷等同（弱不变）",
        "level_scalar": "截距等同（强不变）",
        "level_strict": "残差等同（严格不变）",
        "chen_ok": "符合 Chen (2007) 标准",
        "invariance_paper_note": ("分组变量 {group}：{groups}。逐级增加组间等同约束；检验的标准为 Chen (2007)："
                                  "{criteria}（各级允许的变化），并给出 χ² 差异检验。{conclusion}"),
        "invariance_holds": "结论：直至{level}的测量不变性均成立。",
        "invariance_fails": "结论：{failed}不成立；成立的最高水平为{held}。",
        "equivalent_models_warning": "等价模型：{models} 拟合相同，数据无法区分这些模型，只能依理论取舍。",
        "figure": "图",
        "table": "表",
        "note": "注",
        "results_title": "结果",
        "results_paragraph_fit": ("χ²({v_df}) = {v_chisq}，CFI = {v_cfi}，TLI = {v_tli}，"
                                  "RMSEA = {v_rmsea}，90% CI {v_rmsea_ci}，SRMR = {v_srmr}。"),
        "results_paragraph_fit_good": "测量模型与数据拟合良好，",
        "results_paragraph_fit_poor": "测量模型与数据的拟合未达到全部阈值，",
        "results_paragraph_hyp": "在 {n} 个假设中，{k} 个得到支持（{ids}）。",
        "results_paragraph_path": "{id}：β = {beta}，p {p}",
        "results_paragraph_r2": "模型解释了 {what}。",
        "results_paragraph_r2_item": "{c} 方差的 {r2}%",
        "results_paragraph_ind": "间接效应 {id} = {est}，{ci_label} {ci}。",
        "methods_title": "分析方法",
        "methods_table_note": "所用估计方法及其理由（来自数据筛查的建议或用户的选择）。",
        "methods_estimator_ML": "模型采用最大似然法（ML）估计，标准误基于期望信息矩阵。",
        "methods_estimator_MLR": ("模型采用稳健最大似然法（MLR）估计：ML 估计值、Huber-White（三明治）稳健标准误与 "
                                  "Yuan-Bentler 校正 χ²。"),
        "methods_estimator_WLSMV": ("{n_ordered} 个题项按有序分类变量处理（阈值与多分格相关），模型采用 WLSMV 估计："
                                    "对角加权最小二乘（DWLS）估计值、稳健标准误与均值方差校正（scaled-shifted）χ²"
                                    "（Muthén, du Toit & Spisic, 1997；lavaan 的 estimator = \"WLSMV\"）。"
                                    "拟合指数同时给出基于校正 χ² 的值（scaled）与 Savalei (2021) 的稳健 CFI、TLI、RMSEA（robust）。"),
        "methods_estimator_ULSMV": ("{n_ordered} 个题项按有序分类变量处理（阈值与多分格相关），模型采用 ULSMV 估计："
                                    "非加权最小二乘（ULS）估计值、稳健标准误与均值方差校正（scaled-shifted）χ²"
                                    "（lavaan 的 estimator = \"ULSMV\"）。拟合指数同时给出校正值（scaled）与稳健值（robust）。"),
        "methods_estimator_DWLS": ("{n_ordered} 个题项按有序分类变量处理（阈值与多分格相关），模型采用对角加权最小二乘法"
                                   "（DWLS）估计，标准误与 χ² 为未校正的常规值。"),
        "methods_estimator_ULS": ("{n_ordered} 个题项按有序分类变量处理（阈值与多分格相关），模型采用非加权最小二乘法"
                                  "（ULS）估计，标准误为常规值。"),
        "methods_why_few_categories": "{n_few} / {n_items} 个题项的答案类别少于 {k} 个",
        "methods_why_asymmetric": "{n_asym} / {n_items} 个有序题项的答案明显不对称（|偏度| > 2 或 |峰度| > 7）",
        "methods_why_symmetric_categories": "所有题项均有至少 {k} 个答案类别且无明显不对称的题项",
        "methods_wlsmv_advice": "此时有序分类估计（WLSMV）比稳健 ML 更准确",
        "methods_mlr_advice": "此时稳健 ML（MLR）与 WLSMV 同样准确，并能应对非正态",
        "methods_by_screening": "估计方法依数据筛查的建议选定：{why}，{advice}（{source}）。",
        "methods_by_user": "估计方法由用户指定。",
        "methods_by_default": "估计方法为 lavaan 的默认设置（连续题项为 ML，有序题项为 WLSMV）。",
        "methods_advice_same": "这也是数据筛查的建议：{why}，{advice}（{source}）。",
        "methods_advice_other": "数据筛查建议采用 {recommended}：{why}，{advice}（{source}）。",
        "methods_source_short": "Rhemtulla, Brosseau-Liard & Savalei, 2012",
        "methods_bootstrap": "间接效应等参数的置信区间另由 {b} 次 bootstrap 重抽样（百分位法与偏差校正法）给出{ordinal}。",
        "methods_bootstrap_ordinal": "；每次重抽样重新计算阈值、多分格相关与权重矩阵后重新估计",
        "thresholds_title": "有序题项的阈值",
        "thresholds_note": ("lavaan 的阈值参数（“|” 行，t1 < t2 < …）：相邻答案类别在潜在连续反应上的分界点"
                            "（delta 参数化下为标准正态尺度）。"),
        "threshold_label": "阈值",
        "thresholds_sheet": "阈值",
        "fit_chisq_scaled_shifted": "χ²（均值方差校正，scaled-shifted）",
        "fit_pvalue_scaled_shifted": "p（均值方差校正）",
        "fit_cfi_scaled": "CFI（校正，scaled）",
        "fit_tli_scaled": "TLI（校正，scaled）",
        "fit_rmsea_scaled": "RMSEA（校正，scaled）[90% CI]",
        "fit_cfi_robust": "CFI（稳健，robust）",
        "fit_tli_robust": "TLI（稳健，robust）",
        "fit_rmsea_robust": "RMSEA（稳健，robust）[90% CI]",
        "docx_title": "结构方程分析结果",
        "fit_other": "其他拟合信息（对数似然 logL、信息准则 AIC/BIC/SABIC、参数个数 npar）",
        "failed_targets": "未达标对象",
        "harman_title": "Harman 单因子检验",
        "one_factor_title": "单因子模型比较（共同方法偏差）",
        "parameter": "参数",
        "param_loading": "载荷",
        "param_path": "路径",
        "param_covariance": "协方差",
        "param_variance": "方差",
    },
    "en": {
        "measurement": "Measurement model",
        "measurement_title": "Measurement model: standardized loadings, reliability and convergent validity",
        "measurement_note": ("λ are the standardized loadings (std.all) of the {model}; SE, z and p are "
                             "those of the unstandardized loading. The marker loading of each factor is "
                             "fixed at 1 (—). α, CR, AVE and ω are given once per construct. λ should be "
                             "≥ {loading_std}, α, CR and ω ≥ {alpha}, AVE ≥ {ave} (Fornell & Larcker, 1981; "
                             "Hair et al., 2019); values that fail are highlighted."),
        "measurement_note_second": ("The second-order part gives each dimension's loadings on its "
                                    "first-order factors (second-order CFA); its ω is the higher-order ω."),
        "model_cfa": "measurement model (CFA of correlated first-order factors, M1)",
        "model_hypothesized": "hypothesized model",
        "model_cfa_short": "Measurement model",
        "model_hypothesized_short": "Structural model",
        "fit_table_title": "Model fit",
        "fit_table_note": ("Each index with its threshold, verdict and source. In large samples the χ² "
                           "test is nearly always significant and is shown for reference; the brackets "
                           "after RMSEA hold its 90% confidence interval."),
        "fl_paper_note": ("The diagonal (bold) holds the square root of AVE, the lower triangle the factor "
                          "correlations; each diagonal value should exceed the correlations in its row and "
                          "column (Fornell & Larcker, 1981). Failures are highlighted."),
        "htmt_paper_note": ("Lower triangle: HTMT; it should be < {htmt} (strict) or < {htmt_liberal} "
                            "(liberal) (Henseler et al., 2015). Values ≥ {htmt} are highlighted."),
        "htmt_paper_note_ci": ("Lower triangle: HTMT with its 95% bootstrap percentile interval in brackets "
                               "(as SmartPLS prints it); HTMT should be < {htmt}, and an upper bound below 1 "
                               "supports discriminant validity (Henseler et al., 2015). Values ≥ {htmt} are "
                               "highlighted."),
        "hypothesis": "Hypothesis",
        "statement": "Statement",
        "paths_table_title": "Structural paths and hypothesis tests",
        "paths_table_note": ("β: standardized path coefficient; b: unstandardized coefficient; the interval's "
                             "method is given in its own column. The row of a loading-order hypothesis "
                             "(strongest indicator) gives the difference of standardized loadings against "
                             "the closest other indicator; b does not apply (—)."),
        "ci_method": "Interval",
        "ci_wald": "Wald (delta method)",
        "ci_delta": "delta method",
        "ci_boot_perc": "bootstrap percentile",
        "ci_boot_bc": "bias-corrected bootstrap",
        "opposite_sign": "opposite sign",
        "not_in_model": "not in the model",
        "predictor": "Predictor",
        "effect_size": "Effect size",
        "r2_table_title": "Explained variance R² and effect sizes f²",
        "r2_table_note": ("R² is the share of an endogenous construct's variance that the model explains. "
                          "f² = (R²included − R²excluded) / (1 − R²included), with R²excluded from refitting "
                          "the model without the predictor's path (as SmartPLS computes it); f² ≥ .02, .15 "
                          "and .35 are small, medium and large effects (Cohen, 1988)."),
        "f2_small": "small",
        "f2_medium": "medium",
        "f2_large": "large",
        "f2_negligible": "negligible",
        "effect_kind": "Kind",
        "effect_indirect": "indirect",
        "effect_total": "total",
        "effect_defined": "defined parameter",
        "indirect_table_note": ("Indirect effects are products of path coefficients, total effects the sum "
                                "over all paths. The interval of b is the delta-method interval; without a "
                                "bootstrap the standardized effect β has none. An interval that excludes 0 is "
                                "significant."),
        "indirect_table_note_boot": ("Indirect effects are products of path coefficients, total effects the sum "
                                     "over all paths. Each interval names its method: delta method, bootstrap "
                                     "percentile and bias-corrected bootstrap ({draws} draws); β is the "
                                     "standardized effect with its bootstrap percentile interval. An interval "
                                     "that excludes 0 is significant."),
        "comparison_table_note": ("Fit of every model; ΔCFI is the difference from the reference model "
                                  "{reference}. AIC and BIC weights are computed only among models fitted to the "
                                  "same variables and rows. Equivalent models fit identically; only theory can "
                                  "choose between them."),
        "nested_note": "χ² difference tests of nested models; ΔCFI is the restricted model's CFI minus the general model's.",
        "method_lrt": "likelihood-ratio test",
        "method_sb2001": "Satorra–Bentler (2001) scaled difference test",
        "invariance_level": "Level",
        "level_configural": "configural",
        "level_thresholds": "thresholds",
        "level_metric": "metric",
        "level_scalar": "scalar",
        "level_strict": "strict",
        "chen_ok": "Chen (2007) criteria met",
        "invariance_paper_note": ("Group variable {group}: {groups}. Equality constraints are added level by "
                                  "level; the criteria checked are Chen's (2007): {criteria} (the change allowed "
                                  "at each level), with the χ² difference test shown. {conclusion}"),
        "invariance_holds": "Conclusion: invariance holds up to the {level} level.",
        "invariance_fails": "Conclusion: {failed} invariance does not hold; the highest level that holds is {held}.",
        "equivalent_models_warning": ("Equivalent models: {models} fit identically; the data cannot tell them "
                                      "apart, only theory can."),
        "figure": "Figure",
        "table": "Table",
        "note": "Note",
        "results_title": "Results",
        "results_paragraph_fit": ("χ²({v_df}) = {v_chisq}, CFI = {v_cfi}, TLI = {v_tli}, RMSEA = {v_rmsea}, "
                                  "90% CI {v_rmsea_ci}, SRMR = {v_srmr}."),
        "results_paragraph_fit_good": "The measurement model fit the data well, ",
        "results_paragraph_fit_poor": "The measurement model did not meet every fit threshold, ",
        "results_paragraph_hyp": "Of the {n} hypotheses, {k} were supported ({ids}).",
        "results_paragraph_path": "{id}: β = {beta}, p {p}",
        "results_paragraph_r2": "The model explained {what}.",
        "results_paragraph_r2_item": "{r2}% of the variance of {c}",
        "results_paragraph_ind": "The indirect effect {id} was {est}, {ci_label} {ci}.",
        "methods_title": "Method",
        "methods_table_note": "The estimator and why (the screening's advice or the user's choice).",
        "methods_estimator_ML": ("The models were estimated by maximum likelihood (ML), with standard "
                                 "errors from the expected information matrix."),
        "methods_estimator_MLR": ("The models were estimated by robust maximum likelihood (MLR): ML "
                                  "estimates, Huber-White (sandwich) standard errors and the "
                                  "Yuan-Bentler scaled χ²."),
        "methods_estimator_WLSMV": ("{n_ordered} items were treated as ordered categorical (thresholds and "
                                    "polychoric correlations) and the models were estimated by WLSMV: "
                                    "diagonally weighted least squares (DWLS) estimates, robust standard "
                                    "errors and the mean- and variance-adjusted (scaled-shifted) χ² "
                                    "(Muthén, du Toit & Spisic, 1997; lavaan's estimator = \"WLSMV\"). "
                                    "Fit indices are given from the scaled-shifted χ² (scaled) and as "
                                    "Savalei's (2021) robust CFI, TLI and RMSEA (robust)."),
        "methods_estimator_ULSMV": ("{n_ordered} items were treated as ordered categorical (thresholds and "
                                    "polychoric correlations) and the models were estimated by ULSMV: "
                                    "unweighted least squares (ULS) estimates, robust standard errors and "
                                    "the mean- and variance-adjusted (scaled-shifted) χ² (lavaan's "
                                    "estimator = \"ULSMV\"). Fit indices are given scaled and robust."),
        "methods_estimator_DWLS": ("{n_ordered} items were treated as ordered categorical (thresholds and "
                                   "polychoric correlations) and the models were estimated by diagonally "
                                   "weighted least squares (DWLS), with standard (unadjusted) standard "
                                   "errors and χ²."),
        "methods_estimator_ULS": ("{n_ordered} items were treated as ordered categorical (thresholds and "
                                  "polychoric correlations) and the models were estimated by unweighted "
                                  "least squares (ULS), with standard (unadjusted) standard errors."),
        "methods_why_few_categories": "{n_few} of {n_items} items have fewer than {k} answer categories",
        "methods_why_asymmetric": ("{n_asym} of {n_items} ordinal items have strongly asymmetric answers "
                                   "(|skewness| > 2 or |kurtosis| > 7)"),
        "methods_why_symmetric_categories": ("every item has at least {k} answer categories and none is "
                                             "strongly asymmetric"),
        "methods_wlsmv_advice": "where categorical estimation (WLSMV) is more accurate than robust ML",
        "methods_mlr_advice": ("where robust ML (MLR) is as accurate as WLSMV and guards against "
                               "non-normality"),
        "methods_by_screening": "The estimator follows the screening's advice: {why}, {advice} ({source}).",
        "methods_by_user": "The estimator was chosen by the user.",
        "methods_by_default": ("The estimator is lavaan's default (ML for continuous items, WLSMV for "
                               "ordered ones)."),
        "methods_advice_same": "It is also the screening's advice: {why}, {advice} ({source}).",
        "methods_advice_other": "The screening recommends {recommended}: {why}, {advice} ({source}).",
        "methods_source_short": "Rhemtulla, Brosseau-Liard & Savalei, 2012",
        "methods_bootstrap": ("Confidence intervals of the indirect effects and other parameters come "
                              "from {b} bootstrap resamples (percentile and bias-corrected){ordinal}."),
        "methods_bootstrap_ordinal": (", each refitted after recomputing the thresholds, polychoric "
                                      "correlations and weights of the resample"),
        "thresholds_title": "Thresholds of the ordered items",
        "thresholds_note": ("lavaan's threshold parameters (\"|\" rows, t1 < t2 < ...): the points on the "
                            "latent response scale between adjacent answer categories (standard normal "
                            "in the delta parameterization)."),
        "threshold_label": "Threshold",
        "thresholds_sheet": "Thresholds",
        "fit_chisq_scaled_shifted": "χ² (scaled-shifted)",
        "fit_pvalue_scaled_shifted": "p (scaled-shifted)",
        "fit_cfi_scaled": "CFI (scaled)",
        "fit_tli_scaled": "TLI (scaled)",
        "fit_rmsea_scaled": "RMSEA (scaled) [90% CI]",
        "fit_cfi_robust": "CFI (robust)",
        "fit_tli_robust": "TLI (robust)",
        "fit_rmsea_robust": "RMSEA (robust) [90% CI]",
        "docx_title": "Structural equation analysis: results",
        "fit_other": ("Other fit information (log-likelihood logL, information criteria AIC, BIC, "
                      "SABIC, number of parameters npar)"),
        "failed_targets": "Failing targets",
        "harman_title": "Harman's single-factor test",
        "one_factor_title": "One-factor model comparison (common-method bias)",
        "parameter": "Parameter",
        "param_loading": "loading",
        "param_path": "path",
        "param_covariance": "covariance",
        "param_variance": "variance",
    },
}
for _lang, _texts in PAPER_TEXT.items():
    TEXT[_lang].update(_texts)

#: Texts of the sample section and of ``cleaned.xlsx``.
_SAMPLE_TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "sample": "样本",
        "sample_note": "样本的人口学特征（各选项的人数与百分比）、样本量评估与数据清洗。",
        "sample_table": "样本描述",
        "sample_table_note": ("各人口学变量每个选项的人数、占分析样本的百分比与有效百分比"
                              "（不含未作答）。"),
        "missing_category": "（未作答）",
        "sample_size": "样本量评估",
        "sample_size_note": ("经验规则：N ≥ 200（Kline, 2016）；每个自由参数至少 5 个样本"
                             "（Bentler & Chou, 1987）。未达标者以红色标出。"),
        "sample_n": "分析所用样本量 N",
        "sample_npar": "自由参数个数",
        "sample_ratio": "N / 自由参数",
        "sample_planned": "功效分析所需样本量",
        "sample_sources": "来源",
        "sample_advice": "建议",
        "sample_ok": "样本量满足两条经验规则。",
        "cleaning": "数据清洗",
        "cleaning_note": "筛查标记的作答者及其原因；使用 --drop-flagged 时这些作答者不进入后续分析。",
        "cleaning_read": "读入的作答者",
        "cleaning_flagged": "被标记的作答者",
        "cleaning_dropped": "剔除的作答者",
        "cleaning_kept": "保留的作答者",
        "cleaning_reason_count": "原因：{reason}",
        "flagged_title": "被标记的作答者",
        "flagged_note": "行号为原文件中的行（表头为第 1 行）。",
        "rows_dropped": "剔除的作答者（筛查）",
        "reason_missing": "半数以上题项未作答",
        "reason_longstring": "连续大量相同作答",
        "reason_irv": "作答几乎无变化",
        "reason_mahalanobis": "多元异常值（Mahalanobis p < .001）",
        "reason_duplicate": "与他人作答完全相同",
        "reason_speeder": "用时不足中位数的一半",
        "cleaned_sheet": "清洗后数据",
        "dropped_sheet": "剔除的作答者",
        "cleaned_row": "原文件行号",
        "cleaned_id": "编号",
        "cleaned_reasons": "剔除原因",
    },
    "en": {
        "sample": "Sample",
        "sample_note": ("Who answered (counts and percentages of each demographic answer), "
                        "whether N is large enough, and the respondents screening flagged."),
        "sample_table": "Sample description",
        "sample_table_note": ("Counts of each answer of the demographic questions, percent of "
                              "the respondents analysed and valid percent (without blanks)."),
        "missing_category": "(no answer)",
        "sample_size": "Sample size",
        "sample_size_note": ("Rules of thumb: N ≥ 200 (Kline, 2016); at least 5 respondents per "
                             "free parameter (Bentler & Chou, 1987). Values below are in red."),
        "sample_n": "N analysed",
        "sample_npar": "Free parameters",
        "sample_ratio": "N per free parameter",
        "sample_planned": "N asked for by the power analysis",
        "sample_sources": "Sources",
        "sample_advice": "Advice",
        "sample_ok": "N meets both rules of thumb.",
        "cleaning": "Data cleaning",
        "cleaning_note": ("Respondents flagged by screening and why; with --drop-flagged they "
                          "are left out of every analysis after screening."),
        "cleaning_read": "Respondents read",
        "cleaning_flagged": "Respondents flagged",
        "cleaning_dropped": "Respondents dropped",
        "cleaning_kept": "Respondents kept",
        "cleaning_reason_count": "Reason: {reason}",
        "flagged_title": "Flagged respondents",
        "flagged_note": "Row numbers are those of the original file (the header is row 1).",
        "rows_dropped": "Respondents dropped (screening)",
        "reason_missing": "more than half of the items unanswered",
        "reason_longstring": "the same answer in a long run of items",
        "reason_irv": "almost no variation across the answers",
        "reason_mahalanobis": "multivariate outlier (Mahalanobis p < .001)",
        "reason_duplicate": "answers identical to another respondent's",
        "reason_speeder": "completed in under half the median time",
        "cleaned_sheet": "cleaned",
        "dropped_sheet": "dropped",
        "cleaned_row": "row in file",
        "cleaned_id": "id",
        "cleaned_reasons": "reasons dropped",
    },
}
for _lang, _texts in _SAMPLE_TEXT.items():
    TEXT[_lang].update(_texts)

#: Headers of known result columns (unknown columns keep their own name).
COLUMN_HEADERS: dict[str, dict[str, str]] = {
    "zh": {
        "lhs": "左侧", "op": "运算符", "rhs": "右侧", "label": "标签", "est": "估计值",
        "se": "标准误", "z": "z", "pvalue": "p", "p": "p", "ci_lower": "CI 下限",
        "ci_upper": "CI 上限", "std_lv": "std_lv", "std_all": "标准化估计", "se_std_all": "标准化标准误",
        "mi": "修正指数", "epc": "EPC", "sepc_all": "标准化 EPC", "factor": "因子", "factor_name": "因子名称",
        "item": "题项", "item_name": "题项名称", "construct": "构念", "construct_name": "构念名称",
        "alpha": "α", "alpha_ci_lower": "α CI 下限", "alpha_ci_upper": "α CI 上限", "omega": "ω",
        "alpha_ordinal": "有序 α（Zumbo）",
        "cr": "CR", "ave": "AVE", "sqrt_ave": "√AVE", "n_items": "题项数", "r2": "R²",
        "id": "编号", "path": "路径", "sign": "预期方向", "verdict": "结论", "supported": "是否支持",
        "description": "描述", "model": "模型", "chisq": "χ²", "df": "df", "cfi": "CFI",
        "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "aic": "AIC", "bic": "BIC",
        "chisq_diff": "Δχ²", "df_diff": "Δdf", "method": "方法", "cfi_diff": "ΔCFI",
        "rmsea_diff": "ΔRMSEA", "mean": "均值", "sd": "标准差", "skew": "偏度", "kurtosis": "峰度",
        "min": "最小值", "max": "最大值", "n": "样本量", "n_missing": "缺失数", "missing": "缺失",
        "threshold": "阈值", "source": "来源", "check": "检验", "value": "值", "name": "名称",
        "column": "数据列", "zh": "中文", "en": "英文", "reverse": "反向计分", "scale_min": "量表最小值",
        "scale_max": "量表最大值", "kind": "类型", "nested_in": "嵌套于", "equivalent_to": "等价于",
        "group_label": "组", "group_a": "组 A", "group_b": "组 B", "label_a": "组 A",
        "label_b": "组 B", "est_a": "估计值 A", "est_b": "估计值 B", "diff": "差异 (A − B)",
        "pvalue_lrt": "p（卡方差异）", "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA",
        "step": "步骤", "constraints": "约束", "group": "组", "effect": "效应", "index": "指标",
        "line": "行", "syntax": "语法", "passed": "达标", "expected": "预期",
        "chisq_df": "χ²/df", "rmsea_ci_lower": "RMSEA CI 下限", "rmsea_ci_upper": "RMSEA CI 上限",
        "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA", "aic_weight": "AIC 权重", "bic_weight": "BIC 权重",
        "model_a": "受限模型", "model_b": "一般模型", "scaling_factor": "校正因子", "basis": "嵌套依据",
        "npar": "参数个数", "expected_sign": "预期方向", "ci_method": "区间方法", "test": "检验",
        "criterion": "检验", "target": "对象", "direction": "方向", "dimension": "维度",
        "strongest": "最强指标", "other": "比较指标", "above_zero": "大于 0", "expression": "表达式",
        "se_boot": "bootstrap 标准误", "citc": "校正项总相关", "alpha_if_deleted": "删除后 α",
        "loading_std": "标准化载荷",
        "power_close": "近似拟合检验力", "power_notclose": "非近似拟合检验力", "power": "检验力",
        "n_required": "所需 N", "mcse": "蒙特卡洛标准误", "bias": "偏差", "relative_bias": "相对偏差",
        "coverage": "95% 区间覆盖率", "converged": "收敛次数", "reps": "重复次数", "true": "伪真值",
        "rejection_rate": "拒绝率", "std": "标准化值",
    },
    "en": {
        "lhs": "lhs", "op": "op", "rhs": "rhs", "label": "Label", "est": "Estimate",
        "se": "SE", "z": "z", "pvalue": "p", "p": "p", "ci_lower": "CI lower", "ci_upper": "CI upper",
        "std_lv": "std_lv", "std_all": "Std. estimate", "se_std_all": "Std. SE", "mi": "MI",
        "epc": "EPC", "sepc_all": "Std. EPC", "factor": "Factor", "factor_name": "Factor name",
        "item": "Item", "item_name": "Item wording", "construct": "Construct",
        "construct_name": "Construct name", "alpha": "Alpha", "alpha_ci_lower": "Alpha CI lower",
        "alpha_ordinal": "Ordinal alpha (Zumbo)",
        "alpha_ci_upper": "Alpha CI upper", "omega": "Omega", "cr": "CR", "ave": "AVE",
        "sqrt_ave": "√AVE", "n_items": "Items", "r2": "R²", "id": "Id", "path": "Path",
        "sign": "Expected sign", "verdict": "Verdict", "supported": "Supported",
        "description": "Description", "model": "Model", "chisq": "χ²", "df": "df", "cfi": "CFI",
        "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR", "aic": "AIC", "bic": "BIC",
        "chisq_diff": "Δχ²", "df_diff": "Δdf", "method": "Method", "cfi_diff": "ΔCFI",
        "rmsea_diff": "ΔRMSEA", "mean": "Mean", "sd": "SD", "skew": "Skewness",
        "kurtosis": "Kurtosis", "min": "Min", "max": "Max", "n": "N", "n_missing": "Missing",
        "missing": "Missing", "threshold": "Threshold", "source": "Source", "check": "Check",
        "value": "Value", "name": "Name", "column": "Column in file", "zh": "Chinese",
        "en": "English", "reverse": "Reverse-keyed", "scale_min": "Scale min",
        "scale_max": "Scale max", "kind": "Kind", "nested_in": "Nested in",
        "group_label": "Group", "group_a": "Group A", "group_b": "Group B", "label_a": "Group A",
        "label_b": "Group B", "est_a": "Estimate A", "est_b": "Estimate B",
        "diff": "Difference (A - B)", "pvalue_lrt": "p (chi-square difference)",
        "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA",
        "equivalent_to": "Equivalent to", "step": "Step", "constraints": "Constraints",
        "group": "Group", "effect": "Effect", "index": "Index", "line": "Line",
        "syntax": "Syntax", "passed": "Passed", "expected": "Expected",
        "chisq_df": "χ²/df", "rmsea_ci_lower": "RMSEA CI lower", "rmsea_ci_upper": "RMSEA CI upper",
        "delta_cfi": "ΔCFI", "delta_rmsea": "ΔRMSEA", "aic_weight": "AIC weight",
        "bic_weight": "BIC weight", "model_a": "Restricted model", "model_b": "General model",
        "scaling_factor": "Scaling factor", "basis": "Nesting basis", "npar": "Parameters",
        "expected_sign": "Expected sign", "ci_method": "Interval", "test": "Test",
        "criterion": "Check", "target": "Target", "direction": "Direction",
        "dimension": "Dimension", "strongest": "Strongest", "other": "Other",
        "above_zero": "Above 0", "expression": "Expression", "se_boot": "Bootstrap SE",
        "citc": "Corrected item-total r", "alpha_if_deleted": "Alpha if deleted",
        "loading_std": "Std. loading",
        "power_close": "Power (close fit)", "power_notclose": "Power (not-close fit)",
        "power": "Power", "n_required": "Required N", "mcse": "MC SE", "bias": "Bias",
        "relative_bias": "Relative bias", "coverage": "95% CI coverage",
        "converged": "Converged", "reps": "Replications", "true": "Pseudo-true value",
        "rejection_rate": "Rejection rate", "std": "Std. value",
    },
}

#: Names of result fields, criteria and values that reports show, by language (keys are the
#: names the results use; :func:`name_text` looks them up).
NAMES: dict[str, dict[str, str]] = {
    "zh": {
        # fields and columns
        "n_obs": "样本量", "n": "样本量", "alpha_std": "标准化 α", "skew_se": "偏度标准误",
        "kurtosis_se": "峰度标准误", "out_of_scale": "超出量表范围", "missing_items": "缺失题项",
        "min_loading_std": "最小标准化载荷", "n_factors": "因子数", "eigenvalue": "特征值",
        "random_eigenvalue": "随机数据特征值", "communality": "共同度", "primary_factor": "主因子",
        "msa": "MSA", "estimator": "估计方法", "missing": "缺失值处理", "reference": "参照模型",
        "method": "方法", "rotation": "旋转", "n_iter": "迭代次数", "quantile": "分位数",
        "seed": "随机种子", "first_eigenvalue": "第一特征值", "share": "解释方差比例",
        "n_items": "题项数", "overall": "总体 KMO", "converged": "是否收敛",
        "chisq": "χ²", "df": "df", "pvalue": "p", "reason": "原因", "recommendation": "建议",
        "kurtosis_b2p": "Mardia 峰度 b2p", "kurtosis_p": "Mardia 峰度 p", "kurtosis_z": "Mardia 峰度 z",
        "skew_b1p": "Mardia 偏度 b1p", "skew_df": "Mardia 偏度 df", "skew_p": "Mardia 偏度 p",
        "skew_statistic": "Mardia 偏度统计量", "n_items_abs_kurtosis_ge_7": "|峰度| ≥ 7 的题项数",
        "n_items_abs_skew_ge_2": "|偏度| ≥ 2 的题项数", "row": "行", "longstring": "最长连续相同作答",
        "irv": "个体内标准差", "mahalanobis_d2": "马氏距离 D²", "mahalanobis_p": "马氏距离 p",
        "duplicate": "重复作答", "duration": "作答时长", "speeder": "作答过快", "flagged": "标记",
        "reasons": "标记原因", "rule": "规则", "cutoff": "临界值", "items": "题项", "normality": "正态性",
        "respondents": "受访者", "thresholds": "筛查规则", "missing_patterns": "缺失模式", "n_missing_items": "缺失题项数", "n_rows": "行数",
        "pattern": "模式", "mahalanobis_df": "马氏距离 df", "npar": "参数个数",
        "missingness": "缺失情况", "test": "检验", "fit": "拟合",
        # criteria of the thresholds table
        "alpha": "Cronbach's α", "omega": "McDonald's ω", "omega_higher_order": "高阶 ω", "cr": "组合信度 CR",
        "ave": "平均方差抽取量 AVE", "loading_std": "标准化载荷", "citc": "校正项总相关", "skew": "偏度",
        "kurtosis": "峰度", "fornell_larcker": "Fornell–Larcker 准则", "htmt": "HTMT（严格）",
        "htmt_liberal": "HTMT（宽松）", "htmt2": "HTMT2（严格）", "htmt2_liberal": "HTMT2（宽松）",
        "kmo": "KMO", "kmo_item": "题项 MSA", "bartlett": "Bartlett 球形检验", "harman": "Harman 单因子检验",
        "one_factor_cfa": "单因子 CFA 比较", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA", "srmr": "SRMR",
        "missing_share": "缺失比例", "longstring_share": "连续相同作答比例", "irv_range_share": "个体内标准差",
        "speed_fraction": "作答时长比例", "abs_skew": "|偏度|", "abs_kurtosis": "|峰度|",
        "mardia_alpha": "Mardia 检验显著性水平",
        # values
        "listwise": "列表删除", "fiml": "全信息最大似然（FIML）", "ml": "最大似然", "demo": "示例分析",
        "fit": "拟合", "validate": "验证", "compare": "模型比较", "invariance": "测量不变性",
        "report": "报告", "oblimin": "斜交旋转（oblimin）", "varimax": "正交旋转（varimax）",
        "pa": "主轴因子法", "minres": "最小残差法", "bootstrap percentile": "bootstrap 百分位",
        "delta method Wald": "delta 法 Wald", "Wald": "Wald", "model": "模型",
        "unrotated principal components": "未旋转主成分", "chisq difference": "χ² 差异检验",
        "more than this share of the items unanswered": "未作答题项超过该比例",
        "completion time below this fraction of the median completion time": "作答时长低于中位时长的该比例",
        "abs skew": "|偏度| 超过临界值", "abs kurtosis": "|峰度| 超过临界值",
        "mardia alpha": "Mardia 多元正态检验的显著性水平",
        "longest run of identical consecutive answers >= this share of the items (at least 2 answers long)":
            "连续相同作答的最长长度 ≥ 题项数的该比例（至少 2 个）",
        "intra-individual response SD < this share of the scale range (max - min)":
            "个体内作答标准差 < 量表全距的该比例",
        "Mahalanobis D^2 against chi-square(df = items answered) with p below this":
            "马氏距离 D² 对应 χ²（df = 作答题项数）的 p 低于该值",
        "answer vector identical to another respondent's (all copies flagged)":
            "作答与另一受访者完全相同（所有副本均标记）",
        "indirect": "间接效应", "total": "总效应", "defined": "自定义参数",
        "configural": "形态等同", "metric": "载荷等同", "scalar": "截距等同", "strict": "残差等同",
        "min_categories": "最少类别数", "max_ordinal_categories": "按有序处理的最多类别数",
        "n_items_few_categories": "少于 5 个类别的题项数",
        "n_ordinal_items_asymmetric": "明显不对称的有序题项数",
        "recommendation_source": "建议依据", "chisq_scaled": "校正 χ²",
        "chisq_scaling_factor": "χ² 校正因子", "pvalue_scaled": "校正 p", "cfi_scaled": "校正 CFI",
        "tli_scaled": "校正 TLI", "rmsea_scaled": "校正 RMSEA", "cfi_robust": "稳健 CFI",
        "tli_robust": "稳健 TLI", "rmsea_robust": "稳健 RMSEA", "path": "路径", "effect": "效应",
    },
    "en": {
        "n_obs": "N", "n": "N", "alpha_std": "Standardized alpha", "skew_se": "SE of skewness",
        "kurtosis_se": "SE of kurtosis", "out_of_scale": "Out of scale", "missing_items": "Missing items",
        "min_loading_std": "Smallest std. loading", "n_factors": "Factors", "eigenvalue": "Eigenvalue",
        "random_eigenvalue": "Eigenvalue of random data", "communality": "Communality",
        "primary_factor": "Primary factor", "msa": "MSA", "estimator": "Estimator",
        "missing": "Missing data", "reference": "Reference model", "method": "Method",
        "rotation": "Rotation", "n_iter": "Iterations", "quantile": "Quantile", "seed": "Seed",
        "first_eigenvalue": "First eigenvalue", "share": "Share of variance", "n_items": "Items",
        "overall": "Overall KMO", "converged": "Converged", "chisq": "χ²", "df": "df", "pvalue": "p",
        "reason": "Reason", "recommendation": "Recommendation", "kurtosis_b2p": "Mardia kurtosis b2p",
        "kurtosis_p": "Mardia kurtosis p", "kurtosis_z": "Mardia kurtosis z",
        "skew_b1p": "Mardia skewness b1p", "skew_df": "Mardia skewness df", "skew_p": "Mardia skewness p",
        "skew_statistic": "Mardia skewness statistic",
        "n_items_abs_kurtosis_ge_7": "Items with |kurtosis| ≥ 7",
        "n_items_abs_skew_ge_2": "Items with |skewness| ≥ 2", "row": "Row",
        "longstring": "Longest identical run", "irv": "Intra-individual SD",
        "mahalanobis_d2": "Mahalanobis D²", "mahalanobis_p": "Mahalanobis p",
        "duplicate": "Duplicate", "duration": "Duration", "speeder": "Speeder", "flagged": "Flagged",
        "reasons": "Reasons", "rule": "Rule", "cutoff": "Cut-off", "items": "Items",
        "normality": "Normality", "respondents": "Respondents", "thresholds": "Screening rules",
        "missing_patterns": "Missing-data patterns", "n_missing_items": "Missing items",
        "n_rows": "Rows", "pattern": "Pattern", "mahalanobis_df": "Mahalanobis df",
        "npar": "Parameters", "missingness": "Missingness", "test": "Test",
        "fit": "Fit",
        "alpha": "Cronbach's alpha", "omega": "McDonald's omega", "omega_higher_order": "Higher-order omega",
        "cr": "Composite reliability", "ave": "Average variance extracted", "loading_std": "Std. loading",
        "citc": "Corrected item-total r", "skew": "Skewness", "kurtosis": "Kurtosis",
        "fornell_larcker": "Fornell–Larcker criterion", "htmt": "HTMT (strict)",
        "htmt_liberal": "HTMT (liberal)", "htmt2": "HTMT2 (strict)", "htmt2_liberal": "HTMT2 (liberal)",
        "kmo": "KMO", "kmo_item": "Item MSA", "bartlett": "Bartlett's test", "harman": "Harman's single-factor test",
        "one_factor_cfa": "One-factor CFA comparison", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA",
        "srmr": "SRMR", "missing_share": "Share missing", "longstring_share": "Identical-run share",
        "irv_range_share": "Intra-individual SD", "speed_fraction": "Duration fraction",
        "abs_skew": "|Skewness|", "abs_kurtosis": "|Kurtosis|", "mardia_alpha": "Mardia's test level",
        "listwise": "listwise deletion", "fiml": "full-information ML (FIML)", "ml": "maximum likelihood",
        "demo": "demo", "validate": "validate", "compare": "compare", "invariance": "invariance",
        "report": "report", "pa": "principal axis", "bootstrap percentile": "bootstrap percentile",
        "delta method Wald": "delta-method Wald", "unrotated principal components":
            "unrotated principal components", "chisq difference": "χ² difference test",
        "indirect": "indirect", "total": "total", "defined": "defined parameter", "model": "model",
        "min_categories": "Fewest categories", "max_ordinal_categories": "Most categories treated as ordinal",
        "n_items_few_categories": "Items with fewer than 5 categories",
        "n_ordinal_items_asymmetric": "Strongly asymmetric ordinal items",
        "recommendation_source": "Source of the advice", "chisq_scaled": "Scaled χ²",
        "chisq_scaling_factor": "χ² scaling factor", "pvalue_scaled": "Scaled p",
        "cfi_scaled": "Scaled CFI", "tli_scaled": "Scaled TLI", "rmsea_scaled": "Scaled RMSEA",
        "cfi_robust": "Robust CFI", "tli_robust": "Robust TLI", "rmsea_robust": "Robust RMSEA",
        "path": "path", "effect": "effect",
    },
}


def name_text(key, lang: str):
    """The report's name for a result field, criterion or value ``key`` in ``lang`` (the key
    itself when it is not a known name; non-strings are returned unchanged). Dotted keys of
    nested results (``fit.cfi``) are named part by part."""
    if not isinstance(key, str):
        return key
    names = NAMES[lang]
    if key in names:
        return names[key]
    if "." in key and not key.startswith(".") and all(p for p in key.split(".")):
        head, _, tail = key.partition(".")
        if head in names or tail in names or tail in COLUMN_HEADERS[lang]:
            return f"{names.get(head, head)}: {names.get(tail, COLUMN_HEADERS[lang].get(tail, tail))}"
    if key.replace(" ", "_") in names:
        return names[key.replace(" ", "_")]
    return key


#: Known warnings in Chinese: (regular expression of the English message, Chinese template
#: with the groups as ``{1}``, ``{2}``, ...). A warning without a pattern is shown as written.
WARNINGS_ZH: tuple[tuple[str, str], ...] = (
    (r"^(.*): (\d+) item answer\(s\) are missing \(([\d.]+)% of cells\)\.$",
     "{1}：{2} 个题项作答缺失（占全部单元格的 {3}%）。"),
    (r"^(\d+) row\(s\) with missing answers were left out \(listwise\); the FIML option "
     r"\(--missing fiml\) keeps them\.$",
     "{1} 行存在缺失作答，已按列表删除排除；使用 FIML（--missing fiml）可保留这些行。"),
    (r"^Screening recommends MLR: Mardia's multivariate kurtosis is significant \(z = ([-\d.]+), "
     r"p = ([\d.e-]+)\): use MLR \(robust standard errors and the Yuan-Bentler scaled test\)\.$",
     "数据筛查建议使用 MLR：Mardia 多元峰度显著（z = {1}，p = {2}），应采用 MLR（稳健标准误与 "
     "Yuan–Bentler 校正检验）。"),
    (r"^Screening recommends MLR: (.*)$", "数据筛查建议使用 MLR：{1}"),
    (r"^(.*): the optimizer did not converge; estimates are not trustworthy\.$",
     "{1}：优化未收敛，估计值不可信。"),
    (r"^(.*): Heywood case\(s\): (.*)\.$", "{1}：出现 Heywood 个案（负方差或相关大于 1）：{2}。"),
    (r"^(\d+) incomplete row\(s\) were left out \(listwise\)(.*)$", "{1} 行不完整，已按列表删除排除{2}"),
)


def warning_text(message: str, lang: str) -> str:
    """A run warning in ``lang``: Chinese from :data:`WARNINGS_ZH` where a pattern matches."""
    if lang != "zh":
        return message
    import re

    for pattern, template in WARNINGS_ZH:
        m = re.match(pattern, message, flags=re.S)
        if m:
            return template.format(None, *m.groups())
    return message


#: Column headers of the sample tables.
_SAMPLE_HEADERS = {
    "zh": {"variable": "变量", "category": "选项", "n": "人数", "percent": "百分比(%)",
           "valid_percent": "有效百分比(%)", "row": "行号", "id": "编号", "reasons": "原因",
           "dropped": "已剔除"},
    "en": {"variable": "Variable", "category": "Answer", "n": "n", "percent": "Percent",
           "valid_percent": "Valid percent", "row": "Row", "id": "Id", "reasons": "Reasons",
           "dropped": "Dropped"},
}
for _lang, _heads in _SAMPLE_HEADERS.items():
    for _k, _v in _heads.items():
        COLUMN_HEADERS[_lang].setdefault(_k, _v)


def resolve_language(lang: str | None, spec: Spec) -> str:
    """Return the report language: ``lang`` if given, else the spec's, else ``"en"``.

    Raises
    ------
    ValueError
        If ``lang`` is given and is not ``"zh"`` or ``"en"``.
    """
    if lang is None:
        lang = spec.language or "en"
    if lang not in LANGUAGES:
        raise ValueError(f"Language must be 'zh' or 'en', got {lang!r}.")
    return lang


class _Cutoffs(dict):
    """Placeholders ``{criterion}`` of the texts: the thresholds table's cut-offs; any other
    placeholder (``{a}``, ``{rules}``) is left for the caller to fill."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_CUTOFFS = _Cutoffs({name: f"{c.value:.2f}" for name, c in CRITERIA.items()
                     if c.value is not None})


def text(key: str, lang: str) -> str:
    """Return the fixed text ``key`` in ``lang`` (KeyError for an unknown key), with the
    cut-offs of the thresholds table filled in (``{htmt}`` -> ``0.85``)."""
    return TEXT[lang][key].format_map(_CUTOFFS)


def column_header(column: str, lang: str) -> str:
    """Return the header of result column ``column`` in ``lang`` (:data:`COLUMN_HEADERS`, then
    :data:`NAMES`; the name itself if unknown)."""
    column = str(column)
    if column in COLUMN_HEADERS[lang]:
        return COLUMN_HEADERS[lang][column]
    return name_text(column, lang)


def localized(element: Any, lang: str, fallback: bool = True) -> str:
    """The ``zh`` or ``en`` text of a spec element (construct, dimension, item, hypothesis,
    alternative); with ``fallback``, the other language's when the wanted one is empty."""
    wanted, other = (element.zh, element.en) if lang == "zh" else (element.en, element.zh)
    return wanted or (other if fallback else "") or ""


def spec_title(spec: Spec, lang: str) -> str:
    """The spec's title in ``lang``, else its name."""
    return (spec.title_zh if lang == "zh" else spec.title_en) or spec.name


def element_name(spec: Spec, code: str, lang: str) -> str:
    """Return the spec's name of a construct, dimension or item in ``lang`` ("" if none).

    Falls back to the other language when the wanted one is empty.
    """
    for group in (spec.constructs, spec.dimensions):
        for el in group:
            if el.code == code:
                return localized(el, lang)
    try:
        item = spec.item(code)
    except KeyError:
        return ""
    return localized(item, lang)
