from lockgen.cli.app import main

main()
