DROP INDEX organizations_name_trgm;
DROP INDEX users_name_trgm;
DROP INDEX users_email_trgm;
