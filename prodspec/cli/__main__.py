from prodspec.cli.parser import main

main()
