#!/usr/bin/env python3
"""Precision study for `leakhunter scan`: what the DEFAULT output shows, on two sets of code.

- tuning set: the Go standard library ($(go env GOROOT)/src of the toolchain tests use),
  prometheus and go-ethereum. Rules may be tuned on it.
- held-out sets 103-114 (HELDOUT103.md ... HELDOUT114.md, seeds 20270174-20270185): session 32's three rounds,
  each list chosen and committed by its own helper before any finding on it is seen, measured on one frozen tree
  (`--tag A`; 103-106 on cfcd0be, 107-110 on 382c95e, 111-114 on e391d84), triaged whole, and every true verdict
  re-read blind by a second helper (re-marked in the CSVs where it was overturned): audited 74/87, 59/74 and
  117/155 = 250/316 = 79.1%. They are TUNING material now (CARRY, TUNED_HELDOUT), as are sets 1-102: rules were
  changed after each of them was measured. Sets 115-118 (c6c723f) and 119-122 (e41c784), seeds
  20270186-20270193, were session 33's two rounds, every true verdict audited the same way; they are tuning
  material too. Sets 123 and 124 (seeds 20270194-20270195) are session 34's round, and set 125 (seed
  20270196) one module measured apart (v.io, left out of set 124 for its size); sets 126 and 127 (seeds
  20270197-20270198) its second round; sets 128 and 129 (seeds 20270199-20270200) are session 35's round, their
  modules found through Debian's golang-*-dev packages (a source no earlier round read), and sets 130 and 131
  (seeds 20270201-20270202) its second round from the same source; sets 132 and 133 (seeds 20270203-20270204) its
  third, from the Go programs Debian ships (`debian_candidates.py --programs`); the next new set is heldout134 (seed
  20270205); a new held-out set needs a new list and a
  new seed, wired in SEEDS, LISTS, CACHES and measured.py's FIRST_CONTACT before its helper starts.
- `--set heldout` ... `--set heldout122`: the 122 held-out sets (HELDOUT.md ... HELDOUT122.md),
  triaged at the end of sessions 2-33 and read while rules were changed since, so they are TUNING
  material now: `--set tuning` scans them too, and their verdicts carry over into the tuning
  sample by fingerprint (sets 55-58 re-scanned as tag Z, session 28). Sets 63-66 (tree 46eaaa1), 67-70
  (b6557b5) and 71-74 (dcd802e) were session 29's first three rounds; 91-102 session 31's (35f7232, 0ebfda1,
  e600cc3: 289/338, triaged once).

Each corpus is scanned by the real command as a user runs it (`leakhunter scan --format
json`, no option: default rules, default severities, `info` hidden by the noise policy),
so the sample is of exactly what a reviewer is shown. Each corpus is scanned twice: with
`--tests` (everything a user can ask to see short of `info`) and with no option (the default
output). Findings the default output shows are the "prod" cells; those only `--tests` adds
(`_test.go` files, and on trees that hide it test support outside them) are the "test" cells.
A fixed-seed sample of up to PER_CELL findings is drawn per (rule, prod/test) cell.

    python bench/precision/precision.py fetch --set heldout2    # modules + their dependencies only
    python bench/precision/precision.py sample --set heldout   # fetch, scan, sample -> CSV + Markdown
    python bench/precision/precision.py show --set heldout 3 7  # wider code context of sampled findings
    python bench/precision/precision.py mark --set heldout 3 TP "reason"   # or edit the CSV
    python bench/precision/precision.py table --set heldout    # per-rule table, production and tests
    python bench/precision/precision.py shown --set heldout39 --tag A     # every shown finding -> CSV
    python bench/precision/precision.py mark --set heldout39 --tag A S12 FP "reason"  # a shown row

`sample` writes bench/precision/sample-<set>.csv (one row per sampled finding: place, message,
verdict, reason, fingerprint; its `context` column stays empty) and, in the work directory,
sample.md (the same, readable, with the code 12 lines either side, the finding's line marked `>>`).
The corpora's code is third-party: it is read from the module cache for triage and never
committed (`show` prints more of it). Verdicts go in the CSV's
`verdict` column: TP (a reviewer of that project would want it fixed), FP, or `?`
(undecided; left out of rates). A re-run keeps verdicts of findings still sampled (by
fingerprint) and remembers every verdict in verdicts-<set>.csv. On the tuning set the verdict
of the earlier study (verdicts.csv, a more lenient standard) is shown as `earlier_verdict`.

The sample leaves findings out of cells with more than PER_CELL; `shown` lists EVERY finding the
scan showed (shown-<set>.csv, rows S1, S2, ...) with the verdicts known by fingerprint, so the
unsampled ones can be triaged too and the figure taken over all shown findings (`table` prints it
with a 95% Wilson interval when that file exists).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TUNING_MODULES = ["github.com/prometheus/prometheus@v0.316.0", "github.com/ethereum/go-ethereum@v1.17.10"]
SEEDS = {"tuning": 20261123, "heldout": 20261203, "heldout2": 20261204, "heldout3": 20261205,
         "heldout4": 20261206, "heldout5": 20261207, "heldout6": 20261208, "heldout7": 20261209,
         "heldout8": 20261210, "heldout9": 20261211, "heldout10": 20261212, "heldout11": 20261213,
         "heldout12": 20261214, "heldout13": 20261215,
         "heldout14": 20261216, "heldout15": 20261217, "heldout16": 20261218,
         "heldout17": 20261219, "heldout18": 20261220, "heldout19": 20261221, "heldout20": 20261222,
         "heldout21": 20261223, "heldout22": 20261224,
         "heldout23": 20261225, "heldout24": 20261226,
         "heldout25": 20261227, "heldout26": 20261228, "heldout27": 20261229,
         "heldout28": 20261230, "heldout29": 20261231, "heldout30": 20270101,
         "heldout31": 20270102, "heldout32": 20270103,
         "heldout33": 20270104, "heldout34": 20270105,
         "heldout35": 20270106, "heldout36": 20270107,
         "heldout37": 20270108, "heldout38": 20270109,
         "heldout39": 20270110, "heldout40": 20270111,
         "heldout41": 20270112, "heldout42": 20270113,
         "heldout43": 20270114, "heldout44": 20270115,
         "heldout45": 20270116, "heldout46": 20270117,
         "heldout47": 20270118, "heldout48": 20270119,
         "heldout49": 20270120, "heldout50": 20270121,
         "heldout51": 20270122, "heldout52": 20270123,
         "heldout53": 20270124, "heldout54": 20270125,
         "heldout55": 20270126, "heldout56": 20270127,
         "heldout57": 20270128, "heldout58": 20270129,
         "heldout59": 20270130, "heldout60": 20270131,
         "heldout61": 20270132, "heldout62": 20270133,
         "heldout63": 20270134, "heldout64": 20270135,
         "heldout65": 20270136, "heldout66": 20270137,
         "heldout67": 20270138, "heldout68": 20270139,
         "heldout69": 20270140, "heldout70": 20270141,
         "heldout71": 20270142, "heldout72": 20270143,
         "heldout73": 20270144, "heldout74": 20270145,
         "heldout75": 20270146, "heldout76": 20270147,
         "heldout77": 20270148, "heldout78": 20270149,
         "heldout79": 20270150, "heldout80": 20270151,
         "heldout81": 20270152, "heldout82": 20270153,
         "heldout83": 20270154, "heldout84": 20270155,
         "heldout85": 20270156, "heldout86": 20270157,
         "heldout87": 20270158, "heldout88": 20270159,
         "heldout89": 20270160, "heldout90": 20270161,
         "heldout91": 20270162, "heldout92": 20270163,
         "heldout93": 20270164, "heldout94": 20270165,
         "heldout95": 20270166, "heldout96": 20270167,
         "heldout97": 20270168, "heldout98": 20270169,
         "heldout99": 20270170, "heldout100": 20270171,
         "heldout101": 20270172, "heldout102": 20270173,
         "heldout103": 20270174, "heldout104": 20270175,
         "heldout105": 20270176, "heldout106": 20270177,
         "heldout107": 20270178, "heldout108": 20270179,
         "heldout109": 20270180, "heldout110": 20270181,
         "heldout111": 20270182, "heldout112": 20270183,
         "heldout113": 20270184, "heldout114": 20270185,
         "heldout115": 20270186, "heldout116": 20270187, "heldout117": 20270188, "heldout118": 20270189,
         "heldout119": 20270190, "heldout120": 20270191, "heldout121": 20270192, "heldout122": 20270193,
         "heldout123": 20270194, "heldout124": 20270195,
         "heldout125": 20270196, "heldout126": 20270197, "heldout127": 20270198,
         "heldout128": 20270199, "heldout129": 20270200,
         "heldout130": 20270201, "heldout131": 20270202,
         "heldout132": 20270203, "heldout133": 20270204}
SETS = tuple(SEEDS)
LISTS = {"heldout": "HELDOUT.md", "heldout2": "HELDOUT2.md", "heldout3": "HELDOUT3.md",
         "heldout4": "HELDOUT4.md", "heldout5": "HELDOUT5.md", "heldout6": "HELDOUT6.md",
         "heldout7": "HELDOUT7.md", "heldout8": "HELDOUT8.md", "heldout9": "HELDOUT9.md",
         "heldout10": "HELDOUT10.md", "heldout11": "HELDOUT11.md", "heldout12": "HELDOUT12.md",
         "heldout13": "HELDOUT13.md", "heldout14": "HELDOUT14.md",
         "heldout15": "HELDOUT15.md", "heldout16": "HELDOUT16.md",
         "heldout17": "HELDOUT17.md", "heldout18": "HELDOUT18.md",
         "heldout19": "HELDOUT19.md", "heldout20": "HELDOUT20.md",
         "heldout21": "HELDOUT21.md", "heldout22": "HELDOUT22.md",
         "heldout23": "HELDOUT23.md", "heldout24": "HELDOUT24.md",
         "heldout25": "HELDOUT25.md", "heldout26": "HELDOUT26.md",
         "heldout27": "HELDOUT27.md", "heldout28": "HELDOUT28.md", "heldout29": "HELDOUT29.md",
         "heldout30": "HELDOUT30.md", "heldout31": "HELDOUT31.md",
         "heldout32": "HELDOUT32.md", "heldout33": "HELDOUT33.md",
         "heldout34": "HELDOUT34.md", "heldout35": "HELDOUT35.md",
         "heldout36": "HELDOUT36.md", "heldout37": "HELDOUT37.md",
         "heldout38": "HELDOUT38.md", "heldout39": "HELDOUT39.md",
         "heldout40": "HELDOUT40.md", "heldout41": "HELDOUT41.md",
         "heldout42": "HELDOUT42.md", "heldout43": "HELDOUT43.md",
         "heldout44": "HELDOUT44.md", "heldout45": "HELDOUT45.md",
         "heldout46": "HELDOUT46.md", "heldout47": "HELDOUT47.md",
         "heldout48": "HELDOUT48.md", "heldout49": "HELDOUT49.md",
         "heldout50": "HELDOUT50.md", "heldout51": "HELDOUT51.md",
         "heldout52": "HELDOUT52.md", "heldout53": "HELDOUT53.md",
         "heldout54": "HELDOUT54.md", "heldout55": "HELDOUT55.md",
         "heldout56": "HELDOUT56.md", "heldout57": "HELDOUT57.md",
         "heldout58": "HELDOUT58.md", "heldout59": "HELDOUT59.md",
         "heldout60": "HELDOUT60.md", "heldout61": "HELDOUT61.md",
         "heldout62": "HELDOUT62.md", "heldout63": "HELDOUT63.md",
         "heldout64": "HELDOUT64.md", "heldout65": "HELDOUT65.md",
         "heldout66": "HELDOUT66.md", "heldout67": "HELDOUT67.md",
         "heldout68": "HELDOUT68.md", "heldout69": "HELDOUT69.md",
         "heldout70": "HELDOUT70.md", "heldout71": "HELDOUT71.md",
         "heldout72": "HELDOUT72.md", "heldout73": "HELDOUT73.md",
         "heldout74": "HELDOUT74.md", "heldout75": "HELDOUT75.md",
         "heldout76": "HELDOUT76.md", "heldout77": "HELDOUT77.md",
         "heldout78": "HELDOUT78.md", "heldout79": "HELDOUT79.md",
         "heldout80": "HELDOUT80.md", "heldout81": "HELDOUT81.md",
         "heldout82": "HELDOUT82.md", "heldout83": "HELDOUT83.md",
         "heldout84": "HELDOUT84.md", "heldout85": "HELDOUT85.md",
         "heldout86": "HELDOUT86.md", "heldout87": "HELDOUT87.md",
         "heldout88": "HELDOUT88.md", "heldout89": "HELDOUT89.md",
         "heldout90": "HELDOUT90.md", "heldout91": "HELDOUT91.md", "heldout92": "HELDOUT92.md",
         "heldout93": "HELDOUT93.md", "heldout94": "HELDOUT94.md", "heldout95": "HELDOUT95.md",
         "heldout96": "HELDOUT96.md", "heldout97": "HELDOUT97.md", "heldout98": "HELDOUT98.md",
         "heldout99": "HELDOUT99.md", "heldout100": "HELDOUT100.md", "heldout101": "HELDOUT101.md",
         "heldout102": "HELDOUT102.md", "heldout103": "HELDOUT103.md", "heldout104": "HELDOUT104.md",
         "heldout105": "HELDOUT105.md", "heldout106": "HELDOUT106.md", "heldout107": "HELDOUT107.md",
         "heldout108": "HELDOUT108.md", "heldout109": "HELDOUT109.md", "heldout110": "HELDOUT110.md",
         "heldout111": "HELDOUT111.md", "heldout112": "HELDOUT112.md", "heldout113": "HELDOUT113.md",
         "heldout114": "HELDOUT114.md", "heldout115": "HELDOUT115.md", "heldout116": "HELDOUT116.md",
         "heldout117": "HELDOUT117.md", "heldout118": "HELDOUT118.md", "heldout119": "HELDOUT119.md",
         "heldout120": "HELDOUT120.md", "heldout121": "HELDOUT121.md", "heldout122": "HELDOUT122.md",
         "heldout123": "HELDOUT123.md", "heldout124": "HELDOUT124.md",
         "heldout125": "HELDOUT125.md", "heldout126": "HELDOUT126.md", "heldout127": "HELDOUT127.md",
         "heldout128": "HELDOUT128.md", "heldout129": "HELDOUT129.md",
         "heldout130": "HELDOUT130.md", "heldout131": "HELDOUT131.md",
         "heldout132": "HELDOUT132.md", "heldout133": "HELDOUT133.md"}
CACHES = {"tuning": "tuning/modcache", "heldout": "heldout/modcache", "heldout2": "modcache",
          "heldout3": "heldout3/modcache", "heldout4": "heldout4/modcache", "heldout5": "heldout5/modcache",
          "heldout6": "heldout6/modcache", "heldout7": "heldout7/modcache",
          "heldout8": "heldout8/modcache", "heldout9": "heldout9/modcache", "heldout10": "heldout10/modcache",
          "heldout11": "heldout11/modcache", "heldout12": "heldout12/modcache", "heldout13": "heldout13/modcache",
          "heldout14": "heldout14/modcache", "heldout15": "heldout15/modcache", "heldout16": "heldout16/modcache",
          "heldout17": "heldout17/modcache", "heldout18": "heldout18/modcache",
          "heldout19": "heldout19/modcache", "heldout20": "heldout20/modcache",
          "heldout21": "heldout21/modcache", "heldout22": "heldout22/modcache",
          "heldout23": "heldout23/modcache", "heldout24": "heldout24/modcache",
          "heldout25": "heldout25/modcache", "heldout26": "heldout26/modcache",
          "heldout27": "heldout27/modcache", "heldout28": "heldout28/modcache",
          "heldout29": "heldout29/modcache", "heldout30": "heldout30/modcache",
          "heldout31": "heldout31/modcache", "heldout32": "heldout32/modcache",
          "heldout33": "heldout33/modcache", "heldout34": "heldout34/modcache",
          "heldout35": "heldout35/modcache", "heldout36": "heldout36/modcache",
          "heldout37": "heldout37/modcache", "heldout38": "heldout38/modcache",
          "heldout39": "heldout39/modcache", "heldout40": "heldout40/modcache",
          "heldout41": "heldout41/modcache", "heldout42": "heldout42/modcache",
          "heldout43": "heldout43/modcache", "heldout44": "heldout44/modcache",
          "heldout45": "heldout45/modcache", "heldout46": "heldout46/modcache",
          "heldout47": "heldout47/modcache", "heldout48": "heldout48/modcache",
          "heldout49": "heldout49/modcache", "heldout50": "heldout50/modcache",
          "heldout51": "heldout51/modcache", "heldout52": "heldout52/modcache",
          "heldout53": "heldout53/modcache", "heldout54": "heldout54/modcache",
          "heldout55": "heldout55/modcache", "heldout56": "heldout56/modcache",
          "heldout57": "heldout57/modcache", "heldout58": "heldout58/modcache",
          "heldout59": "heldout59/modcache", "heldout60": "heldout60/modcache",
          "heldout61": "heldout61/modcache", "heldout62": "heldout62/modcache",
          "heldout63": "heldout63/modcache", "heldout64": "heldout64/modcache",
          "heldout65": "heldout65/modcache", "heldout66": "heldout66/modcache",
          "heldout67": "heldout67/modcache", "heldout68": "heldout68/modcache",
          "heldout69": "heldout69/modcache", "heldout70": "heldout70/modcache",
          "heldout71": "heldout71/modcache", "heldout72": "heldout72/modcache",
          "heldout73": "heldout73/modcache", "heldout74": "heldout74/modcache",
          "heldout75": "heldout75/modcache", "heldout76": "heldout76/modcache",
          "heldout77": "heldout77/modcache", "heldout78": "heldout78/modcache",
          "heldout79": "heldout79/modcache", "heldout80": "heldout80/modcache",
          "heldout81": "heldout81/modcache", "heldout82": "heldout82/modcache",
          "heldout83": "heldout83/modcache", "heldout84": "heldout84/modcache",
          "heldout85": "heldout85/modcache", "heldout86": "heldout86/modcache",
          "heldout87": "heldout87/modcache", "heldout88": "heldout88/modcache",
          "heldout89": "heldout89/modcache", "heldout90": "heldout90/modcache",
          "heldout91": "heldout91/modcache", "heldout92": "heldout92/modcache",
          "heldout93": "heldout93/modcache", "heldout94": "heldout94/modcache",
          "heldout95": "heldout95/modcache", "heldout96": "heldout96/modcache",
          "heldout97": "heldout97/modcache", "heldout98": "heldout98/modcache",
          "heldout99": "heldout99/modcache", "heldout100": "heldout100/modcache",
          "heldout101": "heldout101/modcache", "heldout102": "heldout102/modcache",
          "heldout103": "heldout103/modcache", "heldout104": "heldout104/modcache",
          "heldout105": "heldout105/modcache", "heldout106": "heldout106/modcache",
          "heldout107": "heldout107/modcache", "heldout108": "heldout108/modcache",
          "heldout109": "heldout109/modcache", "heldout110": "heldout110/modcache",
          "heldout111": "heldout111/modcache", "heldout112": "heldout112/modcache",
          "heldout113": "heldout113/modcache", "heldout114": "heldout114/modcache",
          "heldout115": "heldout115/modcache", "heldout116": "heldout116/modcache",
          "heldout117": "heldout117/modcache", "heldout118": "heldout118/modcache",
          "heldout119": "heldout119/modcache", "heldout120": "heldout120/modcache",
          "heldout121": "heldout121/modcache", "heldout122": "heldout122/modcache",
          "heldout123": "heldout123/modcache", "heldout124": "heldout124/modcache",
          "heldout125": "heldout125/modcache", "heldout126": "heldout126/modcache",
          "heldout127": "heldout127/modcache", "heldout128": "heldout128/modcache",
          "heldout129": "heldout129/modcache", "heldout130": "heldout130/modcache",
          "heldout131": "heldout131/modcache", "heldout132": "heldout132/modcache",
          "heldout133": "heldout133/modcache"}
"""Module cache (under --work) of the modules each list names, with their dependencies: the scan
gets it as GOMODCACHE so the type index sees the dependencies, as on a developer's machine."""
CARRY = {"tuning": ["verdicts-heldout.csv", "sample-heldout.csv", "heldout-triage.csv",
                    "heldout-unsampled-triage.csv", "tuning-triage.csv", "verdicts-heldout2.csv",
                    "sample-heldout2.csv", "heldout2-unsampled-triage.csv", "verdicts-heldout3.csv",
                    "sample-heldout3.csv", "heldout3-unsampled-triage.csv", "verdicts-heldout4.csv",
                    "sample-heldout4.csv", "heldout4-unsampled-triage.csv", "verdicts-heldout5.csv",
                    "sample-heldout5.csv", "heldout5-unsampled-triage.csv", "verdicts-heldout6.csv",
                    "sample-heldout6.csv", "heldout6-unsampled-triage.csv", "verdicts-heldout7.csv",
                    "sample-heldout7-A.csv", "shown-heldout7-A.csv", "sample-heldout7-B.csv",
                    "shown-heldout7-B.csv", "verdicts-heldout8.csv", "sample-heldout8.csv",
                    "shown-heldout8.csv", "verdicts-heldout9.csv", "sample-heldout9-A.csv",
                    "shown-heldout9-A.csv", "sample-heldout9-B.csv", "shown-heldout9-B.csv",
                    "verdicts-heldout10.csv", "sample-heldout10-A.csv", "shown-heldout10-A.csv",
                    "sample-heldout10-C.csv", "shown-heldout10-C.csv", "verdicts-heldout11.csv",
                    "sample-heldout11-A.csv", "shown-heldout11-A.csv", "verdicts-heldout12.csv",
                    "sample-heldout12-A.csv", "shown-heldout12-A.csv", "verdicts-heldout13.csv",
                    "sample-heldout13-A.csv", "shown-heldout13-A.csv", "sample-heldout13-B.csv",
                    "shown-heldout13-B.csv", "verdicts-heldout14.csv", "sample-heldout14-A.csv",
                    "shown-heldout14-A.csv", "verdicts-heldout15.csv", "sample-heldout15-A.csv",
                    "shown-heldout15-A.csv", "sample-heldout15-B.csv", "shown-heldout15-B.csv",
                    "verdicts-heldout16.csv", "sample-heldout16-A.csv", "shown-heldout16-A.csv",
                    "sample-heldout16-B.csv", "shown-heldout16-B.csv", "verdicts-heldout17.csv",
                    "sample-heldout17-A.csv", "shown-heldout17-A.csv", "sample-heldout17-B.csv",
                    "shown-heldout17-B.csv", "sample-heldout17-E.csv", "shown-heldout17-E.csv",
                    "verdicts-heldout18.csv", "sample-heldout18-A.csv", "shown-heldout18-A.csv",
                    "sample-heldout18-B.csv", "shown-heldout18-B.csv", "sample-heldout18-E.csv",
                    "shown-heldout18-E.csv", "verdicts-heldout19.csv", "sample-heldout19-A.csv",
                    "shown-heldout19-A.csv", "sample-heldout19-H.csv", "shown-heldout19-H.csv",
                    "verdicts-heldout20.csv", "sample-heldout20-A.csv", "shown-heldout20-A.csv",
                    "sample-heldout20-H.csv", "shown-heldout20-H.csv",
                    "verdicts-heldout21.csv", "sample-heldout21-A.csv", "shown-heldout21-A.csv",
                    "sample-heldout21-B.csv", "shown-heldout21-B.csv",
                    "verdicts-heldout22.csv", "sample-heldout22-A.csv", "shown-heldout22-A.csv",
                    "sample-heldout22-B.csv", "shown-heldout22-B.csv",
                    "verdicts-heldout23.csv", "sample-heldout23-A.csv", "shown-heldout23-A.csv",
                    "sample-heldout23-C.csv", "shown-heldout23-C.csv",
                    "verdicts-heldout24.csv", "sample-heldout24-A.csv", "shown-heldout24-A.csv",
                    "sample-heldout24-C.csv", "shown-heldout24-C.csv",
                    "verdicts-heldout25.csv", "sample-heldout25-A.csv", "shown-heldout25-A.csv",
                    "verdicts-heldout26.csv", "sample-heldout26-A.csv", "shown-heldout26-A.csv",
                    "verdicts-heldout27.csv", "sample-heldout27-A.csv", "shown-heldout27-A.csv",
                    "verdicts-heldout28.csv", "sample-heldout28-A.csv", "shown-heldout28-A.csv",
                    "verdicts-heldout29.csv", "sample-heldout29-A.csv", "shown-heldout29-A.csv",
                    "verdicts-heldout30.csv", "sample-heldout30-A.csv", "shown-heldout30-A.csv",
                    "verdicts-heldout31.csv", "sample-heldout31-A.csv", "shown-heldout31-A.csv",
                    "verdicts-heldout32.csv", "sample-heldout32-A.csv", "shown-heldout32-A.csv",
                    "verdicts-heldout33.csv", "sample-heldout33-A.csv", "shown-heldout33-A.csv",
                    "verdicts-heldout34.csv", "sample-heldout34-A.csv", "shown-heldout34-A.csv",
                    "verdicts-heldout35.csv", "sample-heldout35-A.csv", "shown-heldout35-A.csv",
                    "verdicts-heldout36.csv", "sample-heldout36-A.csv", "shown-heldout36-A.csv",
                    "verdicts-heldout37.csv", "sample-heldout37-A.csv", "shown-heldout37-A.csv",
                    "verdicts-heldout38.csv", "sample-heldout38-A.csv", "shown-heldout38-A.csv",
                    "verdicts-heldout39.csv", "sample-heldout39-A.csv", "shown-heldout39-A.csv",
                    "verdicts-heldout40.csv", "sample-heldout40-A.csv", "shown-heldout40-A.csv",
                    "verdicts-heldout41.csv", "sample-heldout41-A.csv", "shown-heldout41-A.csv",
                    "verdicts-heldout42.csv", "sample-heldout42-A.csv", "shown-heldout42-A.csv",
                    "verdicts-heldout43.csv", "sample-heldout43-A.csv", "shown-heldout43-A.csv",
                    "verdicts-heldout44.csv", "sample-heldout44-A.csv", "shown-heldout44-A.csv",
                    "verdicts-heldout45.csv", "sample-heldout45-A.csv", "shown-heldout45-A.csv",
                    "verdicts-heldout46.csv", "sample-heldout46-A.csv", "shown-heldout46-A.csv",
                    "verdicts-heldout47.csv", "sample-heldout47-A.csv", "shown-heldout47-A.csv",
                    "verdicts-heldout48.csv", "sample-heldout48-A.csv", "shown-heldout48-A.csv",
                    "verdicts-heldout49.csv", "sample-heldout49-A.csv", "shown-heldout49-A.csv",
                    "verdicts-heldout50.csv", "sample-heldout50-A.csv", "shown-heldout50-A.csv",
                    "verdicts-heldout51.csv", "sample-heldout51-A.csv", "shown-heldout51-A.csv",
                    "verdicts-heldout52.csv", "sample-heldout52-A.csv", "shown-heldout52-A.csv",
                    "verdicts-heldout53.csv", "sample-heldout53-A.csv", "shown-heldout53-A.csv",
                    "verdicts-heldout54.csv", "sample-heldout54-A.csv", "shown-heldout54-A.csv",
                    "verdicts-heldout55.csv", "sample-heldout55-A.csv", "shown-heldout55-A.csv",
                    "verdicts-heldout56.csv", "sample-heldout56-A.csv", "shown-heldout56-A.csv",
                    "verdicts-heldout57.csv", "sample-heldout57-A.csv", "shown-heldout57-A.csv",
                    "verdicts-heldout58.csv", "sample-heldout58-A.csv", "shown-heldout58-A.csv",
                    "verdicts-heldout59.csv", "sample-heldout59-A.csv", "shown-heldout59-A.csv",
                    "verdicts-heldout60.csv", "sample-heldout60-A.csv", "shown-heldout60-A.csv",
                    "verdicts-heldout61.csv", "sample-heldout61-A.csv", "shown-heldout61-A.csv",
                    "verdicts-heldout62.csv", "sample-heldout62-A.csv", "shown-heldout62-A.csv",
                    "verdicts-heldout63.csv", "sample-heldout63-A.csv", "shown-heldout63-A.csv",
                    "verdicts-heldout64.csv", "sample-heldout64-A.csv", "shown-heldout64-A.csv",
                    "verdicts-heldout65.csv", "sample-heldout65-A.csv", "shown-heldout65-A.csv",
                    "verdicts-heldout66.csv", "sample-heldout66-A.csv", "shown-heldout66-A.csv",
                    "verdicts-heldout67.csv", "sample-heldout67-A.csv", "shown-heldout67-A.csv",
                    "verdicts-heldout68.csv", "sample-heldout68-A.csv", "shown-heldout68-A.csv",
                    "verdicts-heldout69.csv", "sample-heldout69-A.csv", "shown-heldout69-A.csv",
                    "verdicts-heldout70.csv", "sample-heldout70-A.csv", "shown-heldout70-A.csv",
                    "verdicts-heldout71.csv", "sample-heldout71-A.csv", "shown-heldout71-A.csv",
                    "verdicts-heldout72.csv", "sample-heldout72-A.csv", "shown-heldout72-A.csv",
                    "verdicts-heldout73.csv", "sample-heldout73-A.csv", "shown-heldout73-A.csv",
                    "verdicts-heldout74.csv", "sample-heldout74-A.csv", "shown-heldout74-A.csv",
                    "verdicts-heldout75.csv", "sample-heldout75-A.csv", "shown-heldout75-A.csv",
                    "verdicts-heldout76.csv", "sample-heldout76-A.csv", "shown-heldout76-A.csv",
                    "verdicts-heldout77.csv", "sample-heldout77-A.csv", "shown-heldout77-A.csv",
                    "verdicts-heldout78.csv", "sample-heldout78-A.csv", "shown-heldout78-A.csv",
                    "verdicts-heldout79.csv", "sample-heldout79-A.csv", "shown-heldout79-A.csv",
                    "verdicts-heldout80.csv", "sample-heldout80-A.csv", "shown-heldout80-A.csv",
                    "verdicts-heldout81.csv", "sample-heldout81-A.csv", "shown-heldout81-A.csv",
                    "verdicts-heldout82.csv", "sample-heldout82-A.csv", "shown-heldout82-A.csv",
                    "verdicts-heldout83.csv", "sample-heldout83-A.csv", "shown-heldout83-A.csv",
                    "verdicts-heldout84.csv", "sample-heldout84-A.csv", "shown-heldout84-A.csv",
                    "verdicts-heldout85.csv", "sample-heldout85-A.csv", "shown-heldout85-A.csv",
                    "verdicts-heldout86.csv", "sample-heldout86-A.csv", "shown-heldout86-A.csv",
                    "verdicts-heldout87.csv", "sample-heldout87-A.csv", "shown-heldout87-A.csv",
                    "verdicts-heldout88.csv", "sample-heldout88-A.csv", "shown-heldout88-A.csv",
                    "verdicts-heldout89.csv", "sample-heldout89-A.csv", "shown-heldout89-A.csv",
                    "verdicts-heldout90.csv", "sample-heldout90-A.csv", "shown-heldout90-A.csv",
                    "verdicts-heldout91.csv", "sample-heldout91-A.csv", "shown-heldout91-A.csv",
                    "verdicts-heldout92.csv", "sample-heldout92-A.csv", "shown-heldout92-A.csv",
                    "verdicts-heldout93.csv", "sample-heldout93-A.csv", "shown-heldout93-A.csv",
                    "verdicts-heldout94.csv", "sample-heldout94-A.csv", "shown-heldout94-A.csv",
                    "verdicts-heldout95.csv", "sample-heldout95-A.csv", "shown-heldout95-A.csv",
                    "verdicts-heldout96.csv", "sample-heldout96-A.csv", "shown-heldout96-A.csv",
                    "verdicts-heldout97.csv", "sample-heldout97-A.csv", "shown-heldout97-A.csv",
                    "verdicts-heldout98.csv", "sample-heldout98-A.csv", "shown-heldout98-A.csv",
                    "verdicts-heldout99.csv", "sample-heldout99-A.csv", "shown-heldout99-A.csv",
                    "verdicts-heldout100.csv", "sample-heldout100-A.csv", "shown-heldout100-A.csv",
                    "verdicts-heldout101.csv", "sample-heldout101-A.csv", "shown-heldout101-A.csv",
                    "verdicts-heldout102.csv", "sample-heldout102-A.csv", "shown-heldout102-A.csv",
                    "verdicts-heldout103.csv", "sample-heldout103-A.csv", "shown-heldout103-A.csv",
                    "verdicts-heldout104.csv", "sample-heldout104-A.csv", "shown-heldout104-A.csv",
                    "verdicts-heldout105.csv", "sample-heldout105-A.csv", "shown-heldout105-A.csv",
                    "verdicts-heldout106.csv", "sample-heldout106-A.csv", "shown-heldout106-A.csv",
                    "verdicts-heldout107.csv", "sample-heldout107-A.csv", "shown-heldout107-A.csv",
                    "verdicts-heldout108.csv", "sample-heldout108-A.csv", "shown-heldout108-A.csv",
                    "verdicts-heldout109.csv", "sample-heldout109-A.csv", "shown-heldout109-A.csv",
                    "verdicts-heldout110.csv", "sample-heldout110-A.csv", "shown-heldout110-A.csv",
                    "verdicts-heldout111.csv", "sample-heldout111-A.csv", "shown-heldout111-A.csv",
                    "verdicts-heldout112.csv", "sample-heldout112-A.csv", "shown-heldout112-A.csv",
                    "verdicts-heldout113.csv", "sample-heldout113-A.csv", "shown-heldout113-A.csv",
                    "verdicts-heldout114.csv", "sample-heldout114-A.csv", "shown-heldout114-A.csv",
                    "verdicts-heldout115.csv", "sample-heldout115-A.csv", "shown-heldout115-A.csv",
                    "verdicts-heldout116.csv", "sample-heldout116-A.csv", "shown-heldout116-A.csv",
                    "verdicts-heldout117.csv", "sample-heldout117-A.csv", "shown-heldout117-A.csv",
                    "verdicts-heldout118.csv", "sample-heldout118-A.csv", "shown-heldout118-A.csv",
                    "verdicts-heldout119.csv", "sample-heldout119-A.csv", "shown-heldout119-A.csv",
                    "verdicts-heldout120.csv", "sample-heldout120-A.csv", "shown-heldout120-A.csv",
                    "verdicts-heldout121.csv", "sample-heldout121-A.csv", "shown-heldout121-A.csv",
                    "verdicts-heldout122.csv", "sample-heldout122-A.csv", "shown-heldout122-A.csv"],
         "heldout3": ["heldout3-unsampled-triage.csv"]}
"""Verdicts that carry over by fingerprint into a set's sample (held-out sets 1-122 are tuning now;
a re-measure of set 3 also takes the verdicts of its findings that were shown but not sampled).
Each set also reads and writes its own verdicts-heldoutNN.csv."""
APART = ("heldout125",)
"""Held-out sets of one module, measured apart and never pooled with a round's sets (HELDOUT125.md: v.io, left
out of set 124 for its size alone); every other set must list at least four modules."""
TUNED_HELDOUT = ("heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8",
                 "heldout9", "heldout10", "heldout11", "heldout12", "heldout13", "heldout14",
                 "heldout15", "heldout16", "heldout17", "heldout18", "heldout19", "heldout20",
                 "heldout21", "heldout22", "heldout23", "heldout24", "heldout25", "heldout26", "heldout27",
                 "heldout28", "heldout29", "heldout30", "heldout31", "heldout32", "heldout33", "heldout34",
                 "heldout35", "heldout36", "heldout37", "heldout38", "heldout39", "heldout40",
                 "heldout41", "heldout42", "heldout43", "heldout44", "heldout45", "heldout46",
                 "heldout47", "heldout48", "heldout49", "heldout50", "heldout51", "heldout52",
                 "heldout53", "heldout54", "heldout55", "heldout56", "heldout57", "heldout58",
                 "heldout59", "heldout60", "heldout61", "heldout62", "heldout63", "heldout64",
                 "heldout65", "heldout66", "heldout67", "heldout68", "heldout69", "heldout70",
                 "heldout71", "heldout72", "heldout73", "heldout74", "heldout75", "heldout76",
                 "heldout77", "heldout78", "heldout79", "heldout80", "heldout81", "heldout82",
                 "heldout83", "heldout84", "heldout85", "heldout86", "heldout87", "heldout88",
                 "heldout89", "heldout90", "heldout91", "heldout92", "heldout93", "heldout94",
                 "heldout95", "heldout96", "heldout97", "heldout98", "heldout99", "heldout100",
                 "heldout101", "heldout102", "heldout103", "heldout104", "heldout105", "heldout106",
                 "heldout107", "heldout108", "heldout109", "heldout110", "heldout111", "heldout112",
                 "heldout113", "heldout114", "heldout115", "heldout116", "heldout117", "heldout118",
                 "heldout119", "heldout120", "heldout121", "heldout122")
"""Held-out sets whose findings rules were tuned on since they were measured: `--set tuning` scans
their modules too (a new held-out set is not here until its measurement is reported)."""
PER_CELL = 8
FIELDS = ["n", "set", "corpus", "kind", "rule", "severity", "file", "line", "function", "message",
          "verdict", "reason", "context", "fingerprint", "earlier_verdict"]
SHOWN_FIELDS = ["n", "set", "tree", "corpus", "kind", "rule", "severity", "file", "line", "function",
                "message", "verdict", "reason", "sampled", "fingerprint"]
OLD_HISTORY = HERE / "verdicts.csv"
"""Verdicts of the earlier study (all rules and severities shown, a more lenient TP standard):
offered as `earlier_verdict` hints on the tuning set, never copied into `verdict`."""


def go_exe() -> str:
    sys.path.insert(0, str(HERE.parent.parent / "tests"))
    try:
        from golab import go_exe as g

        return str(g())
    except Exception:
        return "go"


def heldout_modules(which: str = "heldout") -> list[str]:
    """MODULE@VERSION from the table of HELDOUT.md ... HELDOUTn.md (the committed, fixed list). A row whose
    version cell reads like one but whose module path does not is said on stderr, never dropped in silence
    (set 89's `git.sr.ht/~sircmpwn/go-bare`: `~` is legal in a module path)."""
    out = []
    for line in (HERE / LISTS[which]).read_text().splitlines():
        m = re.match(r"^\|\s*([\w.~-]+\.[\w.~-]+(?:/[\w./~-]+)?)\s*\|\s*(v[\w.+-]+)\s*\|", line)
        if m:
            out.append(f"{m.group(1)}@{m.group(2)}")
        elif re.match(r"^\|[^|]+\|\s*`?v\d+\.\d+", line):
            print(f"{LISTS[which]}: a table row not read as a module: {line[:100]}", file=sys.stderr)
    if len(out) < (1 if which in APART else 4):
        raise SystemExit(f"{LISTS[which]} lists fewer than 4 modules")
    return out


def _go_env(modcache: Path) -> dict[str, str]:
    return {**os.environ, "GOMODCACHE": str(modcache), "GOFLAGS": "-modcacherw", "GOTOOLCHAIN": "local",
            "GOWORK": "off"}


def download(mod: str, modcache: Path) -> Path:
    """The module's extracted directory in `modcache`, fetched only when it is not there yet.

    Read from the cache first: `go mod download` fetches a module's zip again when it is
    missing, and the zips are what `prune_zips` deletes (a dozen sets' caches filled the disk,
    session 10).
    """
    path, _, ver = mod.partition("@")
    local = modcache / (re.sub(r"[A-Z]", lambda m: "!" + m.group(0).lower(), path) + "@" + ver)
    if ver and local.is_dir():
        return local
    modcache.mkdir(parents=True, exist_ok=True)
    res = subprocess.run([go_exe(), "mod", "download", "-json", mod], capture_output=True, text=True,
                         env=_go_env(modcache), timeout=1800, cwd=modcache)
    try:
        info = json.loads(res.stdout)
    except ValueError:
        raise SystemExit(f"go mod download {mod}: {res.stderr.strip()}") from None
    if "Dir" not in info or not Path(info["Dir"]).is_dir():
        raise SystemExit(f"go mod download {mod}: {info.get('Error', res.stderr)}")
    return Path(info["Dir"])


def fetch_deps(root: Path, modcache: Path) -> str:
    """Every requirement of the module at `root` into `modcache` (once; a marker remembers it).

    `go mod download` of the whole build list first; where that fails (a directory replacement
    missing from the module zip, a dependency the proxy refuses) each `require` line, and each module a
    `replace` line points to, is fetched alone and failures are counted: a missing dependency only makes
    its types unknown.
    """
    # named for the module's whole path in the cache: its last element alone (`v2@v2.7.1`) is shared by
    # fyne.io/fyne/v2 and alitto/pond/v2 at the same version (held-out set 21), and one marker hid the other
    rel = root.relative_to(modcache) if root.is_relative_to(modcache) else root
    marker = modcache / f".deps-{rel.as_posix().strip('/').replace('/', '_')}"
    if marker.exists():
        return marker.read_text()
    if not (root / "go.mod").exists():
        # a module zip made from a repository without go.mod (sendgrid-go, held-out set 22): the proxy
        # synthesises `module path` with no requirements, and `go mod download` has nothing to read
        note = "no go.mod: no requirements"
        marker.write_text(note)
        return note
    env = _go_env(modcache)
    res = subprocess.run([go_exe(), "mod", "download"], capture_output=True, text=True, env=env, timeout=3600,
                         cwd=root)
    if res.returncode == 0:
        note = "all requirements"
    else:
        gomod = (root / "go.mod").read_text()
        reqs = re.findall(r"^\s*(?:require\s+)?([\w.~-]+\.[\w.~/-]+)\s+(v[\w.+-]+)(?:\s*//.*)?$", gomod, re.M)
        # and the modules `replace` points to (`replace a => b v1.2.3`): the build uses b, and a scan
        # with only a's zip cannot type what b declares (set 37's tlsdialer over getlantern/utls)
        reqs += re.findall(r"^\s*(?:replace\s+)?\S+(?:\s+v\S+)?\s+=>\s+([\w.~-]+\.[\w.~/-]+)\s+(v[\w.+-]+)\s*$",
                           gomod, re.M)
        failed = [f"{m}@{v}" for m, v in reqs
                  if subprocess.run([go_exe(), "mod", "download", f"{m}@{v}"], capture_output=True, env=env,
                                    timeout=600, cwd=modcache).returncode != 0]
        note = f"{len(reqs) - len(failed)} of {len(reqs)} requirements one by one; not served: {' '.join(failed)}"
    marker.write_text(note)
    prune_zips(modcache)
    return note


def prune_zips(modcache: Path) -> int:
    """Delete the module zips of `modcache` (the extracted trees stay; scans read only those).

    The zips are a third of a cache's size: the caches of sets 1-12 took 72 GB of /tmp.
    """
    n = 0
    for z in (modcache / "cache" / "download").rglob("*.zip"):
        z.unlink(missing_ok=True)
        n += 1
    return n


def corpora(which: str, work: Path) -> dict[str, tuple[Path, Path]]:
    """Corpus name -> (root to scan, module cache holding its dependencies)."""
    out: dict[str, tuple[Path, Path]] = {}
    mods: list[tuple[str, Path]] = []
    if which == "tuning":
        goroot = subprocess.run([go_exe(), "env", "GOROOT"], capture_output=True, text=True,
                                check=True).stdout.strip()
        out["std"] = (Path(goroot) / "src", work / CACHES["tuning"])
        mods = [(m, work / CACHES["tuning"]) for m in TUNING_MODULES]
        mods += [(m, work / CACHES[old]) for old in TUNED_HELDOUT for m in heldout_modules(old)]
    else:
        mods = [(m, work / CACHES[which]) for m in heldout_modules(which)]
    for mod, cache in mods:
        root = download(mod, cache)
        print(f"{mod}: dependencies: {fetch_deps(root, cache)}", flush=True)
        out[mod.split("@")[0].removeprefix("github.com/")] = (root, cache)
    return out


def scan(root: Path, out: Path, extra: list[str], modcache: Path) -> dict[str, Any]:
    """`leakhunter scan --format json .` in `root`, as a user runs it; the JSON document."""
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "leakhunter", "scan", "--format", "json", "-o", str(out), *extra, "."],
                         cwd=root, capture_output=True, text=True, timeout=7200,
                         env={**os.environ, "GOMODCACHE": str(modcache)})
    if res.returncode not in (0, 1, 2) or not out.exists():
        raise SystemExit(f"scan of {root} failed (exit {res.returncode}): {res.stderr[-2000:]}")
    doc: dict[str, Any] = json.loads(out.read_text())
    doc["_exit"], doc["_wall_s"] = res.returncode, round(time.perf_counter() - t0, 1)
    return doc


def context_lines(path: Path, line: int, around: int) -> str:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    lo, hi = max(0, line - 1 - around), min(len(lines), line + around)
    return "\n".join(f"{'>>' if i + 1 == line else '  '}{i + 1:5d} {lines[i]}" for i in range(lo, hi))


def _named(which: str, tag: str) -> str:
    """`heldout7-B` for a tree-tagged measurement: the sample, population, summary and scans of
    each tree stay apart, while the verdict history (one verdict per finding) is the set's."""
    return f"{which}-{tag}" if tag else which


def _history(which: str) -> Path:
    return HERE / f"verdicts-{which}.csv"


def _sample_csv(which: str, tag: str = "") -> Path:
    return HERE / f"sample-{_named(which, tag)}.csv"


def _shown_csv(which: str, tag: str = "") -> Path:
    return HERE / f"shown-{_named(which, tag)}.csv"


def _place(r: Any) -> str:
    """A finding's place and words: the second key verdicts carry by, for a finding whose fingerprint
    moved while it stayed the same (session 28: a go.mod-less module-cache copy's file key gained its
    module path, and with it every fingerprint of set 55's nsfilelock and set 58's pouch)."""
    return f"place:{r.get('corpus')}|{r.get('file')}|{r.get('line')}|{r.get('rule')}|{r.get('message')}"


def _known_verdicts(which: str, tag: str = "") -> dict[str, dict[str, str]]:
    """Verdicts by fingerprint, and by `_place` for the set's own earlier files (a fingerprint first).

    The set's verdict history is read last, so it wins: `mark` writes every verdict there, and a tag's own
    earlier CSVs may predate a later re-mark (a re-scan as tag B kept two findings true that an audit of tag
    A had turned false, session 32)."""
    out: dict[str, dict[str, str]] = {}
    by_place: dict[str, dict[str, str]] = {}
    own = [_history(which), *sorted(HERE.glob(f"shown-{which}-*.csv"))]
    for path in ([HERE / name for name in CARRY.get(which, [])]
                 + [_sample_csv(which, tag), _shown_csv(which, tag), _history(which)]):
        if path.exists():
            with path.open() as fh:
                out.update({r["fingerprint"]: r for r in csv.DictReader(fh) if r.get("verdict") and r.get("fingerprint")})
    for path in own:
        if path.exists():
            with path.open() as fh:
                for r in csv.DictReader(fh):
                    if r.get("verdict") in ("TP", "FP"):
                        by_place.setdefault(_place(r), r)
    return {**by_place, **out}


def cmd_sample(args: argparse.Namespace) -> None:
    which, tag = args.set, args.tag
    work = Path(args.work) / _named(which, tag)
    work.mkdir(parents=True, exist_ok=True)
    tree = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    # `--tests`: findings in _test.go are hidden by default since session 7 (28% true on held-out
    # sets 1-5); they are still sampled and triaged, in their own cells, so both figures stay published.
    # What the default output hides grew since (test support outside _test.go, command-line code), so a
    # second scan with no option says which findings the DEFAULT output shows: those are the "prod"
    # cells, the rest of the --tests scan the "test" cells (on trees that hide only _test.go files the
    # two splits are the same).
    extra = ["--tests", *(["--no-cache"] if args.no_cache else [])]
    cells: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    summary: list[dict[str, Any]] = []
    # The scanned leakhunter is whatever `python -m leakhunter` imports (PYTHONPATH of a snapshot
    # when a tree is measured while src/ changes): said once, so a wrong tree shows at once.
    imported = subprocess.run([sys.executable, "-c", "import leakhunter; print(leakhunter.__file__)"],
                              capture_output=True, text=True).stdout.strip()
    print(f"scanning with {imported} (LEAKHUNTER_CACHE_DIR={os.environ.get('LEAKHUNTER_CACHE_DIR', '')})",
          flush=True)
    for name, (root, modcache) in corpora(which, Path(args.work)).items():
        doc = scan(root, work / f"scan-{name.replace('/', '_')}.json", extra, modcache)
        default = scan(root, work / f"scan-default-{name.replace('/', '_')}.json", ["--no-cache"], modcache)
        shown_by_default = {f["fingerprint"] for f in default["findings"]}
        missing = shown_by_default - {f["fingerprint"] for f in doc["findings"]}
        if missing:
            raise SystemExit(f"{name}: {len(missing)} findings of the default output are not in the --tests scan")
        rows = []
        for f in doc["findings"]:
            kind = "prod" if f["fingerprint"] in shown_by_default else "test"
            row = {**f, "corpus": name, "kind": kind, "root": str(root), "set": which}
            rows.append(row)
            cells[(f["rule"], kind)].append(row)
        (work / f"findings-{name.replace('/', '_')}.json").write_text(json.dumps(rows, indent=1))
        summary.append({
            "corpus": name, "root": str(root), "files_scanned": doc["files_scanned"], "shown": len(rows),
            "prod": sum(r["kind"] == "prod" for r in rows), "test": sum(r["kind"] == "test" for r in rows),
            "hidden_info": doc.get("hidden_below_min_severity", 0), "unanalysed": len(doc.get("unanalysed", [])),
            "exit": doc["_exit"], "wall_s": doc["_wall_s"], "tree": args.tree or tree,
            "cached_files": doc.get("cached_files"), "leakhunter": imported,
            "default_shown": len(default["findings"]), "default_hidden_in_tests": default.get("hidden_in_tests", 0),
            "default_hidden_in_commands": default.get("hidden_in_commands", 0),
            "default_wall_s": default["_wall_s"],
        })
        # Counts only (not findings): enough to see the scan ran, nothing to tune on.
        print(f"{which}/{name}: {doc['files_scanned']} files scanned in {doc['_wall_s']}s, "
              f"{len(doc.get('unanalysed', []))} places unanalysed", flush=True)
    rng = random.Random(SEEDS[which])
    sample: list[dict[str, Any]] = []
    for key in sorted(cells):
        rows = sorted(cells[key], key=lambda r: (r["corpus"], r["file"], r["line"], r["column"], r["rule"]))
        sample.extend(rng.sample(rows, min(args.per_cell, len(rows))))
    old = _known_verdicts(which, tag)
    earlier: dict[str, dict[str, str]] = {}
    if which == "tuning" and OLD_HISTORY.exists():
        with OLD_HISTORY.open() as fh:
            earlier = {r["fingerprint"]: r for r in csv.DictReader(fh) if r.get("verdict")}
    out_rows = []
    for i, r in enumerate(sample, 1):
        prev = old.get(r["fingerprint"]) or old.get(_place(r), {})
        hint = earlier.get(r["fingerprint"], {})
        out_rows.append({
            "n": i, "set": which, "corpus": r["corpus"], "kind": r["kind"], "rule": r["rule"],
            "severity": r["severity"], "file": r["file"], "line": r["line"], "function": r["function"],
            "message": r["message"], "verdict": prev.get("verdict", ""), "reason": prev.get("reason", ""),
            "context": "", "fingerprint": r["fingerprint"],
            "earlier_verdict": f"{hint['verdict']}: {hint.get('reason', '')}" if hint else "",
        })
        r["n"] = i
    with _sample_csv(which, tag).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(out_rows)
    md = [f"# Sample of the default `leakhunter scan` output: {_named(which, tag)} set",
          "",
          f"Seed {SEEDS[which]}, up to {args.per_cell} per (rule, production/test) cell. Verdicts go in "
          f"`{_sample_csv(which, tag).name}` (TP / FP / ?).",
          ""]
    for r in sample:
        md += [f"## #{r['n']} {r['rule']} {r['severity']} ({r['kind']}) {r['corpus']}/{r['file']}:{r['line']}"
               f" `{r['function']}`", "", r["message"], "", "```go",
               context_lines(Path(r["root"]) / r["file"], int(r["line"]), 12), "```", ""]
    (work / "sample.md").write_text("\n".join(md))  # third-party code: in the work dir, never committed
    (work / "sample.json").write_text(json.dumps(sample, indent=1))
    (HERE / f"summary-{_named(which, tag)}.json").write_text(json.dumps(summary, indent=1) + "\n")
    population = {f"{r}/{k}": len(v) for (r, k), v in sorted(cells.items())}
    (HERE / f"population-{_named(which, tag)}.json").write_text(json.dumps(population, indent=1) + "\n")
    print(f"sampled {len(sample)} of {sum(len(v) for v in cells.values())} shown findings into "
          f"{_sample_csv(which, tag)} (code to read: {work / 'sample.md'})")


def cmd_fetch(args: argparse.Namespace) -> None:
    for name, (root, _) in corpora(args.set, Path(args.work)).items():
        print(f"{name}: {root}")


def cmd_show(args: argparse.Namespace) -> None:
    work = Path(args.work) / _named(args.set, args.tag)
    sample = json.loads((work / "sample.json").read_text())
    shown = _all_shown(work)
    for n in args.n:
        r = shown[int(n[1:]) - 1] if n.startswith("S") else sample[int(n) - 1]
        print(f"== #{n} {r['rule']} {r['severity']} ({r['kind']}) {r['corpus']}/{r['file']}:{r['line']} "
              f"({r['function']})\n   {r['message']}\n   {r['root']}/{r['file']}")
        print(context_lines(Path(r["root"]) / r["file"], int(r["line"]), args.around))


def cmd_mark(args: argparse.Namespace) -> None:
    shown = args.n.startswith("S")
    path = (_shown_csv if shown else _sample_csv)(args.set, args.tag)
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        if r["n"] == args.n:
            r["verdict"], r["reason"] = args.verdict, args.reason
            break
    else:
        raise SystemExit(f"no {'shown' if shown else 'sampled'} finding #{args.n} in {path.name}")
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=SHOWN_FIELDS if shown else FIELDS)
        w.writeheader()
        w.writerows(rows)
    # The same finding in the other file (sampled and shown) gets the same verdict, so neither
    # file carries a stale one back through _known_verdicts.
    other = (_sample_csv if shown else _shown_csv)(args.set, args.tag)
    if other.exists():
        with other.open() as fh:
            others = list(csv.DictReader(fh))
        for o in others:
            if o["fingerprint"] == r["fingerprint"]:
                o["verdict"], o["reason"] = args.verdict, args.reason
        with other.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=FIELDS if shown else SHOWN_FIELDS)
            w.writeheader()
            w.writerows(others)
    merged = _known_verdicts(args.set, args.tag)
    merged[r["fingerprint"]] = r  # this verdict wins over an older one of the same finding
    # one row per finding: _known_verdicts also keys each row by its place (`_place`), and writing both
    # keys wrote every verdict twice (session 29's helpers removed the copies by hand)
    rows: dict[str, dict[str, str]] = {}
    for key, row in merged.items():
        if key.startswith("place:"):
            rows.setdefault(row.get("fingerprint") or key, row)
        else:
            rows[key] = row
    with _history(args.set).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(sorted(rows.values(), key=lambda r: (r["rule"], r.get("corpus", ""), r["file"], int(r["line"]))))


def _rate(tp: int, n: int) -> str:
    return f"{100 * tp / n:.0f}%" if n else "-"


def cmd_table(args: argparse.Namespace) -> None:
    """Per-rule table, production and tests apart: shown findings, sampled, TP, FP, rate, weighted total."""
    named = _named(args.set, args.tag)
    with _sample_csv(args.set, args.tag).open() as fh:
        rows = list(csv.DictReader(fh))
    population: dict[str, int] = json.loads((HERE / f"population-{named}.json").read_text())
    by: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in rows:
        by[(r["rule"], r["kind"])][r["verdict"] or "undecided"] += 1
    print(f"`leakhunter scan` output ({named} set; sample seed {SEEDS[args.set]}): production code is the "
          "default output; test code (`_test.go`, and on newer trees test support) only with `--tests`\n")
    for kind in ("prod", "test"):
        print(f"### {'production code (default output)' if kind == 'prod' else 'test code (--tests adds it: _test.go, and on newer trees test support)'}\n")
        print("| rule | shown findings | sampled | TP | FP | undecided | TP rate |")
        print("|---|---|---|---|---|---|---|")
        tot: Counter[str] = Counter()
        weighted_tp = weighted_n = 0.0
        rules = sorted({r for r, k in by if k == kind} | {c.split("/")[0] for c in population if c.endswith(kind)})
        for rule in rules:
            c = by[(rule, kind)]
            found = population.get(f"{rule}/{kind}", 0)
            decided = c["TP"] + c["FP"]
            print(f"| {rule} | {found} | {sum(c.values())} | {c['TP']} | {c['FP']} | "
                  f"{sum(c.values()) - decided} | {_rate(c['TP'], decided)} |")
            tot.update(c)
            tot["found"] += found
            if decided:
                weighted_tp += found * c["TP"] / decided
                weighted_n += found
        decided = tot["TP"] + tot["FP"]
        est = f"{100 * weighted_tp / weighted_n:.0f}%" if weighted_n else "-"
        print(f"| **all** | {tot['found']} | {tot['TP'] + tot['FP'] + tot['undecided'] + tot['?']} | {tot['TP']} | "
              f"{tot['FP']} | {tot['undecided'] + tot['?']} | **{_rate(tot['TP'], decided)}** "
              f"(weighted by shown findings: {est}) |\n")
    if _shown_csv(args.set, args.tag).exists():
        _table_shown(_shown_csv(args.set, args.tag))
    summary_path = HERE / f"summary-{named}.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text())
        print("| module | files scanned | shown (production / tests) | info hidden | places unanalysed | tree |")
        print("|---|---|---|---|---|---|")
        for m in summary:
            print(f"| {m['corpus']} | {m['files_scanned']} | {m['shown']} ({m['prod']} / {m['test']}) | "
                  f"{m['hidden_info']} | {m['unanalysed']} | {m.get('tree', '')} |")


def wilson(tp: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion: the small populations here (tens of findings)
    make the normal approximation's interval leave [0, 1] or collapse at 0 and n."""
    if n == 0:
        return (0.0, 1.0)
    p = tp / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _all_shown(work: Path) -> list[dict[str, Any]]:
    """Every finding the scans in `work` showed, in the sampling order (corpus, file, line, ...)."""
    rows: list[dict[str, Any]] = []
    for path in sorted(work.glob("findings-*.json")):
        rows.extend(json.loads(path.read_text()))
    return sorted(rows, key=lambda r: (r["corpus"], r["kind"] != "prod", r["file"], r["line"], r["column"],
                                       r["rule"]))


def cmd_shown(args: argparse.Namespace) -> None:
    """Write shown-<set>.csv: every shown finding, with the verdict known for its fingerprint.

    The sample is the fixed-seed draw; this list is what the default output shows in full, so the
    unsampled findings can be triaged (`mark ... S<n>`) and the figure taken over all of them.
    A verdict typed in this file before is kept (read back through the history).
    """
    work = Path(args.work) / _named(args.set, args.tag)
    known = _known_verdicts(args.set, args.tag)
    sampled = {r["fingerprint"] for r in json.loads((work / "sample.json").read_text())}
    summary = json.loads((HERE / f"summary-{_named(args.set, args.tag)}.json").read_text())
    tree = summary[0].get("tree", "") if summary else ""
    out = []
    for i, r in enumerate(_all_shown(work), 1):
        prev = known.get(r["fingerprint"]) or known.get(_place(r), {})
        out.append({"n": f"S{i}", "set": args.set, "tree": tree, "corpus": r["corpus"], "kind": r["kind"],
                    "rule": r["rule"], "severity": r["severity"], "file": r["file"], "line": r["line"],
                    "function": r["function"], "message": r["message"], "verdict": prev.get("verdict", ""),
                    "reason": prev.get("reason", ""), "sampled": "yes" if r["fingerprint"] in sampled else "",
                    "fingerprint": r["fingerprint"]})
    with _shown_csv(args.set, args.tag).open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=SHOWN_FIELDS)
        w.writeheader()
        w.writerows(out)
    todo = [r["n"] for r in out if r["kind"] == "prod" and not r["verdict"]]
    print(f"{len(out)} shown findings into {_shown_csv(args.set, args.tag)}; production without a verdict: "
          f"{len(todo)} {' '.join(todo)}")


def _table_shown(path: Path) -> None:
    """All shown findings per rule, production and tests apart, with a 95% Wilson interval."""
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    for kind in ("prod", "test"):
        mine = [r for r in rows if r["kind"] == kind]
        print(f"### all shown, {'production (default output)' if kind == 'prod' else 'test code (--tests)'}\n")
        print("| rule | shown | TP | FP | undecided | TP / decided |")
        print("|---|---|---|---|---|---|")
        for rule in sorted({r["rule"] for r in mine}):
            c = Counter(r["verdict"] or "undecided" for r in mine if r["rule"] == rule)
            print(f"| {rule} | {sum(c.values())} | {c['TP']} | {c['FP']} | {c['undecided'] + c['?']} | "
                  f"{_rate(c['TP'], c['TP'] + c['FP'])} |")
        c = Counter(r["verdict"] or "undecided" for r in mine)
        lo, hi = wilson(c["TP"], c["TP"] + c["FP"])
        print(f"| **all** | {len(mine)} | {c['TP']} | {c['FP']} | {c['undecided'] + c['?']} | "
              f"**{_rate(c['TP'], c['TP'] + c['FP'])}** (95% Wilson {100 * lo:.0f}-{100 * hi:.0f}%) |\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default="/tmp/lh-precision", help="scratch dir (module cache, scan output)")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample", help="fetch, scan (default output) and draw the fixed-seed sample")
    s.add_argument("--set", choices=SETS, required=True)
    s.add_argument("--per-cell", type=int, default=PER_CELL)
    s.add_argument("--no-cache", action="store_true", help="pass --no-cache to leakhunter scan")
    s.add_argument("--tree", default="", help="commit the scanned leakhunter is (default: HEAD of this checkout)")
    tag_help = "name of the measured tree (e.g. A, B): its sample, population, summary and scans apart"
    s.add_argument("--tag", default="", help=tag_help)
    f = sub.add_parser("fetch", help="download the set's modules and their dependencies; no scan")
    f.add_argument("--set", choices=SETS, required=True)
    sh = sub.add_parser("show", help="print wider code context of sampled findings")
    sh.add_argument("--set", choices=SETS, required=True)
    sh.add_argument("--tag", default="", help=tag_help)
    sh.add_argument("n", nargs="+", help="sampled finding numbers, or S<n> rows of shown-<set>.csv")
    sh.add_argument("--around", type=int, default=25)
    t = sub.add_parser("table", help="per-rule table from the verdicts in sample-<set>.csv")
    t.add_argument("--set", choices=SETS, required=True)
    t.add_argument("--tag", default="", help=tag_help)
    m = sub.add_parser("mark", help="record a verdict: mark --set S N TP|FP|? 'reason'")
    m.add_argument("--set", choices=SETS, required=True)
    m.add_argument("--tag", default="", help=tag_help)
    m.add_argument("n", help="sampled finding number, or S<n> for a row of shown-<set>.csv")
    m.add_argument("verdict", choices=("TP", "FP", "?"))
    m.add_argument("reason")
    w = sub.add_parser("shown", help="every shown finding of the last sample run -> shown-<set>.csv")
    w.add_argument("--set", choices=SETS, required=True)
    w.add_argument("--tag", default="", help=tag_help)
    args = p.parse_args()
    {"sample": cmd_sample, "show": cmd_show, "table": cmd_table, "mark": cmd_mark, "fetch": cmd_fetch,
     "shown": cmd_shown}[args.cmd](args)


if __name__ == "__main__":
    main()
