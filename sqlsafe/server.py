"""`sqlsafe server`: a Language Server over standard input and output.

It checks the text the editor holds, through `sqlsafe.api` (the CLI's own command), so a buffer
is judged against the rest of its project and its settings come from the same files as the
CLI's. When a file is saved every open document is checked again: a saved model or session
factory changes the project index that the others are judged against.

Offers, per finding: a quick fix for each fix (unsafe ones say so and are never part of
`source.fixAll.sqlsafe`, which applies the safe ones), a `# noqa: CODE` quick fix, and the
rule's docs on hover of its code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.workspace import TextDocument

from sqlsafe import __version__, api
from sqlsafe.checks import registry
from sqlsafe.diagnostics import Applicability, Diagnostic, Location, Severity

FIX_ALL = "source.fixAll.sqlsafe"
SOURCE = "sqlsafe"
_NOQA = re.compile(r"#\s*noqa:\s*[A-Z0-9, ]*[A-Z0-9]", re.IGNORECASE)


class SqlsafeServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("sqlsafe", __version__)
        self.root: Path | None = None
        self.findings: dict[str, list[Diagnostic]] = {}
        """The last findings per open document, for its code actions and hovers."""

    def cwd(self) -> Path:
        return self.root or Path.cwd()

    def check(self, document: TextDocument) -> None:
        path = _path(document.uri)
        try:
            found = api.check_text(path, document.source, cwd=self.cwd(), saved_index=True)
        except Exception as error:
            # An editor must keep its server: the failure is shown, not raised.
            self.window_log_message(
                types.LogMessageParams(types.MessageType.Error, f"sqlsafe: {error!r}")
            )
            return
        found = [d for d in found if d.path == path]
        self.findings[document.uri] = found
        diagnostics = [self.to_lsp(document, d) for d in found]
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(document.uri, diagnostics, document.version)
        )

    def to_lsp(self, document: TextDocument, d: Diagnostic) -> types.Diagnostic:
        lines = document.lines
        related = []
        for r in d.related:
            # Paths in another file are shown as the run shows them: relative to its folder.
            path = self.cwd() / r.path
            where = _range(self.lines_of(path, document), r.start, r.end)
            related.append(
                types.DiagnosticRelatedInformation(types.Location(path.as_uri(), where), r.message)
            )
        severity = (
            types.DiagnosticSeverity.Error
            if d.severity is Severity.ERROR
            else types.DiagnosticSeverity.Warning
        )
        return types.Diagnostic(
            range=_range(lines, d.start, d.end),
            message=d.message,
            severity=severity,
            code=d.code,
            code_description=types.CodeDescription(d.url) if d.url else None,
            source=SOURCE,
            related_information=related or None,
        )

    def lines_of(self, path: Path, document: TextDocument) -> Sequence[str]:
        if _path(document.uri) == path:
            return document.lines
        # pygls leaves the `text_documents` property unannotated; it holds `TextDocument`s.
        opened: TextDocument | None = self.workspace.text_documents.get(path.as_uri())
        if opened is not None:
            return opened.lines
        try:
            return path.read_text(encoding="utf-8").splitlines(keepends=True)
        except (OSError, UnicodeDecodeError):
            return []


server = SqlsafeServer()


@server.feature(types.INITIALIZE)
def _initialize(ls: SqlsafeServer, params: types.InitializeParams) -> None:
    folders = params.workspace_folders or []
    uri = folders[0].uri if folders else params.root_uri
    if uri:
        ls.root = _path(uri)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: SqlsafeServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.check(ls.workspace.get_text_document(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: SqlsafeServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.check(ls.workspace.get_text_document(params.text_document.uri))


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: SqlsafeServer, params: types.DidSaveTextDocumentParams) -> None:
    # The saved file may be a model or a factory the other documents are judged against.
    for uri in list(ls.workspace.text_documents):
        ls.check(ls.workspace.get_text_document(uri))


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: SqlsafeServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.findings.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(params.text_document.uri, [])
    )


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
)
def _code_action(ls: SqlsafeServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    wanted = params.context.only
    actions: list[types.CodeAction] = []
    if _wants(wanted, types.CodeActionKind.QuickFix):
        for d in ls.findings.get(document.uri, []):
            found = ls.to_lsp(document, d)
            if not _overlaps(found.range, params.range):
                continue
            if d.fix is not None and d.fix.applicability is not Applicability.DISPLAY_ONLY:
                unsafe = d.fix.applicability is Applicability.UNSAFE
                title = d.fix.message or f"Fix {d.code}"
                edits = [
                    types.TextEdit(_range(document.lines, e.start, e.end), e.content)
                    for e in d.fix.edits
                ]
                actions.append(
                    types.CodeAction(
                        title=f"{title} (unsafe fix: may change behavior)" if unsafe else title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[found],
                        is_preferred=not unsafe,
                        edit=types.WorkspaceEdit(changes={document.uri: edits}),
                    )
                )
            noqa = _noqa_edit(document, d)
            if noqa is not None:
                actions.append(
                    types.CodeAction(
                        title=f"Disable {d.code} for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[found],
                        edit=types.WorkspaceEdit(changes={document.uri: [noqa]}),
                    )
                )
    if _wants(wanted, FIX_ALL):
        fixed = api.fix_text(_path(document.uri), document.source, cwd=ls.cwd())
        if fixed != document.source:
            whole = types.Range(types.Position(0, 0), types.Position(len(document.lines), 0))
            actions.append(
                types.CodeAction(
                    title="sqlsafe: fix all safely fixable problems",
                    kind=FIX_ALL,
                    edit=types.WorkspaceEdit(
                        changes={document.uri: [types.TextEdit(whole, fixed)]}
                    ),
                )
            )
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: SqlsafeServer, params: types.HoverParams) -> types.Hover | None:
    document = ls.workspace.get_text_document(params.text_document.uri)
    word = document.word_at_position(params.position)
    if word not in registry.CODES:
        return None
    return types.Hover(
        types.MarkupContent(types.MarkupKind.Markdown, registry.meta(word).explanation)
    )


def _wants(only: Sequence[types.CodeActionKind | str] | None, kind: str) -> bool:
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _noqa_edit(document: TextDocument, d: Diagnostic) -> types.TextEdit | None:
    """`  # noqa: CODE` at the end of the line `# noqa` is read on, or the code added to the
    directive already there."""
    if not d.is_rule or d.noqa_row is None or d.noqa_row > len(document.lines):
        return None
    line = document.lines[d.noqa_row - 1].rstrip("\r\n")
    existing = _NOQA.search(line)
    if existing is not None:
        at, text = existing.end(), f", {d.code}"
    else:
        at, text = len(line), f"  # noqa: {d.code}"
    position = types.Position(d.noqa_row - 1, _utf16(line[:at]))
    return types.TextEdit(types.Range(position, position), text)


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _position(lines: Sequence[str], at: Location) -> types.Position:
    """sqlsafe's 1-based code point columns as the LSP's 0-based UTF-16 ones."""
    line = lines[at.row - 1] if 0 < at.row <= len(lines) else ""
    return types.Position(at.row - 1, _utf16(line[: at.column - 1]))


def _range(lines: Sequence[str], start: Location, end: Location) -> types.Range:
    return types.Range(_position(lines, start), _position(lines, end))


def main() -> None:
    server.start_io()
