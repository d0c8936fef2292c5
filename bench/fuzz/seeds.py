"""Write the fuzz seed corpus (bench/fuzz/corpus/READER/) from real Go processes.

Every seed a reader is fuzzed from is what a real runtime wrote: heap and goroutine
profiles (binary, debug=1, debug=2, legacy heap text), expvar JSON, Prometheus text,
a GODEBUG=gctrace=1 log and a crash log (a real panic with GOTRACEBACK=all), and a
baseline written by `leakhunter scan`. Only the TOML config seeds are hand-written
(the format's documented examples). Run it once after the lab changes; the corpus is
committed so the test suite's small fuzz budget needs no Go toolchain.

    python bench/fuzz/seeds.py
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import golab  # noqa: E402

CORPUS = HERE / "corpus"
MAX_SEED = 32 << 10


def put(reader: str, name: str, data: bytes) -> None:
    d = CORPUS / reader
    d.mkdir(parents=True, exist_ok=True)
    if len(data) > MAX_SEED:
        data = data[:MAX_SEED]
    (d / name).write_bytes(data)
    print(f"  {reader}/{name}: {len(data)} bytes")


def get(base: str, path: str) -> bytes:
    with urllib.request.urlopen(base + path, timeout=30) as r:
        data: bytes = r.read()
        return data


def from_goroutinelab() -> None:
    with golab.run_lab("goroutinelab") as svc:
        for kind in ("chansend", "select", "mutex", "sleep", "labeled", "deep"):
            svc.get(f"/block?kind={kind}&n=3")
        svc.get("/leak?n=4")
        time.sleep(0.5)
        pb = svc.get("/debug/pprof/goroutine")
        put("pprof", "goroutine.pb.gz", pb)
        put("pprof", "goroutine.pb", gzip.decompress(pb))
        put("goroutine_text", "debug1.txt", svc.get("/debug/pprof/goroutine?debug=1"))
        put("goroutine_text", "debug2.txt", svc.get("/debug/pprof/goroutine?debug=2"))
        try:
            put("goroutine_text", "leak-debug1.txt", svc.get("/debug/pprof/goroutineleak?debug=1"))
            put("pprof", "goroutineleak.pb", gzip.decompress(svc.get("/debug/pprof/goroutineleak")))
        except OSError:
            pass
        put("expvar", "goroutinelab.json", svc.get("/debug/vars"))


def from_chanleak() -> None:
    env = golab.go_env()
    env["GODEBUG"] = "gctrace=1"
    env["GOTRACEBACK"] = "all"
    exe = golab.build("goroutinelab")
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen([str(exe), "-addr", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                stderr=errf, env=env, start_new_session=True)
        assert proc.stdout is not None
        m = re.search(rb"listening on (http://\S+)", proc.stdout.readline())
        assert m
        base = m.group(1).decode()
        get(base, "/block?kind=chanrecv&n=2")
        for _ in range(30):
            get(base, "/spawn?n=50")
        with contextlib.suppress(OSError, http.client.HTTPException):
            get(base, "/panic")
        proc.wait(timeout=30)
        proc.stdout.close()
        errf.seek(0)
        log = errf.read()
    put("goroutine_text", "crash.log", log)

    with golab.run_lab("chanleak") as svc:
        svc.get("/leak/map?n=300&size=2048")
        svc.get("/leak/send?n=3")
        heap = svc.get("/debug/pprof/heap")
        put("pprof", "heap.pb.gz", heap)
        put("pprof", "heap.pb", gzip.decompress(heap))
        put("heap_text", "heap-debug1.txt", svc.get("/debug/pprof/heap?debug=1"))
        put("pprof", "allocs.pb", gzip.decompress(svc.get("/debug/pprof/allocs")))
        put("expvar", "chanleak.json", svc.get("/debug/vars"))


def from_gctrace() -> None:
    env = golab.go_env()
    env["GODEBUG"] = "gctrace=1"
    exe = golab.build("sawtooth")
    with tempfile.TemporaryFile() as errf:
        proc = subprocess.Popen([str(exe), "-addr", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                stderr=errf, env=env, start_new_session=True)
        assert proc.stdout is not None
        m = re.search(rb"listening on (http://\S+)", proc.stdout.readline())
        assert m
        base = m.group(1).decode()
        for _ in range(20):
            get(base, "/work?mb=4")
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        errf.seek(0)
        put("gctrace", "sawtooth.log", errf.read())


def from_metrics() -> None:
    with golab.run_lab("watchmetrics") as svc:
        put("prometheus", "watchmetrics.txt", svc.get("/metrics"))
        put("expvar", "watchmetrics.json", svc.get("/debug/vars"))


def baselines() -> None:
    scan_dir = ROOT / "tests" / "fixtures" / "scan"
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "baseline.json"
        subprocess.run([sys.executable, "-m", "leakhunter", "scan", str(scan_dir),
                        "--write-baseline", str(out)], capture_output=True, timeout=600)
        if out.exists():
            doc = json.loads(out.read_bytes())
            doc["findings"] = doc["findings"][:20]
            put("baseline", "scan-fixtures.json", json.dumps(doc, indent=2).encode())


def configs() -> None:
    put("config", "doc-example.toml", b"""[rules]
enable  = ["LH505"]
disable = ["LH303"]
[rules.severity]
LH301 = "info"
[scan]
exclude = ["gen/**", "*.pb.go"]
exclude_tests = false
max_file_size = 1048576
""")
    put("config", "names.toml", b'[rules]\ndisable = "blocked-send, LH102"\n')


def main() -> None:
    os.chdir(ROOT)
    for step in (from_goroutinelab, from_chanleak, from_gctrace, from_metrics, baselines,
                 configs):
        print(step.__name__)
        step()


if __name__ == "__main__":
    main()
