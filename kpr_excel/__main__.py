import sys

from kpr_excel.cli import main

sys.exit(main())
