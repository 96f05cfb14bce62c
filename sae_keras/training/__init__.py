"""Training: the one training loop, greedy pretraining, checkpoints, the pretraining
cache, and every private Keras/TensorFlow name in one module (_keras_private)."""
