"""Voice-agent evals: scripted conversations against any provider, measured turn by turn."""
