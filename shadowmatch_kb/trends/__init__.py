"""The signal tracker: signal clusters, themes and sectors counted per period, emerging signals, digests."""
