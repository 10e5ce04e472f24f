"""Where a stage's parallel work runs: processes on this machine, or a Dask cluster through Prefect.

The normalise and match stages hand their work out in pieces (a batch of files to parse, a council
to rebuild, a block of supplier names to match) through :class:`Workers`, which runs a plain
function over a list of pieces and returns the results in order:

* :class:`LocalWorkers`: a process pool on this machine (``--workers N``), or this process alone
  when N is 1;
* :class:`DaskWorkers`: each piece is a Prefect task run on a Dask cluster through prefect-dask's
  ``DaskTaskRunner``: the scheduler at ``COUNCILSPEND_DASK_ADDRESS`` (``tcp://host:8786``), or a
  ``LocalCluster`` of N worker processes on this machine when that variable is ``local`` or when
  ``--dask`` is given without it.

Dask workers elsewhere read the originals and write the parses in the output folder itself, so
``--out`` must be a folder every worker sees at the same path (a shared filesystem) and each
worker needs councilspend installed (and ``PREFECT_API_URL`` of the Prefect server the flow uses).
The flow process alone takes the folder's lock and commits: a worker only ever writes parse
outputs in the work area and staged files of the flow's open commit.
"""

from __future__ import annotations

import inspect
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager, suppress
from multiprocessing import get_context
from types import TracebackType
from typing import Any, TypeVar

from rich.progress import Progress

Item = TypeVar("Item")
Result = TypeVar("Result")
#: What a piece returns when the worker running it died (out of memory, killed): given the piece and the error.
Lost = Callable[[Any, BaseException], Any]

DASK_ADDRESS_ENV = "COUNCILSPEND_DASK_ADDRESS"
LOCAL_CLUSTER = "local"


def dask_address(requested: bool = False, env: Mapping[str, str] = os.environ) -> str | None:
    """The Dask scheduler to run on: ``COUNCILSPEND_DASK_ADDRESS`` if set, ``local`` (a LocalCluster)
    when Dask is ``requested`` without an address, else None (no Dask).

    >>> dask_address(env={}), dask_address(True, env={})
    (None, 'local')
    >>> dask_address(env={DASK_ADDRESS_ENV: "tcp://10.0.0.5:8786"})
    'tcp://10.0.0.5:8786'
    """
    return env.get(DASK_ADDRESS_ENV, "").strip() or (LOCAL_CLUSTER if requested else None)


class Workers(AbstractContextManager["Workers"]):
    """Runs a plain, importable function over pieces of work; open it with ``with`` for the whole stage."""

    def run(
        self, fn: Callable[..., Result], items: Sequence[Any], label: str, lost: Lost | None = None, **fixed: Any
    ) -> list[Result]:
        """``[fn(item, **fixed) for item in items]``, run in parallel, results in order.

        A piece whose worker died gives ``lost(item, error)`` when ``lost`` is given; any other
        error of a piece is raised.
        """
        raise NotImplementedError

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return None


class LocalWorkers(Workers):
    """``processes`` worker processes on this machine (forkserver), kept for the whole stage; 1 runs in this process.

    The workers start as the stage opens, so they are ready by the time it has chosen its work; ``preload``
    names modules the fork server imports once for all of them (the code they will run), where the
    server is started by this stage.
    """

    def __init__(self, processes: int, preload: Sequence[str] = ()) -> None:
        self.processes = processes
        self.preload = preload
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalWorkers:
        if self.processes > 1:
            # forkserver: never fork this process, whose threads (Prefect's) may hold locks
            context = get_context("forkserver")
            context.set_forkserver_preload(["__main__", *self.preload])
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
            # Started from a thread, so the stage chooses its work meanwhile: the first start launches the
            # fork server, which imports ``preload`` (about 0.3 s here) while the caller goes on.
            threading.Thread(target=self._start_workers, args=(self._pool,), daemon=True).start()
        return self

    def _start_workers(self, pool: ProcessPoolExecutor) -> None:
        with suppress(RuntimeError):  # the stage was over first (it had nothing to do): the pool is shut
            for _ in range(self.processes):
                pool.submit(int)  # a no-op whose only import is the builtins: each call starts a worker

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def run(
        self, fn: Callable[..., Result], items: Sequence[Any], label: str, lost: Lost | None = None, **fixed: Any
    ) -> list[Result]:
        if not items:
            return []
        with Progress(transient=True) as bar:
            if self._pool is None or len(items) == 1:
                return [fn(item, **fixed) for item in bar.track(items, description=label)]
            futures: dict[Future, int] = {self._pool.submit(fn, item, **fixed): i for i, item in enumerate(items)}
            results: list[Any] = [None] * len(items)
            for future in bar.track(as_completed(futures), total=len(items), description=label):
                i = futures[future]
                try:
                    results[i] = future.result()
                except BrokenProcessPool as exc:
                    if lost is None:
                        raise
                    results[i] = lost(items[i], exc)
        return results


class DaskWorkers(Workers):
    """Each piece a Prefect task run on a Dask cluster (an existing scheduler, or a LocalCluster of ``processes``)."""

    def __init__(self, address: str, processes: int) -> None:
        from prefect_dask import DaskTaskRunner

        if address == LOCAL_CLUSTER:
            cluster: dict[str, Any] = {
                "n_workers": processes,
                "threads_per_worker": 1,  # parsing holds the GIL: one piece per process at a time
                "processes": True,
                "host": "127.0.0.1",
                "dashboard_address": None,  # no web port opened on the operator's machine
            }
            url = _prefect_api_url()
            if url:  # the workers report their task runs to this flow's server, not each to a temporary one of its own
                cluster["env"] = {"PREFECT_API_URL": url}
            self.runner = DaskTaskRunner(cluster_kwargs=cluster)
        else:
            self.runner = DaskTaskRunner(address=address)

    def __enter__(self) -> DaskWorkers:
        self.runner.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.runner.__exit__(kind, value, traceback)

    def run(
        self, fn: Callable[..., Result], items: Sequence[Any], label: str, lost: Lost | None = None, **fixed: Any
    ) -> list[Result]:
        from distributed import KilledWorker
        from prefect import Task, unmapped
        from prefect.cache_policies import NO_CACHE

        if not items:
            return []
        piece: Task[..., Result] = Task(fn, name=label, cache_policy=NO_CACHE)
        first = next(iter(inspect.signature(fn).parameters))
        parameters = {first: list(items)} | {name: unmapped(value) for name, value in fixed.items()}
        futures = self.runner.map(piece, parameters)
        results: list[Any] = []
        for item, future in zip(items, futures):
            try:
                results.append(future.result())
            except KilledWorker as exc:
                if lost is None:
                    raise
                results.append(lost(item, exc))
        return results


def _prefect_api_url() -> str | None:
    """The Prefect API this process reports to: the configured server, or the temporary one Prefect started here."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL

    if url := PREFECT_API_URL.value():
        return str(url)
    server = SubprocessASGIServer()  # the process's temporary server (a singleton), if Prefect started one
    return server.api_url if server.running else None


@contextmanager
def stage_workers(processes: int, dask: str | None, preload: Sequence[str] = ()) -> Iterator[Workers]:
    """The workers of one stage: on Dask at ``dask`` (an address or ``local``) when given, else local processes
    (``preload``: the modules of the code they run, see :class:`LocalWorkers`)."""
    workers: Workers = DaskWorkers(dask, processes) if dask else LocalWorkers(processes, preload)
    with workers:
        yield workers
