"""The output folder: where every table lives and how it is written."""
