-- Projects inside tenants (issue 15): a member token may be for some of its tenant's projects
-- only (comma-separated names; empty: any). Jobs carry their project in their spec JSON.
ALTER TABLE tokens ADD COLUMN projects TEXT NOT NULL DEFAULT '';
