-- Who read an evidence item, and every entry about one report or case, is
-- looked up by subject and action (lereport.AuditViews asks, per file,
-- before a report becomes ready): without this index that read walked the
-- whole log.
CREATE INDEX audit_log_subject ON audit_log (subject, action, seq);
