"""The subcommands of ``rustgpt``, one module each."""
