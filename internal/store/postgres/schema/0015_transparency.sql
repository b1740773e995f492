-- Transparency figures (issue 18) read the cases opened in a period.
CREATE INDEX review_cases_opened ON review_cases (opened_at);
