from kpr_excel.cli import main

main()
