"""The Realtime API (GA protocol) on local models: sessions, turns, responses."""
