from mlg.cli import main

main()
