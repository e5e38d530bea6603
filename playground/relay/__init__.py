"""Realtime on the app side: the browser relay (later: demo tools, the chained pipeline)."""
