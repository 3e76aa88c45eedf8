"""Start a real, throwaway Virtuoso (Debian's virtuoso-opensource) on 127.0.0.1 for the store tests.

Each server gets a fresh database in its own temporary folder and free ports on the loopback
interface only, so tests never see each other's data and never touch a system-wide Virtuoso (the
Debian package's own /etc and /var files are not used). A missing binary fails the test with the
apt package to install: Virtuoso is a test prerequisite, not an optional extra, so a skip would hide it.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

APT_PACKAGE = "virtuoso-opensource-7-bin"
_INSTALL = f"`apt-get install -y --no-install-recommends {APT_PACKAGE}` (.ci/run does this)"

# Updates through /sparql run as the SQL user SPARQL, which a fresh database lets read but not
# write; the Graph Store protocol endpoint (/sparql-graph-crud) needs no extra grant.
_GRANTS = ['GRANT SPARQL_UPDATE TO "SPARQL";']

_INI = """\
[Database]
DatabaseFile       = {dir}/virtuoso.db
ErrorLogFile       = {dir}/virtuoso.log
LockFile           = {dir}/virtuoso.lck
TransactionFile    = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile    = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping        = 0

[Parameters]
ServerPort         = 127.0.0.1:{sql_port}
DirsAllowed        = .
; about 80 MB of buffers: the test data is a few tens of thousands of triples
NumberOfBuffers    = 10000
MaxDirtyBuffers    = 6000
CheckpointInterval = 0
ServerThreads      = 10

[HTTPServer]
ServerPort           = 127.0.0.1:{http_port}
ServerRoot           = {dir}
MaxClientConnections = 10
ServerThreads        = 10

[SPARQL]
; the default (10000) would silently cut off large CONSTRUCT results; the default timeouts
; would silently return partial ("anytime") results instead of failing
ResultSetMaxRows           = {result_rows}
MaxQueryExecutionTime      = 0
MaxQueryCostEstimationTime = 0
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def virtuoso_binaries() -> tuple[str, str]:
    """The server and its SQL client; a clear error naming the apt package when either is missing."""
    server, client = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not server or not client:
        missing = "virtuoso-t" if not server else "isql-vt"
        raise RuntimeError(f"Virtuoso is not installed (no `{missing}` on PATH); install it with {_INSTALL}")
    return server, client


def _log_tail(folder: Path) -> str:
    log = folder / "virtuoso.log"
    return log.read_text(errors="replace")[-800:] if log.exists() else "(no log)"


@contextmanager
def virtuoso_server(result_rows: int = 1_000_000, startup_timeout: float = 60.0) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) of a fresh Virtuoso that accepts SPARQL updates;
    stop it and delete its database afterwards. `result_rows` is its ResultSetMaxRows."""
    server, client = virtuoso_binaries()
    with tempfile.TemporaryDirectory(prefix="axspa-virtuoso-") as tmp:
        folder = Path(tmp)
        sql_port, http_port = _free_port(), _free_port()
        (folder / "virtuoso.ini").write_text(_INI.format(dir=folder, sql_port=sql_port, http_port=http_port,
                                                             result_rows=result_rows))
        # -f: stay in the foreground so the process is ours to stop (no daemon to track down)
        proc = subprocess.Popen([server, "-f", "-c", "virtuoso.ini"], cwd=folder,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{http_port}"
        try:
            _wait_until_answering(base, proc, folder, startup_timeout)
            for grant in _GRANTS:
                done = subprocess.run([client, str(sql_port), "dba", "dba", f"exec={grant}"],
                                      capture_output=True, text=True, timeout=60, check=False)
                if done.returncode != 0 or "Error" in done.stdout + done.stderr:
                    raise RuntimeError(f"Virtuoso refused {grant!r}: {(done.stdout + done.stderr)[-500:]}")
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_until_answering(base: str, proc: subprocess.Popen, folder: Path, timeout: float) -> None:
    """A fresh database takes a few seconds to create; poll the SPARQL endpoint until it answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(f"{base}/sparql?query=ASK%7B%7D", timeout=2).read()  # noqa: S310
            return
        except (OSError, urllib.error.URLError):
            if proc.poll() is not None:
                raise RuntimeError(f"virtuoso-t exited with {proc.returncode}: {_log_tail(folder)}") from None
            if time.monotonic() > deadline:
                raise RuntimeError(f"Virtuoso did not answer within {timeout:.0f} s: {_log_tail(folder)}") from None
            time.sleep(0.2)
