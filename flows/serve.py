"""``councilspend serve``: the national flow as a scheduled Prefect deployment.

Prefect keeps a deployment's schedule only on a Prefect server: with ``PREFECT_API_URL`` set,
that server; otherwise :func:`local_prefect_server` starts one on a free loopback port for as
long as serving lasts (its database under ``PREFECT_HOME``, telemetry off, no UI), since
Prefect's embedded (ephemeral) mode cannot schedule. One run at a time: a run that outlasts
the interval delays the next rather than racing it on the same output folder (a limit of the
runner, not of the deployment, so a crashed run cannot hold the slot for ever). Ctrl-C or
SIGTERM pauses the schedule, stops the runner and the local server, and exits 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
from prefect import flow, get_run_logger
from prefect.client.schemas.schedules import CronSchedule
from prefect.deployments.runner import EntrypointType
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

from crawler.selection import plan_crawl
from flows.national import NationalRun, national_flow
from flows.summary import council_lines

#: Seconds a local Prefect server may take to start (its first start migrates a database: ~30 s).
SERVER_START_SECONDS = 120
#: Process ids of the local Prefect servers started here (not flow runs, stopped last).
_SERVERS: set[int] = set()


class ServeError(RuntimeError):
    """Serving cannot start (a bad schedule, a Prefect server that does not come up)."""


@flow(name="scheduled-national")
def scheduled_national_flow(
    out: str,
    sources: str,
    councils: list[str] | None = None,
    sample: int | None = None,
    workers: int = 2,
    council_retries: int = 2,
    retry_delay: float = 300,
) -> str:
    """One scheduled national run (parameters are plain values: they travel through Prefect's API)."""
    plan = plan_crawl(Path(sources), councils, sample)
    job = NationalRun(
        out=Path(out),
        sources=Path(sources),
        councils=plan.codes if councils or sample else None,
        workers=workers,
        council_retries=council_retries,
        retry_delay=retry_delay,
    )
    # the stages run as this flow's subflows: a dataclass parameter of a nested flow fails Prefect's
    # parameter validation inside a deployment's run ("National_FlowModel is not fully defined")
    result = national_flow.fn(job)
    logger = get_run_logger()
    for line in council_lines(Path(out), result.crawl.run_ids):
        f = line.files
        logger.info(
            "%s %s: via %s, pages %d read / %d not, files %d new %d changed %d unchanged %d failed%s",
            line.council_code,
            line.name,
            line.found_via,
            line.pages_read,
            line.pages_failed,
            f["new"],
            f["changed"],
            f["unchanged"],
            f["failed"],
            f"; {line.note}" if line.note else "",
        )
    return str(result.report)


def check_cron(expression: str) -> str:
    """The cron expression, or a ServeError saying what is wrong with it.

    >>> check_cron("0 2 * * 1")
    '0 2 * * 1'
    >>> check_cron("every monday")
    Traceback (most recent call last):
    flows.serve.ServeError: --cron 'every monday' is not a cron expression (e.g. '0 2 * * 1': Mondays at 02:00)
    """
    try:
        CronSchedule(cron=expression)
    except ValueError:
        raise ServeError(
            f"--cron {expression!r} is not a cron expression (e.g. '0 2 * * 1': Mondays at 02:00)"
        ) from None
    return expression


def serve(name: str, cron: str, parameters: dict, prefect_port: int = 0) -> None:
    """Serve the scheduled national flow until interrupted; start a local Prefect server if none is named."""
    check_cron(cron)
    with local_prefect_server(prefect_port) if not PREFECT_API_URL.value() else _nothing():
        try:
            scheduled_national_flow.serve(
                name=name,
                cron=cron,
                parameters=parameters,
                limit=1,
                pause_on_shutdown=True,
                entrypoint_type=EntrypointType.MODULE_PATH,
            )
        except (KeyboardInterrupt, SystemExit):  # Prefect's runner ends on SIGTERM with sys.exit(0)
            pass
        finally:
            end_flow_runs()


def end_flow_runs(grace: float = 20) -> None:
    """End the flow runs this process started that are still going (the runner leaves them behind).

    A run cut short is crashed in Prefect's records; its crawl resumes on the next run. The local
    Prefect server, in a session of its own, is stopped after this by :func:`local_prefect_server`.
    """
    runs = [p for p in psutil.Process().children() if p.pid not in _SERVERS]
    for run in runs:
        with contextlib.suppress(psutil.NoSuchProcess):
            for process in [*run.children(recursive=True), run]:
                process.terminate()
    _, alive = psutil.wait_procs(runs, timeout=grace)
    for run in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            for process in [*run.children(recursive=True), run]:
                process.kill()


@contextmanager
def local_prefect_server(port: int = 0) -> Iterator[str]:
    """A Prefect server on 127.0.0.1 for the duration; yields its API URL (also set for Prefect)."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}/api"
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log = Path(PREFECT_HOME.value()) / "councilspend-server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as stream:
        server = subprocess.Popen(command, stdout=stream, stderr=subprocess.STDOUT, start_new_session=True)
    _SERVERS.add(server.pid)
    try:
        _wait_for(url, server, log)
        os.environ["PREFECT_API_URL"] = url  # for processes started from here
        with temporary_settings({PREFECT_API_URL: url}):
            yield url
    finally:
        os.environ.pop("PREFECT_API_URL", None)
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        _SERVERS.discard(server.pid)


def _wait_for(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise ServeError(f"the local Prefect server stopped (exit code {server.returncode}); see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise ServeError(f"the local Prefect server did not answer at {url} within {SERVER_START_SECONDS} s; see {log}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _nothing() -> Iterator[None]:
    yield
