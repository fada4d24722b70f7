"""Everything that talks to GitHub: the event, the API gateway and the Actions runner."""
