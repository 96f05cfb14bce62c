"""Data: windows from tables, table reading rules, input validation, time splits and
the bundled datasets (sae_keras.data.datasets)."""
