"""One module per catalog rule (`lhNNN_name.py`), each with one `Rule` subclass; discovered by the registry."""
