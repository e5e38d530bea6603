"""The browser's realtime channel and what stands behind it: the relay route to a provider,
the demo tools it runs, and the chained pipeline it can relay to instead of a realtime model."""
