"""One module per vendor: everything Leadhub knows of it; `registry` looks a vendor up."""
