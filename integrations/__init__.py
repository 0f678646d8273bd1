"""Clients for the e-shop and the CRM: ports, typed results, errors and adapters."""
