from typing import Optional

from sqlmodel import Session, select

from examples.otp_app.db import engine
from examples.otp_app.models import Team, User


class InvalidCode(Exception):
    pass


def sign_up(email: str, code: str, team_name: str) -> None:
    with Session(engine) as session:
        team = Team(name=team_name)
        user = User(email=email, otp_code=code, team=team)
        session.add(user)
        session.commit()
    print(f"sent a code to {user.email}")


def verify_otp(email: str, code: str) -> User:
    with Session(engine) as session:
        user = session.exec(select(User).where(User.email == email)).one()
        if user.otp_code != code:
            raise InvalidCode(email)
        user.verified = True
        session.commit()
        return user


def find_user(email: str) -> Optional[User]:
    with Session(engine) as session:
        return session.exec(select(User).where(User.email == email)).first()


def verified_users() -> list[User]:
    with Session(engine) as session:
        return session.exec(select(User).where(User.verified)).all()
