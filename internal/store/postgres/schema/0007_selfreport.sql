-- Report Remove: cases people opened by sending hashes of images of
-- themselves (internal/selfreport). The PIN is kept only as a salted PBKDF2
-- hash. The hashes themselves also go into the "self-reported" bank; they
-- are kept here too so a withdrawal knows what to remove, and which hashes
-- another active case still holds. Times are timestamptz.
CREATE TABLE selfreport_cases (
    code         TEXT    PRIMARY KEY,   -- "XXXX-XXXX"
    pin_hash     TEXT    NOT NULL,
    state        TEXT    NOT NULL,      -- active or withdrawn
    created_at   timestamptz NOT NULL,
    withdrawn_at timestamptz          -- NULL while active
);

CREATE TABLE selfreport_images (
    code    TEXT    NOT NULL REFERENCES selfreport_cases (code),
    pos     INTEGER NOT NULL,           -- order in the submission
    pdq     TEXT    NOT NULL,
    quality INTEGER NOT NULL,
    md5     TEXT    NOT NULL,
    sha256  TEXT    NOT NULL,
    PRIMARY KEY (code, pos)
);

CREATE INDEX selfreport_images_pdq ON selfreport_images (pdq);
CREATE INDEX selfreport_images_md5 ON selfreport_images (md5);
CREATE INDEX selfreport_images_sha256 ON selfreport_images (sha256);
