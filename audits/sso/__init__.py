"""Single sign-on through OpenID Connect (mozilla-django-oidc underneath).

discovery.py fetches the provider's metadata; backend.py verifies tokens and finds or creates the user by
(issuer, subject); services.py applies provider groups to team roles; views.py are the sign-in, callback and
sign-out pages; checks.py is the `manage.py check` of the configuration.
"""
