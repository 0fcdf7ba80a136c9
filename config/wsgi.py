import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.preflight import check_environment  # noqa: E402  (needs Django set up first)

check_environment()
