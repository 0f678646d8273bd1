"""The doors into the Rasa server: input channels that screen every message before Rasa sees it.

credentials.yml names the classes in channels.web (REST, Socket.IO) and channels.messaging (WhatsApp through
Twilio, Messenger); they share one guard (channels.guard). channels.log_redaction keeps message text, emails
and payment data out of warning and error logs, in the Rasa server and the action server alike, so this
package imports nothing heavy at the top.
"""
