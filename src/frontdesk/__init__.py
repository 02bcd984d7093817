"""frontdesk: a self-hosted online consultant (live chat widget + operator panel)."""
