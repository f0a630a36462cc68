"""REST API v1 (issue 15): Bearer tokens, JSON, RFC 9457 problem details."""
