"""DETACH003: returning right after `refresh()`, which reloads columns but no relationships."""

from __future__ import annotations

from sqlsafe.checks.migration import ReturnsRule
from sqlsafe.diagnostics import FixAvailability


class ReturnsRefreshedInstance(ReturnsRule):
    """
    ## What it does
    Checks for functions that `refresh()` an instance after the last commit and return it
    from a session they close, when the project index knows that its model has
    relationships (or deferred columns) that were not loaded inside the block.

    ## Why is this bad?
    `session.refresh(obj)` after a commit is the pattern the SQLModel tutorial teaches, and
    it is right for columns: they read fine after the close. It does not load
    relationships or deferred columns, so `obj.team` still raises `DetachedInstanceError`
    after the close. Models without relationships, and unknown models, are not reported.

    ## Example
    ```python
    def create_hero(data: HeroCreate) -> Hero:
        with Session(engine) as session:
            hero = Hero.model_validate(data)
            session.add(hero)
            session.commit()
            session.refresh(hero)
            return hero
    ```

    Use instead, if callers need only the columns:
    ```python
    def create_hero(data: HeroCreate) -> dict[str, Any]:
        with Session(engine) as session:
            hero = Hero.model_validate(data)
            session.add(hero)
            session.commit()
            session.refresh(hero)
            return model_to_dict(hero)
    ```

    Or load the relationships callers read: `session.refresh(hero, ["team"])` (SQLAlchemy
    2.x only; 1.4 raises `InvalidRequestError`) or read `hero.team` inside the block.

    ## Fix safety
    As for DETACH002: unsafe, callers get a dict and are migrated in the same run; a
    function whose result escapes what can be followed is not converted.

    ## References
    - [SQLModel: refresh objects](https://sqlmodel.tiangolo.com/tutorial/automatic-id-none-refresh/)
    - [SQLAlchemy: `Session.refresh`](https://docs.sqlalchemy.org/en/20/orm/session_api.html#sqlalchemy.orm.Session.refresh)
    """

    code = "DETACH003"
    name = "returns-refreshed-instance"
    summary = "Function returns an instance after `refresh()`, which loads no relationships"
    fix_availability = FixAvailability.SOMETIMES


RULE = ReturnsRefreshedInstance
