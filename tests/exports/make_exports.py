"""Build the questionnaire-platform exports used by the tests (fixed seeds, same bytes).

    python tests/exports/make_exports.py

writes, next to this script,

* ``wjx_export.xlsx``: a Wenjuanxing ("问卷星") export with answers as text: the platform's
  columns 序号, 提交答卷时间, 所用时间 ("218秒"), 来源, 来源详情, 来自IP, four demographic
  questions ("1.您的性别", ...; one gender left blank) and the 33 items of the bundled spec with
  its Chinese wording as headers ("5.政府需要…"), 400 respondents of which eight answer
  "同意" throughout and six finish in under a minute;
* ``qualtrics_export.csv``: a Qualtrics export with its three header rows (names, question
  texts, import ids), 7-point English labels, two items worded in reverse (their answers
  mirrored), 350 respondents.

Answers are drawn from the bundled spec's population values (``simulate_survey`` with
``continuous=True``), cut into 5 or 7 categories.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from riskmodel_sem.outputs import reproducible_package  # noqa: E402
from riskmodel_sem.survey.bundled import bundled_spec  # noqa: E402
from riskmodel_sem.survey.simulate import simulate_survey  # noqa: E402
from riskmodel_sem.survey.spec import load_spec  # noqa: E402

ZH5 = ["非常不同意", "不同意", "一般", "同意", "非常同意"]
EN7 = ["Strongly disagree", "Disagree", "Somewhat disagree", "Neither agree nor disagree",
       "Somewhat agree", "Agree", "Strongly agree"]
REVERSED = ("PRC2", "EXC3")  # worded in reverse in the Qualtrics export


def _answers(spec, n, seed, cuts):
    frame = simulate_survey(spec, n, seed, continuous=True)
    return {i.code: 1 + np.digitize(frame[i.code].to_numpy(), cuts) for i in spec.items}


def wenjuanxing(spec, out: Path) -> None:
    from openpyxl import Workbook

    n = 400
    rng = np.random.default_rng(20240501)
    ans = _answers(spec, n, 20240502, [-1.5, -0.5, 0.5, 1.5])
    careless = rng.choice(n, 8, replace=False)
    for code in ans:
        ans[code][careless] = 4
    seconds = np.round(rng.gamma(9.0, 35.0, n)).astype(int) + 60
    speeders = rng.choice(np.setdiff1d(np.arange(n), careless), 6, replace=False)
    seconds[speeders] = rng.integers(25, 50, 6)
    gender = rng.choice(["男", "女"], n, p=[0.46, 0.54]).astype(object)
    gender[rng.integers(n)] = None
    age = rng.choice(["18-25岁", "26-35岁", "36-45岁", "46岁及以上"], n, p=[.3, .35, .2, .15])
    edu = rng.choice(["高中及以下", "大专", "本科", "研究生及以上"], n, p=[.15, .25, .45, .15])
    used = rng.choice(["是", "否"], n, p=[.7, .3])
    sources = rng.choice(["手机提交", "微信", "链接"], n)
    header = ["序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP",
              "1.您的性别", "2.您的年龄", "3.您的学历", "4.您是否使用过城市治理众包平台？"]
    header += [f"{k + 5}.{item.zh}" for k, item in enumerate(spec.items)]
    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    ws.append(header)
    for r in range(n):
        minute = int(rng.integers(0, 60 * 24 * 10))
        stamp = f"2024/5/{1 + minute // 1440} {minute % 1440 // 60}:{minute % 60:02d}:{r % 60:02d}"
        ip = f"113.{rng.integers(1, 255)}.{rng.integers(1, 255)}.{rng.integers(1, 255)}(广东-佛山)"
        row = [r + 1, stamp, f"{seconds[r]}秒", str(sources[r]), "N/A", ip, gender[r],
               str(age[r]), str(edu[r]), str(used[r])]
        row += [ZH5[int(ans[i.code][r]) - 1] for i in spec.items]
        ws.append(row)
    _save_reproducibly(wb, out)


def qualtrics(spec, out: Path) -> None:
    n = 350
    rng = np.random.default_rng(20240601)
    ans = _answers(spec, n, 20240602, [-1.8, -1.0, -0.35, 0.35, 1.0, 1.8])
    for code in REVERSED:
        ans[code] = 8 - ans[code]
    meta = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
            "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
            "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
            "DistributionChannel", "UserLanguage"]
    texts = ["Start Date", "End Date", "Response Type", "IP Address", "Progress",
             "Duration (in seconds)", "Finished", "Recorded Date", "Response ID",
             "Recipient Last Name", "Recipient First Name", "Recipient Email",
             "External Data Reference", "Location Latitude", "Location Longitude",
             "Distribution Channel", "User Language"]
    ids = ['{"ImportId":"startDate","timeZone":"America/Denver"}',
           '{"ImportId":"endDate","timeZone":"America/Denver"}', '{"ImportId":"status"}',
           '{"ImportId":"ipAddress"}', '{"ImportId":"progress"}', '{"ImportId":"duration"}',
           '{"ImportId":"finished"}', '{"ImportId":"recordedDate","timeZone":"America/Denver"}',
           '{"ImportId":"_recordId"}', '{"ImportId":"recipientLastName"}',
           '{"ImportId":"recipientFirstName"}', '{"ImportId":"recipientEmail"}',
           '{"ImportId":"externalDataReference"}', '{"ImportId":"locationLatitude"}',
           '{"ImportId":"locationLongitude"}', '{"ImportId":"distributionChannel"}',
           '{"ImportId":"userLanguage"}']
    header = meta + ["Q1", "Q2"]
    texts += ["What is your gender?", "What is your age?"]
    ids += ['{"ImportId":"QID1"}', '{"ImportId":"QID2"}']
    blocks = {}
    for item in spec.items:
        dim = spec.dimension_of(item.construct) or item.construct
        blocks.setdefault(dim, []).append(item)
    stem = "Please indicate how far you agree with each statement."
    for b, (dim, items) in enumerate(blocks.items()):
        for k, item in enumerate(items):
            header.append(f"Q{b + 3}_{k + 1}")
            wording = item.en if item.code not in REVERSED else \
                f"It is not true that: {item.en[0].lower()}{item.en[1:]}"
            texts.append(f"{stem} - {wording}")
            ids.append(f'{{"ImportId":"QID{b + 3}_{k + 1}"}}')
    order = [i for items in blocks.values() for i in items]
    gender = rng.choice(["Male", "Female", "Non-binary / third gender"], n, p=[.48, .49, .03])
    age = rng.choice(["18 - 24", "25 - 34", "35 - 44", "45 - 54", "55 or older"], n)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerows([header, texts, ids])
    for r in range(n):
        dur = int(rng.gamma(8.0, 40.0)) + 90
        day = 1 + r // 40
        row = [f"2024-06-{day:02d} 09:{r % 60:02d}:00", f"2024-06-{day:02d} 09:{r % 60:02d}:{dur % 60:02d}",
               "IP Address", f"203.0.{rng.integers(0, 255)}.{rng.integers(1, 255)}", "100",
               str(dur), "True", f"2024-06-{day:02d} 10:00:00", f"R_{r + 1:04d}abcDEF{r % 7}",
               "", "", "", "", f"{39 + rng.random():.4f}", f"{-105 + rng.random():.4f}",
               "anonymous", "EN", str(gender[r]), str(age[r])]
        row += [EN7[int(ans[i.code][r]) - 1] for i in order]
        w.writerow(row)
    out.write_bytes(("\ufeff" + buf.getvalue()).encode("utf-8"))


def _save_reproducibly(wb, out: Path) -> None:
    import datetime

    raw = io.BytesIO()
    wb.save(raw)
    out.write_bytes(reproducible_package(raw.getvalue(), datetime.datetime(2000, 1, 1)))


def main() -> None:
    spec = load_spec(bundled_spec())
    wenjuanxing(spec, HERE / "wjx_export.xlsx")
    qualtrics(spec, HERE / "qualtrics_export.csv")


if __name__ == "__main__":
    main()
