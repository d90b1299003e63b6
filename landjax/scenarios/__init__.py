"""See the package docstring of landjax."""
