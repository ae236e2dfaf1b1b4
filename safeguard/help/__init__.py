"""Help directory: who a child can call or chat with, by country (CR-06). Data the operator
edits (help/data/help_directory.toml), read by the portal's help box and danger path."""
