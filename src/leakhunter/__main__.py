import sys

from leakhunter.cli import main

sys.exit(main())
