-- 001_init.sql - core schema: patients, devices, code reference, readings.
-- Portable SQL (SQLite and PostgreSQL). The sqlite dialect overrides this
-- file (sqlite/001_init.sql) only to store readings WITHOUT ROWID; keep the
-- two in step. Times are int64 ms UTC. Every patient-owned table has
-- patient_id leading its primary key (Citus-ready, DESIGN.md section 6).
-- schema_migrations is created by each backend before migrations run.
-- INTEGER PRIMARY KEY ids are SQLite's 64-bit rowid, assigned on insert;
-- PostgreSQL has no such default, so a pg backend assigns ids itself or
-- its dialect adds an identity in a pg/ file.

CREATE TABLE patient (
  id          INTEGER PRIMARY KEY,
  identifier  TEXT UNIQUE,
  name        TEXT NOT NULL DEFAULT '',
  sex         CHAR(1) NOT NULL DEFAULT 'U'
              CHECK (sex IN ('M', 'F', 'O', 'U')),
  birth_date  TEXT,
  tz          TEXT NOT NULL DEFAULT '',
  created_ms  BIGINT NOT NULL,
  updated_ms  BIGINT NOT NULL
);

CREATE TABLE device (
  id            INTEGER PRIMARY KEY,
  serial        TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL,
  patient_id    BIGINT REFERENCES patient (id),
  created_ms    BIGINT NOT NULL,
  last_seen_ms  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX device_patient ON device (patient_id);

-- Reference table of reading kinds, kept equal to codes.def by the backend
-- at every open (for SQL joins in reports and exports).
CREATE TABLE code (
  id      INTEGER PRIMARY KEY,
  name    TEXT NOT NULL UNIQUE,
  system  TEXT NOT NULL,
  code    TEXT NOT NULL,
  unit    TEXT NOT NULL
);

-- No foreign key to patient: ingest checks the patient once per batch, and a
-- per-row check would cost insert speed (and Citus limits such keys).
CREATE TABLE reading (
  patient_id     BIGINT NOT NULL,
  code           INTEGER NOT NULL,
  ts_ms          BIGINT NOT NULL,
  source         TEXT NOT NULL,
  value          DOUBLE PRECISION NOT NULL,
  unit           TEXT NOT NULL DEFAULT '',
  tz_offset_min  SMALLINT,
  ingested_ms    BIGINT NOT NULL,
  PRIMARY KEY (patient_id, code, ts_ms, source)
);
