"""Streaming clients: the lean OpenAI-compatible streamer and the LiteLLM adapter."""

from .base import ChatRequest, Delta, ProviderError, RawStream, StreamBounds, StreamClient

__all__ = ["ChatRequest", "Delta", "ProviderError", "RawStream", "StreamBounds", "StreamClient"]
