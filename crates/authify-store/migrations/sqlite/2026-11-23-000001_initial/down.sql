DROP TABLE sessions;
DROP TABLE application_callbacks;
DROP TABLE applications;
DROP TABLE group_members;
DROP TABLE groups;
DROP TABLE organization_members;
DROP TABLE organizations;
DROP TABLE users;
