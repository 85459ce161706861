import sys

from p2pcall.cli import main

sys.exit(main())
