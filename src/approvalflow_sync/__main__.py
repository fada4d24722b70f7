"""``python -m approvalflow_sync`` runs the command line."""

import sys

from approvalflow_sync.cli.main import main

sys.exit(main())
