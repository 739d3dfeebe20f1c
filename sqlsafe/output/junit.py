"""`junit`: one test suite per file and one failed test case per diagnostic."""

from __future__ import annotations

from pathlib import PurePath

from sqlsafe.output._shared import PROGRAM, absolute_path, by_path
from sqlsafe.report import Report

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def _xml(text: str) -> str:
    # All five entities, in attributes and text alike, as the XML writer behind Ruff does.
    return text.translate(_ESCAPES)


def render(report: Report) -> str:
    package = f"org.{PROGRAM}"
    lines = ['<?xml version="1.0" encoding="UTF-8"?>']
    total = len(report.diagnostics)
    if not total:
        lines += [
            f'<testsuites name="{PROGRAM}" tests="1" skipped="0" failures="0" errors="0">',
            f'    <testsuite name="{PROGRAM}" tests="1" skipped="0" errors="0" failures="0"'
            f' package="{package}">',
            f'        <testcase name="No errors found" classname="{PROGRAM}"/>',
            "    </testsuite>",
            "</testsuites>",
        ]
        return "\n".join(lines) + "\n"

    lines.append(
        f'<testsuites name="{PROGRAM}" tests="{total}" skipped="0" failures="{total}" errors="0">'
    )
    for path, diagnostics in by_path(report.diagnostics).items():
        filename = absolute_path(report, path)
        pure = PurePath(filename)
        classname = str(pure.parent / pure.stem)
        count = len(diagnostics)
        lines.append(
            f'    <testsuite name="{_xml(filename)}" tests="{count}" skipped="0" errors="0"'
            f' failures="{count}" package="{package}">'
        )
        for d in diagnostics:
            row, column = d.start.row, d.start.column
            message = _xml(d.message)
            lines += [
                f'        <testcase name="{package}.{_xml(d.code)}" classname="{_xml(classname)}"'
                f' line="{row}" column="{column}">',
                "            <properties>",
                f'                <property name="severity" value="{d.severity.value}"/>',
                "            </properties>",
                f'            <failure message="{message}">line {row}, col {column}, {message}'
                "</failure>",
                "        </testcase>",
            ]
        lines.append("    </testsuite>")
    lines.append("</testsuites>")
    return "\n".join(lines) + "\n"
