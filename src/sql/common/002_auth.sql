-- 002_auth.sql - principals (users, devices, API clients), tokens and the
-- hash-chained audit log. Portable SQL; pg/002_auth.sql is the PostgreSQL
-- form (identity ids, trigger function); keep the two in step.
-- "user" is reserved in PostgreSQL, hence app_user.

-- Every principal: a person (admin, clinician, doctor, nurse, patient,
-- researcher), a device (bound through device_id) or an API client.
-- pw_hash is an argon2id encoded string ('' = no password login).
CREATE TABLE app_user (
  id               INTEGER PRIMARY KEY,
  username         TEXT NOT NULL UNIQUE,
  role             TEXT NOT NULL CHECK (role IN ('admin', 'clinician',
                   'doctor', 'nurse', 'patient', 'researcher', 'device',
                   'client')),
  org_id           BIGINT NOT NULL DEFAULT 0,
  patient_id       BIGINT,
  device_id        BIGINT,
  pw_hash          TEXT NOT NULL DEFAULT '',
  scopes           TEXT NOT NULL DEFAULT '',
  disabled         INTEGER NOT NULL DEFAULT 0,
  failed_logins    INTEGER NOT NULL DEFAULT 0,
  locked_until_ms  BIGINT NOT NULL DEFAULT 0,
  created_ms       BIGINT NOT NULL,
  updated_ms       BIGINT NOT NULL
);

-- Bearer tokens, stored only as the hex BLAKE2b-256 of the token.
CREATE TABLE token (
  id          INTEGER PRIMARY KEY,
  hash        TEXT NOT NULL UNIQUE,
  user_id     BIGINT NOT NULL REFERENCES app_user (id),
  kind        TEXT NOT NULL,
  scopes      TEXT NOT NULL DEFAULT '',
  created_ms  BIGINT NOT NULL,
  expires_ms  BIGINT NOT NULL,
  revoked_ms  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX token_user ON token (user_id);

-- Append-only; id is the chain position (assigned by the appender, which
-- holds the writer), hash = BLAKE2b-256(prev_hash, fields) (auth_audit.c).
CREATE TABLE audit_event (
  id          INTEGER PRIMARY KEY,
  ts_ms       BIGINT NOT NULL,
  user_id     BIGINT NOT NULL DEFAULT 0,
  username    TEXT NOT NULL DEFAULT '',
  role        TEXT NOT NULL DEFAULT '',
  action      TEXT NOT NULL,
  resource    TEXT NOT NULL DEFAULT '',
  patient_id  BIGINT NOT NULL DEFAULT 0,
  outcome     INTEGER NOT NULL,
  source      TEXT NOT NULL DEFAULT '',
  request_id  TEXT NOT NULL DEFAULT '',
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX audit_event_patient ON audit_event (patient_id, id);
CREATE INDEX audit_event_user ON audit_event (user_id, id);

CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;
