"""The ``ikg`` command line: the top layer, beside the API.

It reads settings, opens the store and the index, and calls the applications; nothing
below imports it."""
