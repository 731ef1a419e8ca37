"""The subcommands of ``rustgpt-format``, one module each."""
