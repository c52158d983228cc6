"""One OpenStack API as a WSGI application for gunicorn: `PCM_LAB_WSGI` names its module
(keystone.wsgi.api, placement.wsgi.api, glance.wsgi.api, nova.wsgi.osapi_compute,
neutron.wsgi.api).

oslo.config parses `sys.argv` when an API module is imported: gunicorn's own arguments
would then be refused and the worker would exit at every start. They are cut first."""

import importlib
import os
import sys

sys.argv = sys.argv[:1]
application = importlib.import_module(os.environ["PCM_LAB_WSGI"]).application
