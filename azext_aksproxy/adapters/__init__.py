"""az adapters: one module per command family. They read from Azure, call the pure packages and report the
az way (azure-cli errors, warnings, progress). Rules and decisions live in the pure packages, not here.
"""
