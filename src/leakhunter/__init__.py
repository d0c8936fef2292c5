"""leakhunter: find memory and goroutine leaks in Go services.

The public API is small: the model (`leakhunter.model`), the errors
(`leakhunter.errors`) and the readers in `leakhunter.profiles`. Everything else
is private to the command line and may change.
"""

__version__ = "0.1.0"
