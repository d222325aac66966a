"""Reports over the stored conversion partitions."""
