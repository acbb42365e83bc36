-- User and organization search at scale (postgres). See docs/performance.md "Administration at
-- scale". Trigram GIN indexes serve LIKE '%q%' for 3 or more characters; pg_trgm is a trusted
-- extension (the database owner may create it; Debian's postgresql package ships it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX users_email_trgm ON users USING gin (email gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);
CREATE INDEX organizations_name_trgm ON organizations USING gin (lower(name) gin_trgm_ops);
