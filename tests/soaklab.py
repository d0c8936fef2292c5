"""The leak lab as the soak tests and the detection benchmark see it.

Reads `lab/services.json` (which service, which rule, which verdict), builds each
service with the right toolchain (LH301 needs one that still has the pre-1.23 timer
semantics), finds the `// LEAK:` lines in its source, and assembles `leakhunter soak`
command lines on a free loopback port.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from golab import LAB, build, go_env, go_exe, go_version

MANIFEST = LAB / "services.json"


@dataclass(frozen=True)
class LabService:
    name: str
    module: str = ""
    rule: str = ""
    kind: str = ""
    knob: str = ""
    query: str = ""
    load: str = "/leak"
    args: tuple[str, ...] = ()
    max_go: tuple[int, int] | None = None
    suspect: str = "source"
    suspect_function: str = ""
    test_query: str = ""
    control: bool = False
    what: str = ""

    @property
    def module_dir(self) -> Path:
        return LAB / self.module if self.module else LAB

    @property
    def source_dir(self) -> Path:
        return self.module_dir / "cmd" / self.name

    @property
    def source(self) -> Path:
        return self.source_dir / "main.go"

    def leak_lines(self) -> set[int]:
        """Line numbers marked `// LEAK:` in the service's source."""
        return {i for i, text in enumerate(self.source.read_text().splitlines(), 1)
                if "// LEAK:" in text}


@dataclass
class Manifest:
    services: list[LabService] = field(default_factory=list)
    controls: list[LabService] = field(default_factory=list)

    def get(self, name: str) -> LabService:
        for s in self.services + self.controls:
            if s.name == name:
                return s
        raise KeyError(name)


def manifest() -> Manifest:
    doc = json.loads(MANIFEST.read_text())
    m = Manifest()
    for e in doc["services"]:
        m.services.append(LabService(
            name=e["name"], module=e.get("module", ""), rule=e["rule"], kind=e["kind"],
            knob=e["knob"], query=e.get("query", ""),
            max_go=tuple(e["max_go"]) if e.get("max_go") else None,  # type: ignore[arg-type]
            suspect=e.get("suspect", "source"), suspect_function=e.get("suspect_function", ""),
            test_query=e.get("test_query", ""),
        ))
    for e in doc["controls"]:
        m.controls.append(LabService(
            name=e["name"], load=e["load"], args=tuple(e.get("args", ())), control=True,
            what=e.get("what", ""),
        ))
    return m


def toolchain_for(svc: LabService) -> str | None:
    """A `go` whose version is at most svc.max_go (None if there is none), else go_exe()."""
    if svc.max_go is None:
        return go_exe()
    cands = [os.environ.get("LEAKHUNTER_OLD_GO", ""), shutil.which("go") or "",
             "/usr/local/go/bin/go", go_exe()]
    for g in cands:
        if g and Path(g).exists() and go_version(g) <= svc.max_go:
            return g
    return None


def build_service(svc: LabService, out_dir: Path | None = None) -> Path:
    go = toolchain_for(svc)
    if go is None:
        raise RuntimeError(f"{svc.name} needs Go <= {svc.max_go}")
    if go == go_exe():
        return build(svc.name, out_dir=out_dir, module_dir=svc.module_dir)
    out_dir = out_dir or Path(os.environ.get("LEAKHUNTER_LAB_BIN", "/tmp/leakhunter-lab-bin"))
    out_dir.mkdir(parents=True, exist_ok=True)
    # Per checkout and test worker, as golab.build: pprof reads the build id from the file.
    import hashlib

    tag = hashlib.sha1(str(svc.module_dir.resolve()).encode()).hexdigest()[:8]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    exe = out_dir / (f"{svc.module_dir.name}-cmd-{svc.name}-go{'.'.join(map(str, go_version(go)))}"
                     f"-{tag}-{worker}")
    env = go_env()
    env["PATH"] = str(Path(go).parent) + os.pathsep + env["PATH"]
    env["GOTOOLCHAIN"] = "local"
    env.pop("GOEXPERIMENT", None)
    subprocess.run([go, "build", "-o", str(exe), f"./cmd/{svc.name}"], cwd=svc.module_dir,
                   env=env, check=True, capture_output=True, timeout=600)
    return exe


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def leak_url(svc: LabService, base: str, *, rate: str | None = None) -> str:
    """The /leak URL with the service's default query and a knob value (default: test_query)."""
    q = [svc.query] if svc.query else []
    if rate is not None:
        q.append(f"{svc.knob}={rate}")
    elif svc.test_query:
        q.append(svc.test_query)
    return base + "/leak" + ("?" + "&".join(q) if q else "")


def soak_args(svc: LabService, exe: Path, *, path: str | None = None, duration: str = "10s",
              warmup: str = "1s", interval: str = "0.5s", rate: float = 100,
              fail_fast: bool = True, fmt: str = "json", knob: str | None = None,
              extra: tuple[str, ...] = ()) -> list[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if svc.control:
        load = base + (path or svc.load)
    elif path:
        load = base + path
    else:
        load = leak_url(svc, base, rate=knob)
    cmd = " ".join([str(exe), "-addr", f"127.0.0.1:{port}", *svc.args])
    args = ["soak", "--cmd", cmd, "--pprof", base, "--load", load, "--rate", str(rate),
            "--duration", duration, "--warmup", warmup, "--interval", interval,
            "--format", fmt, *extra]
    if not svc.control:
        args += ["--source", str(svc.source_dir)]
    if fail_fast:
        args.append("--fail-fast")
    return args


