from cpsdiag.cli import main

main()
