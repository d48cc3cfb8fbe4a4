"""Waking this process's deliverers once a transaction that made deliveries has committed, so
that a manual 催办 goes out at once rather than at the deliverer's next look. It imports
nothing of the app, so that anything that writes to the outbox can use it."""

import threading

_listeners: set[threading.Event] = set()
_lock = threading.Lock()


def listen(event: threading.Event) -> None:
    """Set event whenever wake() is called."""
    with _lock:
        _listeners.add(event)


def stop_listening(event: threading.Event) -> None:
    with _lock:
        _listeners.discard(event)


def wake() -> None:
    """Tell every deliverer of this process that there are deliveries to send."""
    with _lock:
        for event in _listeners:
            event.set()
