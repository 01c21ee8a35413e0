-- 005_fhir.sql - FHIR R4 layer: version metadata and history of resources,
-- the bodies of resource types Vigil has no table of its own for, and bulk
-- export jobs. Portable SQL (SQLite and PostgreSQL). Times are int64 ms UTC.
--
-- A reading IS an Observation and a patient row IS a Patient: their current
-- state lives in reading/patient only. A fhir_resource row exists for them
-- only once they have a version above 1 (body ''), or, for Patient, to keep
-- the elements Vigil does not model (address, telecom, ...; body = those
-- elements only). Types without a Vigil table (and Observations of codes
-- Vigil does not interpret) keep their whole current body here.

CREATE TABLE fhir_resource (
  type        TEXT NOT NULL,
  id          TEXT NOT NULL,
  patient_id  BIGINT NOT NULL DEFAULT 0,  -- compartment; 0 = none
  code        TEXT NOT NULL DEFAULT '',   -- first coding "system|code"
  ts_ms       BIGINT,                     -- clinical time for date search
  version     INTEGER NOT NULL DEFAULT 1,
  updated_ms  BIGINT NOT NULL,
  body        TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (type, id)
);
CREATE INDEX fhir_resource_patient ON fhir_resource (patient_id, type, ts_ms);
CREATE INDEX fhir_resource_updated ON fhir_resource (type, updated_ms);

-- Earlier versions (the current one is never here): the resource as it
-- was served at that version.
CREATE TABLE fhir_history (
  type        TEXT NOT NULL,
  id          TEXT NOT NULL,
  version     INTEGER NOT NULL,
  updated_ms  BIGINT NOT NULL,
  body        TEXT NOT NULL,
  PRIMARY KEY (type, id, version)
);

-- Bulk Data export jobs (kick-off, status, manifest, cancel).
CREATE TABLE fhir_export (
  id          TEXT PRIMARY KEY,
  status      TEXT NOT NULL,              -- running, done, failed, cancelled
  request     TEXT NOT NULL,              -- the kick-off URL
  params      TEXT NOT NULL DEFAULT '',   -- _type list
  since_ms    BIGINT NOT NULL DEFAULT 0,
  group_id    TEXT NOT NULL DEFAULT '',
  deidentify  INTEGER NOT NULL DEFAULT 0,
  user_id     BIGINT NOT NULL DEFAULT 0,
  progress    INTEGER NOT NULL DEFAULT 0, -- percent
  created_ms  BIGINT NOT NULL,
  done_ms     BIGINT NOT NULL DEFAULT 0,
  manifest    TEXT NOT NULL DEFAULT '',
  error       TEXT NOT NULL DEFAULT ''
);
