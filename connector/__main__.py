import sys

from connector.entry.cli import main

sys.exit(main())
