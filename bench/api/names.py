"""What the locustfile and bench_api.py must agree on: locust's request names and the form options.

Kept apart from the locustfile because importing that one pulls in locust (and gevent's patching).
"""

POST_NAME = "POST /v1/conversions"
EVENTS_NAME = "GET /v1/conversions/{id}/events (until the job ends)"
CACHE_NAME = "POST /v1/conversions (cache hit)"
OPTIONS = {"options": '{"format": "stl", "height": 3}'}
