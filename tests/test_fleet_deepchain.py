"""`fleet`'s heap suspects from pod profiles say what `watch` says of the same stacks: the user's line with
the path to it, and when the stacks are a recursion the runtime's profile cut off, that (the wrapper at the
bottom is then not the line to fix: tests/fixtures/deepchain, the shape of Alertmanager v0.30.0's tracing
leak). Two real replicas of the fixture on 127.0.0.1, one aged by 300 requests and one by 10; their real
heap profiles go through the same diff `fleet --profile-pods` makes."""

from __future__ import annotations

from pathlib import Path

from golab import LabProcess, build

from leakhunter.analyze.fleet import PodProfiles, profile_suspects
from leakhunter.profiles import read_profile

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "deepchain"


def test_fleet_heap_suspect_says_its_stacks_were_cut() -> None:
    exe = build("deepchain", module_dir=FIXTURE)
    with LabProcess(exe) as old, LabProcess(exe) as young:
        for svc, n in ((old, 300), (young, 10)):
            for _ in range(n):
                svc.get("/work")
        pods = [PodProfiles(name, svc.base_url, heap=read_profile(svc.get("/debug/pprof/heap?gc=1")))
                for name, svc in (("old", old), ("young", young))]
    heap, _gr, notes = profile_suspects(pods, None)
    assert notes[0] == "heap profile of old minus young", notes
    top = heap[0]
    assert top.function == "main.(*layer).roundTrip", heap[:3]
    assert top.detail.startswith("inuse_space; stacks cut at the profile's depth inside main.(*layer).roundTrip (x"), top
