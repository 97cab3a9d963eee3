"""Data handling and the task contract: rows, images, units, output format, scoring."""
