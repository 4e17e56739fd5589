"""What both apps share: domain errors, the API's JSON error shape, roles and permissions.

Imports nothing from `annotation` or `training`; both import it."""
