"""The sae-keras command: its argument parsers and main (_command), the main job
(_job) and the handling of the backend's native start-up logs (_native_logs)."""
