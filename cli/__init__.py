"""`pulse`, the command line (CONTRACT §5): cli/main.py is the console script's entry
point; the commands live by subject beside it."""
