"""DETACH001: a function returns an instance whose lazy attributes its caller cannot load."""

from __future__ import annotations

from sqlsafe.checks.migration import ReturnsRule
from sqlsafe.diagnostics import FixAvailability


class ReturnsOrmInstance(ReturnsRule):
    """
    ## What it does
    Checks for functions that return an ORM instance from a session they open and close
    themselves, when the instance is loaded but its model has lazy relationships or
    deferred columns that were not loaded inside the block (or the project index does not
    know the model, so this cannot be ruled out), or when the instance is expired on some
    paths only.

    ## Why is this bad?
    Once the session is closed, columns that were loaded still read fine, but a lazy
    relationship (`user.team`) or a deferred column raises `DetachedInstanceError: Parent
    instance <User> is not bound to a Session; lazy load operation of attribute 'team'
    cannot proceed`. The function works until a caller, a template or a response model
    reads one of them.

    Not reported: sessions received as a parameter or from FastAPI `Depends`, relationships
    loaded with `selectinload`/`joinedload`/`subqueryload` or touched inside the block,
    models without relationships or deferred columns, sessions that never close.

    ## Example
    ```python
    def find_user(user_id: int) -> User | None:
        with Session(engine) as session:
            return session.get(User, user_id)
    ```

    Use instead:
    ```python
    def find_user(user_id: int) -> dict[str, Any] | None:
        with Session(engine) as session:
            return model_to_dict(session.get(User, user_id))
    ```

    Or load what callers need inside the block:
    ```python
    def find_user(user_id: int) -> User | None:
        with Session(engine) as session:
            return session.get(User, user_id, options=[selectinload(User.team)])
    ```

    ## Fix safety
    As for DETACH002: the fix returns `model_to_dict(obj)` from inside the block, changes
    the annotation and migrates the callers in the same run, and is unsafe because callers
    get a dict. A function whose result escapes what can be followed is not converted and
    its message names the call site. There is no safe alternative: `refresh()` loads no
    relationships.

    ## References
    - [SQLAlchemy: relationship loading techniques](https://docs.sqlalchemy.org/en/20/orm/queryguide/relationships.html)
    - [SQLAlchemy: DetachedInstanceError](https://docs.sqlalchemy.org/en/20/errors.html#error-bhk3)
    """

    code = "DETACH001"
    name = "returns-orm-instance"
    summary = "Function returns an ORM instance with attributes its caller cannot load"
    fix_availability = FixAvailability.SOMETIMES


RULE = ReturnsOrmInstance
