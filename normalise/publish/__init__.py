"""Publishing: ``datapackage.json``, the data dictionary and the DuckDB views over the Parquet
files (``package``). ``connect(out)`` opens those views from Python."""

from normalise.publish.package import connect, write_data_dictionary, write_datapackage, write_duckdb

__all__ = ["connect", "write_data_dictionary", "write_datapackage", "write_duckdb"]
