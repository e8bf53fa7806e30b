from funding.cli import main

main()
