"""DRF renderers the apps' APIs share."""

from rest_framework import renderers


class CsvRenderer(renderers.BaseRenderer):
    """Lets `Accept: text/csv` through content negotiation for a CSV export; the CSV itself
    streams past DRF's renderers, and an error still reads as DRF's JSON."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)
