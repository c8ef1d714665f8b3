"""kgtool: the Kazakhstan–China cultural relations knowledge graph and its command-line tool.

The library core (everything but ``cli.py``) never imports click and never prints; it raises
:class:`kgtool.errors.KgtoolError` subclasses whose messages a user can act on.
"""

__version__ = "0.1.0"
