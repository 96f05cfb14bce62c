"""The classic LSTM autoencoder: reconstruct the sequence 0.1 ... 0.9.

Shows the building block of the stack. ``build_lstm_autoencoder`` gives the
``LSTM → RepeatVector → LSTM → TimeDistributed(Dense)`` model and the encoder
sharing its layers; after training, the autoencoder reproduces the sequence and
the encoder turns it into a fixed-size code, a feature vector. The same, as a
scikit-learn transformer, is ``LSTMSAEEncoder``. Run
``python examples/tutorial_autoencoders.py --quick`` for a faster version.
"""

import argparse

import keras
import numpy as np

from sae_keras import LSTMSAEEncoder
from sae_keras.builders import build_lstm_autoencoder

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="fewer epochs")
args = parser.parse_args()
keras.utils.set_random_seed(1)

sequence = np.linspace(0.1, 0.9, 9).reshape(1, 9, 1)  # one sample, 9 steps, 1 channel
autoencoder, encoder = build_lstm_autoencoder(timesteps=9, input_dim=1, units=100,
                                              decoder_units=100, activation="relu")
autoencoder.compile(optimizer="adam", loss="mse")
autoencoder.fit(sequence, sequence, epochs=100 if args.quick else 300, verbose=0)

print("input:         ", sequence[0, :, 0].round(3))
print("reconstruction:", autoencoder.predict(sequence, verbose=0)[0, :, 0].round(3))
print("code shape:    ", encoder.predict(sequence, verbose=0).shape, "(one 100-value vector)")

# The tutorial's first example through the estimator, at its defaults: decoders
# as wide as the encoder, the sequence standardised inside fit.
estimator = LSTMSAEEncoder(hidden_units=(100,), pretrain_epochs=100 if args.quick else 300,
                           random_state=1).fit(sequence)
rebuilt = estimator.inverse_transform(estimator.transform(sequence))
print("LSTMSAEEncoder reconstruction:", rebuilt[0, :, 0].round(3),
      f"max abs error {np.abs(rebuilt - sequence).max():.4f}")

# The same idea as a transformer: codes for many shifted sequences at once.
starts = np.linspace(0.0, 0.5, 40)
batch = (starts[:, None] + np.linspace(0.1, 0.4, 9)[None, :])[..., None]
features = LSTMSAEEncoder(hidden_units=(16, 4), pretrain_epochs=20 if args.quick else 100,
                          learning_rate=1e-2, batch_size=8, random_state=0).fit_transform(batch)
print("LSTMSAEEncoder features:", features.shape, "- first row", features[0].round(3))
