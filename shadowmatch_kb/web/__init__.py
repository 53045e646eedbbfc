"""The web page of `smkb serve`."""
