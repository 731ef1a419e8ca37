"""``python -m rustgpt_format`` is the ``rustgpt-format`` command."""

from rustgpt_format.cli import main

if __name__ == "__main__":
    main()
