"""Plain-Python services: each takes a Session (or plain data) and returns plain data. No Qt."""
