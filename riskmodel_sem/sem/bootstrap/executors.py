"""Where bootstrap draws run: this process, local worker processes, or a Dask cluster.

Every executor runs the same chunks of draws through the same function (``run_chunk(task,
start, stop)``), so the draws do not depend on where they ran. Progress goes to stderr.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import time

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


def _chunks(B: int, jobs: int, max_size: int = 10, per_job: int = 8) -> list[tuple[int, int]]:
    """Consecutive chunks of draws 0..B-1: about ``per_job`` per process, at most
    ``max_size`` draws each."""
    size = max(1, min(max_size, math.ceil(B / (max(jobs, 1) * per_job))))
    return [(s, min(s + size, B)) for s in range(0, B, size)]


def execute(run_chunk, task, B, jobs, scheduler, progress, max_chunk: int = 10,
            per_job: int = 8):
    """Run draws 0..B-1 of ``task`` in chunks (about ``per_job`` per process, at most
    ``max_chunk`` draws each); return (rows, failed, admissible, iterations, draws computed
    elsewhere). ``run_chunk`` must give every draw the same numbers whatever chunk it is in
    (the chunks depend on ``jobs``)."""
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

    chunks = _chunks(B, jobs, max_chunk, per_job)
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

#: Seconds without any result, while workers are still alive, after which this process
#: computes the chunks not yet returned itself (a draw gives the same numbers wherever it
#: runs; the first copy of a chunk to arrive is kept).
_STALL_SECONDS = 10.0


def _worker_main(run_chunk, task, task_q, result_q) -> None:
    """Worker process: take chunks from the shared queue until a ``None`` arrives or the
    parent is gone. Ctrl-C is the parent's to handle (it ends the workers); a chunk that
    fails here ends the worker quietly and is computed again by the parent, which reports
    the error."""
    import queue
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()
    try:
        while True:
            try:
                chunk = task_q.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent:
                    return
                continue
            if chunk is None:
                return
            result_q.put(run_chunk(task, *chunk))
    except BaseException:  # noqa: BLE001 - the parent recomputes the chunk and reports
        return


def _execute_pool(run_chunk, task, chunks, jobs, store):
    """Run chunks on ``jobs - 1`` worker processes and in this process, from one shared queue.

    The workers are started once, before any chunk is queued, and are warm from the start:
    on Linux they are forked from this process, so they hold the package, the compiled task
    and the data without importing or unpickling anything (elsewhere they are spawned and
    receive the task once). Every process takes the next chunk when it is free, so the work
    is shared however fast each one is. When every chunk is in, each worker gets a ``None``
    and is joined; a worker that does not exit within a few seconds is terminated, then
    killed, and joined, so no process outlives the call. A chunk whose worker died is
    computed here.
    """
    import queue

    ctx = _mp_context()
    task_q, result_q = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_worker_main, args=(run_chunk, task, task_q, result_q),
                         daemon=True) for _ in range(jobs - 1)]
    finished: set = set()

    def keep(result):
        start = result[0]
        if start not in finished:
            finished.add(start)
            store(result)

    try:
        for proc in procs:  # before the queues have feeder threads to copy into the child
            proc.start()
        for chunk in chunks:
            task_q.put(chunk)
        last = time.monotonic()
        while len(finished) < len(chunks):
            try:
                while True:
                    keep(result_q.get_nowait())
                    last = time.monotonic()
            except queue.Empty:
                pass
            if _LOCAL_WORK:
                try:
                    chunk = task_q.get(timeout=0.02)
                except queue.Empty:
                    chunk = None
                if chunk is not None:
                    keep(run_chunk(task, *chunk))
                    continue
            try:
                keep(result_q.get(timeout=0.1))
                last = time.monotonic()
                continue
            except queue.Empty:
                pass
            if (not any(proc.is_alive() for proc in procs)
                    or time.monotonic() - last > _STALL_SECONDS):
                for s, e in chunks:
                    if s not in finished:
                        keep(run_chunk(task, s, e))
    finally:
        _stop_workers(procs, task_q)
        for q in (task_q, result_q):
            q.cancel_join_thread()
            q.close()


def _stop_workers(procs, task_q) -> None:
    """End the workers and wait for them: a ``None`` each, then terminate, then kill."""
    started = [proc for proc in procs if proc.pid is not None]
    for _ in started:
        try:
            task_q.put(None)
        except (OSError, ValueError):  # pragma: no cover - queue already broken
            break
    for proc in started:
        proc.join(timeout=5)
    for proc in started:
        if proc.is_alive():
            proc.terminate()
            proc.join(timeout=2)
        if proc.is_alive():  # pragma: no cover - a worker ignoring SIGTERM
            proc.kill()
            proc.join()
        proc.close()


def _mp_context():
    """Fork on Linux (warm workers, nothing to import or unpickle); spawn elsewhere, where
    forking a process that has loaded the system's numerical libraries is not safe."""
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
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
