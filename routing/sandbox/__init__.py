"""The sandbox provider server: OpenAI, Anthropic and Gemini wire formats with faults.

See README.md in this package for the URL layout and the control API.
"""
