"""The related locations of a lifecycle finding: where its instance was obtained, what
expired or refreshed it, and where its session closed, in the order they happened."""

from __future__ import annotations

import libcst as cst

from sqlsafe.checks.base import Note
from sqlsafe.checks.lifetimes import Expiry, Instance


def story(instance: Instance, closed: bool = True) -> tuple[Note, ...]:
    """`closed`: whether the finding is about the time after the session closed."""
    notes = [Note("instance obtained here", instance.origin)]
    if instance.expired is not Expiry.NO and instance.expired_at is not None:
        verb = "expired" if instance.expired is Expiry.YES else "may be expired"
        notes.append(Note(f"{verb} by {instance.cause}", instance.expired_at))
    if instance.refreshed_at is not None:
        notes.append(Note("`refresh()` reloads its columns only", instance.refreshed_at))
    if closed and instance.closed_at is not None:
        notes.append(Note(_closing(instance), instance.closed_at))
    return tuple(notes)


def _closing(instance: Instance) -> str:
    name = instance.block.name
    at = instance.closed_at
    if isinstance(at, cst.With):
        return f"session `{name}` closes at the end of this `with` block"
    if isinstance(at, cst.Call):
        return f"session `{name}` closed here"
    return f"session `{name}` opened here and closed on the way out"


def elsewhere(location: str, message: str) -> Note:
    """A note at a `path:row` another file's check wrote."""
    path, _, row = location.rpartition(":")
    return Note(message, elsewhere=(path, int(row)))
