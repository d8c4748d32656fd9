"""Bootstrap worker processes as the command line meets them: real processes, no mocks.

``fit --bootstrap N --jobs 2`` runs the draws in this process and in a worker process. The
command must leave nothing behind: no traceback on stderr after it has written its results
(a worker starting after the parent finished printed one), and no process left in the
command's process group once it has exited.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, load_reference, reference_path


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a process of another user took the id
        return True
    return True


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_jobs_two_leaves_no_traceback_and_no_process(tmp_path):
    model = tmp_path / "poldem.lav"
    model.write_text(load_reference("poldem_sem_ml.json")["model"], encoding="utf-8")
    data = reference_path("political_democracy.csv")
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    outputs = []
    for run in range(3):
        out = tmp_path / f"boot{run}.json"
        # a session of its own: the command's process group is then its own id
        proc = subprocess.Popen(
            [sys.executable, "-m", "riskmodel_sem", "fit", str(data), "--spec", str(model),
             "--bootstrap", "200", "--seed", "3", "--jobs", "2", "--json", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
            start_new_session=True)
        stdout, stderr = proc.communicate(timeout=300)
        pgid = proc.pid
        deadline = time.monotonic() + 0.5
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _group_alive(pgid)
        if left:  # pragma: no cover - clean up before failing
            os.killpg(pgid, signal.SIGKILL)
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr and "Error" not in stderr, stderr
        lines = [line for line in stderr.splitlines() if line.strip()]
        # the command's own warnings, then its last word: nothing after it
        assert lines[-1] == f"wrote {out}", stderr
        assert all(line.startswith("riskmodel-sem: warning:") for line in lines[:-1]), stderr
        assert not left, "a process of the command outlived it"
        outputs.append(json.loads(out.read_text(encoding="utf-8"))["bootstrap"])
    # the same seed gives the same intervals whichever process computed which draw
    assert outputs[0] == outputs[1] == outputs[2]
    assert outputs[0]["n"] == 200 and outputs[0]["failed"] == 0
