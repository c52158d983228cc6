"""WSGI entry point: `gunicorn pcm.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pcm.settings")
application = get_wsgi_application()
