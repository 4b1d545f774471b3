"""apply's handlers, a module per resource kind; ``apply`` maps each (kind, action) to one.

``secrets`` (Secrets Manager secrets of upstream credentials), ``rules`` (pull-through cache
rules), ``templates`` (repository creation templates), ``repositories`` (application
repositories and the settings backfilled onto cache repositories), ``registry`` (the registry
scanning configuration and the registry permissions policy), ``iam`` (the CI policy);
``common`` holds what several share (the propagation retry, tag lists, filters).
"""
