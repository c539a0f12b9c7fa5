from lockgen.cli import main

main()
