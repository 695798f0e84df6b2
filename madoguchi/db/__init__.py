"""Database backends: Django's own, with the few changes Madoguchi needs."""
