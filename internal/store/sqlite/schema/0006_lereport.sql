-- Law-enforcement reports (issue 6). A report is read and written whole,
-- so it is kept as the JSON of lereport.Report; the columns beside it are
-- copies of the fields queries select on. Times are Unix microseconds, as
-- in 0001.
CREATE TABLE le_reports (
    id         INTEGER PRIMARY KEY,
    state      TEXT    NOT NULL,
    case_id    TEXT    NOT NULL,
    recipient  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    doc        TEXT    NOT NULL  -- JSON: the whole report
) STRICT;

-- Each sender's work list: the reports ready to go, or half sent.
CREATE INDEX le_reports_state ON le_reports (state, id);
