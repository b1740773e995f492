-- 0015 on PostgreSQL makes servers sharing one database notify each other
-- of changes. A SQLite store belongs to one process, which needs no
-- notifications; this step keeps the two backends' numbering in step.
SELECT 1;
