"""``python -m actorflow``: the command-line tool."""

from actorflow.cli import main

if __name__ == "__main__":
    main()
