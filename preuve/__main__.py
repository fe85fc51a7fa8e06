from preuve.cli.main import main

main()
