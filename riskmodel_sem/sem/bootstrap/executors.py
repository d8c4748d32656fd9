"""Where bootstrap draws run: this process, local worker processes, or a Dask cluster.

Every executor runs the same chunks of draws through the same function (``run_chunk(task,
start, stop)``), so the draws do not depend on where they ran. Progress goes to stderr.
"""

from __future__ import annotations

import math
import multiprocessing
import os

import numpy as np

from ...errors import OptionError

__all__ = ["execute", "Progress"]


# ------------------------------------------------------------------------------------------
# progress on stderr
# ------------------------------------------------------------------------------------------

class Progress:
    """The bar of a run of draws (:func:`riskmodel_sem.progress.progress_bar`, with ETA)."""

    def __init__(self, total: int, enabled: bool, label: str = "Bootstrap",
                 unit: str = "draw"):
        from ...progress import progress_bar

        self.total = total
        self.done = 0
        self.enabled = enabled
        self._bar = progress_bar(total, label, unit=unit, enabled=enabled)

    def update(self, k: int) -> None:
        self.done += k
        self._bar.update(k)

    def close(self) -> None:
        self._bar.close()


def _chunks(B: int, jobs: int) -> list[tuple[int, int]]:
    size = max(1, min(10, math.ceil(B / (max(jobs, 1) * 8))))
    return [(s, min(s + size, B)) for s in range(0, B, size)]


def execute(run_chunk, task, B, jobs, scheduler, progress):
    """Run draws 0..B-1 of ``task`` in chunks; return (rows, failed, admissible, iterations,
    draws computed elsewhere)."""
    width = task.width
    rows = np.full((B, width), np.nan)
    failed = np.zeros(B, dtype=bool)
    admissible = np.zeros(B, dtype=bool)
    iterations = np.zeros(B, dtype=np.int64)
    elsewhere = [0]

    def store(result):
        start, r, f, a, it, pid = result
        if pid != os.getpid():
            elsewhere[0] += len(r)
        stop = start + len(r)
        rows[start:stop], failed[start:stop] = r, f
        admissible[start:stop], iterations[start:stop] = a, it
        progress.update(len(r))

    chunks = _chunks(B, jobs)
    if scheduler is not None:
        _execute_dask(run_chunk, task, chunks, scheduler, store)
    elif jobs == 1:
        for s, e in chunks:
            store(run_chunk(task, s, e))
    else:
        _execute_pool(run_chunk, task, chunks, jobs, store)
    return rows, failed, admissible, iterations, elsewhere[0]


#: Whether this process computes chunks too when jobs > 1 (the tests switch it off to make
#: every chunk run in a worker process).
_LOCAL_WORK = True


def _worker_main(run_chunk, task, task_q, result_q) -> None:
    """Worker process: take chunks from the shared queue until it is empty."""
    import queue

    while True:
        try:
            chunk = task_q.get(timeout=1.0)
        except queue.Empty:
            return
        if chunk is None:
            return
        result_q.put(run_chunk(task, *chunk))


def _execute_pool(run_chunk, task, chunks, jobs, store):
    """Run chunks on jobs - 1 worker processes and in this process, from one shared queue.

    Workers are started from a background thread and take a chunk only once they are ready,
    so this process computes chunks while they start; a chunk is never held by a worker that
    is still starting, and a pool that starts slowly never makes the run slower than
    ``jobs=1``. A chunk whose result does not come back within a few seconds is computed here
    as well (a draw gives the same numbers wherever it runs). Workers are ended by handle when
    the draws are done.
    """
    import queue
    import threading

    ctx = _mp_context()
    task_q, result_q = ctx.Queue(), ctx.Queue()
    for chunk in chunks:
        task_q.put(chunk)
    procs: list = []
    stop = threading.Event()

    def start_workers():
        for _ in range(jobs - 1):
            if stop.is_set():
                return
            proc = ctx.Process(target=_worker_main, args=(run_chunk, task, task_q, result_q),
                               daemon=True)
            procs.append(proc)
            try:
                proc.start()
            except Exception:  # pragma: no cover - e.g. no more processes allowed
                return

    finished: set = set()

    def keep(result):
        start = result[0]
        if start not in finished:
            finished.add(start)
            store(result)

    starter = threading.Thread(target=start_workers, daemon=True)
    starter.start()
    try:
        waited = 0.0
        while len(finished) < len(chunks):
            try:
                while True:
                    keep(result_q.get_nowait())
            except queue.Empty:
                pass
            chunk = None
            if _LOCAL_WORK:
                try:
                    chunk = task_q.get(timeout=0.05)
                except queue.Empty:
                    pass
            if chunk is not None:
                keep(run_chunk(task, *chunk))
                continue
            try:
                keep(result_q.get(timeout=0.25))
                waited = 0.0
            except queue.Empty:
                waited += 0.3
                if waited > (3.0 if _LOCAL_WORK else 300.0):
                    for s, e in chunks:
                        if s not in finished:
                            keep(run_chunk(task, s, e))
    finally:
        stop.set()
        for proc in procs:
            if proc.pid is not None and proc.is_alive():
                proc.terminate()
        for proc in procs:
            if proc.pid is not None:
                proc.join(timeout=5)
        for q in (task_q, result_q):
            q.cancel_join_thread()
            q.close()


def _mp_context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["riskmodel_sem.sem.bootstrap"])
        return ctx
    return multiprocessing.get_context("spawn")


def _execute_dask(run_chunk, task, chunks, scheduler, store):
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the optional extra
        raise OptionError("Running the bootstrap on a Dask cluster needs the 'dask' extra: "
                          "pip install \"dask[distributed]\".") from None
    own = isinstance(scheduler, str)
    client = Client(scheduler) if own else scheduler
    try:
        [task_future] = client.scatter([task], broadcast=True)
        futures = client.map(run_chunk, [task_future] * len(chunks),
                             [s for s, _ in chunks], [e for _, e in chunks], pure=False)
        for fut in as_completed(futures):
            store(fut.result())
    finally:
        if own:
            client.close()
