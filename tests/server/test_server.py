"""`sqlsafe server` started as a subprocess and driven by pygls's language client: the
diagnostics of an open file (with their related information), its code actions, the safe
fix-all, a model edit that changes a dependent file's findings, and a clean shutdown."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types

from tests.example_app import copy_example
from tests.server.client import Editor, session

FIX_ALL = "source.fixAll.sqlsafe"
# A file whose only finding has a safe fix: SCOPE001's move of the read into the block.
NOTIFY = """\
from sqlmodel import Session

from examples.otp_app.db import engine
from examples.otp_app.models import User


def greet(user_id: int) -> None:
    with Session(engine) as session:
        user = session.get(User, user_id)
        session.commit()
    print(user.email)
"""


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.splitlines(keepends=True)

    def offset(p: types.Position) -> int:
        # ASCII sources: UTF-16 columns are character columns.
        return sum(len(line) for line in lines[: p.line]) + p.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_example(tmp_path)


def test_diagnostics_actions_fix_all_and_a_model_edit(project: Path) -> None:
    accounts = "examples/otp_app/accounts.py"
    notify = "examples/otp_app/notify.py"
    models = "examples/otp_app/models.py"
    main = "examples/otp_app/main.py"

    async def script(editor: Editor) -> None:
        text = (project / accounts).read_text()
        found = await editor.diagnostics(accounts, lambda: editor.open(accounts, text))
        by_row = {(d.range.start.line + 1, d.code): d for d in found}
        verify = by_row[(29, "DETACH002")]
        assert verify.source == "sqlsafe"
        assert [
            (r.location.uri, r.location.range.start.line + 1, r.message)
            for r in verify.related_information or []
        ] == [
            (editor.uri(accounts), 24, "instance obtained here"),
            (editor.uri(accounts), 28, "expired by `session.commit()`"),
            (editor.uri(accounts), 23, "session `session` closes at the end of this `with` block"),
            (editor.uri(main), 6, "the result is read here, in `examples/otp_app/main.py`"),
        ]
        assert (34, "DETACH001") in by_row

        # Quick fixes: the finding's own fix and a suppression comment for its line.
        actions = await editor.actions(accounts, 19, [types.CodeActionKind.QuickFix])
        titles = [a.title for a in actions]
        assert "Move the read into the `with` block of `session`" in titles
        assert "Disable SCOPE001 for this line" in titles
        (noqa,) = [a for a in actions if a.title == "Disable SCOPE001 for this line"]
        assert noqa.edit is not None and noqa.edit.changes is not None
        with_noqa = _apply(text, noqa.edit.changes[editor.uri(accounts)])
        assert 'print(f"sent a code to {user.email}")  # noqa: SCOPE001\n' in with_noqa
        quiet = await editor.diagnostics(accounts, lambda: editor.change(accounts, with_noqa))
        assert "SCOPE001" not in {d.code for d in quiet}
        # An unsafe fix is offered as a quick fix only, and says so.
        unsafe = [
            a
            for row in (34, 39)
            for a in await editor.actions(accounts, row, [types.CodeActionKind.QuickFix])
            if "unsafe" in a.title
        ]
        assert unsafe and all(a.is_preferred is False for a in unsafe)

        # The safe fix-all leaves a file whose findings were all safely fixable clean.
        dirty = await editor.diagnostics(notify, lambda: editor.open(notify, NOTIFY))
        assert [d.code for d in dirty] == ["SCOPE001"]
        (fix_all,) = await editor.actions(notify, 1, [FIX_ALL])
        assert fix_all.kind == FIX_ALL and fix_all.edit and fix_all.edit.changes
        fixed = _apply(NOTIFY, fix_all.edit.changes[editor.uri(notify)])
        assert fixed == NOTIFY.replace("    print(", "        print(")
        assert not await editor.diagnostics(notify, lambda: editor.change(notify, fixed))
        # No fix-all is offered where no safe fix applies.
        assert await editor.actions(notify, 1, [FIX_ALL]) == []

        # A saved model changes the findings of the files that use it: `team` loaded eagerly,
        # `find_user()` no longer returns an instance missing it.
        model = (
            (project / models)
            .read_text()
            .replace(
                'Relationship(back_populates="members")\n',
                'Relationship(back_populates="members", sa_relationship_kwargs={"lazy": "selectin"})\n',
            )
        )
        (project / models).write_text(model)

        def save_model() -> None:
            editor.open(models, model)
            editor.save(models)

        after = await editor.diagnostics(accounts, save_model)
        assert (34, "DETACH001") not in {(d.range.start.line + 1, d.code) for d in after}

    session(project, script)


def test_hover_on_a_code_shows_the_rules_docs(project: Path) -> None:
    name = "examples/otp_app/notify.py"

    async def script(editor: Editor) -> None:
        text = NOTIFY.replace("print(user.email)", "print(user.email)  # noqa: SCOPE001")
        await editor.diagnostics(name, lambda: editor.open(name, text))
        column = text.splitlines()[-1].index("SCOPE001") + 2
        hover = await editor.client.text_document_hover_async(
            types.HoverParams(
                types.TextDocumentIdentifier(editor.uri(name)),
                types.Position(len(text.splitlines()) - 1, column),
            )
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "## What it does" in hover.contents.value
        nothing = await editor.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(editor.uri(name)), types.Position(0, 2))
        )
        assert nothing is None

    session(project, script)
