"""The pure core: mapping, planning and rendering; no I/O."""
