"""What the request handlers share: config, store, ingestor, notifier and the macro tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from evswarm.review.config import ReviewConfig
from evswarm.review.ingest import Ingestor, Notifier
from evswarm.review.sidecar import Analysis
from evswarm.review.store import Store
from evswarm.review.tickets import TicketBook


@dataclass
class ReviewState:
    config: ReviewConfig
    store: Store
    notifier: Notifier
    ingestor: Ingestor
    analysis: Analysis
    loading: dict[str, int] = field(default_factory=lambda: {"done": 0, "total": 0})
    tickets: TicketBook = field(default_factory=TicketBook)

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
