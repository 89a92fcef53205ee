"""The config corpus: good and bad proxy config files, and the index of what each must yield."""
