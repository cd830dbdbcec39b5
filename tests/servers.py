"""Real Dovecot and SMTP servers for tests (being written)."""
