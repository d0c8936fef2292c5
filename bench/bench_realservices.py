"""`soak` and `watch` verdicts on real, healthy Go services nobody tuned on (issue 9).

Every verdict figure before this came from the project's own lab services. This bench runs
the real CLI on services installed from Debian packages (prometheus, alertmanager, etcd,
nats-server, node-exporter), each under a GET load on its real endpoints at 50 req/s and,
where GET alone is thin, a background client doing the service's real work (Prometheus
scraping node-exporter and itself every second with recording rules; alerts posted to
Alertmanager and notified to a webhook; etcd puts, ranges and a watch; NATS pub/sub,
queue groups, request/reply and connection churn). Nothing here is a leak: any leak
verdict is a false alarm until the data says otherwise, so every run keeps its store.

Two styles per service, each N runs, each on a fresh process:

* soak: `leakhunter soak --cmd ... --format json --db ...` with its defaults (10 s warm-up,
  60 s observed, a forced GC per 0.5 s scrape).
* watch: the bench starts the service and the load, waits 10 s, then runs
  `leakhunter watch URL --interval 0.5s --duration 60s --pid PID --format json` (no forced
  GC: watch's default; the interval is the soak's so the two see as many scrapes).

Both CLIs run in a child Python whose `Watcher.run` is wrapped to write the verdicts of
every tick to a file (what `--fail-fast` / `--until-verdict` would have stopped on); the
exit code and the JSON are the CLI's own. Peer: the two-snapshot threshold rule of
bench_detection.py (latest exceeds the first by 20% and 1 MiB / 20 goroutines / 16 fds)
on the same stores, at the end and at any scrape.

    nice -n 10 python bench/bench_realservices.py --runs 8 --parallel 2 --json-out r.json
    python bench/bench_realservices.py --merge r1.json r2.json --markdown out.md
    PYTHONPATH=<tree>/src python bench/bench_realservices.py --replay ROOT --json-out re.json
    python bench/bench_realservices.py --study etcd --minutes 5 [--extra=--snapshot-count=1000]

`--replay` judges the kept stores again at every scrape with a pinned tree (the runs import
the editable install, which another session may change mid-bench); `--study` runs one
service longer and prints its exact heap after a forced GC every few seconds (what a
verdict's growth really was). Results: bench/RESULTS-realservices.md.

Needs the Debian packages: prometheus prometheus-alertmanager etcd-server etcd-client
nats-server prometheus-node-exporter.

Held-out set 2 (`--only caddy docker-registry influxdb pushgateway`; packages caddy
docker-registry influxdb prometheus-pushgateway), chosen and committed before any run:
caddy serving files and reverse-proxying, the registry with image pushes and pulls through
its HTTP API, influxdb with line-protocol writes and queries, the pushgateway with pushes
and deletes.

Held-out set 3 (`--only blackbox mtail syncthing snmp`; packages prometheus-blackbox-exporter
mtail syncthing prometheus-snmp-exporter snmpd), chosen and committed before any run:
blackbox-exporter probing a loopback target the bench serves (HTTP GET, body regexp, POST,
TCP), mtail tailing a rotated access log the bench writes, syncthing syncing a folder the
bench changes to a second syncthing over loopback (nothing else leaves loopback), the SNMP
exporter walking a local snmpd. The default `--only` stays set 1. `--smoke NAME` starts one
service with its side processes and client, asks each load URL once and prints the status
codes: a check of the harness that reads no verdict.

Held-out set 4 (`--only rclone haproxy-exporter process-exporter smokeping`; packages rclone
prometheus-haproxy-exporter haproxy prometheus-process-exporter prometheus-smokeping-prober),
chosen and committed before any run: rclone serving a folder over WebDAV (files read, a
client uploading, listing, reading back and deleting), the HAProxy exporter parsing a real
haproxy's stats under traffic through it, process-exporter reading /proc while the bench
keeps starting short-lived processes of five named groups, the smokeping prober pinging four
loopback addresses.

Held-out set 5 (`--only victoria-metrics garagemq dnss`; packages victoria-metrics garagemq
dnss, and pika for garagemq's client), chosen and committed before any run, services that
hold data in memory under write load: VictoriaMetrics taking set 2's influxdb writer (line
protocol, 500 series) and range queries, the garagemq AMQP broker with persistent messages
published and consumed plus one queue nobody reads during the run (a backlog in RAM up to its
`maxMessagesInRam`), dnss caching DNS answers (up to its 2,000-entry bound) for a client asking
popular and one-off names through a second dnss and the bench's DNS server.

Held-out set 6 (`--only chasquid gopls podman`; packages chasquid podman, and gopls v0.23.0
from the module proxy: `GOBIN=DIR go install golang.org/x/tools/gopls@v0.23.0`, DIR on PATH),
chosen and committed before any run, three kinds no set had: the chasquid mail server taking
authenticated submissions over STARTTLS for six local mailboxes, one of which tempfails (a
backlog in its queue, bounded at 200 items); the gopls language server with one editor's
session editing, completing and querying a workspace the bench writes; podman's API service
with an orchestrator's container, volume, secret and tag churn (containers created, never
started: crun cannot set rlimits in this sandbox).

Real leaks that their projects fixed (`--only nats-leaky nats-fixed coredns-leaky coredns-fixed`;
each the leaky release and the fixed one, `GOBIN=$LH_LEAKY_BIN/NAME-VERSION go install
MODULE@VERSION`, LH_LEAKY_BIN defaulting to /tmp/rs7/bin), chosen and committed before any run:
nats-server v2.8.4/v2.9.0 in cluster mode with one-off queue groups joined and left (a map
entry per group, nats-server#3338), CoreDNS v1.12.3/v1.12.4 serving a zone whose transfers
secondaries drop mid-way (a goroutine per dropped transfer, coredns#6548).

Real leaks, set 2 (`--only openfga-leaky openfga-fixed gobgp-leaky gobgp-fixed`; installed the
same way, LH_LEAKY_BIN=/tmp/rs8/bin in session 17), chosen and committed before any measured run:
OpenFGA v1.4.1/v1.4.2 answering ListObjects past its 1000-result cap once per 5 s (a conc pool
never waited on: 100 workers per call, openfga#1296), gobgpd v3.7.0/v3.8.0 with an operator's
`gobgp monitor neighbor` ended by its client every 2 s (a watch per ended stream, gobgp#2592).

Real leaks, set 3 (`--only opa-leaky opa-fixed`; installed the same way, LH_LEAKY_BIN=/tmp/rs9/bin
in session 18), chosen and committed before any measured run: OPA v1.18.0/v1.18.1 as a policy
decision server whose admin pushes the policy every 10 s while services ask ~12 decisions a second
(a runtime.AddCleanup whose closure holds the annotation set it cleans: every superseded compile
stays reachable, opa#8817).

Real leaks, set 4 (`--only amdispatch-leaky amdispatch-fixed amtracing-leaky amtracing-fixed`;
LH_LEAKY_BIN=/tmp/rs10/bin in session 19), chosen and committed before any measured run: two
leaks Alertmanager fixed, each the leaky release and the fixed one under one load (a monitoring
system's alerts: 100 groups re-notified every 10 s to a webhook, a host flapping every 5 s,
resolved alerts re-sent as Prometheus does). v0.32.1/v0.32.3: a destroyed aggregation group
swapped for a new one keeps its run() goroutine and timer (alertmanager#5182, fixed by #5241
in v0.32.2, which the proxy refuses; v0.32.3 adds only silence/API fixes). v0.30.0/v0.30.1:
each notification wraps the receiver's http.Client transport in one more otelhttp transport
(alertmanager#4828). v0.30.x: `GOBIN=$LH_LEAKY_BIN/alertmanager-VERSION go install
github.com/prometheus/alertmanager/cmd/alertmanager@VERSION`. v0.32.x cannot be `go install`ed
(ui/web.go embeds ui/app/dist, which the module zip lacks): copy the module cache's
alertmanager@VERSION, put one placeholder ui/app/dist/index.html in it, `go build -o
$LH_LEAKY_BIN/alertmanager-VERSION/alertmanager ./cmd/alertmanager` (no web UI; the API is whole).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import http.server
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT / "src"))  # after PYTHONPATH: --replay pins a tree with it

NAIVE_REL = 0.20
NAIVE_FLOOR = {"heap": float(1 << 20), "goroutines": 20.0, "fds": 16.0}
STORE_SERIES = ("heap_live", "heap_marked", "goroutines", "fds", "rss", "nonheap")
LOADS: list[float] = []


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# -- the child: the real CLI with every tick's verdicts recorded ----------------------------

def child_main(tick_file: str, argv: list[str]) -> int:
    """Run `leakhunter <argv>` with Watcher.run wrapped to log each tick's verdicts.

    Why wrap instead of `--fail-fast`: fail-fast stops at the first leak verdict, so the
    end-of-run verdict (soak's exit code) would be lost; the wrapper sees both."""
    from leakhunter import cli
    from leakhunter.watcher import Watcher

    orig = Watcher.run
    out = open(tick_file, "a", buffering=1)  # noqa: SIM115 - closed at exit

    async def run(self: Watcher, *, duration: float | None, until_verdict: bool = False,
                  on_tick: Callable[[Watcher], None] | None = None,
                  stop: asyncio.Event | None = None, **more: Any) -> None:
        t0 = time.monotonic()

        def hook(w: Watcher) -> None:
            vs = w.verdicts(suspects=False)
            for lst in vs.values():
                out.write(json.dumps({
                    "t": round(time.monotonic() - t0, 2), "done": w.done,
                    "load1": os.getloadavg()[0],
                    "v": [[v.series, v.kind, round(v.slope_per_min, 1)] for v in lst],
                }) + "\n")
            if on_tick:
                on_tick(w)

        await orig(self, duration=duration, until_verdict=until_verdict, on_tick=hook, stop=stop, **more)

    Watcher.run = run  # type: ignore[method-assign,assignment]
    return cli.main(argv)


# -- services -----------------------------------------------------------------------------

@dataclass
class Ports:
    web: int = field(default_factory=free_port)
    aux: int = field(default_factory=free_port)
    aux2: int = field(default_factory=free_port)


@dataclass
class Launch:
    """How one run of one service is started and driven."""

    cmd: list[str]
    pprof: str
    loads: list[str]
    client: Callable[[asyncio.Event], Coroutine[Any, Any, None]] | None = None
    side: list[list[str]] = field(default_factory=list)  # processes started before the service
    metrics: str = ""  # the /metrics URL --study reads the exact heap from, when not derivable


ServiceFn = Callable[[Path, Ports], Launch]


def prometheus(d: Path, p: Ports) -> Launch:
    # Scrapes itself and a node-exporter every second, evaluates recording rules every second.
    (d / "rules.yml").write_text(
        "groups:\n- name: bench\n  interval: 1s\n  rules:\n"
        "  - record: job:http_requests:rate30s\n"
        "    expr: sum by (job, handler) (rate(prometheus_http_requests_total[30s]))\n"
        "  - record: mode:node_cpu:rate30s\n"
        "    expr: sum by (mode) (rate(node_cpu_seconds_total[30s]))\n"
        "  - record: instance:go_heap:avg30s\n"
        "    expr: avg_over_time(go_memstats_heap_inuse_bytes[30s])\n")
    (d / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        f"rule_files: ['{d}/rules.yml']\n"
        "scrape_configs:\n"
        f"- job_name: prometheus\n  static_configs: [{{targets: ['127.0.0.1:{p.web}']}}]\n"
        f"- job_name: node\n  static_configs: [{{targets: ['127.0.0.1:{p.aux}']}}]\n")
    base = f"http://127.0.0.1:{p.web}"
    now = int(time.time())
    return Launch(
        cmd=["prometheus", f"--config.file={d}/prometheus.yml", f"--storage.tsdb.path={d}/data",
             f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/api/v1/query?query=up", base + "/metrics",
               base + "/api/v1/query?query=sum%20by%20(mode)%20(rate(node_cpu_seconds_total%5B30s%5D))",
               base + f"/api/v1/query_range?query=up&start={now - 600}&end={now + 3600}&step=5",
               base + "/api/v1/label/__name__/values"],
        side=[["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{p.aux}"]],
    )


def node_exporter(d: Path, p: Ports) -> Launch:
    base = f"http://127.0.0.1:{p.web}"
    return Launch(
        cmd=["prometheus-node-exporter", f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        # the full scrape, and the collect[] filter Prometheus scrape configs use (a
        # registry made per request)
        loads=[base + "/metrics", base + "/metrics?collect[]=cpu&collect[]=meminfo&collect[]=netdev"],
    )


def alertmanager(d: Path, p: Ports) -> Launch:
    (d / "am.yml").write_text(
        "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n"
        "  group_interval: 5s\n  repeat_interval: 10s\n"
        f"receivers:\n- name: hook\n  webhook_configs:\n  - url: http://127.0.0.1:{SINK_PORT}/hook\n")
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        # As Prometheus does: the same firing alerts re-sent every second with endsAt ahead.
        import httpx

        async with httpx.AsyncClient(timeout=5) as c:
            while not stop.is_set():
                now = time.time()
                ends = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 180))
                alerts = [{"labels": {"alertname": f"Bench{g}", "instance": f"host{i}",
                                      "severity": "warning"},
                           "annotations": {"summary": "bench alert"},
                           "endsAt": ends, "generatorURL": "http://bench/graph"}
                          for g in range(4) for i in range(10)]
                with contextlib.suppress(httpx.HTTPError):
                    await c.post(base + "/api/v2/alerts", json=alerts)
                await _wait(stop, 1.0)

    return Launch(
        cmd=["prometheus-alertmanager", f"--config.file={d}/am.yml", f"--storage.path={d}/data",
             f"--web.listen-address=127.0.0.1:{p.web}", "--cluster.listen-address="],
        pprof=base,
        loads=[base + "/api/v2/alerts", base + "/api/v2/status", base + "/api/v2/alerts/groups",
               base + "/api/v2/silences", base + "/metrics"],
        client=client,
    )


def etcd(d: Path, p: Ports) -> Launch:
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        # Puts and ranges in turn, one per 20 ms plus the round trip (about 17 puts/s over
        # 100 keys and 17 ranges/s measured), and a watch on the prefix (etcdctl).
        import httpx

        watch = await asyncio.create_subprocess_exec(
            "etcdctl", "--endpoints", f"127.0.0.1:{p.web}", "watch", "--prefix", "/bench/",
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "ETCDCTL_API": "3"})

        def b64(s: bytes) -> str:
            return base64.b64encode(s).decode()

        try:
            async with httpx.AsyncClient(timeout=5) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    key = f"/bench/k{i % 200}".encode()
                    with contextlib.suppress(httpx.HTTPError):
                        if i % 2:
                            await c.post(base + "/v3/kv/put", json={
                                "key": b64(key), "value": b64(os.urandom(96))})
                        else:
                            await c.post(base + "/v3/kv/range", json={
                                "key": b64(b"/bench/"), "range_end": b64(b"/bench0"), "limit": 20})
                    await _wait(stop, 0.02)
        finally:
            with contextlib.suppress(ProcessLookupError):
                watch.kill()
            await watch.wait()

    return Launch(
        cmd=["etcd", "--name", "bench", "--data-dir", f"{d}/data",
             "--listen-client-urls", base, "--advertise-client-urls", base,
             "--listen-peer-urls", f"http://127.0.0.1:{p.aux}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{p.aux}",
             "--initial-cluster", f"bench=http://127.0.0.1:{p.aux}", "--enable-pprof"],
        pprof=base,
        loads=[base + "/metrics", base + "/health", base + "/version"],
        client=client,
    )


def nats(d: Path, p: Ports) -> Launch:
    mon = f"http://127.0.0.1:{p.aux}"

    async def client(stop: asyncio.Event) -> None:
        await nats_work("127.0.0.1", p.web, stop)

    return Launch(
        cmd=["nats-server", "-a", "127.0.0.1", "-p", str(p.web), "-m", str(p.aux),
             "--profile", str(p.aux2)],
        pprof=f"http://127.0.0.1:{p.aux2}",
        loads=[mon + "/varz", mon + "/connz", mon + "/subsz", mon + "/connz?subs=1"],
        client=client,
    )


# -- held-out set 2 (session 9): services nobody tuned on, chosen before any run -------------

def caddy(d: Path, p: Ports) -> Launch:
    # Static files (plain, larger, gzip-encoded, a browsed directory) and the same file
    # through reverse_proxy to a second site of the same process; pprof on the admin API.
    site = d / "site"
    (site / "dir").mkdir(parents=True, exist_ok=True)
    (site / "small.txt").write_bytes(os.urandom(512).hex().encode())
    (site / "mid.bin").write_bytes(os.urandom(256 << 10))
    (site / "text.txt").write_text("".join(f"line {i}: the quick brown fox\n" for i in range(2300)))
    for i in range(50):
        (site / "dir" / f"f{i:02}.txt").write_text(f"file {i}\n")
    (d / "Caddyfile").write_text(
        f"{{\n\tadmin 127.0.0.1:{p.aux2}\n\tauto_https off\n}}\n"
        f"http://127.0.0.1:{p.web} {{\n\troot * {site}\n\tencode gzip\n"
        f"\thandle_path /proxy/* {{\n\t\treverse_proxy 127.0.0.1:{p.aux}\n\t}}\n"
        "\thandle {\n\t\tfile_server browse\n\t}\n}\n"
        f"http://127.0.0.1:{p.aux} {{\n\troot * {site}\n\tfile_server\n}}\n")
    base = f"http://127.0.0.1:{p.web}"
    return Launch(
        # XDG dirs under the run: caddy autosaves its config and keeps its storage there
        cmd=["env", f"XDG_CONFIG_HOME={d}/data/config", f"XDG_DATA_HOME={d}/data/share",
             "caddy", "run", "--config", f"{d}/Caddyfile", "--adapter", "caddyfile"],
        pprof=f"http://127.0.0.1:{p.aux2}",
        loads=[base + "/small.txt", base + "/mid.bin", base + "/dir/", base + "/text.txt",
               base + "/proxy/small.txt"],
        metrics=f"http://127.0.0.1:{p.aux2}/metrics",
    )


def _digest(b: bytes) -> str:
    import hashlib

    return "sha256:" + hashlib.sha256(b).hexdigest()


_OCI_CONFIG = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
_MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def _manifest(config: bytes, layer: bytes) -> bytes:
    return json.dumps({
        "schemaVersion": 2, "mediaType": _MANIFEST_V2,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                   "size": len(config), "digest": _digest(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": len(layer), "digest": _digest(layer)}],
    }, separators=(",", ":")).encode()


def docker_registry(d: Path, p: Ports) -> Launch:
    (d / "registry.yml").write_text(
        "version: 0.1\nlog:\n  level: warn\n"
        f"storage:\n  filesystem:\n    rootdirectory: {d}/data\n"
        f"http:\n  addr: 127.0.0.1:{p.web}\n  debug:\n    addr: 127.0.0.1:{p.aux}\n"
        "    prometheus:\n      enabled: true\n      path: /metrics\n")
    base = f"http://127.0.0.1:{p.web}"
    import random

    seed_layer = random.Random(20261204).randbytes(64 << 10)  # the same bytes every run
    seed_manifest = _manifest(_OCI_CONFIG, seed_layer)

    async def client(stop: asyncio.Event) -> None:
        # Pushes as `docker push` does them through the HTTP API (monolithic blob uploads:
        # POST then PUT ?digest=, then the manifest), about 2/s over 5 repositories x 20
        # tags with a fresh 16 KiB layer each; pulls (manifest by tag, its layer) about 4/s.
        import httpx

        async with httpx.AsyncClient(timeout=10) as c:
            async def blob(repo: str, data: bytes) -> None:
                r = await c.post(f"{base}/v2/{repo}/blobs/uploads/")
                loc = r.headers["location"]
                loc = loc if loc.startswith("http") else base + loc
                sep = "&" if "?" in loc else "?"
                await c.put(f"{loc}{sep}digest={_digest(data)}", content=data,
                            headers={"Content-Type": "application/octet-stream"})

            async def push(repo: str, tag: str, layer: bytes) -> None:
                await blob(repo, _OCI_CONFIG)
                await blob(repo, layer)
                await c.put(f"{base}/v2/{repo}/manifests/{tag}",
                            content=_manifest(_OCI_CONFIG, layer),
                            headers={"Content-Type": _MANIFEST_V2})

            while not stop.is_set():  # the seed image the GET load asks for
                with contextlib.suppress(httpx.HTTPError, KeyError):
                    await push("bench/seed", "latest", seed_layer)
                    break
                await _wait(stop, 0.5)
            i = 0
            while not stop.is_set():
                i += 1
                with contextlib.suppress(httpx.HTTPError, KeyError):
                    if i % 3 == 0:
                        await push(f"bench/r{i % 5}", f"t{i % 20}", os.urandom(16 << 10))
                    else:
                        repo, tag = f"bench/r{i % 5}", f"t{(i * 7) % 20}"
                        r = await c.get(f"{base}/v2/{repo}/manifests/{tag}",
                                        headers={"Accept": _MANIFEST_V2})
                        if r.status_code == 200:
                            await c.get(f"{base}/v2/{repo}/blobs/{r.json()['layers'][0]['digest']}")
                await _wait(stop, 0.15)

    return Launch(
        cmd=["docker-registry", "serve", f"{d}/registry.yml"],
        pprof=f"http://127.0.0.1:{p.aux}",
        loads=[base + "/v2/", base + "/v2/_catalog", base + "/v2/bench/seed/tags/list",
               base + f"/v2/bench/seed/manifests/{_digest(seed_manifest)}",
               base + f"/v2/bench/seed/blobs/{_digest(seed_layer)}"],
        client=client,
        metrics=f"http://127.0.0.1:{p.aux}/metrics",
    )


def influxdb(d: Path, p: Ports) -> Launch:
    # Its defaults, but data under the run and no usage report to the vendor.
    (d / "influxdb.conf").write_text(
        f'reporting-disabled = true\nbind-address = "127.0.0.1:{p.aux}"\n'
        f'[meta]\n  dir = "{d}/data/meta"\n'
        f'[data]\n  dir = "{d}/data/data"\n  wal-dir = "{d}/data/wal"\n'
        f'[http]\n  bind-address = "127.0.0.1:{p.web}"\n  pprof-enabled = true\n'
        "  log-enabled = false\n")
    base = f"http://127.0.0.1:{p.web}"
    q = "/query?db=bench&q="

    def enc(s: str) -> str:
        import urllib.parse

        return urllib.parse.quote(s)

    async def client(stop: asyncio.Event) -> None:
        # 10 line-protocol batches/s of 100 points over 500 series, one GROUP BY time query/s.
        import httpx

        async with httpx.AsyncClient(timeout=10) as c:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    if (await c.post(base + "/query", data={"q": "CREATE DATABASE bench"})
                            ).status_code == 200:
                        break
                await _wait(stop, 0.5)
            j = 0
            while not stop.is_set():
                j += 1
                ts = time.time_ns()
                lines = "\n".join(
                    f"cpu,host=h{(j * 100 + k) % 500},region=r{k % 5} "
                    f"value={(j * k) % 1000 / 10},busy={k % 7}i {ts}" for k in range(100))
                with contextlib.suppress(httpx.HTTPError):
                    await c.post(base + "/write?db=bench", content=lines)
                    if j % 10 == 0:
                        await c.post(base + "/query", data={
                            "db": "bench", "q": "SELECT mean(value) FROM cpu WHERE time > now() - 30s "
                                                "GROUP BY time(1s)"})
                await _wait(stop, 0.1)

    return Launch(
        cmd=["influxd", "run", "-config", f"{d}/influxdb.conf"],
        pprof=base,
        loads=[base + "/ping", base + "/query?q=" + enc("SHOW DATABASES"),
               base + q + enc("SELECT mean(value) FROM cpu WHERE time > now() - 1m GROUP BY host"),
               base + q + enc("SHOW SERIES LIMIT 50"),
               base + q + enc("SELECT last(value) FROM cpu GROUP BY host")],
        client=client,
        metrics=base + "/metrics",
    )


def pushgateway(d: Path, p: Ports) -> Launch:
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        # 10 pushes/s (PUT and POST in turn, 20 metrics each) over 50 groups, one group
        # deleted per second (pushed again later): what batch jobs do to a pushgateway.
        import httpx

        async with httpx.AsyncClient(timeout=10) as c:
            i = 0
            while not stop.is_set():
                i += 1
                g = f"{base}/metrics/job/bench{i % 10}/instance/i{(i // 10) % 5}"
                body = "# TYPE bench_value gauge\n" + "".join(
                    f'bench_value{{k="{k}"}} {i * k % 997}\n' for k in range(20)) + (
                    f"# TYPE bench_last_success_seconds gauge\nbench_last_success_seconds {time.time()}\n")
                with contextlib.suppress(httpx.HTTPError):
                    if i % 2:
                        await c.put(g, content=body)
                    else:
                        await c.post(g, content=body)
                    if i % 10 == 0:
                        await c.delete(f"{base}/metrics/job/bench{(i // 10) % 10}/instance/"
                                       f"i{(i // 100) % 5}")
                await _wait(stop, 0.1)

    return Launch(
        cmd=["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/metrics", base + "/api/v1/metrics", base + "/api/v1/status", base + "/",
               base + "/-/healthy"],
        client=client,
        metrics=base + "/metrics",
    )


# -- held-out set 3 (session 10): services nobody tuned on, chosen before any run -------------

def blackbox(d: Path, p: Ports) -> Launch:
    # Probes are its work: four modules against the bench's loopback target (_Sink's GET
    # page, its POST, a TCP connect), about 33 probes/s of the 50 req/s.
    (d / "blackbox.yml").write_text(
        "modules:\n"
        "  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n"
        "  http_body:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n"
        "      fail_if_body_not_matches_regexp: ['bench-ok']\n      headers: {Accept: text/html}\n"
        "  http_post:\n    prober: http\n    timeout: 5s\n    http:\n      method: POST\n"
        "      preferred_ip_protocol: ip4\n      body: '{\"probe\": \"bench\"}'\n"
        "      headers: {Content-Type: application/json}\n"
        "  tcp_connect:\n    prober: tcp\n    timeout: 5s\n    tcp:\n      preferred_ip_protocol: ip4\n")
    base = f"http://127.0.0.1:{p.web}"
    page = quote(f"http://127.0.0.1:{SINK_PORT}/page", safe="")
    post = quote(f"http://127.0.0.1:{SINK_PORT}/hook", safe="")
    return Launch(
        cmd=["prometheus-blackbox-exporter", f"--config.file={d}/blackbox.yml",
             f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + f"/probe?module=http_2xx&target={page}",
               base + f"/probe?module=http_body&target={page}",
               base + f"/probe?module=http_post&target={post}",
               base + f"/probe?module=tcp_connect&target=127.0.0.1:{SINK_PORT}",
               base + "/metrics", base + "/"],
        metrics=base + "/metrics",
    )


_MTAIL_PROG = r"""# an access log: counters by method and code, bytes by path, a latency histogram
counter http_requests_total by method, code
counter http_bytes_total by path
histogram http_latency_ms by method buckets 1, 5, 10, 25, 50, 100, 250, 500
gauge last_request_seconds

/^(?P<ip>\S+) \S+ \S+ \[(?P<ts>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) [^"]+" (?P<code>\d{3}) (?P<bytes>\d+) (?P<lat>\d+)$/ {
  strptime($ts, "02/Jan/2006:15:04:05 -0700")
  http_requests_total[$method][$code]++
  http_bytes_total[$path] += $bytes
  http_latency_ms[$method] = $lat
  last_request_seconds = timestamp()
}
"""


def mtail(d: Path, p: Ports) -> Launch:
    (d / "data" / "progs").mkdir(parents=True, exist_ok=True)
    (d / "data" / "progs" / "access.mtail").write_text(_MTAIL_PROG)
    log = d / "data" / "access.log"
    log.touch()
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        # 200 lines/s (20 every 0.1 s) over bounded label sets, the file rotated every 30 s
        # as logrotate does (rename, then a new file), which mtail must notice and follow.
        methods, codes = ["GET", "POST", "PUT", "DELETE"], ["200", "201", "304", "404", "500"]
        paths = [f"/api/v1/items/{k}" for k in range(10)]
        n, rotated = 0, time.monotonic()
        f = open(log, "a", buffering=1)  # noqa: SIM115 - rotated below, closed at the end
        try:
            while not stop.is_set():
                ts = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
                lines = []
                for _ in range(20):
                    n += 1
                    lines.append(f'127.0.0.{n % 50} - - [{ts}] "{methods[n % 4]} {paths[n % 10]} '
                                 f'HTTP/1.1" {codes[n % 5]} {n % 5000} {n % 300}\n')
                f.write("".join(lines))
                if time.monotonic() - rotated > 30:
                    f.close()
                    log.rename(log.with_suffix(".log.1"))
                    f = open(log, "a", buffering=1)  # noqa: SIM115
                    rotated = time.monotonic()
                await _wait(stop, 0.1)
        finally:
            f.close()

    return Launch(
        cmd=["mtail", "--progs", f"{d}/data/progs", "--logs", str(log),
             "--address", "127.0.0.1", "--port", str(p.web), "--logtostderr"],
        pprof=base,
        loads=[base + "/metrics", base + "/json", base + "/varz", base + "/progz", base + "/"],
        client=client,
        metrics=base + "/metrics",
    )


_ST_OPTIONS = (
    "<globalAnnounceEnabled>false</globalAnnounceEnabled>"
    "<localAnnounceEnabled>false</localAnnounceEnabled><relaysEnabled>false</relaysEnabled>"
    "<natEnabled>false</natEnabled><startBrowser>false</startBrowser><urAccepted>-1</urAccepted>"
    "<autoUpgradeIntervalH>0</autoUpgradeIntervalH><crashReportingEnabled>false</crashReportingEnabled>"
    "<stunKeepaliveStartS>0</stunKeepaliveStartS><setLowPriority>false</setLowPriority>")


def _st_config(home: Path, me: str, peer: str, gui: int, listen: int, peer_listen: int,
               folder: Path) -> None:
    """A syncthing config.xml with nothing that leaves loopback: no discovery, relays,
    NAT, STUN, usage or crash reports, upgrades; the peer dialled at a fixed address."""
    (home / "config.xml").write_text(
        '<configuration version="36">\n'
        f'<folder id="bench" label="bench" path="{folder}" type="sendreceive" rescanIntervalS="60" '
        f'fsWatcherEnabled="true" fsWatcherDelayS="1"><device id="{me}"></device>'
        f'<device id="{peer}"></device></folder>\n'
        f'<device id="{me}" name="me" compression="metadata"><address>dynamic</address></device>\n'
        f'<device id="{peer}" name="peer" compression="metadata">'
        f"<address>tcp://127.0.0.1:{peer_listen}</address></device>\n"
        f'<gui enabled="true" tls="false"><address>127.0.0.1:{gui}</address>'
        "<apikey>bench-api-key</apikey></gui>\n"
        f"<options><listenAddress>tcp://127.0.0.1:{listen}</listenAddress>{_ST_OPTIONS}</options>\n"
        "</configuration>\n")


def syncthing(d: Path, p: Ports) -> Launch:
    # Two instances over loopback sharing one folder; the measured one (GUI on p.web, sync
    # on p.aux, pprof on its own port) gets the file changes, the peer (a side process)
    # receives them.
    data = d / "data"
    ids = []
    for who in ("a", "b"):
        out = subprocess.run(["syncthing", "generate", f"--home={data}/{who}", "--no-default-folder"],
                             capture_output=True, text=True, check=True)
        ids.append((out.stdout + out.stderr).split("Device ID:", 1)[1].split()[0])
        (data / f"f{who}").mkdir(parents=True, exist_ok=True)
    gui_b, pprof_port = free_port(), free_port()
    _st_config(data / "a", ids[0], ids[1], p.web, p.aux, p.aux2, data / "fa")
    _st_config(data / "b", ids[1], ids[0], gui_b, p.aux2, p.aux, data / "fb")
    base = f"http://127.0.0.1:{p.web}"
    common = ["--no-browser", "--no-restart", "--no-default-folder"]
    # STMONITORED: no monitor parent (1.19 keeps one even with --no-restart), so the pid
    # soak starts and reads RSS and fds of is the process whose pprof it scrapes.
    env = ["env", "STNOUPGRADE=1", "STMONITORED=yes"]

    async def client(stop: asyncio.Event) -> None:
        # ~4 file changes/s over 200 names (create or rewrite 16 KiB, or delete), and a
        # GUI-like poller once a second with the API key.
        import random

        import httpx

        rnd = random.Random(38)
        folder = data / "fa"

        async def files() -> None:
            while not stop.is_set():
                f = folder / f"file{rnd.randrange(200):03}.bin"
                if rnd.random() < 0.2:
                    with contextlib.suppress(FileNotFoundError):
                        f.unlink()
                else:
                    f.write_bytes(os.urandom(16 << 10))
                await _wait(stop, 0.25)

        async def gui() -> None:
            since = 0
            async with httpx.AsyncClient(timeout=10, headers={"X-API-Key": "bench-api-key"}) as c:
                while not stop.is_set():
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        ev = await c.get(base + f"/rest/events?since={since}&timeout=1")
                        if ev.status_code == 200 and ev.json():
                            since = ev.json()[-1]["id"]
                        await c.get(base + "/rest/system/status")
                        await c.get(base + "/rest/system/connections")
                        await c.get(base + "/rest/db/status?folder=bench")
                    await _wait(stop, 1.0)

        await asyncio.gather(files(), gui())

    return Launch(
        cmd=[*env, "syncthing", "serve", f"--home={data}/a", *common,
             f"--debug-profiler-listen=127.0.0.1:{pprof_port}"],
        pprof=f"http://127.0.0.1:{pprof_port}",
        loads=[base + "/", base + "/meta.js", base + f"/qr/?text={ids[0]}",
               base + "/syncthing/core/syncthingController.js", base + "/assets/css/overrides.css"],
        client=client,
        side=[[*env, "syncthing", "serve", f"--home={data}/b", *common]],
    )


def _snmp_metric(name: str, oid: str, typ: str, index: str = "") -> str:
    idx = f"\n    indexes: [{{labelname: {index}, type: gauge}}]" if index else ""
    return f"  - name: {name}\n    oid: {oid}\n    type: {typ}{idx}\n"


def snmp(d: Path, p: Ports) -> Launch:
    # snmp_exporter walking a local snmpd (loopback UDP, a side process) on each /snmp:
    # ifTable and hrStorageTable in one module, a few system scalars in another. The
    # module file is written here with numeric OIDs (Debian ships no snmp.yml).
    (d / "snmpd.conf").write_text("rocommunity public 127.0.0.1\nsysLocation bench\nsysContact bench\n")
    ifx, hr = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.25.2.3.1"
    walk = "".join([
        _snmp_metric("ifDescr", ifx + ".2", "DisplayString", "ifIndex"),
        _snmp_metric("ifMtu", ifx + ".4", "gauge", "ifIndex"),
        _snmp_metric("ifOperStatus", ifx + ".8", "gauge", "ifIndex"),
        _snmp_metric("ifInOctets", ifx + ".10", "counter", "ifIndex"),
        _snmp_metric("ifOutOctets", ifx + ".16", "counter", "ifIndex"),
        _snmp_metric("hrStorageDescr", hr + ".3", "DisplayString", "hrStorageIndex"),
        _snmp_metric("hrStorageSize", hr + ".5", "gauge", "hrStorageIndex"),
        _snmp_metric("hrStorageUsed", hr + ".6", "gauge", "hrStorageIndex")])
    system = "".join([
        _snmp_metric("sysDescr", "1.3.6.1.2.1.1.1", "DisplayString"),
        _snmp_metric("sysUpTime", "1.3.6.1.2.1.1.3", "gauge"),
        _snmp_metric("sysName", "1.3.6.1.2.1.1.5", "DisplayString")])
    (d / "snmp.yml").write_text(
        "tables:\n  version: 2\n  auth: {community: public}\n  max_repetitions: 25\n"
        f"  walk: [{ifx}, {hr}]\n  metrics:\n{walk}"
        "system:\n  version: 2\n  auth: {community: public}\n"
        "  get: [1.3.6.1.2.1.1.1.0, 1.3.6.1.2.1.1.3.0, 1.3.6.1.2.1.1.5.0]\n"
        f"  metrics:\n{system}")
    base = f"http://127.0.0.1:{p.web}"
    agent = f"127.0.0.1:{p.aux}"
    return Launch(
        cmd=["prometheus-snmp-exporter", f"--config.file={d}/snmp.yml",
             f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + f"/snmp?module=tables&target={agent}", base + f"/snmp?module=system&target={agent}",
               base + f"/snmp?module=tables&target={agent}", base + "/metrics", base + "/"],
        side=[["snmpd", "-f", "-Lo", "-C", "-c", f"{d}/snmpd.conf", "-p", f"{d}/snmpd.pid",
               f"udp:{agent}"]],
        metrics=base + "/metrics",
    )


# -- held-out set 4 (session 12): services nobody tuned on, chosen before any run -------------

def rclone(d: Path, p: Ports) -> Launch:
    # A WebDAV file server (`rclone serve webdav` of a local folder); pprof, expvar and
    # /metrics on its rc server. GETs of files and a directory listing; a client uploading,
    # listing, reading back and deleting 16 KiB files through WebDAV.
    srv = d / "data" / "srv"
    (srv / "dir").mkdir(parents=True, exist_ok=True)
    (srv / "up").mkdir(parents=True, exist_ok=True)
    (srv / "small.txt").write_bytes(os.urandom(256).hex().encode())
    (srv / "f64k.bin").write_bytes(os.urandom(64 << 10))
    (srv / "f256k.bin").write_bytes(os.urandom(256 << 10))
    for i in range(50):
        (srv / "dir" / f"f{i:02}.txt").write_text(f"file {i}\n")
    (d / "rclone.conf").write_text("")
    base = f"http://127.0.0.1:{p.web}"
    rc = f"http://127.0.0.1:{p.aux}"

    async def client(stop: asyncio.Event) -> None:
        # ~4 WebDAV operations/s over 200 names (bounded): PUT 16 KiB, GET it back,
        # DELETE one in five, PROPFIND the folder once a second.
        import random

        import httpx

        rnd = random.Random(47)
        n = 0
        async with httpx.AsyncClient(timeout=10) as c:
            while not stop.is_set():
                n += 1
                u = base + f"/up/file{rnd.randrange(200):03}.bin"
                with contextlib.suppress(httpx.HTTPError):
                    if rnd.random() < 0.2:
                        await c.request("DELETE", u)
                    else:
                        await c.put(u, content=os.urandom(16 << 10))
                        await c.get(u)
                    if n % 4 == 0:
                        await c.request("PROPFIND", base + "/up/", headers={"Depth": "1"})
                await _wait(stop, 0.25)

    return Launch(
        cmd=["rclone", "serve", "webdav", str(srv), "--addr", f"127.0.0.1:{p.web}",
             "--config", f"{d}/rclone.conf", "--cache-dir", f"{d}/data/cache",
             "--rc", "--rc-addr", f"127.0.0.1:{p.aux}", "--rc-no-auth", "--rc-enable-metrics"],
        pprof=rc,
        loads=[base + "/small.txt", base + "/f64k.bin", base + "/f256k.bin", base + "/dir/",
               base + "/dir/f07.txt"],
        client=client,
        metrics=rc + "/metrics",
    )


def haproxy_exporter(d: Path, p: Ports) -> Launch:
    # The exporter scrapes a real haproxy's CSV stats page (a side process) on every
    # /metrics; a client sends ~20 req/s through haproxy to the bench's sink (two servers
    # in one backend) so the counters it parses move.
    (d / "haproxy.cfg").write_text(
        "global\n  maxconn 256\n"
        "defaults\n  mode http\n  timeout connect 2s\n  timeout client 10s\n  timeout server 10s\n"
        f"frontend fe\n  bind 127.0.0.1:{p.aux}\n  default_backend be\n"
        f"backend be\n  balance roundrobin\n  server s1 127.0.0.1:{SINK_PORT}\n"
        f"  server s2 127.0.0.1:{SINK_PORT}\n"
        f"listen stats\n  bind 127.0.0.1:{p.aux2}\n  stats enable\n  stats uri /stats\n")
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=10) as c:
            while not stop.is_set():
                with contextlib.suppress(httpx.HTTPError):
                    await c.get(f"http://127.0.0.1:{p.aux}/page")
                await _wait(stop, 0.05)

    return Launch(
        cmd=["prometheus-haproxy-exporter",
             f"--haproxy.scrape-uri=http://127.0.0.1:{p.aux2}/stats;csv",
             f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/metrics", base + "/metrics", base + "/"],
        client=client,
        side=[["haproxy", "-db", "-f", f"{d}/haproxy.cfg"]],
        metrics=base + "/metrics",
    )


def process_exporter(d: Path, p: Ports) -> Launch:
    # process-exporter reads /proc on each /metrics; it is given five groups of short-lived
    # processes the client keeps starting (copies of /bin/sleep named bench-w0..4, ~5 new
    # pids/s, 1-3 s each, ~10 alive), so its per-pid tracking sees steady churn.
    bindir = d / "data" / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    names = [f"bench-w{k}" for k in range(5)]
    for nm in names:
        shutil.copy(shutil.which("sleep") or "/bin/sleep", bindir / nm)
    (d / "pe.yml").write_text(
        "process_names:\n  - name: \"{{.Comm}}\"\n    comm:\n"
        + "".join(f"    - {nm}\n" for nm in names))
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        import random

        rnd = random.Random(47)
        procs: list[asyncio.subprocess.Process] = []
        try:
            while not stop.is_set():
                procs = [x for x in procs if x.returncode is None]
                nm = names[rnd.randrange(len(names))]
                procs.append(await asyncio.create_subprocess_exec(
                    str(bindir / nm), f"{rnd.uniform(1, 3):.2f}"))
                await _wait(stop, 0.2)  # asyncio's child watcher reaps the ones that ended
        finally:
            for x in procs:
                with contextlib.suppress(ProcessLookupError):
                    x.kill()
                await x.wait()

    return Launch(
        cmd=["prometheus-process-exporter", "-config.path", f"{d}/pe.yml",
             "-web.listen-address", f"127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/metrics", base + "/"],
        client=client,
        metrics=base + "/metrics",
    )


def smokeping(d: Path, p: Ports) -> Launch:
    # The prober's work is its own: ICMP pings (privileged, as root) to four loopback
    # addresses, ~30 pings/s, each answer observed into a latency histogram.
    (d / "smokeping.yml").write_text(
        "targets:\n"
        "- hosts: [127.0.0.1, 127.0.0.2]\n  interval: 100ms\n  network: ip4\n  protocol: icmp\n"
        "- hosts: [127.0.0.3, 127.0.0.4]\n  interval: 200ms\n  network: ip4\n  protocol: icmp\n"
        "  size: 1400\n")
    base = f"http://127.0.0.1:{p.web}"
    return Launch(
        cmd=["prometheus-smokeping-prober", f"--config.file={d}/smokeping.yml", "--privileged",
             f"--web.listen-address=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/metrics", base + "/"],
        metrics=base + "/metrics",
    )


# -- held-out set 5 (session 13): services holding data in memory under write load ----------

def victoria_metrics(d: Path, p: Ports) -> Launch:
    # A time-series database (single-node VictoriaMetrics) with its defaults, data under the
    # run. The writer is set 2's influxdb writer (line protocol on VictoriaMetrics' /write:
    # 10 batches/s of 100 points over 500 series, a bounded set) plus one range query a second.
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        import httpx

        async with httpx.AsyncClient(timeout=10) as c:
            j = 0
            while not stop.is_set():
                j += 1
                ts = time.time_ns()
                lines = "\n".join(
                    f"cpu,host=h{(j * 100 + k) % 500},region=r{k % 5} "
                    f"value={(j * k) % 1000 / 10},busy={k % 7}i {ts}" for k in range(100))
                with contextlib.suppress(httpx.HTTPError):
                    await c.post(base + "/write", content=lines)
                    if j % 10 == 0:
                        now = time.time()
                        await c.get(base + "/api/v1/query_range", params={
                            "query": "avg(cpu_value) by (region)", "start": f"{now - 300:.0f}",
                            "end": f"{now:.0f}", "step": "5s"})
                await _wait(stop, 0.1)

    q = base + "/api/v1/query?query="
    return Launch(
        cmd=["victoria-metrics", f"-storageDataPath={d}/data/vm",
             f"-httpListenAddr=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[q + quote("avg(cpu_value) by (region)"), q + quote("topk(5, max(cpu_busy) by (host))"),
               base + "/api/v1/labels", base + "/api/v1/label/host/values",
               base + "/api/v1/series?match[]=" + quote('cpu_value{region="r1"}')],
        client=client,
        metrics=base + "/metrics",
    )


def _threaded_client(work: Callable[[int, threading.Event], None], port: int, *,
                     join_s: float) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """A background client whose work is blocking (a pika or smtplib session): run in a thread from
    the service's start until the run ends, then told to halt and joined."""

    async def client(stop: asyncio.Event) -> None:
        halt = threading.Event()
        th = threading.Thread(target=work, args=(port, halt), daemon=True)
        th.start()
        try:
            await stop.wait()
        finally:
            halt.set()
            await asyncio.to_thread(th.join, join_s)

    return client


def _garagemq_work(port: int, halt: threading.Event) -> None:
    """The broker's real work, blocking (pika) in a thread: a publisher sends persistent
    messages of 0.5-2 KiB, ~150/s through a topic exchange to four durable work queues and
    ~50/s straight to a durable `audit` queue; a second connection consumes the work queues
    with acks (prefetch 64) and keeps up. `audit` is read by no one during a run (a batch
    job's queue), so it holds every message it gets: a backlog in RAM up to the broker's
    `maxMessagesInRam` (per queue; 131072 by default), past which the broker keeps them on
    disk only."""
    import random

    import pika

    params = pika.ConnectionParameters("127.0.0.1", port, heartbeat=0, blocked_connection_timeout=10)

    def connect() -> Any:
        while not halt.is_set():
            try:
                return pika.BlockingConnection(params)
            except pika.exceptions.AMQPConnectionError:
                halt.wait(0.3)
        return None

    pub = connect()
    sub = connect()
    if pub is None or sub is None:
        return
    rnd = random.Random(50)
    try:
        ch = pub.channel()
        ch.exchange_declare("events", "topic", durable=True)
        for k in range(4):
            ch.queue_declare(f"work-{k}", durable=True)
            ch.queue_bind(f"work-{k}", "events", f"ev.{k}.#")
        ch.queue_declare("audit", durable=True)

        def on_msg(c: Any, method: Any, _props: Any, _body: bytes) -> None:
            c.basic_ack(method.delivery_tag)

        for k in range(4):  # a channel per queue: garagemq interleaves the frames of two
            cc = sub.channel()  # queues' deliveries on one channel, which pika cannot parse
            cc.basic_qos(prefetch_count=64)
            cc.basic_consume(f"work-{k}", on_msg)
        persistent = pika.BasicProperties(delivery_mode=2, content_type="application/json")
        t = time.monotonic()
        n = 0
        while not halt.is_set():
            for _ in range(15):
                n += 1
                ch.basic_publish("events", f"ev.{n % 4}.item", rnd.randbytes(rnd.randint(512, 2048)),
                                 persistent)
            for _ in range(5):
                ch.basic_publish("", "audit", rnd.randbytes(rnd.randint(512, 2048)), persistent)
            sub.process_data_events(time_limit=0)
            t += 0.1
            while not halt.is_set() and time.monotonic() < t:
                sub.process_data_events(time_limit=max(0.0, min(0.05, t - time.monotonic())))
    except pika.exceptions.AMQPError as exc:
        print(f"garagemq client stopped: {exc!r}", file=sys.stderr, flush=True)
    finally:
        for conn in (pub, sub):
            with contextlib.suppress(Exception):
                conn.close()


def garagemq(d: Path, p: Ports) -> Launch:
    # An AMQP 0-9-1 broker (RabbitMQ's protocol) with the Debian package's config (badger
    # storage under the run, ports moved); pprof on its --hprof port, expvar there and on the
    # admin port. GETs of its admin API; a pika client publishing and consuming (above).
    (d / "garagemq.yaml").write_text(
        "proto: amqp-rabbit\nusers:\n  - username: guest\n"
        "    password: 084e0343a0486ff05530df6c705c8bb4\n"
        f"tcp:\n  ip: 127.0.0.1\n  port: {p.aux}\n  nodelay: false\n  readBufSize: 196608\n"
        "  writeBufSize: 196608\n"
        f"admin:\n  ip: 127.0.0.1\n  port: {p.aux2}\n"
        # the package's 131072; a --study may lower it (GARAGEMQ_MAX_IN_RAM) to see the bound soon
        f"queue:\n  shardSize: 8192\n  maxMessagesInRam: {os.environ.get('GARAGEMQ_MAX_IN_RAM', '131072')}\n"
        f"db:\n  defaultPath: {d}/data/db\n  engine: badger\n"
        "vhost:\n  defaultPath: /\nsecurity:\n  passwordCheck: md5\n"
        "connection:\n  channelsMax: 4096\n  frameMaxSize: 65536\n")
    admin = f"http://127.0.0.1:{p.aux2}"

    client = _threaded_client(_garagemq_work, p.aux, join_s=10)

    return Launch(
        cmd=["garagemq", "--config", f"{d}/garagemq.yaml", "--hprof", "--hprof-host", "127.0.0.1",
             "--hprof-port", str(p.web)],
        pprof=f"http://127.0.0.1:{p.web}",
        loads=[admin + "/overview", admin + "/queues", admin + "/exchanges", admin + "/connections",
               admin + "/channels"],
        client=client,
    )


DNS_PORT = 0


def start_dns_upstream() -> int:
    """A DNS server for the bench's names (a thread, once): every A query gets six A
    records with a 600 s TTL, the answer of a name served by a small pool of hosts."""
    global DNS_PORT
    if DNS_PORT:
        return DNS_PORT
    import socket
    import struct

    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    DNS_PORT = s.getsockname()[1]

    def serve() -> None:
        while True:
            q, addr = s.recvfrom(1500)
            i = 12
            while i < len(q) and q[i]:
                i += 1 + q[i]
            end = i + 5
            if end > len(q):
                continue
            h = sum(q[12:i]) % 200
            rrs = b"".join(b"\xc0\x0c\x00\x01\x00\x01" + struct.pack(">IH", 600, 4)
                           + bytes([10, h, k, 1 + (q[i - 1] % 250)]) for k in range(6))
            s.sendto(q[:2] + b"\x81\x80\x00\x01\x00\x06\x00\x00\x00\x00" + q[12:end] + rrs, addr)

    threading.Thread(target=serve, daemon=True).start()
    return DNS_PORT


def dnss(d: Path, p: Ports) -> Launch:
    # A caching DNS proxy (dnss in DNS-to-HTTPS mode, cache on: its default) whose upstream is
    # a second dnss (side process, not measured) answering DNS-over-HTTP from the bench's DNS
    # server: nothing leaves loopback. pprof and expvar on its monitoring port. Its cache keeps
    # up to 2,000 answers (maxCacheSize, compiled in) for their TTL (600 s here).
    up = start_dns_upstream()
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        # ~30 A queries/s: half for 50 popular names (cache hits once asked), half for names
        # drawn from 20,000 (mostly misses, each answer recorded until the cache is full).
        import random
        import socket
        import struct

        rnd = random.Random(50)
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        n = 0
        try:
            while not stop.is_set():
                n += 1
                name = (f"www{rnd.randrange(50)}.popular.test" if n % 2 else
                        f"svc{rnd.randrange(20000)}.bench.test")
                pkt = (struct.pack(">HHHHHH", n % 65536, 0x0100, 1, 0, 0, 0)
                       + b"".join(bytes([len(x)]) + x.encode() for x in name.split("."))
                       + b"\x00\x00\x01\x00\x01")
                with contextlib.suppress(OSError, TimeoutError):
                    await loop.sock_sendto(s, pkt, ("127.0.0.1", p.aux))
                    await asyncio.wait_for(loop.sock_recvfrom(s, 1500), 2)
                await _wait(stop, 1 / 30)
        finally:
            s.close()

    return Launch(
        cmd=["dnss", "-enable_dns_to_https", f"-dns_listen_addr=127.0.0.1:{p.aux}",
             f"-https_upstream=http://127.0.0.1:{p.aux2}/dns-query",
             f"-fallback_upstream=127.0.0.1:{up}", f"-monitoring_listen_addr=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/", base + "/debug/vars", base + "/debug/requests",
               base + "/debug/dnsserver/cache/dump"],
        client=client,
        side=[["dnss", "-enable_https_to_dns", "-insecure_http_server",
               f"-https_server_addr=127.0.0.1:{p.aux2}", f"-dns_upstream=127.0.0.1:{up}"]],
    )


CHASQUID_USERS = 5


def _chasquid_work(port: int, halt: threading.Event) -> None:
    """The mail server's real work, blocking (smtplib) in a thread: ~10 messages/s of 1-8 KiB
    submitted with STARTTLS and AUTH PLAIN on the submission port, ten per connection then a
    new connection (a TLS handshake and a login each), to one to three of five local mailboxes
    (delivered at once by the MDA). One message in twenty goes to `full@`, whose MDA answers
    EX_TEMPFAIL (a mailbox over quota): it stays in the queue, retried 1, 5, 10 min after, a
    backlog in RAM bounded by the queue's compiled-in 200 items (past it chasquid answers
    "queue full"). Authenticated and local only: no SPF, MX or DNS lookup leaves the machine."""
    import random
    import smtplib
    import ssl

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    rnd = random.Random(50)
    words = ("invoice", "meeting", "report", "status", "draft", "review", "build", "release")
    n = 0
    while not halt.is_set():
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                s.starttls(context=ctx)
                s.login("u0@bench.test", "secret0")
                for _ in range(10):
                    n += 1
                    to = (["full@bench.test"] if n % 20 == 0 else
                          [f"u{k}@bench.test" for k in rnd.sample(range(CHASQUID_USERS), rnd.randint(1, 3))])
                    body = " ".join(rnd.choice(words) for _ in range(rnd.randint(150, 1200)))
                    msg = (f"From: u0@bench.test\r\nTo: {', '.join(to)}\r\nSubject: {words[n % 8]} {n}\r\n"
                           f"Message-ID: <{n}.{time.time_ns()}@bench.test>\r\n\r\n{body}\r\n")
                    with contextlib.suppress(smtplib.SMTPException):  # "queue full" past 200
                        s.sendmail("u0@bench.test", to, msg)
                    if halt.wait(0.1):
                        break
        except (OSError, smtplib.SMTPException):
            halt.wait(0.3)


def chasquid(d: Path, p: Ports) -> Launch:
    # An SMTP server (chasquid 1.11): a local domain with six mailboxes, a self-signed
    # certificate, submission with STARTTLS; the MDA is `sh -c 'cat >/dev/null'` (a mailbox
    # that takes everything), and for `full` `exit 75` (EX_TEMPFAIL: kept in the queue).
    # pprof, expvar, /metrics, x/net/trace on its monitoring port.
    conf = d / "conf"
    (conf / "certs" / "mx.bench.test").mkdir(parents=True)
    (conf / "domains" / "bench.test").mkdir(parents=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
                    "-subj", "/CN=mx.bench.test",
                    "-keyout", str(conf / "certs" / "mx.bench.test" / "privkey.pem"),
                    "-out", str(conf / "certs" / "mx.bench.test" / "fullchain.pem")],
                   check=True, capture_output=True)
    for k, user in enumerate([*(f"u{i}" for i in range(CHASQUID_USERS)), "full"]):
        subprocess.run(["chasquid-util", f"-C={conf}", "user-add", f"{user}@bench.test",
                        f"--password=secret{k}"], check=True, capture_output=True)
    mda = 'cat >/dev/null; [ "$1" != full ] || exit 75'
    (conf / "chasquid.conf").write_text(
        'hostname: "mx.bench.test"\n'
        f'smtp_address: "127.0.0.1:{free_port()}"\n'
        f'submission_address: "127.0.0.1:{p.aux}"\n'
        f'submission_over_tls_address: "127.0.0.1:{p.aux2}"\n'
        f'monitoring_address: "127.0.0.1:{p.web}"\n'
        'mail_delivery_agent_bin: "/bin/sh"\n'
        f'mail_delivery_agent_args: "-c"\nmail_delivery_agent_args: {json.dumps(mda)}\n'
        'mail_delivery_agent_args: "sh"\nmail_delivery_agent_args: "%to_user%"\n'
        f'data_dir: "{d}/data"\n'
        f'mail_log_path: "{d}/mail.log"\n')
    base = f"http://127.0.0.1:{p.web}"

    client = _threaded_client(_chasquid_work, p.aux, join_s=15)

    return Launch(
        cmd=["chasquid", f"-config_dir={conf}", f"-logfile={d}/chasquid.log"],
        pprof=base,
        loads=[base + "/", base + "/debug/vars", base + "/metrics", base + "/debug/traces",
               base + "/debug/config"],
        client=client,
        metrics=base + "/metrics",
    )


GOPLS_PKGS = 8
GOPLS_VARIANTS = 20


def _gopls_file(i: int, f: str, variant: int) -> str:
    """One file of the workspace gopls serves: package p{i} (importing p{i-1}, a chain),
    a type, twenty functions over the standard library, and an `Edit` function whose name
    and body are one of GOPLS_VARIANTS (the client's edits cycle through that bounded set)."""
    imp = f'\n\t"bench.test/ws/p{i - 1}"' if i and f == "a" else ""
    use = f"\n\nvar _ = p{i - 1}.F{i - 1}a0" if i and f == "a" else ""
    fns = "\n\n".join(
        f"func F{i}{f}{k}(s string, n int) string {{\n\tparts := strings.Fields(s)\n"
        f"\tsort.Strings(parts)\n\tb, _ := json.Marshal(map[string]int{{\"n\": n + {k}}})\n"
        f"\treturn fmt.Sprintf(\"%s-%d-%s\", strings.Join(parts, \",\"), n*{k + 1}, b) + strconv.Itoa(len(s))\n}}"
        for k in range(20))
    return (f"package p{i}\n\nimport (\n\t\"encoding/json\"\n\t\"fmt\"\n\t\"sort\"\n\t\"strconv\"\n"
            f"\t\"strings\"{imp}\n)\n\n// Item{f} is a record of package p{i}.\n"
            f"type Item{f} struct {{\n\tName  string\n\tCount int\n\tTags  []string\n\tNext  *Item{f}\n}}\n\n"
            f"// Key names the item.\nfunc (it *Item{f}) Key() string {{\n"
            f"\treturn strings.ToLower(it.Name) + \":\" + strconv.Itoa(it.Count)\n}}{use}\n\n{fns}\n\n"
            f"func Edit{variant}(it *Item{f}) string {{\n\ts := it.Key() + \"{variant}\"\n"
            f"\treturn strings.ToUpper(s)\n}}\n")


async def _gopls_work(port: int, ws: Path, stop: asyncio.Event) -> None:
    """An editor's session over LSP (JSON-RPC on TCP): initialize on the workspace, open four
    files of the last three packages, then ~2 edit cycles/s: a full-text change of one open
    file (the next of GOPLS_VARIANTS bodies of its `Edit` function: a bounded set of contents),
    then completion after `strings.`, hover and definition of `Key`, every 5th cycle the file's
    symbols and `Key`'s references, every 10th a workspace symbol search. Requests the server
    sends (configuration, registrations, progress) are answered."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    pending: dict[int, asyncio.Future[Any]] = {}
    ids = iter(range(1, 1 << 62))

    def send(msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}).encode()
        writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    async def read_loop() -> None:
        while True:
            n = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    n = int(line.split(b":")[1])
            if not line:
                return
            msg = json.loads(await reader.readexactly(n))
            if "method" in msg and "id" in msg:  # a request from the server
                items = (msg.get("params") or {}).get("items") or []
                send({"id": msg["id"], "result": [{}] * len(items)
                      if msg["method"] == "workspace/configuration" else None})
            elif "id" in msg and msg["id"] in pending:
                fut = pending.pop(msg["id"])
                if not fut.done():
                    fut.set_result(msg.get("result"))

    async def call(method: str, params: dict[str, Any]) -> Any:
        i = next(ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        pending[i] = fut
        send({"id": i, "method": method, "params": params})
        await writer.drain()
        try:
            return await asyncio.wait_for(fut, 30)
        finally:
            pending.pop(i, None)

    rl = asyncio.create_task(read_loop())
    try:
        root = ws.as_uri()
        await call("initialize", {
            "processId": None, "rootUri": root, "workspaceFolders": [{"uri": root, "name": "ws"}],
            "capabilities": {"workspace": {"configuration": True, "workspaceFolders": True},
                             "textDocument": {"hover": {"contentFormat": ["plaintext"]},
                                              "completion": {"completionItem": {"snippetSupport": False}}}}})
        send({"method": "initialized", "params": {}})
        files = [(GOPLS_PKGS - 3, "a"), (GOPLS_PKGS - 2, "a"), (GOPLS_PKGS - 1, "a"), (GOPLS_PKGS - 1, "b")]
        version = {f: 1 for f in files}
        for i, f in files:
            send({"method": "textDocument/didOpen", "params": {"textDocument": {
                "uri": (ws / f"p{i}" / f"{f}.go").as_uri(), "languageId": "go", "version": 1,
                "text": _gopls_file(i, f, 0)}}})
        n = 0
        while not stop.is_set() and not writer.is_closing() and not rl.done():
            n += 1
            i, f = files[n % len(files)]
            version[(i, f)] += 1
            text = _gopls_file(i, f, n % GOPLS_VARIANTS)
            uri = (ws / f"p{i}" / f"{f}.go").as_uri()
            send({"method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version[(i, f)]},
                "contentChanges": [{"text": text}]}})
            lines = text.splitlines()
            last = len(lines) - 2  # `return strings.ToUpper(s)` of Edit
            key = next(k for k, ln in enumerate(lines) if ln.startswith("func (it *Item"))
            doc = {"uri": uri}
            with contextlib.suppress(TimeoutError, ConnectionError):
                await call("textDocument/completion", {"textDocument": doc,
                                                       "position": {"line": last, "character": 16}})
                at = {"textDocument": doc, "position": {"line": key, "character": 18}}
                await call("textDocument/hover", at)
                await call("textDocument/definition", at)
                if n % 5 == 0:
                    await call("textDocument/documentSymbol", {"textDocument": doc})
                    await call("textDocument/references", {**at, "context": {"includeDeclaration": True}})
                if n % 10 == 0:
                    await call("workspace/symbol", {"query": "Edit"})
            await _wait(stop, 0.5)
    finally:
        rl.cancel()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def gopls(d: Path, p: Ports) -> Launch:
    # The Go language server (gopls v0.23.0, `go install`ed: Debian 12's is 0.5) as a daemon
    # (`serve -listen`), one editor's session over TCP on a workspace the bench writes: eight
    # packages in a chain, each two files of twenty functions over the standard library. Its
    # caches (parsed files, type-checked packages, the file cache on disk) live under the run
    # (XDG_CACHE_HOME; telemetry off; GOPROXY=off: nothing leaves the machine). pprof on its
    # -debug port, with its own pages (memory, RPC stats, traces); no expvar (that path
    # answers its index page) and no memstats on /metrics.
    ws = d / "ws"
    ws.mkdir()
    (ws / "go.mod").write_text("module bench.test/ws\n\ngo 1.24\n")
    for i in range(GOPLS_PKGS):
        (ws / f"p{i}").mkdir()
        for f in ("a", "b"):
            (ws / f"p{i}" / f"{f}.go").write_text(_gopls_file(i, f, 0))
    (d / "config" / "go" / "telemetry").mkdir(parents=True)
    (d / "config" / "go" / "telemetry" / "mode").write_text("off")
    base = f"http://127.0.0.1:{p.web}"

    async def client(stop: asyncio.Event) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            await _gopls_work(p.aux, ws, stop)

    return Launch(
        cmd=["env", f"XDG_CACHE_HOME={d}/data/cache", f"XDG_CONFIG_HOME={d}/config", "GOPROXY=off",
             "GOTOOLCHAIN=local", "GOFLAGS=", "gopls", "serve", f"-listen=127.0.0.1:{p.aux}",
             f"-debug=127.0.0.1:{p.web}"],
        pprof=base,
        loads=[base + "/", base + "/memory", base + "/info", base + "/rpc/", base + "/trace/"],
        client=client,
    )


def _podman_rootfs() -> bytes:
    """A small image's layer as a tar, made here: an 'application' of 1 MiB and its config
    files. Never started (crun cannot set rlimits in this sandbox): the containers made
    from it are created, inspected and removed, the engine's control plane."""
    import io
    import random
    import tarfile

    rnd = random.Random(50)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in [("app/server", rnd.randbytes(1 << 20)),
                           *((f"etc/app/conf{k}.yaml", f"key{k}: value{k}\n".encode() * 40)
                             for k in range(20))]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def podman(d: Path, p: Ports) -> Launch:
    # A container engine's API service (podman 4.3 `system service` on loopback TCP, the
    # hidden --pprof-address flag; storage vfs, state and volumes under the run). GETs of its
    # lists and disk use; a client doing an orchestrator's work (below). Not loaded: /info and
    # /version, which run conmon/crun --version each (0.2-0.4 s).
    api = f"http://127.0.0.1:{p.aux}/v4.0.0/libpod"
    compat = f"http://127.0.0.1:{p.aux}/v4.0.0"

    async def client(stop: asyncio.Event) -> None:
        # ~2 cycles/s: create container c{n % 40} (labels, env, a volume mount) from the
        # imported image, inspect it, remove the one created 20 cycles before (~20 exist at
        # once); create, inspect and remove a volume; every 3rd cycle a secret made and
        # deleted; every 5th an image tag added and removed. All names from bounded sets.
        import httpx

        async with httpx.AsyncClient(timeout=30) as c:
            with contextlib.suppress(httpx.HTTPError):
                await c.post(api + "/images/import", content=_podman_rootfs(),
                             params={"reference": "bench/app:1", "changes": 'CMD ["/app/server"]'},
                             headers={"Content-Type": "application/x-tar"})
            n = 0
            while not stop.is_set():
                n += 1
                with contextlib.suppress(httpx.HTTPError):
                    name = f"c{n % 40}"
                    await c.post(api + "/containers/create", json={
                        "image": "bench/app:1", "name": name, "command": ["/app/server", str(n)],
                        "env": {"N": str(n), "ROLE": "worker"}, "labels": {"app": "bench", "n": str(n % 7)},
                        "netns": {"nsmode": "none"},
                        "mounts": [{"destination": "/data", "type": "tmpfs", "source": "tmpfs"}]})
                    await c.get(api + f"/containers/{name}/json")
                    await c.delete(api + f"/containers/c{(n - 20) % 40}", params={"force": "true"})
                    vol = f"v{n % 30}"
                    await c.post(api + "/volumes/create", json={"Name": vol, "Labels": {"n": str(n)}})
                    await c.get(api + f"/volumes/{vol}/json")
                    await c.delete(api + f"/volumes/{vol}")
                    if n % 3 == 0:
                        r = await c.post(compat + "/secrets/create", json={
                            "Name": f"s{n % 10}", "Data": base64.b64encode(b"secret %d" % n).decode()})
                        if r.status_code < 300:
                            await c.delete(compat + f"/secrets/s{n % 10}")
                    if n % 5 == 0:
                        await c.post(api + "/images/bench/app:1/tag", params={"repo": "bench/app", "tag": f"t{n % 10}"})
                        await c.post(api + f"/images/bench/app:t{n % 10}/untag",
                                     params={"repo": "bench/app", "tag": f"t{n % 10}"})
                await _wait(stop, 0.5)

    return Launch(
        cmd=["podman", "--root", f"{d}/data/root", "--runroot", f"{d}/data/run", "--storage-driver",
             "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir",
             f"{d}/data/tmp", "system", "service", "--time=0", "--pprof-address",
             f"127.0.0.1:{p.web}", f"tcp://127.0.0.1:{p.aux}"],
        pprof=f"http://127.0.0.1:{p.web}",
        loads=[api + "/containers/json?all=true", api + "/images/json", api + "/volumes/json",
               api + "/system/df", api + "/_ping"],
        client=client,
    )


# -- real leaks that their projects fixed (session 16, helper 58): each service twice, the leaky
# release and the fixed one, under the same load (the fixed one is the control) ----------------

LEAKY_BIN = Path(os.environ.get("LH_LEAKY_BIN", "/tmp/rs7/bin"))  # GOBIN=$LH_LEAKY_BIN/NAME-VERSION
NATS_LEAKY, NATS_FIXED = "v2.8.4", "v2.9.0"
COREDNS_LEAKY, COREDNS_FIXED = "v1.12.3", "v1.12.4"
NATS_QUEUE_CHURN = 500  # one-off queue groups joined and left per second
COREDNS_RECORDS = 10000  # A records in the zone the transfers send
COREDNS_BROKEN_AXFR = 2.0  # zone transfers per second the client drops after the first message


def _leaky_exe(name: str, version: str) -> str:
    return str(LEAKY_BIN / f"{name}-{version}" / name)


async def _nats_queue_churn(host: str, port: int, stop: asyncio.Event) -> None:
    """Workers that each join a queue group named for their job and leave it when done
    (`SUB jobs.N job-N sid`, `UNSUB sid`), NATS_QUEUE_CHURN a second on one connection.
    nats-server v2.8.4 in cluster mode keeps a last-sent weight per subject+queue in the
    account's `lqws` map and, on the last member's unsubscribe, deletes it and puts it
    back with weight 0 (server/route.go:1611-1612): one entry per queue group ever seen
    (nats-io/nats-server#3338, fixed in v2.9.0 by `else if n > 0`)."""
    c = await _Nats.connect(host, port, "jobs")
    reader = asyncio.create_task(c.read_loop())
    n = 0
    try:
        while not stop.is_set():
            batch = []
            for _ in range(NATS_QUEUE_CHURN // 20):
                n += 1
                batch.append(f"SUB jobs.{n} job-{n} {n}\r\nUNSUB {n}\r\n")
            c.w.write("".join(batch).encode())
            await c.w.drain()
            await _wait(stop, 0.05)
    finally:
        reader.cancel()
        await c.close()


def _nats_cluster(version: str) -> ServiceFn:
    def launch(d: Path, p: Ports) -> Launch:
        # Set 1's nats load (pub/sub, a queue group, request/reply, connection churn) plus the
        # one-off queue groups above, on a server with a cluster port (no peer: the port alone
        # makes it track interest for routes, which is where v2.8.4's map lives).
        mon = f"http://127.0.0.1:{p.aux}"
        cluster = free_port()

        async def client(stop: asyncio.Event) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                await asyncio.gather(nats_work("127.0.0.1", p.web, stop),
                                     _nats_queue_churn("127.0.0.1", p.web, stop))
            await stop.wait()

        return Launch(
            cmd=[_leaky_exe("nats-server", version), "-a", "127.0.0.1", "-p", str(p.web),
                 "-m", str(p.aux), "--profile", str(p.aux2),
                 "--cluster", f"nats://127.0.0.1:{cluster}", "--cluster_name", "bench"],
            pprof=f"http://127.0.0.1:{p.aux2}",
            loads=[mon + "/varz", mon + "/connz", mon + "/subsz", mon + "/routez"],
            client=client,
        )

    return launch


_SOA_TIMERS = (2026120501).to_bytes(4, "big") + b"".join(
    x.to_bytes(4, "big") for x in (3600, 600, 86400, 300))


def _dns_query(name: str, qtype: int, qid: int) -> bytes:
    q = b"".join(bytes([len(x)]) + x.encode() for x in name.rstrip(".").split(".")) + b"\0"
    return qid.to_bytes(2, "big") + b"\0\0\0\1\0\0\0\0\0\0" + q + qtype.to_bytes(2, "big") + b"\0\1"


def _recv_exact(s: Any, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("closed")
        buf += chunk
    return buf


def _coredns_work(port: int, halt: threading.Event) -> None:
    """A zone's secondaries and its resolvers: ~40 UDP A queries/s (one in ten for a name
    that does not exist), a complete AXFR over TCP every 2 s read to its closing SOA, and
    COREDNS_BROKEN_AXFR transfers a second that a secondary drops after the first message
    (a reset: SO_LINGER 0). CoreDNS v1.12.3's transfer plugin returns on the client's write
    error without draining the zone's producer channel (plugin/transfer/transfer.go:136-137):
    the file plugin's producer goroutine stays blocked on its send for good, one per dropped
    transfer (coredns/coredns#6548, fixed in v1.12.4 by #7516: drain the channel)."""
    import random
    import socket
    import struct

    rnd = random.Random(58)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(1.0)
    t0 = time.monotonic()
    n = broken = 0
    next_full = next_broken = t0
    while not halt.is_set():
        now = time.monotonic()
        n += 1
        name = (f"h{rnd.randrange(COREDNS_RECORDS)}.bench.test" if n % 10 else f"nx{n}.bench.test")
        with contextlib.suppress(OSError):
            u.sendto(_dns_query(name, 1, n & 0xFFFF), ("127.0.0.1", port))
            u.recv(512)
        try:
            if now >= next_broken:
                next_broken += 1 / COREDNS_BROKEN_AXFR
                broken += 1
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    q = _dns_query("bench.test", 252, broken & 0xFFFF)
                    s.sendall(len(q).to_bytes(2, "big") + q)
                    ln = int.from_bytes(_recv_exact(s, 2), "big")
                    _recv_exact(s, ln)  # the first message only
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            if now >= next_full:
                next_full += 2.0
                with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                    q = _dns_query("bench.test", 252, 1)
                    s.sendall(len(q).to_bytes(2, "big") + q)
                    while True:
                        msg = _recv_exact(s, int.from_bytes(_recv_exact(s, 2), "big"))
                        if msg.endswith(_SOA_TIMERS):  # the closing SOA (the first message
                            break  # opens with it and ends with an A record)
        except OSError:
            halt.wait(0.3)
        halt.wait(0.025)


def _coredns(version: str) -> ServiceFn:
    def launch(d: Path, p: Ports) -> Launch:
        # CoreDNS serving one zone from a file (COREDNS_RECORDS A records) with zone transfers
        # open to anyone, its prometheus, health and ready endpoints for the GET load, pprof
        # on its own port; a resolver and secondaries as above. UDP and TCP on loopback only.
        health, ready = free_port(), free_port()
        zone = ["$ORIGIN bench.test.", "$TTL 300",
                "@ IN SOA ns1.bench.test. hostmaster.bench.test. 2026120501 3600 600 86400 300",
                "@ IN NS ns1.bench.test.", "ns1 IN A 127.0.0.1"]
        zone += [f"h{i} IN A 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
                 for i in range(COREDNS_RECORDS)]
        (d / "db.bench.test").write_text("\n".join(zone) + "\n")
        (d / "Corefile").write_text(
            f"bench.test:{p.web} {{\n  bind 127.0.0.1\n  file {d}/db.bench.test\n"
            "  transfer {\n    to *\n  }\n"
            f"  prometheus 127.0.0.1:{p.aux}\n  health 127.0.0.1:{health}\n"
            f"  ready 127.0.0.1:{ready}\n  pprof 127.0.0.1:{p.aux2}\n  errors\n}}\n")
        return Launch(
            cmd=[_leaky_exe("coredns", version), "-conf", str(d / "Corefile")],
            pprof=f"http://127.0.0.1:{p.aux2}",
            loads=[f"http://127.0.0.1:{p.aux}/metrics", f"http://127.0.0.1:{health}/health",
                   f"http://127.0.0.1:{ready}/ready"],
            client=_threaded_client(_coredns_work, p.web, join_s=15),
            metrics=f"http://127.0.0.1:{p.aux}/metrics",
        )

    return launch


# -- real leaks that their projects fixed, set 2 (session 17, helper 61): as above, the leaky
# release and the fixed one under the same load; chosen and committed before any measured run ---

OPENFGA_LEAKY, OPENFGA_FIXED = "v1.4.1", "v1.4.2"
GOBGP_LEAKY, GOBGP_FIXED = "v3.7.0", "v3.8.0"
OPENFGA_GROUPS = 1500  # groups user:anne is a member of: past ListObjects' default 1000-result cap
OPENFGA_CAPPED_LISTS = 0.2  # ListObjects calls a second that reach the cap (one per 5 s)
GOBGP_MONITORS = 0.5  # `gobgp monitor neighbor` sessions a second (one per 2 s), each ended by its client


def _openfga_model() -> dict[str, Any]:
    """users, groups of users, documents viewable by users and by group members (schema 1.1)."""
    direct: dict[str, Any] = {"this": {}}
    return {"schema_version": "1.1", "type_definitions": [
        {"type": "user"},
        {"type": "group", "relations": {"member": direct},
         "metadata": {"relations": {"member": {"directly_related_user_types": [{"type": "user"}]}}}},
        {"type": "document", "relations": {"viewer": direct},
         "metadata": {"relations": {"viewer": {"directly_related_user_types": [
             {"type": "user"}, {"type": "group", "relation": "member"}]}}}},
    ]}


def _openfga(version: str) -> ServiceFn:
    def launch(d: Path, p: Ports) -> Launch:
        # OpenFGA with its in-memory datastore, HTTP API on p.web, metrics on p.aux, pprof on
        # p.aux2 (all loopback), the playground off. Its client: an application that keeps a
        # model of users, groups and documents, writes and deletes viewer tuples, asks Check
        # and small ListObjects questions (under the result cap), and OPENFGA_CAPPED_LISTS a
        # second asks which groups user:anne is in: OPENFGA_GROUPS of them, past the 1000
        # results a ListObjects returns by default. v1.4.1's ReverseExpand returns on the
        # iterator's error (the context ListObjects cancels at the cap) before `pool.Wait()`
        # (pkg/server/commands/reverseexpand/reverse_expand.go:476), so the conc pool's
        # workers wait on its task channel for good: openfga/openfga#1296, fixed in v1.4.2
        # by #1297 (`break LoopOnIterator`, then Wait).
        grpc_port = free_port()
        api = f"http://127.0.0.1:{p.web}"

        async def client(stop: asyncio.Event) -> None:
            import random

            import httpx

            rnd = random.Random(61)
            async with httpx.AsyncClient(timeout=10) as c:
                store = ""
                while not store and not stop.is_set():
                    with contextlib.suppress(httpx.HTTPError, KeyError):
                        store = (await c.post(api + "/stores", json={"name": "bench"})).json()["id"]
                    if not store:
                        await _wait(stop, 0.3)
                base = f"{api}/stores/{store}"
                model = (await c.post(base + "/authorization-models", json=_openfga_model())).json()[
                    "authorization_model_id"]
                groups = [{"user": "user:anne", "relation": "member", "object": f"group:g{i}"}
                          for i in range(OPENFGA_GROUPS)]
                groups += [{"user": f"user:u{i}", "relation": "member", "object": f"group:g{i % 50}"}
                           for i in range(200)]
                for i in range(0, len(groups), 100):  # the memory datastore's 100 per write
                    await c.post(base + "/write", json={"writes": {"tuple_keys": groups[i:i + 100]},
                                                         "authorization_model_id": model})
                live: list[dict[str, str]] = []
                n = 0
                next_capped = time.monotonic()
                while not stop.is_set():
                    n += 1
                    with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                        doc = f"document:d{n}"
                        who = (f"user:u{rnd.randrange(200)}" if n % 3 else
                               f"group:g{rnd.randrange(50)}#member")
                        tk = {"user": who, "relation": "viewer", "object": doc}
                        body: dict[str, Any] = {"writes": {"tuple_keys": [tk]},
                                                "authorization_model_id": model}
                        if len(live) > 300:
                            body["deletes"] = {"tuple_keys": [live.pop(0)]}
                        await c.post(base + "/write", json=body)
                        live.append(tk)
                        for _ in range(4):
                            pick = rnd.choice(live)
                            await c.post(base + "/check", json={
                                "tuple_key": {"user": f"user:u{rnd.randrange(200)}",
                                              "relation": "viewer", "object": pick["object"]},
                                "authorization_model_id": model})
                        await c.post(base + "/list-objects", json={
                            "authorization_model_id": model, "type": "document",
                            "relation": "viewer", "user": f"user:u{rnd.randrange(200)}"})
                        if time.monotonic() >= next_capped:
                            next_capped += 1 / OPENFGA_CAPPED_LISTS
                            await c.post(base + "/list-objects", json={
                                "authorization_model_id": model, "type": "group",
                                "relation": "member", "user": "user:anne"})
                    await _wait(stop, 0.1)

        return Launch(
            cmd=[_leaky_exe("openfga", version), "run", "--datastore-engine", "memory",
                 "--http-addr", f"127.0.0.1:{p.web}", "--grpc-addr", f"127.0.0.1:{grpc_port}",
                 "--playground-enabled=false", "--profiler-enabled",
                 "--profiler-addr", f"127.0.0.1:{p.aux2}", "--metrics-enabled",
                 "--metrics-addr", f"127.0.0.1:{p.aux}", "--log-level", "warn"],
            pprof=f"http://127.0.0.1:{p.aux2}",
            loads=[api + "/healthz", api + "/stores", f"http://127.0.0.1:{p.aux}/metrics"],
            client=client,
            metrics=f"http://127.0.0.1:{p.aux}/metrics",
        )

    return launch


def _gobgp_work(cli: list[str], halt: threading.Event) -> None:
    """A route controller and its operators through gobgp's own CLI (the gRPC API): a route
    announced about every 0.5 s and withdrawn when ~100 are up, the RIB and the neighbors
    listed every 2 s, and GOBGP_MONITORS a second an operator's `gobgp monitor neighbor`
    (a WatchEvent stream for peer-state changes) ended by its client after 0.3 s (SIGTERM:
    the connection closes). No peer changes state during a run, so no watch gets an event.
    gobgpd v3.7.0's WatchEvent waits on a context made from context.Background(), not the
    stream's (pkg/server/grpc_server.go:238): the handler, its watcher and the watcher's loop
    stay for good per ended watch until an event comes (osrg/gobgp#2592, fixed in v3.8.0)."""
    live: list[str] = []
    mons: list[tuple[float, subprocess.Popen[bytes]]] = []
    n = 0
    t0 = time.monotonic()
    next_mon = next_route = next_list = t0

    def run(*args: str) -> None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([*cli, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=5, check=False)

    try:
        while not halt.is_set():
            now = time.monotonic()
            for t, m in list(mons):
                if now - t >= 0.3:
                    m.terminate()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        m.wait(2)
                    mons.remove((t, m))
            if now >= next_mon:
                next_mon += 1 / GOBGP_MONITORS
                with contextlib.suppress(OSError):
                    mons.append((now, subprocess.Popen([*cli, "monitor", "neighbor"],
                                                       stdout=subprocess.DEVNULL,
                                                       stderr=subprocess.DEVNULL)))
            if now >= next_route:
                next_route += 0.5
                n += 1
                prefix = f"10.{n >> 8 & 255}.{n & 255}.0/24"
                run("global", "rib", "add", prefix, "-a", "ipv4")
                live.append(prefix)
                if len(live) > 100:
                    run("global", "rib", "del", live.pop(0), "-a", "ipv4")
            if now >= next_list:
                next_list += 2.0
                run("global", "rib", "-a", "ipv4")
                run("neighbor")
            halt.wait(0.05)
    finally:
        for _, m in mons:
            m.kill()
            m.wait()


def _gobgp(version: str) -> ServiceFn:
    def launch(d: Path, p: Ports) -> Launch:
        # gobgpd with its gRPC API on p.web, BGP on p.aux (loopback), one passive neighbor that
        # never connects, pprof on p.aux2 (its only HTTP: the GET load asks its cheapest page,
        # /debug/pprof/cmdline); the work is the gRPC client above.
        (d / "gobgpd.toml").write_text(
            '[global.config]\n  as = 65001\n  router-id = "10.255.0.1"\n'
            f'  port = {p.aux}\n  local-address-list = ["127.0.0.1"]\n'
            '[[neighbors]]\n  [neighbors.config]\n    neighbor-address = "127.0.0.2"\n'
            '    peer-as = 65002\n  [neighbors.transport.config]\n    passive-mode = true\n')
        exe = _leaky_exe("gobgpd", version)
        cli = [str(Path(exe).parent / "gobgp"), "-u", "127.0.0.1", "-p", str(p.web)]

        async def client(stop: asyncio.Event) -> None:
            await _threaded_client(lambda _port, halt: _gobgp_work(cli, halt), p.web, join_s=15)(stop)

        return Launch(
            cmd=[exe, "-f", str(d / "gobgpd.toml"), "--api-hosts", f"127.0.0.1:{p.web}",
                 "--pprof-host", f"127.0.0.1:{p.aux2}", "-l", "warn", "-p"],
            pprof=f"http://127.0.0.1:{p.aux2}",
            loads=[f"http://127.0.0.1:{p.aux2}/debug/pprof/cmdline"],
            client=client,
        )

    return launch


# -- real leaks that their projects fixed, set 3 (session 18, helper 64): as above, the leaky
# release and the fixed one under the same load; chosen and committed before any measured run ---

OPA_LEAKY, OPA_FIXED = "v1.18.0", "v1.18.1"
OPA_KINDS = 30  # resource kinds, one labelled allow rule each, in the policy the admin keeps updating
OPA_POLICY_UPDATES = 0.1  # policy updates (PUT /v1/policies/authz, a recompile) a second: one per 10 s
OPA_DECISIONS = 25.0  # decisions asked a second (POST /v1/data/app/authz)


def _opa_policy(revision: int) -> str:
    """The document service's authorization policy (Rego v1), as its admin pushes it: package
    and rule METADATA with `labels` (OPA 1.17's rule labels for decision logs), one allow rule
    per resource kind, a role rule, a deny list, and the revision the admin bumps each push."""
    parts = [
        "# METADATA\n# title: document service authorization\n# scope: package\n"
        "# labels:\n#   service: docs\n#   severity: info\npackage app.authz\n\n"
        f"revision := {revision}\n\n"
        f"blocked := {{\"u{revision % 97}\", \"u{(revision * 7) % 97}\"}}\n\n"
        "default allow := false\n\n"
        "# METADATA\n# title: admins may do anything\n# labels:\n#   team: platform\n"
        "#   severity: low\nallow if {\n\tinput.user.role == \"admin\"\n"
        "\tnot blocked[input.user.id]\n}\n\n"
        "# METADATA\n# title: a user's groups\nuser_groups contains g if {\n"
        "\tsome g in input.user.groups\n}\n\n",
    ]
    for k in range(OPA_KINDS):
        parts.append(
            f"# METADATA\n# title: readers and editors of kind k{k}\n# labels:\n"
            f"#   kind: k{k}\n#   owner: team-{k % 7}\n"
            f"allow if {{\n\tinput.resource.kind == \"k{k}\"\n"
            f"\tinput.action in {{\"read\", \"list\"}}\n"
            f"\tuser_groups[\"g{k % 10}\"]\n\tnot blocked[input.user.id]\n}}\n\n"
            f"# METADATA\n# title: owners of kind k{k} may write\n# labels:\n#   kind: k{k}\n"
            f"allow if {{\n\tinput.resource.kind == \"k{k}\"\n"
            f"\tinput.action == \"write\"\n\tinput.resource.owner == input.user.id\n}}\n\n")
    return "".join(parts)


def _opa(version: str) -> ServiceFn:
    def launch(d: Path, p: Ports) -> Launch:
        # OPA as a policy decision server, REST API and pprof on p.web (loopback), telemetry
        # off. Its clients: services asking decisions (POST /v1/data/app/authz with a user and
        # a resource, OPA_DECISIONS a second) and the policy admin pushing the policy with a
        # new revision OPA_POLICY_UPDATES a second (PUT /v1/policies/authz: every push
        # recompiles, and builds a new ast.AnnotationSet). v1.17.0-v1.18.0 cache each
        # evaluated rule's merged labels in the AnnotationSet (keyed by a weak pointer) and
        # register runtime.AddCleanup(rule, func(k) { as.mergedLabels.Delete(k) }, k), whose
        # closure holds the set, which holds the rule: the cleanup never runs and every
        # superseded compile stays reachable (v1/ast/annotations.go:999 in MergedLabels):
        # open-policy-agent/opa#8817, fixed in v1.18.1 (the cache removed).
        api = f"http://127.0.0.1:{p.web}"

        async def client(stop: asyncio.Event) -> None:
            import random

            import httpx

            rnd = random.Random(64)
            rev = 1
            async with httpx.AsyncClient(timeout=10) as c:
                while not stop.is_set():
                    with contextlib.suppress(httpx.HTTPError):
                        r = await c.put(api + "/v1/policies/authz", content=_opa_policy(rev))
                        if r.status_code == 200:
                            break
                    await _wait(stop, 0.3)
                next_push = time.monotonic() + 1 / OPA_POLICY_UPDATES
                while not stop.is_set():
                    with contextlib.suppress(httpx.HTTPError):
                        if time.monotonic() >= next_push:
                            next_push += 1 / OPA_POLICY_UPDATES
                            rev += 1
                            await c.put(api + "/v1/policies/authz", content=_opa_policy(rev))
                        uid = f"u{rnd.randrange(97)}"
                        await c.post(api + "/v1/data/app/authz", json={"input": {
                            "user": {"id": uid, "role": "admin" if rnd.random() < 0.05 else "user",
                                     "groups": [f"g{rnd.randrange(10)}" for _ in range(2)]},
                            "action": rnd.choice(["read", "list", "write"]),
                            "resource": {"kind": f"k{rnd.randrange(OPA_KINDS)}",
                                         "owner": uid if rnd.random() < 0.3 else "u0"}}})
                    await _wait(stop, 1 / OPA_DECISIONS)

        return Launch(
            cmd=[_leaky_exe("opa", version), "run", "--server", "--addr", f"127.0.0.1:{p.web}",
                 "--pprof", "--disable-telemetry", "--log-level", "error"],
            pprof=api,
            loads=[api + "/health", api + "/metrics", api + "/v1/data/app/authz/revision",
                   api + "/v1/data/app/authz/blocked"],
            client=client,
            metrics=api + "/metrics",
        )

    return launch


# -- real leaks that their projects fixed, set 4 (session 19, helper rs10): as above, the leaky
# release and the fixed one under the same load; chosen and committed before any measured run ---

AMD_LEAKY, AMD_FIXED = "v0.32.1", "v0.32.3"  # dispatcher: a group's goroutine per swap (#5241)
AMT_LEAKY, AMT_FIXED = "v0.30.0", "v0.30.1"  # notify: a tracing transport per notification (#4828)
AM_ALERTNAMES = 4  # alert rules firing, each on every host
AM_HOSTS = 25  # hosts (instance label): AM_ALERTNAMES x AM_HOSTS groups, group_by [alertname, instance]
AM_FLAP_EVERY = 5.0  # seconds between flaps: one host's alerts resolve, and fire again 10 s later


class _BigSink(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # 100 groups, 10 flushes a second: 5 (the default) resets some


_AM_SINK: list[int] = []


def _am_sink() -> int:
    """The webhook receiver of set 4's Alertmanager: the bench's sink handler on its own
    server with a listen backlog for 100 notifications at once."""
    if not _AM_SINK:
        srv = _BigSink(("127.0.0.1", 0), _Sink)
        _AM_SINK.append(srv.server_address[1])
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    return _AM_SINK[0]


def _alertmanager(version: str) -> ServiceFn:
    def launch(d: Path, p: Ports) -> Launch:
        # Alertmanager as a monitoring system's notifier: the alerts of AM_ALERTNAMES rules on
        # AM_HOSTS hosts re-sent every second with endsAt ahead (as Prometheus does), one group
        # per alert and host (group_by [alertname, instance], group_wait 1s, group_interval 5s,
        # repeat_interval 10s: each group is re-notified every 10 s; the hosts join over the
        # first 10 s, so the groups' flushes spread over the period), and every AM_FLAP_EVERY s
        # one host's alerts resolve and fire again 10 s later (a flapping host; while resolved
        # they are re-sent with endsAt now, as Prometheus re-sends resolved alerts). Every
        # notification goes to one webhook receiver (a sink on loopback).
        # v0.32.1 (AMD_LEAKY): a group whose alerts all resolved and were notified is marked
        # destroyed; an alert for it arriving before the dispatcher's maintenance (30 s)
        # makes a new group, CompareAndSwap'ed into the map (dispatch/dispatch.go:517-520 in
        # (*Dispatcher).groupAlert), and nothing stops the old one: its run() goroutine
        # (dispatch.go:690, started at :593) and its timer live on. prometheus/alertmanager
        # #5182, fixed by #5241 in v0.32.2 (the swapped-out group is cancelled, and run()
        # returns once its group is destroyed); v0.32.3 (AMD_FIXED) is served, v0.32.2 not.
        # v0.30.0 (AMT_LEAKY): notify.request (notify/util.go:81) does `client.Transport =
        # tracing.Transport(client.Transport)` on the receiver's own http.Client, kept for
        # the integration's life: every notification wraps the chain in one more
        # otelhttp.Transport (tracing on or off), so memory and per-request work grow with
        # the notifications sent: prometheus/alertmanager#4828, fixed in v0.30.1 (the tracing
        # transport added once, when the client is made).
        (d / "am.yml").write_text(
            "route:\n  receiver: hook\n  group_by: [alertname, instance]\n  group_wait: 1s\n"
            "  group_interval: 5s\n  repeat_interval: 10s\n"
            f"receivers:\n- name: hook\n  webhook_configs:\n"
            f"  - url: http://127.0.0.1:{_am_sink()}/hook\n")
        base = f"http://127.0.0.1:{p.web}"

        async def client(stop: asyncio.Event) -> None:
            import httpx

            def stamp(t: float) -> str:
                return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

            t0 = time.monotonic()
            async with httpx.AsyncClient(timeout=5) as c:
                while not stop.is_set():
                    now, el = time.time(), time.monotonic() - t0
                    # the host whose alerts are resolved now: each flap lasts 10 s
                    down = {int((el - k) / AM_FLAP_EVERY) % AM_HOSTS
                            for k in (0.0, AM_FLAP_EVERY) if el >= k + AM_FLAP_EVERY}
                    alerts = [{"labels": {"alertname": f"Bench{g}", "instance": f"host{i}",
                                          "severity": "warning" if g else "critical",
                                          "job": "node"},
                               "annotations": {"summary": f"host{i}: bench rule {g}"},
                               "startsAt": stamp(now - 600),
                               "endsAt": stamp(now if i in down else now + 180),
                               "generatorURL": "http://bench/graph"}
                              for g in range(AM_ALERTNAMES) for i in range(AM_HOSTS)
                              if el >= i * 10.0 / AM_HOSTS]  # hosts join over the first 10 s
                    with contextlib.suppress(httpx.HTTPError):
                        await c.post(base + "/api/v2/alerts", json=alerts)
                    await _wait(stop, 1.0)

        return Launch(
            cmd=[_leaky_exe("alertmanager", version), f"--config.file={d}/am.yml",
                 f"--storage.path={d}/data", f"--web.listen-address=127.0.0.1:{p.web}",
                 "--cluster.listen-address=", "--log.level=warn"],
            pprof=base,
            loads=[base + "/api/v2/alerts", base + "/api/v2/status", base + "/api/v2/alerts/groups",
                   base + "/api/v2/silences", base + "/metrics"],
            client=client,
            metrics=base + "/metrics",
        )

    return launch


SERVICES: dict[str, ServiceFn] = {
    "prometheus": prometheus, "alertmanager": alertmanager, "etcd": etcd, "nats": nats,
    "node-exporter": node_exporter,
    # held-out set 2
    "caddy": caddy, "docker-registry": docker_registry, "influxdb": influxdb,
    "pushgateway": pushgateway,
    # held-out set 3
    "blackbox": blackbox, "mtail": mtail, "syncthing": syncthing, "snmp": snmp,
    # held-out set 4
    "rclone": rclone, "haproxy-exporter": haproxy_exporter,
    "process-exporter": process_exporter, "smokeping": smokeping,
    # held-out set 5
    "victoria-metrics": victoria_metrics, "garagemq": garagemq, "dnss": dnss,
    # held-out set 6
    "chasquid": chasquid, "gopls": gopls, "podman": podman,
    # real leaks that their projects fixed (session 16): the leaky release and the fixed one
    "nats-leaky": _nats_cluster(NATS_LEAKY), "nats-fixed": _nats_cluster(NATS_FIXED),
    "coredns-leaky": _coredns(COREDNS_LEAKY), "coredns-fixed": _coredns(COREDNS_FIXED),
    # real leaks that their projects fixed, set 2 (session 17)
    "openfga-leaky": _openfga(OPENFGA_LEAKY), "openfga-fixed": _openfga(OPENFGA_FIXED),
    "gobgp-leaky": _gobgp(GOBGP_LEAKY), "gobgp-fixed": _gobgp(GOBGP_FIXED),
    # real leaks that their projects fixed, set 3 (session 18)
    "opa-leaky": _opa(OPA_LEAKY), "opa-fixed": _opa(OPA_FIXED),
    # real leaks that their projects fixed, set 4 (session 19)
    "amdispatch-leaky": _alertmanager(AMD_LEAKY), "amdispatch-fixed": _alertmanager(AMD_FIXED),
    "amtracing-leaky": _alertmanager(AMT_LEAKY), "amtracing-fixed": _alertmanager(AMT_FIXED),
}
SET1 = ["prometheus", "alertmanager", "etcd", "nats", "node-exporter"]
SET2 = ["caddy", "docker-registry", "influxdb", "pushgateway"]
SET3 = ["blackbox", "mtail", "syncthing", "snmp"]
SET4 = ["rclone", "haproxy-exporter", "process-exporter", "smokeping"]
SET5 = ["victoria-metrics", "garagemq", "dnss"]
SET6 = ["chasquid", "gopls", "podman"]
LEAKS = ["nats-leaky", "nats-fixed", "coredns-leaky", "coredns-fixed"]
LEAKS2 = ["openfga-leaky", "openfga-fixed", "gobgp-leaky", "gobgp-fixed"]
LEAKS3 = ["opa-leaky", "opa-fixed"]
LEAKS4 = ["amdispatch-leaky", "amdispatch-fixed", "amtracing-leaky", "amtracing-fixed"]
BINARIES = {
    "prometheus": ["prometheus", "prometheus-node-exporter"],
    "alertmanager": ["prometheus-alertmanager"], "etcd": ["etcd", "etcdctl"],
    "nats": ["nats-server"], "node-exporter": ["prometheus-node-exporter"],
    "caddy": ["caddy"], "docker-registry": ["docker-registry"], "influxdb": ["influxd"],
    "pushgateway": ["prometheus-pushgateway"],
    "blackbox": ["prometheus-blackbox-exporter"], "mtail": ["mtail"], "syncthing": ["syncthing"],
    "snmp": ["prometheus-snmp-exporter", "snmpd"],
    "rclone": ["rclone"], "haproxy-exporter": ["prometheus-haproxy-exporter", "haproxy"],
    "process-exporter": ["prometheus-process-exporter"],
    "smokeping": ["prometheus-smokeping-prober"],
    "victoria-metrics": ["victoria-metrics"], "garagemq": ["garagemq"], "dnss": ["dnss"],
    "chasquid": ["chasquid", "chasquid-util", "openssl"], "gopls": ["gopls", "go"],
    "podman": ["podman"],
    "nats-leaky": [_leaky_exe("nats-server", NATS_LEAKY)],
    "nats-fixed": [_leaky_exe("nats-server", NATS_FIXED)],
    "coredns-leaky": [_leaky_exe("coredns", COREDNS_LEAKY)],
    "coredns-fixed": [_leaky_exe("coredns", COREDNS_FIXED)],
    "openfga-leaky": [_leaky_exe("openfga", OPENFGA_LEAKY)],
    "openfga-fixed": [_leaky_exe("openfga", OPENFGA_FIXED)],
    "gobgp-leaky": [_leaky_exe("gobgpd", GOBGP_LEAKY)],
    "gobgp-fixed": [_leaky_exe("gobgpd", GOBGP_FIXED)],
    "opa-leaky": [_leaky_exe("opa", OPA_LEAKY)], "opa-fixed": [_leaky_exe("opa", OPA_FIXED)],
    "amdispatch-leaky": [_leaky_exe("alertmanager", AMD_LEAKY)],
    "amdispatch-fixed": [_leaky_exe("alertmanager", AMD_FIXED)],
    "amtracing-leaky": [_leaky_exe("alertmanager", AMT_LEAKY)],
    "amtracing-fixed": [_leaky_exe("alertmanager", AMT_FIXED)],
}


# -- a small NATS client (the text protocol; our own code) ---------------------------------

class _Nats:
    def __init__(self, r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        self.r, self.w = r, w
        self.on_msg: Callable[[list[bytes], bytes], None] | None = None
        self.pong = asyncio.Event()

    @classmethod
    async def connect(cls, host: str, port: int, name: str) -> _Nats:
        r, w = await asyncio.open_connection(host, port)
        await r.readline()  # INFO
        w.write(b'CONNECT {"verbose":false,"pedantic":false,"name":"%s"}\r\n' % name.encode())
        await w.drain()
        return cls(r, w)

    async def read_loop(self) -> None:
        while True:
            line = await self.r.readline()
            if not line:
                return
            if line.startswith(b"MSG"):
                parts = line.split()
                data = await self.r.readexactly(int(parts[-1]) + 2)
                if self.on_msg:
                    self.on_msg(parts, data[:-2])
            elif line.startswith(b"PING"):
                self.w.write(b"PONG\r\n")
            elif line.startswith(b"PONG"):
                self.pong.set()

    def pub(self, subject: str, data: bytes, reply: str = "") -> None:
        r = f" {reply}" if reply else ""
        self.w.write(f"PUB {subject}{r} {len(data)}\r\n".encode() + data + b"\r\n")

    async def close(self) -> None:
        self.w.close()
        with contextlib.suppress(Exception):
            await self.w.wait_closed()


async def nats_work(host: str, port: int, stop: asyncio.Event) -> None:
    """200 msgs/s of 256 B to a plain subscriber and a 2-member queue group, 20 requests/s
    answered by a responder through a fresh inbox subscription each, and a short-lived
    connection every second (connect, subscribe, publish, ping, close)."""
    conns: list[_Nats] = []
    tasks: list[asyncio.Task[None]] = []

    async def open_(name: str) -> _Nats:
        c = await _Nats.connect(host, port, name)
        conns.append(c)
        tasks.append(asyncio.create_task(c.read_loop()))
        return c

    try:
        sub = await open_("sub")
        sub.w.write(b"SUB bench.> 1\r\n")
        for i in range(2):
            q = await open_(f"q{i}")
            q.w.write(b"SUB bench.> workers 1\r\n")
        resp = await open_("responder")
        resp.w.write(b"SUB svc.echo 1\r\n")

        def answer(parts: list[bytes], data: bytes) -> None:
            if len(parts) == 5:
                resp.pub(parts[3].decode(), data)

        resp.on_msg = answer
        pub = await open_("pub")
        req = await open_("req")
        got: dict[str, asyncio.Event] = {}
        req.on_msg = lambda parts, data: got.pop(parts[1].decode(), asyncio.Event()).set()
        payload = os.urandom(256)

        async def publish() -> None:
            n = 0
            while not stop.is_set():
                for _ in range(10):
                    n += 1
                    pub.pub(f"bench.a.{n % 10}", payload)
                await pub.w.drain()
                await _wait(stop, 0.05)

        async def request() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                inbox = f"_INBOX.bench.{n}"
                ev = got.setdefault(inbox, asyncio.Event())
                req.w.write(f"SUB {inbox} {n + 10}\r\nUNSUB {n + 10} 1\r\n".encode())
                req.pub("svc.echo", b"ping %d" % n, inbox)
                await req.w.drain()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ev.wait(), 2.0)
                got.pop(inbox, None)
                await _wait(stop, 0.05)

        async def churn() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                    c = await _Nats.connect(host, port, f"churn{n}")
                    t = asyncio.create_task(c.read_loop())
                    c.w.write(b"SUB churn.x 1\r\n")
                    c.pub("churn.x", b"hello")
                    c.w.write(b"PING\r\n")
                    await c.w.drain()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(c.pong.wait(), 2.0)
                    await c.close()
                    t.cancel()
                await _wait(stop, 1.0)

        await asyncio.gather(publish(), request(), churn())
    except (OSError, asyncio.IncompleteReadError):
        await stop.wait()
    finally:
        for t in tasks:
            t.cancel()
        for c in conns:
            await c.close()


# -- webhook sink for Alertmanager -----------------------------------------------------------

class _Sink(http.server.BaseHTTPRequestHandler):
    """Alertmanager's webhook receiver (POST) and blackbox-exporter's probe target (GET a
    4 KiB page with the marker its body module looks for; POST; a TCP connect)."""

    PAGE = b"<html><body>bench-ok " + b"x" * 4000 + b"</body></html>\n"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        self.wfile.write(self.PAGE)

    def log_message(self, *args: Any) -> None:
        pass


SINK_PORT = 0


def start_sink() -> None:
    global SINK_PORT
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    SINK_PORT = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()


# -- one run --------------------------------------------------------------------------------

@dataclass
class Run:
    service: str
    style: str  # "soak" or "watch"
    index: int
    rc: int | None = None
    final: str = ""  # the headline verdict at the end
    final_kinds: dict[str, str] = field(default_factory=dict)  # series -> kind at the end
    final_leaks: list[str] = field(default_factory=list)
    slopes: dict[str, float] = field(default_factory=dict)  # series -> slope/min at the end
    evidence: dict[str, list[str]] = field(default_factory=dict)  # leak verdicts' evidence
    first_leak_s: float | None = None
    first_leak_kinds: list[str] = field(default_factory=list)
    leak_ticks: int = 0
    ticks: int = 0
    naive_final: list[str] = field(default_factory=list)
    naive_any: list[str] = field(default_factory=list)
    naive_first_s: float | None = None
    summary: dict[str, list[float]] = field(default_factory=dict)  # series -> first, last, min, max
    requests: int = 0
    req_rate: float = 0.0
    load_errors: int = 0
    load1: list[float] = field(default_factory=list)
    store: str = ""
    error: str = ""


async def _wait(stop: asyncio.Event, delay: float) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)
    return stop.is_set()


async def _until_up(url: str, timeout: float, stop: asyncio.Event) -> bool:
    import httpx

    end = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as c:
        while time.monotonic() < end and not stop.is_set():
            with contextlib.suppress(httpx.HTTPError):
                if (await c.get(url)).status_code == 200:
                    return True
            await asyncio.sleep(0.2)
    return False


async def _start(argv: list[str], log: Path) -> asyncio.subprocess.Process:
    f = open(log, "ab")  # noqa: SIM115 - the child holds it
    try:
        return await asyncio.create_subprocess_exec(*argv, stdout=f, stderr=f,
                                                    start_new_session=True)
    finally:
        f.close()


async def _stop(p: asyncio.subprocess.Process | None) -> None:
    if p is None or p.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(p.pid, 15)
    try:
        await asyncio.wait_for(p.wait(), 5)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, 9)
        await p.wait()


async def one_run(name: str, style: str, index: int, root: Path, args: argparse.Namespace) -> Run:
    run = Run(name, style, index)
    d = root / f"{name}-{style}-{index}"
    d.mkdir(parents=True)
    launch = SERVICES[name](d, Ports())
    db = d / "store.db"
    ticks = d / "ticks.jsonl"
    run.store = str(db)
    stop = asyncio.Event()
    side: list[asyncio.subprocess.Process] = []
    svc: asyncio.subprocess.Process | None = None
    client: asyncio.Task[None] | None = None
    load_task: asyncio.Task[Any] | None = None
    load_stop = asyncio.Event()
    child_argv = [sys.executable, str(Path(__file__).resolve()), "--child", str(ticks), "--"]
    try:
        for argv in launch.side:
            side.append(await _start(argv, d / "side.log"))
        if style == "soak":
            cli = ["soak", "--cmd", shlex.join(launch.cmd), "--pprof", launch.pprof,
                   *[x for u in launch.loads for x in ("--load", u)],
                   "--format", "json", "--db", str(db),
                   "--warmup", f"{args.warmup:g}s", "--duration", f"{args.duration:g}s"]
            child = await asyncio.create_subprocess_exec(
                *child_argv, *cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if launch.client is not None and await _until_up(
                    launch.pprof + "/debug/pprof/", 30, stop):
                client = asyncio.create_task(launch.client(stop))
            out, err = await child.communicate()
        else:
            from leakhunter.collect.loadgen import LoadGenerator

            svc = await _start(launch.cmd, d / "service.log")
            if not await _until_up(launch.pprof + "/debug/pprof/", 30, stop):
                raise RuntimeError("the service never answered")
            if launch.client is not None:
                client = asyncio.create_task(launch.client(stop))
            load = LoadGenerator(launch.loads, rate=50.0, concurrency=16,
                                 duration=args.warmup + args.duration + 120)
            load_task = asyncio.create_task(load.run(stop=load_stop))
            await asyncio.sleep(args.warmup)
            cli = ["watch", launch.pprof, "--interval", "0.5s", "--duration", f"{args.duration:g}s",
                   "--pid", str(svc.pid), "--db", str(db), "--format", "json"]
            child = await asyncio.create_subprocess_exec(
                *child_argv, *cli, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = await child.communicate()
            load_stop.set()
            st = await load_task
            run.requests, run.load_errors = st.done, st.errors
            run.req_rate = st.done / max(st.elapsed, 1e-9)
            if svc.returncode is not None:
                run.error = f"the service exited ({svc.returncode})"
        run.rc = child.returncode
        (d / "cli.json").write_bytes(out)
        (d / "cli.stderr").write_bytes(err)
        if child.returncode not in (0, 1):
            run.error = run.error or f"exit {child.returncode}: {err.decode()[-300:]}"
        else:
            _read_json(run, json.loads(out))
        _read_ticks(run, ticks)
        _read_store(run, db, launch.pprof)
    except Exception as exc:  # a row says what went wrong instead of ending the bench
        run.error = f"{type(exc).__name__}: {exc}"[:300]
    finally:
        stop.set()
        load_stop.set()
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client, 10)
        if load_task is not None:
            with contextlib.suppress(Exception):
                await load_task
        await _stop(svc)
        for p in side:
            await _stop(p)
        for sub in ("data",):  # the service's own data (TSDB, WAL) is not evidence
            shutil.rmtree(d / sub, ignore_errors=True)
    return run


def _read_json(run: Run, doc: dict[str, Any]) -> None:
    vs = doc["targets"][0]["verdicts"]
    run.final = vs[0]["kind"] if vs else "-"
    for v in vs:
        run.final_kinds[v["series"]] = v["kind"]
        run.slopes[v["series"]] = v["slope_per_min"]
        if v["kind"] in ("heap-leak", "goroutine-leak", "non-heap-growth"):
            run.final_leaks.append(f"{v['kind']} ({v['series']})")
            run.evidence[v["series"]] = v["evidence"]
    if "soak" in doc:
        load = doc["soak"]["load"]
        run.requests = int(load.get("done") or load.get("requests") or 0)
        run.load_errors = int(load.get("errors") or 0)
        run.req_rate = float(load.get("rate") or 0.0)


def _read_ticks(run: Run, path: Path) -> None:
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        t = json.loads(line)
        run.ticks += 1
        run.load1.append(t["load1"])
        LOADS.append(t["load1"])
        leaks = [f"{k} ({s})" for s, k, _ in t["v"]
                 if k in ("heap-leak", "goroutine-leak", "non-heap-growth")]
        if leaks:
            run.leak_ticks += 1
            if run.first_leak_s is None:
                run.first_leak_s = t["t"]
                run.first_leak_kinds = leaks


def _read_store(run: Run, db: Path, pprof: str) -> None:
    from leakhunter.collect.store import Store
    from leakhunter.watcher import normalize_target

    store = Store(str(db))
    try:
        target = normalize_target(pprof)
        pts: dict[str, list[Any]] = {}
        for s in STORE_SERIES:
            p = store.series(target, s)
            if p:
                pts[s] = p
                vals = [x.value for x in p]
                run.summary[s] = [vals[0], vals[-1], min(vals), max(vals), float(len(vals)),
                                  p[-1].ts - p[0].ts]
        # The peer gets the best heap series there is (exact after a forced GC).
        heap = pts.get("heap_marked") or pts.get("heap_live") or []
        t0 = min((p[0].ts for p in pts.values()), default=0.0)
        for label, p in (("heap", heap), ("goroutines", pts.get("goroutines", [])),
                         ("fds", pts.get("fds", []))):
            if len(p) < 2:
                continue
            a = p[0].value

            def alarm(b: float, a: float = a, label: str = label) -> bool:
                return b - a >= max(NAIVE_REL * abs(a), NAIVE_FLOOR[label])

            if alarm(p[-1].value):
                run.naive_final.append(label)
            hit = next((x for x in p[1:] if alarm(x.value)), None)
            if hit is not None:
                run.naive_any.append(label)
                at = hit.ts - t0
                run.naive_first_s = at if run.naive_first_s is None else min(run.naive_first_s, at)
    finally:
        store.close()


async def main_async(args: argparse.Namespace) -> list[Run]:
    start_sink()
    root = Path(args.root) if args.root else Path(os.environ.get("TMPDIR", "/tmp")) / (
        "lh-realsvc-" + time.strftime("%H%M%S"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"stores under {root}", file=sys.stderr)
    jobs = [(name, style, i) for i in range(args.runs) for name in args.only
            for style in args.styles]
    sem = asyncio.Semaphore(args.parallel)
    runs: list[Run] = []

    async def guarded(job: tuple[str, str, int]) -> Run:
        async with sem:
            name, style, i = job
            r = await one_run(name, style, i, root, args)
            runs.append(r)
            if args.json_out:  # saved as it goes: a killed bench keeps what it measured
                Path(args.json_out).write_text(json.dumps([dataclasses.asdict(x) for x in runs]))
            print(f"  {name:13} {style:5} {i}: rc={r.rc} final={r.final} leaks={r.final_leaks} "
                  f"first_leak={r.first_leak_s} {r.first_leak_kinds} naive={r.naive_any} "
                  f"ticks={r.ticks} req/s={r.req_rate:.0f} err={r.load_errors} {r.error}",
                  file=sys.stderr, flush=True)
            return r

    return list(await asyncio.gather(*(guarded(j) for j in jobs)))


# -- study: the exact live heap over a longer run (what a false alarm's growth really is) ----

GAUGES = {
    "prometheus": ("prometheus_tsdb_head_series", "prometheus_tsdb_head_chunks",
                   "prometheus_tsdb_head_chunks_created_total"),
    "etcd": ("etcd_debugging_mvcc_keys_total", "etcd_debugging_mvcc_current_revision",
             "etcd_server_snapshot_apply_in_progress_total"),
    "alertmanager": ("alertmanager_alerts", "alertmanager_notifications_total"),
    "node-exporter": (),
    "nats": (),
    "caddy": (),
    "docker-registry": (),
    "influxdb": ("go_goroutines",),
    "pushgateway": ("pushgateway_build_info",),
    "blackbox": ("blackbox_exporter_config_last_reload_successful",),
    "mtail": ("http_requests_total",),
    "syncthing": (),
    "snmp": ("snmp_collection_duration_seconds",),
    "rclone": ("rclone_bytes_transferred_total",),
    "haproxy-exporter": ("haproxy_up",),
    "process-exporter": ("namedprocess_scrape_errors",),
    "smokeping": ("smokeping_requests_total",),
    "victoria-metrics": ('vm_rows{type="storage/small"}', 'vm_cache_size_bytes{type="storage/tsid"}',
                         'vm_cache_entries{type="promql/rollupResult"}'),
    "garagemq": ("badger_v2_puts_total", "audit_ready"),
    "dnss": ("cache-recorded", "cache-hits"),
    "chasquid": ("chasquid/queue/putCount", "chasquid/queue/dsnQueued"),
    "gopls": (),
    "podman": (),
    "nats-leaky": (), "nats-fixed": (),
    "coredns-leaky": ("coredns_dns_requests_total",), "coredns-fixed": ("coredns_dns_requests_total",),
    "openfga-leaky": ("grpc_server_handled_total",), "openfga-fixed": ("grpc_server_handled_total",),
    "gobgp-leaky": (), "gobgp-fixed": (),
    "opa-leaky": ("http_request_duration_seconds_count",),
    "opa-fixed": ("http_request_duration_seconds_count",),
    "amdispatch-leaky": ('alertmanager_notifications_total{integration="webhook"}',
                         "alertmanager_dispatcher_aggregation_groups"),
    "amdispatch-fixed": ('alertmanager_notifications_total{integration="webhook"}',
                         "alertmanager_dispatcher_aggregation_groups"),
    "amtracing-leaky": ('alertmanager_notifications_total{integration="webhook"}',
                        "alertmanager_alerts"),
    "amtracing-fixed": ('alertmanager_notifications_total{integration="webhook"}',
                        "alertmanager_alerts"),
}


def _all_metrics(text: str) -> dict[str, float]:
    """name -> value of the first series of each metric on a /metrics page (labels dropped)."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and line[0] != "#":
            name, _, rest = line.partition(" ") if "{" not in line.split(" ")[0] else (
                line.split("{")[0], "", line.rsplit("} ", 1)[-1])
            with contextlib.suppress(ValueError, IndexError):
                out.setdefault(name, float(rest.split()[0]))
                out[line.rsplit(" ", 1)[0]] = float(line.rsplit(" ", 1)[1])  # name{labels}
    return out


async def study(name: str, minutes: float, every: float, out: Path,
                extra: list[str] | None = None) -> None:
    """Run one service under the bench's load for `minutes`; every `every` s force a GC
    (heap?gc=1) and read the exact heap right after it (go_memstats_heap_alloc_bytes from
    /metrics, else HeapAlloc from /debug/vars), goroutines and the service's own gauges;
    keep the heap profiles at 10 s and at the end for `leakhunter diff`."""
    import httpx

    from leakhunter.collect.loadgen import LoadGenerator

    start_sink()
    out.mkdir(parents=True, exist_ok=True)
    launch = SERVICES[name](out, Ports())
    launch.cmd += extra or []
    stop, load_stop = asyncio.Event(), asyncio.Event()
    side = [await _start(a, out / "side.log") for a in launch.side]
    svc = await _start(launch.cmd, out / "service.log")
    client: asyncio.Task[None] | None = None
    try:
        if not await _until_up(launch.pprof + "/debug/pprof/", 30, stop):
            raise SystemExit("the service never answered")
        if launch.client is not None:
            client = asyncio.create_task(launch.client(stop))
        load = LoadGenerator(launch.loads, rate=50.0, concurrency=16, duration=minutes * 60 + 60)
        load_task = asyncio.create_task(load.run(stop=load_stop))
        metrics_url = launch.metrics or (
            launch.loads[0].split("/api/")[0].split("/metrics")[0] + "/metrics")
        if name in ("nats", "syncthing", "garagemq", "dnss"):  # no /metrics (syncthing's GUI
            # answers any path; garagemq and dnss have only expvar)
            metrics_url = ""
        t0 = time.monotonic()
        kept = False
        print("t_s heap_after_gc_MiB goroutines " + " ".join(GAUGES[name]), flush=True)
        async with httpx.AsyncClient(timeout=30) as c:
            while time.monotonic() - t0 < minutes * 60:
                t = time.monotonic() - t0
                prof = (await c.get(launch.pprof + "/debug/pprof/heap?gc=1")).content
                if t >= 10 and not kept:
                    (out / "heap-10s.pb.gz").write_bytes(prof)
                    kept = True
                (out / "heap-last.pb.gz").write_bytes(prof)
                heap = float("nan")
                m: dict[str, float] = {}
                if metrics_url:
                    r = await c.get(metrics_url)
                    if r.status_code == 200:
                        m = _all_metrics(r.text)
                        heap = m.get("go_memstats_heap_alloc_bytes", heap)
                if heap != heap:
                    r = await c.get(launch.pprof + "/debug/vars")
                    if r.status_code == 200:
                        heap = float(r.json()["memstats"]["HeapAlloc"])
                        m.update({k: float(v) for k, v in r.json().items()
                                  if isinstance(v, int | float)})  # the service's expvars
                if name == "garagemq":  # the unread queue's length, from the admin API
                    r = await c.get(launch.loads[1])
                    for q in r.json().get("items") or []:
                        if q["name"] == "audit":
                            m["audit_ready"] = float(q["counters"]["ready"]["value"])
                if heap != heap:  # pprof only (syncthing): the MemStats trailer after a GC
                    r = await c.get(launch.pprof + "/debug/pprof/heap?gc=1&debug=1")
                    for line in r.text.splitlines():
                        if line.startswith("# HeapAlloc = "):
                            heap = float(line.split("=", 1)[1])
                g = (await c.get(launch.pprof + "/debug/pprof/goroutine?debug=1")).text
                gr = g.split("total ", 1)[1].split()[0] if "total " in g else "?"
                gauges = " ".join(f"{m.get(k, float('nan')):.0f}" for k in GAUGES[name])
                print(f"{t:.0f} {heap / (1 << 20):.2f} {gr} {gauges}", flush=True)
                await asyncio.sleep(max(0.0, every - (time.monotonic() - t0 - t)))
        load_stop.set()
        await load_task
    finally:
        stop.set()
        load_stop.set()
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client, 10)
        await _stop(svc)
        for p in side:
            await _stop(p)
        shutil.rmtree(out / "data", ignore_errors=True)


async def smoke(name: str, out: Path) -> None:
    """Start one service as a run would (side processes, the service, its client), wait
    5 s, GET each load URL once and print its status and size: checks the harness (ports,
    configs, the client's work) without reading any heap or verdict."""
    import httpx

    start_sink()
    out.mkdir(parents=True, exist_ok=True)
    launch = SERVICES[name](out, Ports())
    stop = asyncio.Event()
    side = [await _start(a, out / "side.log") for a in launch.side]
    svc = await _start(launch.cmd, out / "service.log")
    client: asyncio.Task[None] | None = None
    try:
        up = await _until_up(launch.pprof + "/debug/pprof/", 30, stop)
        print(f"pprof {launch.pprof}: {'up' if up else 'NOT UP'}")
        if launch.client is not None:
            client = asyncio.create_task(launch.client(stop))
        await asyncio.sleep(5)
        async with httpx.AsyncClient(timeout=10) as c:
            for i, u in enumerate([*launch.loads, launch.pprof + "/debug/vars", launch.metrics]):
                if u:
                    r = await c.get(u)
                    (out / f"smoke-{i}.txt").write_bytes(r.content)  # what it answered, to read
                    print(f"{r.status_code} {len(r.content):8} {u}")
        if client is not None and client.done():
            print("client ended early:", client.exception())
    finally:
        stop.set()
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client, 10)
        await _stop(svc)
        for p in side:
            await _stop(p)


def replay(root: Path, out: Path) -> None:
    """Judge every kept store again, at each of its scrapes and at the end, with the
    leakhunter first on sys.path (PYTHONPATH=<tree>/src): the runs import the editable
    install, which another session may change mid-bench; this pins one tree for all runs.
    Writes {run dir: {"final": [...], "first_leak_s": t, "first_leak": [...], "ticks": n}}."""
    import leakhunter
    from leakhunter.analyze.verdicts import analyze_target
    from leakhunter.collect.store import Store

    res: dict[str, Any] = {"tree": str(Path(leakhunter.__file__).parent)}
    print(f"judging with {res['tree']}", file=sys.stderr)
    for d in sorted(p.parent for p in root.glob("*/store.db")):
        store = Store(str(d / "store.db"), readonly=True)
        try:
            target = store.targets()[0]
            ts = [p.ts for p in store.series(target, "goroutines")]
            first: tuple[float, list[str]] | None = None
            for t in ts:
                store.until = t
                leaks = [f"{v.kind} ({v.series})" for v in
                         analyze_target(store, target, with_suspects=False) if v.is_leak]
                if leaks and first is None:
                    first = (t - ts[0], leaks)
            store.until = None
            vs = analyze_target(store, target, with_suspects=False)
            res[d.name] = {"final": [f"{v.kind} ({v.series})" for v in vs],
                           "first_leak_s": None if first is None else round(first[0], 1),
                           "first_leak": [] if first is None else first[1], "ticks": len(ts)}
            print(d.name, res[d.name]["final"][:1], first, file=sys.stderr, flush=True)
        finally:
            store.close()
    out.write_text(json.dumps(res, indent=1))


def _mib(x: float) -> str:
    return f"{x / (1 << 20):.1f}"


def render(runs: list[Run]) -> str:
    lines = ["| service | style | runs | leak at the end | leak at any tick (first at) | plateau | "
             "inconclusive | no-leak | errors | peer at the end | peer at any scrape | req/s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = list(dict.fromkeys((r.service, r.style) for r in runs))
    for name, style in keys:
        rs = [r for r in runs if r.service == name and r.style == style]
        ok = [r for r in rs if not r.error]
        heads = [r.final for r in ok]
        when = sorted(f"{r.first_leak_s:.1f}s" for r in ok if r.first_leak_s is not None)
        anyt = sum(1 for r in ok if r.first_leak_s is not None)
        rates = [r.req_rate for r in ok if r.req_rate]
        lines.append(
            f"| {name} | {style} | {len(rs)} | {sum(1 for r in ok if r.final_leaks)} | {anyt}"
            f"{' (' + ', '.join(when) + ')' if when else ''} | {heads.count('plateau')} | "
            f"{heads.count('inconclusive')} | {heads.count('no-leak')} | "
            f"{len(rs) - len(ok)} | {sum(1 for r in ok if r.naive_final)} | "
            f"{sum(1 for r in ok if r.naive_any)} | "
            f"{min(rates, default=0):.0f}-{max(rates, default=0):.0f} |")
    lines += ["", "Per-series shape (median over runs of first → last point of the observed "
              "window; heap in MiB, goroutines, fds; *heap slope*: the final heap verdict's "
              "Theil-Sen slope, median and range over the runs):", "",
              "| service | style | heap_live | heap_marked | goroutines | fds | rss | heap slope |",
              "|---|---|---|---|---|---|---|---|"]
    for name, style in keys:
        rs = [r for r in runs if r.service == name and r.style == style and not r.error]
        cells = []
        for s in ("heap_live", "heap_marked", "goroutines", "fds", "rss"):
            vals = [r.summary[s] for r in rs if s in r.summary]
            if not vals:
                cells.append("—")
                continue
            import statistics

            a = statistics.median(v[0] for v in vals)
            b = statistics.median(v[1] for v in vals)
            f = _mib if s in ("heap_live", "heap_marked", "rss") else (lambda x: f"{x:.0f}")
            cells.append(f"{f(a)} → {f(b)}")
        sl = sorted(r.slopes["heap_live"] / 1024 for r in rs if "heap_live" in r.slopes)
        cells.append(f"{sl[len(sl) // 2]:+.0f} KiB/min ({sl[0]:+.0f} to {sl[-1]:+.0f})"
                     if sl else "—")
        lines.append(f"| {name} | {style} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], sys.argv[4:]))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=8, help="runs per service and style")
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--only", nargs="*", default=SET1, choices=list(SERVICES),
                    help="services to run (default: set 1; held-out set 2: " + " ".join(SET2)
                         + "; set 3: " + " ".join(SET3) + "; set 4: " + " ".join(SET4)
                         + "; set 5: " + " ".join(SET5) + "; set 6: " + " ".join(SET6) + ")")
    ap.add_argument("--styles", nargs="*", default=["soak", "watch"], choices=["soak", "watch"])
    ap.add_argument("--warmup", type=float, default=10.0)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--root", help="directory for the runs' stores (kept)")
    ap.add_argument("--json-out", help="save the runs as JSON (written after every run)")
    ap.add_argument("--merge", nargs="*", help="render saved JSON files instead of running")
    ap.add_argument("--markdown", help="write the table to this file")
    ap.add_argument("--study", choices=list(SERVICES),
                    help="instead: run this service --minutes under the load, printing the exact "
                         "heap after a forced GC every --every seconds")
    ap.add_argument("--smoke", choices=list(SERVICES),
                    help="instead: start this service, its side processes and client, ask each "
                         "load URL once and print the status codes (no verdict)")
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--every", type=float, default=5.0)
    ap.add_argument("--extra", action="append", default=[],
                    help="with --study: one more argument for the service, repeatable "
                         "(--extra=--snapshot-count=1000)")
    ap.add_argument("--replay", metavar="ROOT",
                    help="instead: judge the stores under ROOT again at every scrape (with "
                         "the leakhunter on PYTHONPATH) and write --json-out")
    args = ap.parse_args()
    import importlib.util

    if (not (args.merge or args.replay) and "garagemq" in [*args.only, args.study, args.smoke]
            and not importlib.util.find_spec("pika")):
        sys.exit("garagemq's client needs pika (pip install pika)")
    if args.replay:
        replay(Path(args.replay), Path(args.json_out or "replay.json"))
        return
    if args.smoke:
        asyncio.run(smoke(args.smoke, Path(args.root or f"/tmp/lh-smoke-{args.smoke}")))
        return
    if args.study:
        asyncio.run(study(args.study, args.minutes, args.every,
                          Path(args.root or f"/tmp/lh-study-{args.study}"), args.extra))
        return
    missing = [b for n in args.only for b in BINARIES[n] if not shutil.which(b)]
    if missing and not args.merge:
        sys.exit(f"missing binaries: {' '.join(missing)} (apt-get install the Debian packages)")
    t = time.monotonic()
    if args.merge:
        runs = [Run(**d) for f in args.merge for d in json.loads(Path(f).read_text())]
    else:
        runs = asyncio.run(main_async(args))
    text = render(runs)
    if not args.merge:
        text += f"\n(measured in {time.monotonic() - t:.0f} s"
        if LOADS:
            ones = sorted(LOADS)
            text += f"; load average (1 min) median {ones[len(ones) // 2]:.1f}, max {ones[-1]:.1f}"
        text += ")\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)


if __name__ == "__main__":
    main()
