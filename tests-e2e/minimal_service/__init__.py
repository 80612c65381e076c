"""A minimal Mandi service, to show (and test) how little wiring the runtime leaves a service.

Notes: POST /notes writes a note and publishes NoteWritten through the outbox; the service's own
consumer counts the note's words when the event comes back from Kafka; GET /notes/{id} shows
both. The wiring (config, unit of work, bootstrap, routes, consumers, definition, migrations'
env and boilerplate) is measured by tests-e2e/test_minimal_service.py.
"""
