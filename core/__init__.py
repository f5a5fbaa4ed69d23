"""Pure helpers every app may use: stdlib only, no Django, nothing of ours."""
