"""Start a real `oxigraph serve` on 127.0.0.1 for the remote-store tests (in memory, bounded)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def oxigraph_binary() -> str:
    local = Path(sys.executable).with_name("oxigraph")
    found = str(local) if local.exists() else shutil.which("oxigraph")
    if not found:
        raise RuntimeError("the `oxigraph` server is not installed; `pip install oxigraph` (the test extra does)")
    return found


@contextmanager
def oxigraph_server(location: Path | None = None) -> Iterator[str]:
    """Yield the base URL of a fresh Oxigraph server, in memory or on disk in the folder
    `location` (RocksDB: its transactions are snapshots, where the in-memory store takes a lock
    for each write); stop it afterwards."""
    port = _free_port()
    where = ["--location", str(location)] if location is not None else []
    proc = subprocess.Popen([oxigraph_binary(), "serve", *where, "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/query?query=ASK%7B%7D", timeout=2).read()  # noqa: S310
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"oxigraph serve did not start: {proc.stderr.read().decode()[:500]}") from None
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
