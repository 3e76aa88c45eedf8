"""`axspa cohort --workers N` when a worker process dies (the out-of-memory killer, a signal): the
run ends with a message and exit code 2. With a multiprocessing Pool it hung for ever, saying
nothing, since the Pool started another worker and the lost batch's result never came (session-35
failure probe F3). And when the command itself is killed outright, its workers end too (they
ignore Ctrl-C, and waited on the call queue for ever: session-35 review L5)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from generate import cohort  # noqa: E402


def _children(pid: int) -> list[int]:
    """The worker processes the cohort command started (spawned: their command line names
    spawn_main; the resource tracker, another child, does not)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == pid and b"spawn_main" in cmdline:
            found.append(int(entry.name))
    return found


def _start(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """A two-worker cohort command and its workers, once the first batches are written (so that a
    worker has a batch in hand)."""
    path = tmp_path / "cohort.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in cohort(300, seed=5, invalid_fraction=0.0)))
    out = tmp_path / "advice.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "reasoner.cli", "cohort", str(path), "--workers", "2",
                            "--batch", "5", "-o", str(out)], stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    workers: list[int] = []
    partial = out.with_name(out.name + ".partial")  # (the output's name until the run ends)
    while not (workers and partial.exists() and partial.stat().st_size) and run.poll() is None \
            and time.monotonic() < deadline:
        workers = _children(run.pid)
        time.sleep(0.02)
    return run, workers


def test_a_worker_that_dies_ends_the_run_with_a_message(tmp_path: Path) -> None:
    run, workers = _start(tmp_path)
    try:
        assert workers and run.poll() is None, "the run ended before a worker could be stopped"
        others = [pid for pid in _children(run.pid) if pid != workers[0]]
        os.kill(workers[0], signal.SIGKILL)
        _, err = run.communicate(timeout=300)  # hung for ever before
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 2, err
    assert "a worker process ended without finishing its batch" in err
    assert "Traceback" not in err
    # the other workers were stopped too (none is left running once the command has ended)
    assert [pid for pid in others if _running(pid)] == []


def _running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_when_the_command_is_killed(tmp_path: Path) -> None:
    run, workers = _start(tmp_path)
    try:
        assert workers and run.poll() is None, "the run ended before it could be killed"
        workers = _children(run.pid)  # both, by now
        os.kill(run.pid, signal.SIGKILL)
        run.communicate(timeout=60)
        deadline = time.monotonic() + 30
        while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [pid for pid in workers if _running(pid)]
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for pid in workers:  # a worker left behind would hold a core for the rest of the tests
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
    assert len(workers) == 2 and left == []
