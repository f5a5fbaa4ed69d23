"""Static files without collectstatic (make run, tests): served, and no warning per app instance."""

import warnings

from django.test import Client


def test_a_new_app_instance_serves_static_files_without_warning():
    # Each test Client builds the middleware stack again; before, WhiteNoise indexed the
    # never-collected STATIC_ROOT there and warned "No directory at: .../staticfiles/".
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        response = Client().get("/static/css/switchyard.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
