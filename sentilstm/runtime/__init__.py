"""Inference without TensorFlow or Keras: the NumPy forward pass (numpy), onnxruntime (onnx),
hand-written gradients (backprop), and the weight-name scheme they all read (layout)."""
