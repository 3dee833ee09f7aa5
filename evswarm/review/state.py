"""What the request handlers share: config, store, ingestor, notifier and the macro tables."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from evswarm.review.config import ReviewConfig
from evswarm.review.ingest import Ingestor, Notifier
from evswarm.review.sidecar import Analysis
from evswarm.review.store import Store
from evswarm.review.tickets import SignInCodes, TicketBook


@dataclass
class ReviewState:
    config: ReviewConfig
    store: Store
    notifier: Notifier
    ingestor: Ingestor
    analysis: Analysis
    loading: dict[str, Any] = field(default_factory=lambda: {"done": 0, "total": 0, "phase": "starting"})
    """Progress of the start-up import: done and total files or members, phase (starting, importing, done)."""
    closing: threading.Event = field(default_factory=threading.Event)
    """Set at shutdown: a start-up import still running stops after its current file."""
    tickets: TicketBook = field(default_factory=TicketBook)
    signin: SignInCodes = field(default_factory=SignInCodes)

    @classmethod
    def open(cls, config: ReviewConfig) -> ReviewState:
        store = Store(config.db_path)
        notifier = Notifier()
        return cls(
            config=config,
            store=store,
            notifier=notifier,
            ingestor=Ingestor(store, notifier, max_bytes=config.max_body),
            analysis=Analysis(config.analysis_dir),
        )
