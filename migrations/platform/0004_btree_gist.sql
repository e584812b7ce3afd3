-- btree_gist lets exclusion constraints mix equality and ranges (a city's
-- phases may not overlap within one project). Installed once per database,
-- in public; operator classes are found by type, whatever the search_path.
CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;
