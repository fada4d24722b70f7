"""The command line: every command of `approvalflow-sync`."""
