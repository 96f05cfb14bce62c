"""The classic LSTM autoencoder: reconstruct the sequence 0.1 ... 0.9.

Shows the building block of the stack. ``build_lstm_autoencoder`` gives the
``LSTM → RepeatVector → LSTM → TimeDistributed(Dense)`` model and the encoder
sharing its layers; after training, the autoencoder reproduces the sequence and
the encoder turns it into a fixed-size code, a feature vector. The same, as a
scikit-learn transformer, is ``LSTMSAEEncoder``. Then the rest of the family:
a composite autoencoder (reconstruct the first steps, predict the last ones)
with conditional, reversed decoders, and sequences of different lengths. Run
``python examples/tutorial_autoencoders.py --quick`` for a faster version.
"""

import argparse

import keras
import numpy as np

from sae_keras import LSTMSAEEncoder
from sae_keras.nn.builders import build_lstm_autoencoder

parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
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

# The composite model (Srivastava et al., 2015): one encoder reads 0.1 ... 0.6, one
# decoder reconstructs it (last step first, as reverse_reconstruction does), one
# predicts 0.7 ... 0.9; both decoders are conditional (teacher forcing while training).
epochs = 100 if args.quick else 300
composite = LSTMSAEEncoder(hidden_units=(100,), pretrain_epochs=epochs, random_state=1,
                           pretrain_objective="composite", prediction_steps=3,
                           conditional_decoder=True, reverse_reconstruction=True).fit(sequence)
decoded = composite.inverse_transform(composite.transform(sequence))
print("composite (reconstruction | prediction):", decoded[0, :6, 0].round(3), "|",
      decoded[0, 6:, 0].round(3))
losses = composite.history_["pretrain_1"]
print("  losses, first -> last epoch: reconstruction "
      f"{losses['reconstruction_1_loss'][0]:.4f} -> {losses['reconstruction_1_loss'][-1]:.4f}, "
      f"prediction {losses['prediction_1_loss'][0]:.4f} -> {losses['prediction_1_loss'][-1]:.4f}")

# Sequences of different lengths: a list (or NaN right-padded windows). Padded steps
# are masked: out of the codes and out of the losses.
ramps = [np.linspace(0.1, 0.1 * n, n)[:, None] for n in (4, 6, 9)] * 8
ragged = LSTMSAEEncoder(hidden_units=(16,), pretrain_epochs=epochs, batch_size=8,
                        random_state=0).fit(ramps)
print("variable-length codes:", ragged.transform(ramps[:3]).shape,
      "- per-step error of the 4-step ramp (NaN = padding):",
      ragged.reconstruction_error(ramps[:1], per="step")[0].round(4))
