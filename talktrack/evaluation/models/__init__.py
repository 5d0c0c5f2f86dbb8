"""Evaluations of the trained models (capability radar, customer scorer) against a generated
world's hidden truth."""
