"""The management API's JSON parser: DRF's, with nesting too deep for Python a 400.

The stdlib decoder recurses per level, so `[[[[...` a few thousand deep raised RecursionError,
which DRF does not treat as a parse error: a 500. No API body nests beyond a few levels.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
