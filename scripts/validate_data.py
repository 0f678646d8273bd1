"""`rasa data validate`, strict, with one blind spot of it covered.

Rasa warns that a response is "not used in any story or rule" when only a
custom action or a form's question sends it. Such a warning is accepted only
if actions/ or channels/ really names the response or a form asks for that slot, and
EXTERNAL_* intents (triggered by webhooks) may lack NLU examples, two-request intents are split before
the dialogue sees them; every
other warning fails the build. The reverse is
checked too: a response named there must exist in the domain.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
UNUSED_RESPONSE = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")
# Triggered by the webhook receiver through Rasa's API, never typed: they have no NLU examples.
EXTERNAL_INTENT_WITHOUT_EXAMPLES = re.compile(r"The intent 'EXTERNAL_\w+' is listed in the domain file, but is not found in the NLU training data")
# Set by nlu_components/languages.py, never learned: DIET must not learn it.
COMPONENT_INTENT_WITHOUT_EXAMPLES = re.compile(
    r"The intent 'other_language' is listed in the domain file, but is not found in the NLU training data")
# Two-request labels (data/nlu/two_requests.yml) never reach the dialogue: nlu_components/requests.py splits them.
TWO_REQUEST_INTENT_UNUSED = re.compile(r"The intent '\w+\+\w+' is not used in any story or rule")
RASA_WARNING = re.compile(r"rasa/.*UserWarning: (.*)")
RESPONSE_IN_CODE = re.compile(r"""["'](utter_\w+)["']""")


def form_questions(domain: dict) -> set[str]:
    """The responses forms send by naming convention: utter_ask_<slot> and utter_ask_<form>_<slot>."""
    questions = set()
    for form, spec in (domain.get("forms") or {}).items():
        for slot in spec.get("required_slots", []):
            questions |= {f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"}
    return questions


# The custom actions send responses, and so does the channel guard (channels/guard.py) before the dialogue.
SENDERS = ("actions", "channels")


def responses_named_in_actions() -> set[str]:
    paths = [path for folder in SENDERS for path in (REPO / folder).glob("*.py")]
    return {name for path in paths for name in RESPONSE_IN_CODE.findall(path.read_text())}


def main() -> int:
    result = subprocess.run(
        [str(Path(sys.executable).parent / "rasa"), "data", "validate",
         "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
    )
    output = result.stdout + result.stderr
    domain = yaml.safe_load((REPO / "domain.yml").read_text())
    in_code = responses_named_in_actions()
    used_outside_stories = in_code | form_questions(domain)
    problems = []
    for warning in RASA_WARNING.findall(output):
        unused = UNUSED_RESPONSE.search(warning)
        if any(accepted.search(warning) for accepted in (
                EXTERNAL_INTENT_WITHOUT_EXAMPLES, COMPONENT_INTENT_WITHOUT_EXAMPLES, TWO_REQUEST_INTENT_UNUSED)):
            continue
        if not (unused and unused.group(1) in used_outside_stories):
            problems.append(warning)
    domain_responses = set(domain["responses"])
    problems += [f"actions/ or channels/ name '{name}', which domain.yml does not define"
                 for name in sorted(in_code - domain_responses)]
    if result.returncode != 0:
        problems.append(f"rasa data validate exited with {result.returncode}")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    if problems:
        print(output[-3000:], file=sys.stderr)
        return 1
    print(f"rasa data validate: clean ({len(in_code)} responses sent from actions/ and channels/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
