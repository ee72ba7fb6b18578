"""The Keras side: our LSTM cell (cell) and the classifier network (model)."""
