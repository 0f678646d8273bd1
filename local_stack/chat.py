"""A terminal chat over the REST channel, showing buttons as numbered choices."""

from __future__ import annotations

import uuid

import requests


def chat(stack) -> None:
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    print("Chat with the assistant (type /quit or press Ctrl-D to stop).")
    buttons: list[dict] = []
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            print()
            return
        if text in ("/quit", "/exit"):
            return
        if not text:
            continue
        text = _chosen_payload(text, buttons)
        try:
            replies = stack.say(sender, text)
        except requests.RequestException as failure:
            print(f"(the assistant did not answer: {failure})")
            continue
        buttons = []
        for reply in replies:
            if "text" in reply:
                print(f"bot> {reply['text']}")
            for button in reply.get("buttons", []):
                buttons.append(button)
                print(f"     [{len(buttons)}] {button['title']}")


def _chosen_payload(text: str, buttons: list[dict]) -> str:
    if text.isdigit() and 1 <= int(text) <= len(buttons) and len(text) < 3:
        return buttons[int(text) - 1]["payload"]
    return text
