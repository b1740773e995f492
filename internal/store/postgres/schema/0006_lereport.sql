-- Law-enforcement reports (issue 6). A report is read and written whole,
-- so it is kept as the JSON of lereport.Report (json, not jsonb, which
-- refuses \u0000); the columns beside it are copies of the fields queries
-- select on.
CREATE TABLE le_reports (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state      text        NOT NULL,
    case_id    text        NOT NULL,
    recipient  text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    doc        json        NOT NULL  -- the whole report
);

-- Each sender's work list: the reports ready to go, or half sent.
CREATE INDEX le_reports_state ON le_reports (state, id);
