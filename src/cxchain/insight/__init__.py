"""Insight (link 2 of the chain): text models over customer contacts, run offline."""
