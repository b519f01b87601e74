"""A TLS context that loads its trusted certificates on the first TLS connection, not when it is made.

httpx builds a verifying context (and reads the whole CA bundle) whenever a client is created, which is
the largest single cost of a first REST call in a fresh process (tens of ms; seconds on a loaded machine)
even when the base URL is plain ``http://`` (the local server). The client gets this context instead; it
trusts exactly what httpx's default would (``SSL_CERT_FILE``, ``SSL_CERT_DIR``, else certifi) and verifies
host names, so an ``https`` redirect or proxy is as safe as before; it just pays for the bundle when used.
"""

from __future__ import annotations

import os
import ssl
import sys
import threading
from typing import Any


class LazyTrustContext(ssl.SSLContext):
    """Verifying client context (``CERT_REQUIRED``, host names checked) with trust loaded on first use."""

    _lock = threading.Lock()
    _trust_loaded: bool

    def __new__(cls) -> LazyTrustContext:
        context = super().__new__(cls, ssl.PROTOCOL_TLS_CLIENT)
        if sys.version_info >= (3, 13):  # the flags ssl.create_default_context sets there
            context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
        keylog = os.environ.get("SSLKEYLOGFILE")
        if keylog and not sys.flags.ignore_environment:
            context.keylog_filename = keylog
        context._trust_loaded = False
        return context

    def _load_trust(self) -> None:
        if self._trust_loaded:
            return
        with self._lock:
            if not self._trust_loaded:
                if os.environ.get("SSL_CERT_FILE"):
                    self.load_verify_locations(cafile=os.environ["SSL_CERT_FILE"])
                elif os.environ.get("SSL_CERT_DIR"):
                    self.load_verify_locations(capath=os.environ["SSL_CERT_DIR"])
                else:
                    import certifi

                    self.load_verify_locations(cafile=certifi.where())
                self._trust_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:
        self._load_trust()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> Any:
        self._load_trust()
        return super().wrap_bio(*args, **kwargs)


def verify_for(base_url: str) -> ssl.SSLContext | bool:
    """``verify=`` for an httpx client of ``base_url``: the lazy context for plain http, else httpx's own."""
    return LazyTrustContext() if base_url.lower().startswith("http://") else True
