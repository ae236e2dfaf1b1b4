"""Bulk work (scanning folders of files) on Dask: a local cluster by default, a scheduler
address for a real one."""
