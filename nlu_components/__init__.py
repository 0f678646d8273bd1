"""The assistant's own NLU: Rasa graph components added to the pipeline in config.yml, and the rules they share
with the actions. Each module says what it adds; `formats` (values with a known format: emails, phone
numbers, order and case numbers, coupon codes, dates) imports no Rasa, so the action server uses it as well.
"""
