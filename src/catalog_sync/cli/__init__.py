"""The command-line shell: one module per command group; parse, call the core, render."""
