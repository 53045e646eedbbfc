"""Reading the network: one fetcher for every URL the knowledge base reads.

- ``async_http``: ``AsyncFetcher``, the one implementation: redirects with every hop checked, size
  limits, accepted media types, timeouts, retries and conditional GETs. The crawler awaits it.
- ``blocking``: ``BlockingFetcher``, the same fetcher for synchronous callers (``smkb ingest URL``).
- ``pinned``: the transport under both, which resolves a host once, refuses private addresses and
  connects to the address it checked, so a name cannot rebind between the check and the connection.
- ``safety``: the address and scheme rules, and the one spelling of a URL the knowledge base keeps.
- ``decode``: the charset of a Content-Type header and the decoding of a fetched body.
- ``robots``: robots.txt, as RFC 9309 reads it.

Callers never build the transport themselves: they receive a fetcher, or a ``FetcherFactory``
(``AsyncFetcher`` is the standard one), so tests can hand in one backed by loopback or a function.
Nothing is imported here, so ``fetch.safety`` and ``fetch.decode`` stay quick to import.
"""
