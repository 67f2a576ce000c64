"""``python -m tfnn ...``: the same command line as ``tfnn ...``."""

from tfnn.cli import console_main

if __name__ == "__main__":
    console_main()
