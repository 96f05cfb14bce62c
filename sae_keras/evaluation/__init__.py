"""Evaluation: metrics (sae_keras.evaluation.metrics), rolling-origin evaluation
beside baselines (sae_keras.evaluation.rolling) and plots (sae_keras.evaluation.plotting)."""
