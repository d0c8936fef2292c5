"""`.leakhunter.toml`: per-project rule selection, severities and excluded paths.

The file is found by walking up from the scanned path (like `.golangci.yml` or
`pyproject.toml`), so a repository states its policy once and every invocation,
from any sub-directory, follows it. Command-line options win over the file.

    [rules]
    enable  = ["LH505"]          # turn on rules that are off by default
    disable = ["LH303"]          # turn off rules
    [rules.severity]
    LH301 = "info"               # change a rule's severity
    [scan]
    exclude = ["gen/**", "*.pb.go"]   # globs relative to the config file's directory
    exclude_tests = false          # true: do not even read *_test.go files
    show_tests = false             # true: show findings in test code (_test.go, test support; hidden by default)
    show_commands = false          # true: show findings in command-line programs' own code (hidden by default)

Rule ids may also be given by name (`blocked-send`). Unknown keys, unknown rule ids
and bad severities are errors (exit 2), so a typo cannot silently turn a rule off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from leakhunter.errors import InputError, UsageError
from leakhunter.model import Severity

CONFIG_NAME = ".leakhunter.toml"
MAX_CONFIG_BYTES = 1 << 20
MAX_FILE_SIZE_LIMIT = 1 << 40
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "error")


@dataclass
class ScanConfig:
    """Everything that selects and tunes rules and files for one scan."""

    enable: set[str] = field(default_factory=set)
    disable: set[str] = field(default_factory=set)
    severity: dict[str, Severity] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    """Globs matched against paths relative to `root` (and against the display path)."""
    exclude_tests: bool = False
    show_tests: bool = False
    show_commands: bool = False
    """Show findings in `_test.go` files. Off by default: across five held-out sets they were 17 of
    60 true (28%; production 41%), and `leakhunter test` proves test goroutine leaks at run time."""
    cli_exclude: list[str] = field(default_factory=list)
    """`--exclude` globs, matched against display paths (as the user sees them)."""
    test_ignore: list[str] = field(default_factory=list)
    """`[test] ignore`: functions whose goroutines `leakhunter test` never calls leaks."""
    root: Path | None = None
    """Directory of the config file; `exclude` globs are relative to it."""
    source: Path | None = None
    """The config file read, if any."""
    max_file_size: int = 10 * 1024 * 1024
    """Files above this are skipped (reported) instead of parsed; generated files never reach it."""


def find_config(start: Path) -> Path | None:
    """The nearest `.leakhunter.toml` at or above `start` (a file or directory)."""
    p = start.absolute()
    if not p.is_dir():
        p = p.parent
    for d in (p, *p.parents):
        candidate = d / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def resolve_rule_id(token: str) -> str:
    """`LH101`, `lh101` or `blocked-send` -> `LH101`; unknown ids are a UsageError."""
    from leakhunter.source.registry import rule_infos

    t = token.strip()
    for r in rule_infos():
        if t.upper() == r.id or t == r.name:
            return r.id
    raise UsageError(f"unknown rule {t!r} (see `leakhunter rules`)")


def _ids(value: Any, where: str) -> set[str]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: expected a list of rule ids")
    return {resolve_rule_id(v) for v in value}


def load_config(path: Path) -> ScanConfig:
    """Read and validate one config file; every problem is one UsageError line."""
    from leakhunter.bounds import read_regular

    try:
        raw = read_regular(str(path), MAX_CONFIG_BYTES)
    except InputError as exc:
        raise UsageError(str(exc)) from None
    return parse_config(raw, path)


def parse_config(raw: bytes, path: Path) -> ScanConfig:
    """Validate the bytes of a config file (`path` names it in errors and anchors globs)."""
    import tomllib  # only when a config file exists (it pulls in datetime)

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not valid UTF-8") from None
    except RecursionError:
        # tomllib recurses per nested array or inline table; no config nests like this.
        raise UsageError(f"{path}: invalid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise UsageError(f"{path}: invalid TOML: {str(exc)[:120]}") from None
    cfg = ScanConfig(root=path.parent.absolute(), source=path)
    known = {"rules", "scan", "exclude", "test"}
    extra = set(data) - known
    if extra:
        raise UsageError(f"{path}: unknown section {sorted(extra)[0]!r} (expected [rules], [scan], [test])")
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise UsageError(f"{path}: [rules] must be a table")
    bad = set(rules) - {"enable", "disable", "severity"}
    if bad:
        raise UsageError(f"{path}: unknown key rules.{sorted(bad)[0]}")
    if "enable" in rules:
        cfg.enable = _ids(rules["enable"], f"{path}: rules.enable")
    if "disable" in rules:
        cfg.disable = _ids(rules["disable"], f"{path}: rules.disable")
    sev = rules.get("severity", {})
    if not isinstance(sev, dict):
        raise UsageError(f"{path}: [rules.severity] must be a table of RULE = \"info|warning|error\"")
    for k, v in sev.items():
        if v not in SEVERITIES:
            raise UsageError(f"{path}: rules.severity.{k} = {v!r}: expected info, warning or error")
        cfg.severity[resolve_rule_id(k)] = cast(Severity, v)
    scan = data.get("scan", {})
    if not isinstance(scan, dict):
        raise UsageError(f"{path}: [scan] must be a table")
    bad = set(scan) - {"exclude", "exclude_tests", "show_tests", "show_commands", "max_file_size"}
    if bad:
        raise UsageError(f"{path}: unknown key scan.{sorted(bad)[0]}")
    excl = scan.get("exclude", data.get("exclude", []))
    if isinstance(excl, str):
        excl = [excl]
    if not isinstance(excl, list) or not all(isinstance(e, str) for e in excl):
        raise UsageError(f"{path}: scan.exclude must be a list of globs")
    cfg.exclude = list(excl)
    et = scan.get("exclude_tests", False)
    if not isinstance(et, bool):
        raise UsageError(f"{path}: scan.exclude_tests must be true or false")
    cfg.exclude_tests = et
    st = scan.get("show_tests", False)
    if not isinstance(st, bool):
        raise UsageError(f"{path}: scan.show_tests must be true or false")
    cfg.show_tests = st
    sc = scan.get("show_commands", False)
    if not isinstance(sc, bool):
        raise UsageError(f"{path}: scan.show_commands must be true or false")
    cfg.show_commands = sc
    if "max_file_size" in scan:
        mfs = scan["max_file_size"]
        if not isinstance(mfs, int) or isinstance(mfs, bool) or not 0 < mfs <= MAX_FILE_SIZE_LIMIT:
            raise UsageError(f"{path}: scan.max_file_size must be a number of bytes in 1..2**40")
        cfg.max_file_size = mfs
    _load_test_section(path, data.get("test", {}), cfg)
    return cfg


def _load_test_section(path: Path, test: Any, cfg: ScanConfig) -> None:
    """`[test] ignore = ["pkg.Func", ...]`, for `leakhunter test` (like goleak's IgnoreAnyFunction)."""
    if not isinstance(test, dict):
        raise UsageError(f"{path}: [test] must be a table")
    bad = set(test) - {"ignore"}
    if bad:
        raise UsageError(f"{path}: unknown key test.{sorted(bad)[0]}")
    ign = test.get("ignore", [])
    if isinstance(ign, str):
        ign = [ign]
    if not isinstance(ign, list) or not all(isinstance(e, str) and e.strip() for e in ign):
        raise UsageError(f"{path}: test.ignore must be a list of function names")
    cfg.test_ignore = [e.strip() for e in ign]


def config_for(start: Path, explicit: Path | None = None) -> ScanConfig:
    """The config that applies to a scan of `start`: `explicit` if given, else the nearest file."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"{explicit}: config file not found")
        return load_config(explicit)
    found = find_config(start)
    return load_config(found) if found else ScanConfig()


def selected_rules(
    cfg: ScanConfig, enable: Iterable[str] = (), disable: Iterable[str] = ()
) -> list[str]:
    """Rule ids to run: defaults, plus config/CLI enables, minus config/CLI disables.

    The command line wins: `--enable X` overrides a config `disable = [X]`, and
    `--disable X` overrides a config `enable`.
    """
    from leakhunter.source.registry import rule_infos

    chosen = {r.id for r in rule_infos() if r.enabled_by_default}
    chosen |= cfg.enable
    chosen -= cfg.disable
    chosen |= set(enable)
    chosen -= set(disable)
    return sorted(chosen)
