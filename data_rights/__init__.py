"""Data subject rights: a customer's copy of their data, its erasure, and the end of marketing mail.

One core for the chat (actions/privacy.py, for a customer who proved their email with a one-time code) and
for operators (scripts/privacy.py, `make privacy`): desk.py runs a request over the three places that hold
data about a customer (Rasa's tracker store, the bot's state database, the CRM through its port) and
keeps every request in an audit log without the data itself (audit.py).
"""
