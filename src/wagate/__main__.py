from wagate.cli import main

main()
