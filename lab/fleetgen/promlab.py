"""Load a generated fleet into a real Prometheus and run it on 127.0.0.1 (tests and bench).

`promtool tsdb create-blocks-from openmetrics` turns each 2 h file of `fleetgen` into a
TSDB block; a Prometheus started on those blocks (no scrape targets unless asked for)
then answers `/api/v1/query_range`, `/api/v1/series` and `/api/v1/targets` from them.
Compaction is switched off (`max-block-duration=2h`): the backfilled blocks are queried
as they are, so start-up costs nothing and the bench measures queries, not compaction.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
last_pid = 0
"""Process id of the Prometheus last started (the bench reads its CPU time)."""


def available() -> str:
    """'' when prometheus and promtool are here, else why not (for a skip reason)."""
    for exe in (PROMETHEUS, PROMTOOL):
        if not (shutil.which(exe) or Path(exe).exists()):
            return f"{exe} not installed (Debian package prometheus; .ci/run installs it)"
    return ""


def create_blocks(om_files: Sequence[Path], tsdb: Path, *, workers: int = 2,
                  delete: bool = False) -> None:
    """promtool each OpenMetrics file into `tsdb` (files are independent 2 h blocks)."""
    tsdb.mkdir(parents=True, exist_ok=True)

    def one(f: Path) -> None:
        res = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "-q",
                              str(f), str(tsdb)], capture_output=True, text=True, timeout=3600)
        if res.returncode != 0:
            raise RuntimeError(f"promtool failed on {f}: {res.stderr.strip()[-500:]}")
        if delete:
            f.unlink()

    with ThreadPoolExecutor(max_workers=workers) as ex:
        list(ex.map(one, om_files))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def prometheus(tsdb: Path, *, scrape: Sequence[tuple[str, str, dict[str, str]]] = (),
               extra: Sequence[str] = (), timeout: float = 60) -> Iterator[str]:
    """Run Prometheus on `tsdb`; yields its base URL. `scrape`: (job, host:port, labels)."""
    cfg = tsdb.parent / (tsdb.name + "-prometheus.yml")
    lines = ["global:", "  scrape_interval: 1s", "scrape_configs:"]
    for job, addr, labels in scrape:
        lab = ", ".join(f'{k}: "{v}"' for k, v in labels.items())
        lines += [f"  - job_name: {job}", "    static_configs:",
                  f"      - targets: ['{addr}']", f"        labels: {{{lab}}}"]
    if not scrape:
        lines[-1] = "scrape_configs: []"
    cfg.write_text("\n".join(lines) + "\n")
    port = free_port()
    proc = subprocess.Popen(
        [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tsdb}",
         f"--web.listen-address=127.0.0.1:{port}", "--storage.tsdb.retention.time=3650d",
         "--storage.tsdb.min-block-duration=2h", "--storage.tsdb.max-block-duration=2h",
         "--log.level=warn", *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    global last_pid
    last_pid = proc.pid
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"prometheus exited: {err[-800:]}")
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("prometheus did not become ready")
            time.sleep(0.2)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
