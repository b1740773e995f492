-- Report Remove for video: the hashes of each video a case holds (the
-- page's vPDQ at one frame a second, in bank.VPDQ's stored form, and the
-- file's MD5 and SHA-256), kept, as selfreport_images are, so a withdrawal
-- knows what to remove and which hashes another active case still holds.
-- A vPDQ value (up to ~65 KB of hex here) is over a btree row's limit, so
-- it is indexed by its MD5, as entries are by their SHA-256 (0014).
CREATE TABLE selfreport_videos (
    code    TEXT    NOT NULL REFERENCES selfreport_cases (code),
    pos     INTEGER NOT NULL,           -- order among the submission's videos
    vpdq    TEXT    NOT NULL,
    md5     TEXT    NOT NULL,
    sha256  TEXT    NOT NULL,
    PRIMARY KEY (code, pos)
);

CREATE INDEX selfreport_videos_vpdq ON selfreport_videos (md5(vpdq));
CREATE INDEX selfreport_videos_md5 ON selfreport_videos (md5);
CREATE INDEX selfreport_videos_sha256 ON selfreport_videos (sha256);
