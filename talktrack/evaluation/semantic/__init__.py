"""Evaluations of the semantic layer against a generated world's truth."""
