from lockgen.cli.main import main

main()
