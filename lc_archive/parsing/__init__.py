"""Parsers for hostile input."""
