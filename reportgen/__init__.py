"""reportgen: customer segmentation briefs from a customer table.

This file imports nothing: the `reportgen` command runs it before it can install its
Ctrl-C handler (see __main__.py), and importing `importlib.metadata` here took longer
than all the rest of the command's start-up before that handler. The version is
looked up the first time it is asked for.
"""


def __getattr__(name: str) -> str:
    """`reportgen.__version__`, read from the installed package's metadata once."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("reportgen")
    except PackageNotFoundError:  # running from a source tree that was never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
