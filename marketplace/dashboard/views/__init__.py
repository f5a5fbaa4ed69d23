"""Dashboard views, one module per page; thin: parse with a form, call a service, render."""
