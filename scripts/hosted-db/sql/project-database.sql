-- The project's database only: it belongs to postgres (so does its schema
-- public, through pg_database_owner), as on hosted. Databases that postgres
-- creates (the tests' templates and clones) are its own anyway.
alter database postgres owner to postgres;
grant all on database postgres to postgres, dashboard_user;
