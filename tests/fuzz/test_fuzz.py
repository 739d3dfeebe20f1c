"""Property-based fuzzing of `sqlsafe fix --unsafe-fixes` (see `properties.py` for what is
checked): programs from Python's grammar (hypothesmith), and SQLModel session code that the
rules fix, laid out with tabs, CRLF, BOMs, comments and continuations.

`SQLSAFE_FUZZ_EXAMPLES` sets the number of programs per test. The runs are derandomized, so
CI sees the same programs every time; a failure is shrunk to a small program, printed.
"""

from __future__ import annotations

import os

import hypothesmith
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, reject, settings
from hypothesis import strategies as st

from tests.fuzz.programs import Layout, layouts, session_modules
from tests.fuzz.properties import fix_and_check

EXAMPLES = int(os.environ.get("SQLSAFE_FUZZ_EXAMPLES", "40"))

fuzz_settings = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # No targeting (hypothesmith's target() would hill-climb far past the budget) and no
    # explain phase (it traces every line of sqlsafe): the run costs what the budget says.
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)


def _check(text: str, layout: Layout) -> None:
    note(f"{layout}\n{text}")
    try:
        program = layout.encode(text)
        compile(program, "program.py", "exec")
    except (UnicodeEncodeError, SyntaxError, ValueError):
        # hypothesmith's text in another encoding or with other line endings may not be a
        # program: another one is drawn.
        reject()
    report = fix_and_check(program)
    event("program" if not report.syntax_error else "program sqlsafe cannot parse")
    if report.fixes:
        event("program with fixes applied")
        event(f"fixes applied: {report.fixes}")


@pytest.mark.slow
@fuzz_settings
@given(
    text=st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node()),
    session_code=st.none() | session_modules(),
    layout=layouts,
)
def test_fix_keeps_its_promises_on_any_program(
    text: str, session_code: str | None, layout: Layout
) -> None:
    _check(text + ("\n" + session_code if session_code else ""), layout)


@pytest.mark.slow
@fuzz_settings
@given(text=session_modules(), layout=layouts)
def test_fix_keeps_its_promises_on_session_code(text: str, layout: Layout) -> None:
    _check(text, layout)
