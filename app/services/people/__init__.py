"""The people of a branch and who may do what: signing in and roles (``auth``), user accounts
(``accounts``), teams and specialists (``org``), branch settings (``branches``) and the roster
of specialists with their workloads (``roster``)."""
