"""Signed inbound webhooks from the shop platforms: verified, de-duplicated, turned into cache
invalidations and proactive messages in the Rasa conversation that asked about the order.

signatures.py checks who sent a delivery, when and (where the sender signs it) what about, deliveries.py
applies each one once, events.py says what it means, news.py what the shop's own order confirms of it,
reactions.py acts on it, conversations.py remembers which conversation to tell, and app.py serves it all
as a Sanic blueprint (or on its own: `python -m webhooks`).
"""
