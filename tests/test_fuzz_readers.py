"""Property tests: every reader keeps its contract on mutated and generated inputs.

The contract (tests/fuzzreaders.py): a model or one InputError, within a time bound,
and where two code paths read the same bytes they agree. Inputs are the real seeds
(bench/fuzz/corpus, written from real Go processes by bench/fuzz/seeds.py) mutated
byte-wise, plus structure-aware generators for the formats where random bytes rarely
get past the first check (pprof messages, goroutine dumps, gctrace lines, JSON, TOML).

This is the suite's small budget (derandomized, so a failure reproduces); the long,
coverage-guided run is bench/fuzz/run.py. Any input either finds that fails goes to
tests/regressions/READER/ and is replayed by test_fuzz_regressions.py.
"""

from __future__ import annotations

import json
import warnings

import fuzzreaders as F
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------- byte mutations

_NASTY = [
    b"9" * 5000, b"-" + b"9" * 400, b"0", b"-1", b"18446744073709551616", b"NaN", b"Infinity",
    b"1e400", b"\x00", b"\xff\xfe", b"\r\n", b"\n\n", b"(" * 50, b"[" * 2000, b"{" * 2000,
    b"goroutine ", b"created by ", b" [chan send, 9999999999999999999999 minutes]:\n",
    b"\t/x.go:" + b"9" * 30 + b" +0x1\n", b"heap profile: 1: 2 [3: 4] @ heap/0\n",
    b"gc 1 @" + b"9" * 400 + b"s 1%: x ", b"(a+)+$",
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.integers(0, 6))
        n = len(data)
        at = draw(st.integers(0, n)) if n else 0
        if op == 0 and n:  # flip a byte
            data[min(at, n - 1)] = draw(st.integers(0, 255))
        elif op == 1:  # insert a nasty token
            data[at:at] = draw(st.sampled_from(_NASTY))
        elif op == 2 and n:  # delete a run
            del data[at : at + draw(st.integers(1, 64))]
        elif op == 3:  # truncate
            del data[at:]
        elif op == 4 and n:  # duplicate a region
            ln = draw(st.integers(1, 256))
            data[at:at] = data[at : at + ln] * draw(st.integers(1, 8))
        elif op == 5:  # random bytes
            data[at:at] = draw(st.binary(max_size=32))
        elif op == 6 and n:  # replace digits with many digits
            i = data.find(b"0123456789"[draw(st.integers(0, 9))], at)
            if i >= 0:
                data[i : i + 1] = b"7" * draw(st.sampled_from([25, 400, 5001]))
    return bytes(data[: 64 << 10])


@pytest.mark.parametrize("reader", sorted(set(F.READERS) - {"gosource"}))
def test_mutated_seeds_keep_the_contract(reader: str) -> None:
    seeds = F.seeds(reader)
    assert seeds, f"no seeds for {reader}: run bench/fuzz/seeds.py"

    @FAST
    @given(mutated(seeds))
    def prop(data: bytes) -> None:
        F.check(reader, data, time_scale=3)

    prop()


@settings(FAST, max_examples=15)
@given(st.data())
def test_mutated_go_source_scans_or_is_skipped(data: st.DataObject) -> None:
    src = data.draw(mutated(F.seeds("gosource")))
    try:
        F.check("gosource", src, time_scale=3)
    except F.RuleError as exc:
        # The scanner caught a rule's exception and went on (its documented behaviour, so
        # the reader's contract holds); the rule's bug is shown, for the rule's owner.
        warnings.warn(f"scan rule error on a mutated file: {exc}", stacklevel=1)


# ---------------------------------------------------------------- pprof messages

_IDX = st.one_of(st.integers(0, 6), st.integers(-3, 2**40), st.just(2**63 - 1))
_REGEX = st.sampled_from(["", "(a+)+$", "runtime\\..*", "(", "a{1001}", "\\1", ".*", "x|y"])


@st.composite
def pprof_message(draw: st.DrawFn) -> bytes:
    from leakhunter.profiles.proto import profile_pb2

    pb = profile_pb2.Profile()
    strings = draw(st.lists(st.text(max_size=8), max_size=6))
    if draw(st.booleans()):
        strings = ["", *strings]
    drop, keep = draw(_REGEX), draw(_REGEX)
    for s in (drop, keep):
        strings.append(s)
    pb.string_table.extend(strings)
    for _ in range(draw(st.integers(0, 3))):
        vt = pb.sample_type.add()
        vt.type, vt.unit = draw(_IDX), draw(_IDX)
    nfn = draw(st.integers(0, 4))
    for i in range(nfn):
        f = pb.function.add()
        f.id = draw(st.sampled_from([i + 1, 0, 2**63]))
        f.name, f.filename = draw(_IDX), draw(_IDX)
    for i in range(draw(st.integers(0, 5))):
        loc = pb.location.add()
        loc.id = draw(st.sampled_from([i + 1, i + 1, 0, 99]))
        loc.address = draw(st.integers(0, 2**64 - 1))
        for _ in range(draw(st.integers(0, 3))):
            ln = loc.line.add()
            ln.function_id = draw(st.integers(0, nfn + 1))
            ln.line = draw(st.integers(-(2**63), 2**63 - 1))
    for _ in range(draw(st.integers(0, 6))):
        s = pb.sample.add()
        s.location_id.extend(draw(st.lists(st.integers(0, 7), max_size=5)))
        s.value.extend(draw(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=4)))
        for _ in range(draw(st.integers(0, 2))):
            lab = s.label.add()
            lab.key = draw(_IDX)
            if draw(st.booleans()):
                lab.str = draw(_IDX)
            else:
                lab.num = draw(st.integers(-(2**63), 2**63 - 1))
    if drop:
        pb.drop_frames = len(strings) - 2
    if keep:
        pb.keep_frames = len(strings) - 1
    pb.default_sample_type = draw(_IDX)
    pb.comment.extend(draw(st.lists(_IDX, max_size=2)))
    data: bytes = pb.SerializeToString()
    return data


@FAST
@given(pprof_message())
def test_generated_pprof_messages_both_decoders(data: bytes) -> None:
    F.check("pprof", data, time_scale=3)
    F.check("pprof_fast", data, time_scale=3)
    F.check("read", data, time_scale=3)


# ---------------------------------------------------------------- goroutine dumps

_NUM = st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["9" * 25, "9" * 5001, ""]))
_STATE = st.sampled_from(["chan send", "select", "IO wait", "running", "chan receive (nil chan)",
                          "semacquire", "sleep", "leaked", "chan send (leaked)", "syscall"])


@st.composite
def goroutine_block(draw: st.DrawFn) -> str:
    extras = draw(st.lists(st.one_of(
        _NUM.map(lambda n: f"{n} minutes"), st.just("locked to thread")), max_size=2))
    head = f"goroutine {draw(_NUM)} [{', '.join([draw(_STATE), *extras])}]:"
    lines = [head]
    for _ in range(draw(st.integers(0, 4))):
        fn = draw(st.sampled_from(["main.f", "runtime.gopark", "net/http.(*conn).serve",
                                   "main.(*T).M", "x"]))
        lines.append(f"{fn}({draw(st.sampled_from(['', '0x1, 0x2', '...']))})")
        lines.append(f"\t/src/{draw(st.sampled_from(['a.go', 'b c.go', 'x:y.go']))}:{draw(_NUM)} +0x1f")
    if draw(st.booleans()):
        lines.append(f"created by main.main in goroutine {draw(_NUM)}")
        lines.append(f"\t/src/main.go:{draw(_NUM)} +0x2a")
    return "\n".join(lines)


@st.composite
def goroutine_dump(draw: st.DrawFn) -> bytes:
    blocks = draw(st.lists(goroutine_block(), min_size=1, max_size=6))
    noise = draw(st.sampled_from(["", "panic: boom\n\n", "2024/01/01 log line\n", "exit status 2\n"]))
    text = noise + "\n\n".join(blocks) + draw(st.sampled_from(["\n", "", "\n\nexit status 2\n"]))
    data = text.encode()
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return data


@st.composite
def debug1_dump(draw: st.DrawFn) -> bytes:
    recs = []
    for _ in range(draw(st.integers(0, 4))):
        rec = [f"{draw(_NUM)} @ 0x{draw(st.integers(0, 2**64)):x} 0x{draw(st.integers(0, 2**70)):x}"]
        for _ in range(draw(st.integers(0, 3))):
            rec.append(f"#\t0x{draw(st.integers(0, 2**64)):x}\tmain.f+0x1\t/src/a.go:{draw(_NUM)}")
        recs.append("\n".join(rec))
    kind = draw(st.sampled_from(["goroutine", "goroutineleak"]))
    return f"{kind} profile: total {draw(_NUM)}\n".encode() + "\n\n".join(recs).encode() + b"\n"


@FAST
@given(st.one_of(goroutine_dump(), debug1_dump()))
def test_generated_goroutine_dumps(data: bytes) -> None:
    F.check("goroutine_text", data, time_scale=3)
    F.check("read", data, time_scale=3)
    F.check("scrape", data, time_scale=3)


# ---------------------------------------------------------------- heap text, gctrace

@st.composite
def heap_text(draw: st.DrawFn) -> bytes:
    n = st.one_of(st.integers(-5, 10**6).map(str), st.sampled_from(["9" * 19, "9" * 25, "9" * 5000]))
    rate = draw(st.sampled_from(["0", "1", "2", "524288", "9" * 18, "9" * 30, ""]))
    kind = draw(st.sampled_from(["heap", "heap_v2", "heapprofile", "heapz_v2", "other"]))
    lines = [f"heap profile: {draw(n)}: {draw(n)} [{draw(n)}: {draw(n)}] @ {kind}/{rate}"]
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"{draw(n)}: {draw(n)} [{draw(n)}: {draw(n)}] @ 0x{draw(st.integers(0, 2**70)):x}")
        lines.append(f"#\t0x{draw(st.integers(0, 2**64)):x}\tmain.f+0x1\t/a.go:{draw(n)}")
    return "\n".join(lines).encode() + b"\n"


@FAST
@given(heap_text())
def test_generated_legacy_heap_text(data: bytes) -> None:
    F.check("heap_text", data, time_scale=3)


@st.composite
def gctrace_log(draw: st.DrawFn) -> bytes:
    n = st.one_of(st.integers(0, 10**6).map(str), st.sampled_from(["9" * 16, "9" * 400]))
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        t = draw(st.one_of(n, st.sampled_from(["1.5", "0." + "9" * 30, "9" * 400 + ".0"])))
        lines.append(
            f"gc {draw(n)} @{t}s {draw(n)}%: 0.1+1+0.01 ms clock, 0.1+0.1/0.1/0+0.1 ms cpu, "
            f"{draw(n)}->{draw(n)}->{draw(n)} MB, {draw(n)} MB goal, 0 MB stacks, 4 P"
            + draw(st.sampled_from(["", " (forced)"]))
        )
    return "\n".join(lines).encode()


@FAST
@given(gctrace_log())
def test_generated_gctrace_logs(data: bytes) -> None:
    F.check("gctrace", data, time_scale=3)


# ---------------------------------------------------------------- JSON and TOML

_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.text(max_size=5),
    st.floats(allow_nan=False, allow_infinity=False),
)
_JSON = st.recursive(_JSON_LEAF, lambda c: st.one_of(
    st.lists(c, max_size=3), st.dictionaries(st.sampled_from(["memstats", "cmdline", "HeapAlloc",
                                                              "NumGC", "findings", "tool"]), c, max_size=3)),
    max_leaves=12)
_BAD_NUMBER = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "9" * 5000, "-0"])


@st.composite
def hostile_json(draw: st.DrawFn) -> bytes:
    doc = {"memstats": draw(st.dictionaries(st.sampled_from(["HeapAlloc", "NumGC", "Sys"]), _JSON,
                                            max_size=3)),
           "cmdline": draw(_JSON), "tool": "leakhunter", "version": 1,
           "findings": draw(st.lists(st.fixed_dictionaries({"fingerprint": _JSON}), max_size=2))}
    text = json.dumps(doc)
    if draw(st.booleans()):
        text = text.replace("1", draw(_BAD_NUMBER), 1)
    depth = draw(st.sampled_from([0, 0, 50, 1000, 100_000]))
    if depth:
        text = '{"memstats": ' + "[" * depth + "1" + "]" * depth + "}"
    return text.encode()


@FAST
@given(hostile_json())
def test_generated_json_for_expvar_and_baselines(data: bytes) -> None:
    F.check("expvar", data, time_scale=3)
    F.check("baseline", data, time_scale=3)


@st.composite
def hostile_toml(draw: st.DrawFn) -> bytes:
    value = draw(st.sampled_from([
        '["LH101"]', '"blocked-send"', "1", "9" * 5000, "[" * 800 + "]" * 800,
        "{a=" * 600 + "1" + "}" * 600, "nan", "inf", "true", '"x"', "[1, 2]",
    ]))
    key = draw(st.sampled_from(["rules.enable", "rules.disable", "scan.max_file_size",
                                "scan.exclude", "scan.exclude_tests", "other.x"]))
    table, k = key.split(".")
    return f"[{table}]\n{k} = {value}\n".encode()


@FAST
@given(hostile_toml())
def test_generated_toml_configs(data: bytes) -> None:
    F.check("config", data, time_scale=3)
