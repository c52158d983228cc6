"""`make bench` and `make profile`.

run.py (arguments, the sections in turn, the results), sections/ (the measures, one module
per kind), servers.py (gunicorn and qclusters started and stopped), cpu.py (process trees
and their CPU time from /proc), fixtures.py (the site under test, PCM's database, the slow
cloud), load.py (HTTP load: closed and open loop), table.py and plot.py (the results
shown), urls.py and settings.py (the baseline views), tasks.py (a no-op task), profile.py
(`make profile`).
"""
