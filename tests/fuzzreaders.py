"""Every reader of untrusted bytes, and the contract each must keep, for the fuzzers.

Shared by the property tests (tests/test_fuzz_*.py, hypothesis, a small budget) and
the coverage-guided harness (bench/fuzz/run.py, atheris, a long one), so both check
the same thing:

    a reader given any bytes returns its model (fully built: lazy parts forced) or
    raises one `InputError` (a `UsageError` for the config file), within a time
    bound; anything else (another exception, a hang) is a failure.

Some readers also carry a differential check, where two code paths must agree:
the vectorized pprof decoder (`pprof_fast`) and the per-message one, and the chunked
goroutine-dump reader against the whole-buffer one.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leakhunter.errors import InputError, LeakhunterError, UsageError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "bench" / "fuzz" / "corpus"
REGRESSIONS = Path(__file__).resolve().parent / "regressions"


class ContractError(AssertionError):
    """A reader broke the contract (a wrong exception, a disagreement, too slow)."""


def _force_profile(p: Any) -> None:
    """Build everything a lazy Profile defers, as a command would."""
    for s in p.samples:
        hash(s.stack)
        _ = (s.values, s.labels, s.num_labels)
    cols = p.columns
    if cols is not None and getattr(cols, "labels", None) is not None:
        cols.labels()


def _pprof(data: bytes) -> None:
    from leakhunter.profiles import pprof

    _force_profile(pprof.decode(data))


def _samples_key(p: Any) -> list[tuple[Any, ...]]:
    return [
        (tuple((f.function, f.file, f.line) for f in s.stack), tuple(s.values),
         tuple(sorted(s.labels.items())), tuple(sorted(s.num_labels.items())))
        for s in p.samples
    ]


def _pprof_fast(data: bytes) -> None:
    """The vectorized decoder, forced on inputs of any size, checked against the plain one."""
    from google.protobuf.message import DecodeError

    from leakhunter.profiles import pprof, pprof_fast

    if data[:2] == b"\x1f\x8b":
        return
    try:
        lazy = pprof_fast.lazy_profile_class()()
        lazy.ParseFromString(data)
        fast = pprof._checked_convert(lazy, lazy=True)
        _force_profile(fast)
    except (DecodeError, ValueError, RuntimeError, pprof_fast.Irregular):
        return  # decode() falls back to the plain decoder for these
    try:
        plain = pprof.decode(data) if data else None
    except InputError as exc:
        raise ContractError(f"fast decoder accepted what the plain one refuses: {exc}") from None
    if plain is None:
        return
    if _samples_key(fast) != _samples_key(plain):
        raise ContractError("fast and plain pprof decoders disagree on the samples")


def _read_any(data: bytes) -> None:
    from leakhunter.model import Profile
    from leakhunter.profiles import read, read_goroutines

    got = read(data, max_bytes=8 << 20)
    if isinstance(got, Profile):
        _force_profile(got)
    with contextlib.suppress(InputError):
        read_goroutines(data, max_bytes=8 << 20)


def _goroutine_text(data: bytes) -> None:
    from leakhunter.profiles import goroutine_text

    whole = goroutine_text.parse(data)  # an InputError here is the contract kept
    goroutine_text.parse_file(io.BytesIO(data))
    if whole.form != "debug=2":
        return
    # The chunked reader must see the same dump wherever the chunks are cut.
    step = max(1, len(data) // 3 + 1)
    pieces = [data[i : i + step] for i in range(0, len(data), step)]
    chunked = goroutine_text.parse_chunks(iter(pieces))
    if _dump_key(chunked) != _dump_key(whole):
        raise ContractError("goroutine dump read in chunks differs from the whole read")


def _dump_key(d: Any) -> tuple[Any, ...]:
    return (d.total, sorted(
        (g.count, g.state, tuple((f.function, f.file, f.line) for f in g.stack), g.wait_minutes)
        for g in d.groups
    ))


def _heap_text(data: bytes) -> None:
    from leakhunter.profiles import heap_text

    _force_profile(heap_text.parse(data))
    heap_text.totals(data)  # watch's per-scrape reader: the same one-error-line contract


def _gctrace(data: bytes) -> None:
    from leakhunter.collect.gctrace import load_into, parse_lines
    from leakhunter.collect.store import Store

    runs = parse_lines(data.splitlines())
    if not any(runs):
        return
    with Store(":memory:") as store:
        load_into(store, "fuzz", runs, end_ts=1.7e9)
        for name in store.series_names("fuzz"):
            store.series("fuzz", name)


def _expvar(data: bytes) -> None:
    from leakhunter.collect.scrape import parse_vars

    v = parse_vars(data)
    import math

    if not all(math.isfinite(x) for x in v.memstats.values()):
        raise ContractError("non-finite memstats value accepted")


def _prometheus(data: bytes) -> None:
    import math

    from leakhunter.collect.metrics import counter_total, parse_metrics

    page = data.decode("utf-8", "replace")
    out = parse_metrics(page)
    if not all(math.isfinite(x) for x in out.values()):
        raise ContractError("non-finite metric accepted")
    # `watch --requests-metric`: the sum over a family's series must stay a usable request count
    for name in ("http_requests_total", "go_goroutines"):
        total = counter_total(page, name)
        if total is not None and not (math.isfinite(total) and total >= 0):
            raise ContractError(f"counter total {total!r} accepted")


def _scrape(data: bytes) -> None:
    """The watcher's fast paths: heap totals of a profile, the total of a debug=1 dump."""
    import math

    from leakhunter.collect.scrape import goroutine_total, heap_totals

    try:
        h = heap_totals(data, max_bytes=8 << 20)
        if not all(math.isfinite(x) for x in (h.inuse_space, h.alloc_space)):
            raise ContractError("non-finite heap total")
    except InputError:
        pass
    goroutine_total(data)


def _config(data: bytes) -> None:
    from leakhunter.source.config import parse_config

    parse_config(data, Path("/nonexistent/.leakhunter.toml"))


def _baseline(data: bytes) -> None:
    from leakhunter.source.baseline import parse_baseline

    parse_baseline(data, Path("baseline.json"))


_GO_DIR: list[Path] = []


def _gosource(data: bytes) -> None:
    """`scan` of one file: the whole per-file pipeline (checks, parse, every rule)."""
    from leakhunter.source.registry import all_rules
    from leakhunter.source.scanner import scan_file
    from leakhunter.source.walker import SourceFile

    if not _GO_DIR:
        _GO_DIR.append(Path(tempfile.mkdtemp(prefix="lh-fuzz-go-")))
    p = _GO_DIR[0] / "fuzz.go"
    p.write_bytes(data)
    ids = tuple(r.id for r in all_rules())
    out = scan_file(SourceFile(p, "fuzz.go", len(data), False), ids, 10 << 20)
    if out.rule_errors:
        raise RuleError("; ".join(f"{r}: {e}" for r, e in out.rule_errors))


class RuleError(ContractError):
    """A scan rule raised (the scanner caught it and went on): a bug, in the rule's file."""


@dataclass(frozen=True)
class Reader:
    name: str
    run: Callable[[bytes], None]
    allowed: tuple[type[BaseException], ...] = (InputError,)
    seconds: float = 2.0
    """Time bound for an input of up to 64 KiB (the fuzzers' sizes)."""


READERS: dict[str, Reader] = {
    r.name: r
    for r in (
        Reader("pprof", _pprof),
        Reader("pprof_fast", _pprof_fast),
        Reader("read", _read_any),
        Reader("goroutine_text", _goroutine_text),
        Reader("heap_text", _heap_text),
        Reader("gctrace", _gctrace),
        Reader("expvar", _expvar),
        Reader("prometheus", _prometheus),
        Reader("scrape", _scrape),
        Reader("config", _config, (InputError, UsageError)),
        Reader("baseline", _baseline),
        Reader("gosource", _gosource, seconds=5.0),
    )
}

SEED_DIRS = {
    "pprof": ["pprof"], "pprof_fast": ["pprof"], "read": ["pprof", "goroutine_text", "heap_text"],
    "goroutine_text": ["goroutine_text"], "heap_text": ["heap_text"], "gctrace": ["gctrace"],
    "expvar": ["expvar"], "prometheus": ["prometheus"], "scrape": ["pprof", "goroutine_text"],
    "config": ["config"], "baseline": ["baseline"], "gosource": ["gosource"],
}


def go_fixture_seeds() -> list[Path]:
    """The scan fixtures are the Go seeds: read where they live, not copied into the corpus."""
    return [p for p in sorted((ROOT / "tests" / "fixtures" / "scan").rglob("*.go"))[:40]
            if p.stat().st_size < 8192]


def seeds(reader: str) -> list[bytes]:
    if reader == "gosource":
        return [p.read_bytes() for p in go_fixture_seeds()]
    out: list[bytes] = []
    for d in SEED_DIRS[reader]:
        out += [p.read_bytes() for p in sorted((CORPUS / d).glob("*")) if p.is_file()]
    return out


MEMORY_BOUND = 256 << 20
"""Peak Python-heap growth allowed for one input of the fuzzers' sizes (up to ~1 MiB)."""


def check(reader: str, data: bytes, *, time_scale: float = 1.0, memory: bool = False) -> str:
    """Run one reader on `data` under its contract; returns "ok" or the error class name.

    With `memory`, the peak of Python-tracked allocations (tracemalloc: Python objects
    and numpy arrays) must stay under MEMORY_BOUND + 64 bytes per input byte.
    Raises ContractError (with the cause) when the contract is broken."""
    if memory:
        import tracemalloc

        tracemalloc.start()
        try:
            out = check(reader, data, time_scale=time_scale * 3)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        if peak > MEMORY_BOUND + 64 * len(data):
            raise ContractError(f"{reader}: peak {peak >> 20} MiB on {len(data)} bytes")
        return out
    r = READERS[reader]
    t0 = time.perf_counter()
    outcome = "ok"
    try:
        r.run(data)
    except ContractError:
        raise
    except r.allowed as exc:
        outcome = type(exc).__name__
        text = str(exc)
        if "\n" in text.strip() or not text.strip():
            raise ContractError(f"{reader}: error is not one line: {text!r}") from None
    except LeakhunterError as exc:
        raise ContractError(f"{reader}: {type(exc).__name__} is not allowed here: {exc}") from exc
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ContractError(f"{reader}: {type(exc).__name__}: {str(exc)[:300]}") from exc
    took = time.perf_counter() - t0
    bound = r.seconds * time_scale * max(1.0, len(data) / (64 << 10))
    if took > bound:
        raise ContractError(f"{reader}: {took:.2f}s on {len(data)} bytes (bound {bound:.1f}s)")
    return outcome


def regression_cases() -> list[tuple[str, Path]]:
    """Every kept failing input: tests/regressions/READER/NAME."""
    out = []
    for d in sorted(REGRESSIONS.glob("*")):
        if d.is_dir() and d.name in READERS:
            out += [(d.name, p) for p in sorted(d.iterdir()) if p.is_file() and p.suffix != ".md"]
    return out
