"""``ecrcache doctor``: named checks of a pull-through cache set-up, each with a fix.

``checks`` declares them, ``runner`` runs them (network last, a crash reported as such),
``context`` builds the header. Nothing here prints: rendering is ``ecrcache.render.doctor``.
"""
