"""The review app: three-pane trace review, annotation with agreement and live ingestion (`evswarm serve`)."""

from evswarm.review.server import serve

__all__ = ["serve"]
