"""Allow `python -m cli`."""

from cli.main import run

if __name__ == "__main__":  # not when a rebuild worker process is started from this module
    run()
