"""`python -m kgtool`: the CLI without the console script (tests use it in subprocesses)."""

from kgtool.cli import main

if __name__ == "__main__":
    main()
