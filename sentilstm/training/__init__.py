"""Training: the shared loop pieces (loop), one-process training (local) and tf.distribute
(distributed)."""
