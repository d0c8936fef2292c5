"""Write src/leakhunter/report/measured.py: how often each rule was right on code nobody had tuned it on.

Every held-out set (HELDOUT.md ... HELDOUTn.md) was fixed before any scan and triaged strictly on
the tree of its first contact, before any rule was changed for it. Those first-contact verdicts of
the DEFAULT output's production findings, pooled over the sets, are the honest estimate of what a
user meets on a new module; a user deserves to see it next to each rule (`leakhunter rules`, the SARIF
`precision` property that code-scanning UIs sort and filter by), not only in this directory.

Which file holds each set's first contact: sets 1-6 a fixed-seed sample (up to 8 per rule cell: an
unbiased estimate per rule), sets 7 on (`shown-*`) every finding shown, on tree A where two trees
were measured. Later trees' re-measurements are tuning figures and are not counted.

    python bench/precision/measured.py           # print the table
    python bench/precision/measured.py --write   # rewrite src/leakhunter/report/measured.py
    python bench/precision/measured.py --check   # exit 1 when the module is stale
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE.parents[1] / "src" / "leakhunter" / "report" / "measured.py"

FIRST_CONTACT = (
    ("1", "sample-heldout.csv"), ("2", "sample-heldout2.csv"), ("3", "sample-heldout3.csv"),
    ("4", "sample-heldout4.csv"), ("5", "sample-heldout5.csv"), ("6", "sample-heldout6.csv"),
    ("7", "shown-heldout7-A.csv"), ("8", "shown-heldout8.csv"), ("9", "shown-heldout9-A.csv"),
    ("10", "shown-heldout10-A.csv"), ("11", "shown-heldout11-A.csv"),
    ("12", "shown-heldout12-A.csv"), ("13", "shown-heldout13-A.csv"),
    ("14", "shown-heldout14-A.csv"), ("15", "shown-heldout15-A.csv"), ("16", "shown-heldout16-A.csv"),
    ("17", "shown-heldout17-A.csv"), ("18", "shown-heldout18-A.csv"),
    ("19", "shown-heldout19-A.csv"), ("20", "shown-heldout20-A.csv"),
    ("21", "shown-heldout21-A.csv"), ("22", "shown-heldout22-A.csv"),
    ("23", "shown-heldout23-A.csv"), ("24", "shown-heldout24-A.csv"),
    ("25", "shown-heldout25-A.csv"), ("26", "shown-heldout26-A.csv"),
    ("27", "shown-heldout27-A.csv"), ("28", "shown-heldout28-A.csv"),
    ("29", "shown-heldout29-A.csv"), ("30", "shown-heldout30-A.csv"),
    ("31", "shown-heldout31-A.csv"), ("32", "shown-heldout32-A.csv"),
    ("33", "shown-heldout33-A.csv"), ("34", "shown-heldout34-A.csv"),
    ("35", "shown-heldout35-A.csv"), ("36", "shown-heldout36-A.csv"),
    ("37", "shown-heldout37-A.csv"), ("38", "shown-heldout38-A.csv"),
    ("39", "shown-heldout39-A.csv"), ("40", "shown-heldout40-A.csv"),
    ("41", "shown-heldout41-A.csv"), ("42", "shown-heldout42-A.csv"),
    ("43", "shown-heldout43-A.csv"), ("44", "shown-heldout44-A.csv"),
    ("45", "shown-heldout45-A.csv"), ("46", "shown-heldout46-A.csv"),
    ("47", "shown-heldout47-A.csv"), ("48", "shown-heldout48-A.csv"),
    ("49", "shown-heldout49-A.csv"), ("50", "shown-heldout50-A.csv"),
    ("51", "shown-heldout51-A.csv"), ("52", "shown-heldout52-A.csv"),
    ("53", "shown-heldout53-A.csv"), ("54", "shown-heldout54-A.csv"),
    ("55", "shown-heldout55-A.csv"), ("56", "shown-heldout56-A.csv"),
    ("57", "shown-heldout57-A.csv"), ("58", "shown-heldout58-A.csv"),
    ("59", "shown-heldout59-A.csv"), ("60", "shown-heldout60-A.csv"),
    ("61", "shown-heldout61-A.csv"), ("62", "shown-heldout62-A.csv"),
    ("63", "shown-heldout63-A.csv"), ("64", "shown-heldout64-A.csv"),
    ("65", "shown-heldout65-A.csv"), ("66", "shown-heldout66-A.csv"),
    ("67", "shown-heldout67-A.csv"), ("68", "shown-heldout68-A.csv"),
    ("69", "shown-heldout69-A.csv"), ("70", "shown-heldout70-A.csv"),
    ("71", "shown-heldout71-A.csv"), ("72", "shown-heldout72-A.csv"),
    ("73", "shown-heldout73-A.csv"), ("74", "shown-heldout74-A.csv"),
    ("75", "shown-heldout75-A.csv"), ("76", "shown-heldout76-A.csv"),
    ("77", "shown-heldout77-A.csv"), ("78", "shown-heldout78-A.csv"),
    ("79", "shown-heldout79-A.csv"), ("80", "shown-heldout80-A.csv"),
    ("81", "shown-heldout81-A.csv"), ("82", "shown-heldout82-A.csv"),
    ("83", "shown-heldout83-A.csv"), ("84", "shown-heldout84-A.csv"),
    ("85", "shown-heldout85-A.csv"), ("86", "shown-heldout86-A.csv"),
    ("87", "shown-heldout87-A.csv"), ("88", "shown-heldout88-A.csv"),
    ("89", "shown-heldout89-A.csv"), ("90", "shown-heldout90-A.csv"),
    ("91", "shown-heldout91-A.csv"), ("92", "shown-heldout92-A.csv"),
    ("93", "shown-heldout93-A.csv"), ("94", "shown-heldout94-A.csv"),
    ("95", "shown-heldout95-A.csv"), ("96", "shown-heldout96-A.csv"),
    ("97", "shown-heldout97-A.csv"), ("98", "shown-heldout98-A.csv"),
    ("99", "shown-heldout99-A.csv"), ("100", "shown-heldout100-A.csv"),
    ("101", "shown-heldout101-A.csv"), ("102", "shown-heldout102-A.csv"),
    ("103", "shown-heldout103-A.csv"), ("104", "shown-heldout104-A.csv"),
    ("105", "shown-heldout105-A.csv"), ("106", "shown-heldout106-A.csv"),
    ("107", "shown-heldout107-A.csv"), ("108", "shown-heldout108-A.csv"),
    ("109", "shown-heldout109-A.csv"), ("110", "shown-heldout110-A.csv"),
    ("111", "shown-heldout111-A.csv"), ("112", "shown-heldout112-A.csv"),
    ("113", "shown-heldout113-A.csv"), ("114", "shown-heldout114-A.csv"),
    ("115", "shown-heldout115-A.csv"), ("116", "shown-heldout116-A.csv"),
    ("117", "shown-heldout117-A.csv"), ("118", "shown-heldout118-A.csv"),
    ("119", "shown-heldout119-A.csv"), ("120", "shown-heldout120-A.csv"),
    ("121", "shown-heldout121-A.csv"), ("122", "shown-heldout122-A.csv"),
    ("123", "shown-heldout123-A.csv"), ("124", "shown-heldout124-A.csv"),
    ("126", "shown-heldout126-A.csv"), ("127", "shown-heldout127-A.csv"),
    ("128", "shown-heldout128-A.csv"), ("129", "shown-heldout129-A.csv"),
    ("130", "shown-heldout130-A.csv"), ("131", "shown-heldout131-A.csv"),
    ("132", "shown-heldout132-A.csv"), ("133", "shown-heldout133-A.csv"),
)
"""(set, file of its first-contact verdicts); a set whose file is not there yet is skipped. Set 125 (one module,
v.io, measured apart: precision.APART) is not pooled here: one code base's repeated shapes are not independent."""


def tally() -> tuple[list[str], dict[str, tuple[int, int]]]:
    """(sets counted, rule -> (true, decided)) over the production findings of first contact."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    sets: list[str] = []
    for name, file in FIRST_CONTACT:
        path = HERE / file
        if not path.exists():
            continue
        sets.append(name)
        with path.open(newline="") as fh:
            for row in csv.DictReader(fh):
                if row.get("kind") != "prod" or row.get("verdict") not in ("TP", "FP"):
                    continue
                c = counts[row["rule"]]
                c[0] += row["verdict"] == "TP"
                c[1] += 1
    return sets, {rule: (t, n) for rule, (t, n) in sorted(counts.items())}


def render(sets: list[str], table: dict[str, tuple[int, int]]) -> str:
    rows = "".join(f'    "{rule}": ({t}, {n}),\n' for rule, (t, n) in table.items())
    t_all = sum(t for t, _ in table.values())
    n_all = sum(n for _, n in table.values())
    return f'''"""How often each rule's default output was true on modules nobody had tuned it on. DO NOT EDIT:
generated by `python bench/precision/measured.py --write` from the held-out triage in bench/precision/.

Each held-out set of real modules was fixed before any scan and triaged strictly (true only when a
reviewer of that project would want it fixed) on the tree of its first contact, before a rule was
changed for it; later trees are tuning figures and do not count here. `leakhunter rules` shows these
figures and SARIF carries them as each rule's `precision`, so a user can weigh a finding by how its
rule fared on code like theirs.
"""

SETS = "{", ".join(sets)}"
"""The held-out sets pooled here (bench/precision/HELDOUT*.md)."""

MEASURED: dict[str, tuple[int, int]] = {{
{rows}}}
"""Rule id -> (true, triaged) over the production findings the default output showed at first contact
({t_all} of {n_all} in all)."""
'''


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="rewrite src/leakhunter/report/measured.py")
    ap.add_argument("--check", action="store_true", help="exit 1 when the module differs from the CSVs")
    args = ap.parse_args(argv)
    sets, table = tally()
    text = render(sets, table)
    if args.write:
        TARGET.write_text(text)
        print(f"wrote {TARGET}")
        return 0
    if args.check:
        current = TARGET.read_text() if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET} is stale: run `python bench/precision/measured.py --write`", file=sys.stderr)
            return 1
        return 0
    for rule, (t, n) in table.items():
        print(f"{rule}  {t:3d}/{n:<3d} {t / n:4.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
