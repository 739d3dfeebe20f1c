"""libcst codemod commands: each rule's fix, usable with libcst's own runner.

    python -m libcst.tool codemod --no-format -x sqlsafe.codemods.rules.SQL001 src/

applies exactly what `sqlsafe fix --select SQL001 src/` would (add `--unsafe-fixes` to the
codemod's arguments for unsafe fixes). The fixes themselves live with their rules in
`sqlsafe.checks`; these commands run the same engine.
"""
