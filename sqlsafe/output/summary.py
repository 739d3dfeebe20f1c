"""The lines around the diagnostics: Ruff's closing summary, `--show-fixes` and `--statistics`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlsafe.output._shared import plural
from sqlsafe.report import FixMode, Report


def summary_lines(report: Report) -> list[str]:
    """The closing lines Ruff 0.17.5 prints for this run (without line breaks)."""
    hidden_unsafe = sum(report.hidden_unsafe(d) for d in report.diagnostics)
    fixed = sum(sum(counts.values()) for counts in report.fixed.values())
    if report.mode in (FixMode.FIX_ONLY, FixMode.DIFF):
        return _fix_only_lines(report.mode, fixed, hidden_unsafe)

    lines = []
    remaining = len(report.diagnostics)
    if fixed:
        total = fixed + remaining
        lines.append(f"Found {total} error{plural(total)} ({fixed} fixed, {remaining} remaining).")
    elif remaining:
        lines.append(f"Found {remaining} error{plural(remaining)}.")
    else:
        lines.append("All checks passed!")

    applicable = sum(report.applicable(d) for d in report.diagnostics)
    # `unsafe_fixes = false` asks for silence about unsafe fixes; only "unset" gets the hint.
    hint = report.unsafe_fixes is None and hidden_unsafe > 0
    unsafe = f"{hidden_unsafe} unsafe fix{plural(hidden_unsafe, 'es')}"
    if applicable and hint:
        lines.append(
            f"[*] {applicable} fixable with `--fix` "
            f"({unsafe} available with `--fix --unsafe-fixes`)."
        )
    elif applicable:
        lines.append(f"[*] {applicable} fixable with `--fix`.")
    elif hint:
        lines.append(f"{unsafe} available with `--fix --unsafe-fixes`.")
    return lines


def _fix_only_lines(mode: FixMode, fixed: int, unapplied: int) -> list[str]:
    # Ruff counts the left-out unsafe fixes here even with `unsafe-fixes = false`.
    applied = mode is FixMode.FIX_ONLY
    verb = "Fixed" if applied else "Would fix"
    errors = f"{fixed} error{plural(fixed)}"
    es = plural(unapplied, "es")
    if unapplied and fixed:
        more = f"{unapplied} additional fix{es}"
        return [f"{verb} {errors} ({more} available with `--unsafe-fixes`)."]
    if unapplied:
        nothing = "No errors fixed" if applied else "No errors would be fixed"
        return [f"{nothing} ({unapplied} fix{es} available with `--unsafe-fixes`)."]
    if fixed:
        return [f"{verb} {errors}."]
    return []


def fix_summary(report: Report) -> str:
    """The `--show-fixes` block, blank lines around it included; empty when nothing was fixed."""
    if not report.show_fixes:
        return ""
    per_file = {path: counts for path, counts in report.fixed.items() if sum(counts.values()) > 0}
    if not per_file:
        return ""
    total = sum(sum(counts.values()) for counts in per_file.values())
    width = len(str(max(max(counts.values()) for counts in per_file.values())))
    lines = ["", f"Fixed {total} error{plural(total)}:"]
    for path in sorted(per_file, key=str):
        lines.append(f"- {report.display_path(path)}:")
        counts = per_file[path]
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            if count <= 0:
                continue
            rule = report.rules.get(code)
            name = rule.name if rule is not None else code
            lines.append(f"    {count:>{width}} \N{MULTIPLICATION SIGN} {code} ({name})")
    lines.append("")
    return "\n".join(lines) + "\n"


@dataclass
class _Statistic:
    code: str | None
    name: str
    count: int = 0
    fixable_count: int = 0


def _statistics(report: Report) -> list[_Statistic]:
    by_code: dict[str, _Statistic] = {}
    for diagnostic in report.diagnostics:
        statistic = by_code.get(diagnostic.code)
        if statistic is None:
            code = diagnostic.code if diagnostic.is_rule else None
            statistic = by_code[diagnostic.code] = _Statistic(code, diagnostic.name)
        statistic.count += 1
        statistic.fixable_count += report.applicable(diagnostic)
    # Ruff 0.17.5 breaks ties between equal counts by rule name (checked against its output).
    return sorted(by_code.values(), key=lambda s: (-s.count, s.name))


def statistics_text(report: Report, *, summary: bool = True) -> str:
    """`--statistics` for the text formats; empty (no summary either) when there is nothing."""
    statistics = _statistics(report)
    if not statistics:
        return ""
    count_width = len(str(max(s.count for s in statistics)))
    code_width = max(len(s.code or "") for s in statistics)
    any_fixable = any(s.fixable_count for s in statistics)
    lines = []
    for s in statistics:
        marker = ""
        if any_fixable:
            if s.fixable_count == s.count:
                marker = "[*] "
            elif s.fixable_count:
                marker = "[-] "
            else:
                marker = "[ ] "
        lines.append(f"{s.count:>{count_width}}\t{s.code or '':<{code_width}}\t{marker}{s.name}")
    if summary:
        lines.extend(summary_lines(report))
    return "".join(line + "\n" for line in lines)


def statistics_json(report: Report) -> str:
    """`--statistics` as JSON: keys in Ruff's (unsorted) order, and a final newline."""
    statistics = _statistics(report)
    if not statistics:
        return ""
    rows = [
        {
            "code": s.code,
            "name": s.name,
            "count": s.count,
            "fixable": s.fixable_count == s.count,
            "fixable_count": s.fixable_count,
        }
        for s in statistics
    ]
    return json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
