"""Pure HTML views shared by the notebook layer and the embedded server.

Imports only the standard library and ``langfuse_nb.wire``: the server may import this package, so nothing
here may reach for the SDK, the notebook layer, IPython or the network. Every value is escaped on output.
"""
