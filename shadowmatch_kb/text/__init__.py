"""Text foundations every stage reads with: sentences, English word forms, stop words, dates, sectors.

A foundation package: it imports nothing of the package but ``model`` and ``errors``, so enrichment,
briefings, trends, the CLI and the web page can all use it without depending on one another.
"""
