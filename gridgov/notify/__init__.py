"""Notifications (通知): a transactional outbox, pluggable channels and a retrying worker.

Domain code calls :mod:`gridgov.notify.outbox` inside its own transaction; a worker later calls
:func:`gridgov.notify.worker.deliver_due` to send what is due through the configured channels.
"""
