"""One module per subcommand, discovered by `leakhunter.cli` (see its docstring for the shape)."""
