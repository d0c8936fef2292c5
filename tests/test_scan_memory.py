"""A worker's memory follows the file, not the package: large data tables stay cheap.

go-mysql-server's collation tables (146 files, 68 MB of `map[rune]int32{...}` literals
in one package) made one scan worker 2.7 GB: the tree index LRU was bounded by count
(64 trees) and the package view kept every sibling's whole tree. Both are bounded now
(nodes indexed; siblings without their data literals), so such a package costs about
what its largest file does.
"""

from __future__ import annotations

from pathlib import Path

from scanfix import LEAK, module, scan_json

ENTRIES = 24_000


def _table(i: int) -> str:
    rows = "".join(f"\t{k}: {k % 97},\n" for k in range(ENTRIES))
    return f"package tables\n\nvar table{i} = map[rune]int32{{\n{rows}}}\n"


def test_a_package_of_large_data_tables_keeps_one_worker_small(tmp_path: Path) -> None:
    files: dict[str, str] = {f"t{i:02d}.go": _table(i) for i in range(40)}
    files["use.go"] = LEAK.replace("package demo", "package tables")
    root = module(tmp_path / "m", files)
    size = sum((root / f).stat().st_size for f in files) / 2**20
    code, doc, err = scan_json(".", "--jobs", "1", "--no-cache", cwd=root)
    assert code == 1, err  # the leak beside the tables is still found
    assert [f["rule"] for f in doc["findings"]] == ["LH201"]
    assert doc["files_scanned"] == 41
    # 40 tables of ~0.3 MB (12 MB): before, about 25 MB per table stayed indexed (over 1 GB).
    assert size > 10
    assert doc["worker_peak_rss_mb"] < 500, doc["worker_peak_rss_mb"]
