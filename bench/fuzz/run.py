"""Coverage-guided fuzzing of every reader with atheris (libFuzzer for Python).

    pip install -e '.[fuzz]'
    python bench/fuzz/run.py pprof --runs 100000          # one reader
    python bench/fuzz/run.py all --runs 100000            # each reader in turn

The contract checked is `tests/fuzzreaders.py`'s (a model or one InputError, within
a time bound), the same as the property tests'. A broken contract does not stop the
run: the input is saved under bench/fuzz/findings/READER/ with the error beside it,
to be fixed and then kept as a regression case in tests/regressions/READER/. Hangs
and memory blow-ups are libFuzzer's to catch (-timeout, -rss_limit_mb): they do stop
the run and leave a `timeout-*` / `oom-*` file in the findings directory.

Each run appends its execution count to bench/fuzz/runs.jsonl (reader, runs,
seconds, findings), from which bench/RESULTS-fuzz.md is written.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "tests"))

FINDINGS = HERE / "findings"
WORK = HERE / "work"
LOG = HERE / "runs.jsonl"


def child(reader: str, args: list[str]) -> None:
    """The fuzzing process: instrument leakhunter, then hand control to libFuzzer."""
    import atheris

    with atheris.instrument_imports(include=["leakhunter"]):
        import fuzzreaders

        # Import what the reader touches now, so it is instrumented.
        for s in fuzzreaders.seeds(reader)[:3]:
            with contextlib.suppress(fuzzreaders.ContractError):
                fuzzreaders.check(reader, s, time_scale=50)
    out = FINDINGS / reader
    seen: set[str] = set()

    def one(data: bytes) -> None:
        try:
            fuzzreaders.check(reader, data, time_scale=5)
        except fuzzreaders.ContractError as exc:
            msg = str(exc)
            sig = re.sub(r"\d+", "N", msg)[:160]
            if sig in seen:
                return
            seen.add(sig)
            out.mkdir(parents=True, exist_ok=True)
            h = hashlib.sha1(data).hexdigest()[:16]
            (out / h).write_bytes(data)
            (out / f"{h}.txt").write_text(msg + "\n")
            print(f"\nFINDING {reader} {h}: {msg[:200]}", file=sys.stderr, flush=True)

    atheris.Setup([sys.argv[0], *args], one)
    atheris.Fuzz()


def run_reader(reader: str, runs: int, max_len: int, seconds: int) -> dict[str, object]:
    import fuzzreaders

    work = WORK / reader
    work.mkdir(parents=True, exist_ok=True)
    for i, s in enumerate(fuzzreaders.seeds(reader)):
        (work / f"seed-{i}").write_bytes(s[:max_len])
    art = FINDINGS / reader
    art.mkdir(parents=True, exist_ok=True)
    args = [f"-runs={runs}", f"-max_len={max_len}", "-timeout=20", "-rss_limit_mb=3072",
            f"-artifact_prefix={art}/", "-print_final_stats=1"]
    if seconds:
        args.append(f"-max_total_time={seconds}")
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", reader, "--", *args, str(work)],
        capture_output=True, text=True,
    )
    took = time.time() - t0
    err = proc.stderr
    m = re.search(r"Done (\d+) runs", err) or re.search(r"stat::number_of_executed_units:\s*(\d+)", err)
    done = int(m.group(1)) if m else 0
    if not m:
        execs = re.findall(r"#(\d+)\s", err)
        done = int(execs[-1]) if execs else 0
    findings = re.findall(r"FINDING \S+ (\w+): (.*)", err)
    crashed = proc.returncode != 0
    rec = {"reader": reader, "runs": done, "seconds": round(took, 1), "findings": len(findings),
           "stopped": crashed, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if crashed:
        rec["tail"] = err.strip().splitlines()[-6:]
    with LOG.open("a") as f:
        f.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)
    return rec


def summary() -> None:
    """The campaign's executions per reader (from runs.jsonl), as a Markdown table."""
    per: dict[str, list[int]] = {}
    for line in LOG.read_text().splitlines():
        rec = json.loads(line)
        got = per.setdefault(rec["reader"], [0, 0, 0, 0])
        got[0] += int(rec["runs"])
        got[1] += int(rec["findings"])
        got[2] += int(bool(rec["stopped"]))
        got[3] += int(float(rec["seconds"]))
    print("| reader | executions | contract findings | stopped (hang/oom) | seconds |")
    print("|---|---:|---:|---:|---:|")
    for r, (n, f, s, sec) in per.items():
        print(f"| {r} | {n:,} | {f} | {s} | {sec} |")
    total = sum(v[0] for v in per.values())
    print(f"| **all** | **{total:,}** | {sum(v[1] for v in per.values())} | "
          f"{sum(v[2] for v in per.values())} | {sum(v[3] for v in per.values())} |")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        rest = sys.argv[3:]
        if rest and rest[0] == "--":
            rest = rest[1:]
        child(sys.argv[2], rest)
        return
    import fuzzreaders

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("reader", choices=[*fuzzreaders.READERS, "all", "summary"])
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--max-len", type=int, default=16384)
    ap.add_argument("--seconds", type=int, default=0, help="stop each reader after this long")
    a = ap.parse_args()
    if a.reader == "summary":
        summary()
        return
    readers = list(fuzzreaders.READERS) if a.reader == "all" else [a.reader]
    for r in readers:
        run_reader(r, a.runs, a.max_len, a.seconds)


if __name__ == "__main__":
    main()
