"""The plugin framework."""
