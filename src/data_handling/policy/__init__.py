"""Loading and validating the policy map, and the catalogue of checks it maps the policy to."""
