"""Runnable examples shipped with the package; `zoo demo` runs `demo.run_demo`.

The scripts in the repository's `examples/` folder use the real shared data sets;
this one makes its own images, so it runs anywhere.

Example:
    >>> from zoo.examples import demo
    >>> demo.DEFAULT_EPOCHS
    (8, 8)
"""
