from examples.otp_app.main import main

main()
