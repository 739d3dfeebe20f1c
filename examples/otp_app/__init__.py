"""A small legacy app with the incident sqlsafe exists for: email-OTP verification returns
the user after a commit, and a caller in another module reads `user.id`.

Run it with `python -m examples.otp_app` (SQLite in memory). As written it fails with
`DetachedInstanceError`; `sqlsafe fix --unsafe-fixes examples/otp_app` repairs it.
"""
