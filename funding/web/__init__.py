"""HTTP plumbing shared by every audience: templates, locale, errors, caching, headers."""
