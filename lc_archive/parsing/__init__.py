"""Parsers for hostile input, each bounded before it parses: TOML (:mod:`.safe_toml`), OLX
(:mod:`.olx`), JSON (:mod:`.safe_json`), and pydantic validation errors as located problems
(:mod:`.documents`)."""
