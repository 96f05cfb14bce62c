"""Pure Keras: builders from parameters to models, custom layers (stable registered
names), compiled inference and distribution strategies."""
