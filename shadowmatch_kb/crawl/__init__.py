"""Crawling registered sources: the sources registry (``sources``) and, later, the crawler itself."""
