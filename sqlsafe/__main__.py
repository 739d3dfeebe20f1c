from sqlsafe.cli import main

main()
