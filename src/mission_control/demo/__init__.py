"""The built-in demo: an embedded moto server seeded with a half-ready spaceduck estate."""
