# The two commands: `make run` (chat with the bot) and `make test` (everything CI runs).
SHELL := /bin/bash
export RASA_TELEMETRY_ENABLED := false
# The sentence-embedding model ships inside a pip package: never look for it online.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export PYTHONPATH := $(CURDIR)

VENV := .venv/bin
RASA := $(VENV)/rasa
TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml')
MODEL := models/commerce-assistant.tar.gz

.PHONY: run test bootstrap train validate pytest e2e rasa-test report privacy clean

run: bootstrap $(MODEL)
	$(VENV)/python -m local_stack

test: bootstrap validate pytest $(MODEL) e2e rasa-test

bootstrap:
	@scripts/bootstrap.sh

train: bootstrap $(MODEL)

# Retrains only when the training data, the domain or the config changed.
$(MODEL): $(TRAINING_INPUTS) | bootstrap
	$(RASA) train --config config.yml --domain domain.yml --data data --out models --fixed-model-name commerce-assistant

validate: bootstrap
	$(VENV)/python scripts/validate_data.py

pytest: bootstrap
	$(VENV)/python -m pytest -m "not e2e"

e2e: bootstrap $(MODEL)
	$(VENV)/python -m pytest -m e2e

rasa-test: bootstrap $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/stories --fail-on-prediction-errors --out results/core
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu/holdout.yml --out results/nlu
	$(VENV)/python scripts/check_nlu_results.py results/nlu

# Containment and CSAT of service conversations (scripts/service_report.py; ARGS="--since YYYY-MM-DD --json").
report: bootstrap
	$(VENV)/python scripts/service_report.py $(ARGS)

# Data subject requests for operators (scripts/privacy.py, audited): ARGS="export EMAIL [--out FILE]",
# "erase EMAIL" or "consent EMAIL".
privacy: bootstrap
	$(VENV)/python scripts/privacy.py $(ARGS)

clean:
	rm -rf models results var .rasa
