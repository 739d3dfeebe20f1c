"""DETACH002: a function returns an instance its own session expired before closing."""

from __future__ import annotations

from sqlsafe.checks.migration import ReturnsRule
from sqlsafe.diagnostics import FixAvailability, Severity


class ReturnsExpiredInstance(ReturnsRule):
    """
    ## What it does
    Checks for functions that return an ORM instance from a session they open and close
    themselves, when the instance is certainly expired at the close: a `commit()`,
    `rollback()`, `expire()` or `expire_all()` came after it was loaded with no `refresh()`
    after it, or the return is inside a `session.begin()` block or the `with` block of a
    `@contextmanager` factory that commits after its `yield` (both commit on exit), and the
    session does not set `expire_on_commit=False`. The instance may have been loaded, built
    in the function, or received as a parameter (`def create(hero: Hero)`): once the
    function adds it to its session, the commit and the close act on it the same way.

    ## Why is this bad?
    A commit expires every attribute of every instance in the session; once the session is
    closed nothing can load them again, so the caller's first attribute read raises
    `DetachedInstanceError: Instance <User> is not bound to a Session; attribute refresh
    operation cannot proceed`. Under FastAPI this is a 500 while the response is
    serialized. A `with Session(engine) as s, s.begin():` block commits on exit too, so the
    object comes back expired even without a visible `commit()`.

    Functions that receive their session (a parameter, a FastAPI `Depends`) are not
    reported: the caller's session is still open when the caller reads the object.

    ## Example
    ```python
    def verify(code: str) -> User:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.code == code)).one()
            user.verified = True
            session.commit()
            return user
    ```

    Use instead:
    ```python
    def verify(code: str) -> dict[str, Any]:
        with Session(engine) as session:
            user = session.exec(select(User).where(User.code == code)).one()
            user.verified = True
            session.commit()
            return model_to_dict(user)
    ```

    ## Fix safety
    The fix returns `model_to_dict(obj)` from inside the block (a list comprehension for
    lists; `await session.run_sync(...)` in async code), changes the return annotation to
    `dict[str, Any]`, and imports `model_to_dict` from the `helpers-module` setting. It is
    unsafe because callers get a dict: in the same run, the reads of the result in every
    checked file (`user.email`, `getattr(user, "email")`) become `user["email"]`, reported at
    each call site under this code. When a caller uses the result in a way that cannot be
    followed (passes it on, stores it, returns it, calls a method, reads a relationship),
    the function is not converted, the message names that call site, and the safe fix is
    offered instead where it cures the failure: `session.refresh(obj)` before the return,
    which reloads the columns with one query.

    ## References
    - [SQLAlchemy: `expire_on_commit`](https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.params.expire_on_commit)
    - [SQLAlchemy: DetachedInstanceError](https://docs.sqlalchemy.org/en/20/errors.html#error-bhk3)
    - [SQLModel: read one row](https://sqlmodel.tiangolo.com/tutorial/one/)
    """

    code = "DETACH002"
    name = "returns-expired-instance"
    summary = "Function returns an ORM instance its session expired before closing"
    severity = Severity.ERROR
    fix_availability = FixAvailability.SOMETIMES


RULE = ReturnsExpiredInstance
