from examples.otp_app.accounts import find_user, sign_up, verified_users, verify_otp
from examples.otp_app.db import create_tables


def login(email: str, code: str) -> str:
    user = verify_otp(email, code)
    return f"session token for user {user.id} <{user.email}>"


def main() -> None:
    create_tables()
    sign_up("ada@example.com", "123456", "analytical engines")
    print(login("ada@example.com", "123456"))
    known = find_user("ada@example.com")
    print("found:", known.email if known else None)
    print("verified:", [user.email for user in verified_users()])
