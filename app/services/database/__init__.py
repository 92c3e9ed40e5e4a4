"""What GridDesk keeps in the database beyond its tables: the unit of work that settles the
derived tables before every commit (``unit_of_work``), the SQL both dialects share
(``sqlfuncs``, the one SQL-dialect module), and on a shared PostgreSQL database its login roles
(``roles``, ``roles_sql``) and row-level security (``policies``)."""
