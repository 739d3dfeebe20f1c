"""A language client for `sqlsafe server` (pygls's), as the tests and the latency benchmark
drive it: the documents an editor holds and the diagnostics the server publishes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

REPO = Path(__file__).parents[2]


class Editor:
    """The client's side: the documents it holds and what the server last published."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client, self.root = client, root
        self.published: dict[str, list[types.Diagnostic]] = {}
        self.arrived: asyncio.Queue[str] = asyncio.Queue()
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    async def diagnostics(self, name: str, act: Callable[[], None]) -> list[types.Diagnostic]:
        """Do `act` and wait for the server's next diagnostics of `name`."""
        uri = self.uri(name)
        while not self.arrived.empty():
            self.arrived.get_nowait()
        act()
        while await asyncio.wait_for(self.arrived.get(), 60) != uri:
            pass
        return self.published[uri]

    def open(self, name: str, text: str) -> None:
        self.versions[name] = 1
        item = types.TextDocumentItem(self.uri(name), "python", 1, text)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))

    def change(self, name: str, text: str) -> None:
        self.versions[name] += 1
        document = types.VersionedTextDocumentIdentifier(self.versions[name], self.uri(name))
        change = types.TextDocumentContentChangeWholeDocument(text)
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))

    def save(self, name: str) -> None:
        document = types.TextDocumentIdentifier(self.uri(name))
        self.client.text_document_did_save(types.DidSaveTextDocumentParams(document))

    async def actions(
        self, name: str, row: int, only: list[types.CodeActionKind] | None = None
    ) -> list[types.CodeAction]:
        here = types.Position(row - 1, 0)
        found = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(self.uri(name)),
                types.Range(here, types.Position(row - 1, 200)),
                types.CodeActionContext([], only=only),
            )
        )
        return [a for a in found or [] if isinstance(a, types.CodeAction)]


def session(project: Path, script: Callable[[Editor], Awaitable[None]]) -> None:
    async def run() -> None:
        client = LanguageClient("sqlsafe-tests", "1")
        editor = Editor(client, project)

        @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            editor.published[params.uri] = params.diagnostics
            editor.arrived.put_nowait(params.uri)

        env = {**os.environ, "PYTHONPATH": str(REPO)}
        # Started elsewhere, as editors do: the workspace folder is the project.
        command = (sys.executable, "-m", "sqlsafe", "server")
        await client.start_io(*command, cwd=project.parent, env=env)
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=project.as_uri(),
                workspace_folders=[types.WorkspaceFolder(project.as_uri(), "project")],
            )
        )
        client.initialized(types.InitializedParams())
        try:
            await script(editor)
        finally:
            await client.shutdown_async(None)
            client.exit(None)
            await client.stop()

    asyncio.run(run())
