"""The sandbox e-shop and CRM: the bot's embedded default backend and a staging target.

A real HTTP service (Sanic) over a real database (SQLAlchemy; SQLite by
default, PostgreSQL through DATABASE_URL), seeded from seed.yml. Its API is
described in openapi.yaml.
"""
