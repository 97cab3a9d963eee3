"""A local web page where a person checks the machine's answers; the corrections become training labels."""
