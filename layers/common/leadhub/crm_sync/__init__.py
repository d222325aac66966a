"""amoCRM lead sync (seed 002): tracked inquiries into deals, contacts and companies."""
