"""``python -m web.cli``: the ``panelslot`` command."""

from web.cli import main

if __name__ == "__main__":
    main()
