"""Every rule by code, imported only when a run needs it (importing rules imports libcst)."""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlsafe.checks.base import Rule
    from sqlsafe.diagnostics import RuleMeta

# code -> module under sqlsafe.checks that defines it as `RULE`.
RULE_MODULES: dict[str, str] = {
    "AWAIT001": "await001_unawaited_session_call",
    "DETACH001": "detach001_returns_orm_instance",
    "DETACH002": "detach002_returns_expired_instance",
    "DETACH003": "detach003_returns_refreshed_instance",
    "GET001": "get001_select_by_pk",
    "LOAD001": "load001_joined_collection_unique",
    "ROW001": "row001_index_model",
    "ROW002": "row002_unpack_model",
    "ROW003": "row003_row_accessor_on_model",
    "ROW004": "row004_row_as_model",
    "ROW005": "row005_row_model_shim",
    "SCOPE001": "scope001_read_after_session",
    "SQL001": "sql001_exec_params",
    "SQL002": "sql002_textual_sql",
    "WHERE001": "where001_python_operator_in_clause",
}

CODES: tuple[str, ...] = tuple(sorted(RULE_MODULES))


@cache
def load(code: str) -> type[Rule]:
    module = importlib.import_module(f"sqlsafe.checks.{RULE_MODULES[code]}")
    rule: type[Rule] = module.RULE
    return rule


def meta(code: str) -> RuleMeta:
    return load(code).meta()


def all_meta() -> dict[str, RuleMeta]:
    return {code: meta(code) for code in CODES}


def find(code_or_name: str) -> str | None:
    """The code of a rule given its code or its kebab-case name."""
    if code_or_name in RULE_MODULES:
        return code_or_name
    for code in CODES:
        if load(code).name == code_or_name:
            return code
    return None


def markdown_table() -> str:
    """The README's rule table, generated so it cannot drift from the rules."""
    lines = [
        "| code | name | severity | what it finds | fix |",
        "| --- | --- | --- | --- | --- |",
    ]
    for code in CODES:
        rule = meta(code)
        lines.append(
            f"| {code} | `{rule.name}` | {rule.severity.value} | {rule.summary} | "
            f"{rule.fix_availability.sentence.removesuffix('.').removeprefix('Fix is ')} |"
        )
    return "\n".join(lines) + "\n"
