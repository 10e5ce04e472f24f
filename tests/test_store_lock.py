"""The run lock: one live run per output folder; a killed run's lock is taken over; a child shares its parent's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from normalise.store.folder import open_folder
from normalise.store.layout import Layout
from normalise.store.lock import FolderLocked, holding, inheritance

REPO = Path(__file__).resolve().parents[1]

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from normalise.store.folder import open_folder
    with open_folder(Path(sys.argv[1]), "councilspend run --out somewhere"):
        print("holding", flush=True)
        time.sleep(60)
    """
)


def hold_in_child(out: Path) -> subprocess.Popen:
    """A separate process that takes the folder's lock and keeps it."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(out)], cwd=REPO, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "holding"
    return child


def test_a_second_run_is_refused_at_once_naming_the_first(tmp_path):
    child = hold_in_child(tmp_path)
    try:
        started = time.monotonic()
        with pytest.raises(FolderLocked) as refused, open_folder(tmp_path, "councilspend normalise"):
            pass
        assert time.monotonic() - started < 1
        message = str(refused.value)
        assert f"pid {child.pid}" in message and socket.gethostname() in message
        assert "councilspend run --out somewhere" in message and "started 20" in message
        assert "\n" not in message
    finally:
        child.kill()
        child.wait()


def test_the_command_line_refuses_a_second_run_with_one_line_and_exit_2(tmp_path):
    Layout(tmp_path).manifest.write_bytes(b"")  # looks crawled, so the command reaches the lock
    child = hold_in_child(tmp_path)
    try:
        result = CliRunner().invoke(app, ["normalise", "--out", str(tmp_path)], catch_exceptions=False)
    finally:
        child.kill()
        child.wait()
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "in use by another run" in lines[0] and f"pid {child.pid}" in lines[0], result.output


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path, caplog):
    child = hold_in_child(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert f'"pid": {child.pid}' in Layout(tmp_path).lock.read_text()  # its details are still there
    with caplog.at_level("WARNING"), open_folder(tmp_path, "councilspend run"):
        assert f"pid {child.pid}" in caplog.text and "taking over" in caplog.text
    assert Layout(tmp_path).lock.read_text() == ""  # released cleanly: nothing to take over next time


def test_the_lock_is_reentrant_within_a_process(tmp_path):
    layout = Layout(tmp_path)
    with holding(layout, "outer") as (outer, first, _), holding(layout, "inner") as (inner, again, _):
        assert first and not again and inner is outer
    with holding(layout, "later") as (_, first, _):
        assert first


CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from normalise.store.folder import open_folder
    from normalise.store.lock import FolderLocked
    try:
        with open_folder(Path(sys.argv[1]), "child"):
            print("shared")
    except FolderLocked as exc:
        print("refused:", exc)
    """
)


def test_a_child_started_by_the_holder_shares_its_lock_and_others_are_refused(tmp_path):
    layout = Layout(tmp_path)
    with open_folder(tmp_path, "parent"):
        env, fds = inheritance(layout)
        shared = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path)],
            cwd=REPO,
            env=os.environ | env,
            pass_fds=fds,
            capture_output=True,
            text=True,
        )
        stranger = subprocess.run(
            [sys.executable, "-c", CHILD, str(tmp_path)], cwd=REPO, capture_output=True, text=True
        )
        assert shared.stdout.strip() == "shared", shared.stderr
        assert stranger.stdout.startswith("refused:") and "parent" in stranger.stdout
        # the child let go of nothing: the parent still holds the folder
        again = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path)], cwd=REPO, capture_output=True, text=True)
        assert again.stdout.startswith("refused:")


ORPHAN = textwrap.dedent(
    """
    import os, subprocess, sys, time
    from pathlib import Path
    from normalise.store.folder import open_folder
    from normalise.store.layout import Layout
    from normalise.store.lock import inheritance
    out = Path(sys.argv[1])
    with open_folder(out, "parent"):
        env, fds = inheritance(Layout(out))
        code = "import sys, time; from pathlib import Path; from normalise.store.folder import open_folder\\n"
        code += "with open_folder(Path(sys.argv[1]), 'child'):\\n    print('child', flush=True); time.sleep(60)"
        child = subprocess.Popen([sys.executable, "-c", code, str(out)], env=os.environ | env, pass_fds=fds,
                                 stdout=subprocess.PIPE, text=True)
        child.stdout.readline()
        print(child.pid, flush=True)
        time.sleep(60)
    """
)


def test_a_child_holding_the_lock_dies_with_its_killed_parent(tmp_path):
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHAN, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(child_pid, signal.SIGKILL)
        pytest.fail("the child outlived its killed parent and kept the folder locked")
    with open_folder(tmp_path, "next run"):
        pass
