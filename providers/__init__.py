"""PCM's plugin layer over Apache Libcloud.

This package imports none of PCM's Django apps: a plugin receives plain data (options,
decrypted credentials, ids) and returns plain data.
"""
