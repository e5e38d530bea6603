"""Gradio surface: the app shell and one module per tab."""
