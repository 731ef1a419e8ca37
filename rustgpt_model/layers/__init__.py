"""The forward and backward pass of each layer kind, one module per kind."""

from rustgpt_model.layers import attention, embeddings, feed_forward, layer_norm, output

__all__ = ["attention", "embeddings", "feed_forward", "layer_norm", "output"]
