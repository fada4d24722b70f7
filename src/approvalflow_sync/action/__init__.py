"""The GitHub Action's program: inputs, credentials, sync, run."""
