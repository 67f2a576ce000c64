"""`tfnn` subcommands other than train/evaluate/board (see tfnn.cli.COMMAND_MODULES)."""
