"""onewindow (一窗): the operator's command line around the engine.

The package holds no business rule: every command parses its arguments, calls one engine function
and prints the result as a table (for people) or JSON (for scripts). See `onewindow --help`.
"""

__version__ = "0.1.0"
