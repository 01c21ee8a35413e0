-- 003_care_org.sql - the care layer's region and people: organisation tree,
-- care teams and members, households and members, family-doctor contracts,
-- enrolled conditions (programmes) and follow-up visits. Portable SQL,
-- one file for both backends: on PostgreSQL `INTEGER PRIMARY KEY` becomes
-- an identity column (store_pg.c pg_dialect_sql; this number had a pg/ copy
-- with exactly that difference until it was removed, so fresh and upgraded
-- databases have the same schema). Every mutable row has `version`
-- (optimistic concurrency: an update names the version it read and bumps
-- it). Dates are TEXT 'YYYY-MM-DD' (compare as strings); times are int64
-- ms UTC.
-- docs/care.md "Region and people" documents every field.

-- The region tree. path is the materialised path of ids, "/1/4/12/", so a
-- subtree is `path LIKE '/1/4/%'` (kept by care_org.c on create and move).
CREATE TABLE organization (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  level       TEXT NOT NULL CHECK (level IN ('village_clinic',
              'community_health_centre', 'county_hospital',
              'tertiary_hospital')),
  parent_id   BIGINT REFERENCES organization (id),
  path        TEXT NOT NULL DEFAULT '',
  code        TEXT,
  version     INTEGER NOT NULL DEFAULT 1,
  created_ms  BIGINT NOT NULL,
  updated_ms  BIGINT NOT NULL
);
CREATE INDEX organization_parent ON organization (parent_id);
CREATE INDEX organization_path ON organization (path);

-- Family-doctor teams, each based at one organisation.
CREATE TABLE care_team (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  org_id      BIGINT NOT NULL REFERENCES organization (id),
  version     INTEGER NOT NULL DEFAULT 1,
  created_ms  BIGINT NOT NULL,
  updated_ms  BIGINT NOT NULL
);
CREATE INDEX care_team_org ON care_team (org_id);

CREATE TABLE care_team_member (
  team_id  BIGINT NOT NULL REFERENCES care_team (id),
  user_id  BIGINT NOT NULL REFERENCES app_user (id),
  role     TEXT NOT NULL CHECK (role IN ('gp', 'nurse', 'public_health',
           'specialist')),
  lead     INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX care_team_member_user ON care_team_member (user_id);

-- A household belongs to the organisation (usually a village clinic) whose
-- catchment it lives in; its members' home organisation is that one.
CREATE TABLE household (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL DEFAULT '',
  address     TEXT NOT NULL DEFAULT '',
  org_id      BIGINT NOT NULL REFERENCES organization (id),
  version     INTEGER NOT NULL DEFAULT 1,
  created_ms  BIGINT NOT NULL,
  updated_ms  BIGINT NOT NULL
);
CREATE INDEX household_org ON household (org_id);

-- One household per patient. priority: space-separated contract priority
-- tags not derivable from other data (pregnant, disability, low_income,
-- tuberculosis, severe_mental_illness); age and conditions are derived.
CREATE TABLE household_member (
  patient_id    BIGINT NOT NULL PRIMARY KEY REFERENCES patient (id),
  household_id  BIGINT NOT NULL REFERENCES household (id),
  relation      TEXT NOT NULL DEFAULT '',
  priority      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX household_member_household ON household_member (household_id);

-- Family-doctor contract of a team with a household or with one patient.
-- end_date = signed_date + term_months; renewal is due from 30 days before.
CREATE TABLE contract (
  id            INTEGER PRIMARY KEY,
  team_id       BIGINT NOT NULL REFERENCES care_team (id),
  household_id  BIGINT REFERENCES household (id),
  patient_id    BIGINT REFERENCES patient (id),
  signed_date   TEXT NOT NULL,
  term_months   INTEGER NOT NULL CHECK (term_months BETWEEN 1 AND 120),
  end_date      TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('active', 'terminated')),
  version       INTEGER NOT NULL DEFAULT 1,
  created_ms    BIGINT NOT NULL,
  updated_ms    BIGINT NOT NULL,
  CHECK ((household_id IS NULL) <> (patient_id IS NULL))
);
CREATE INDEX contract_team ON contract (team_id);
CREATE INDEX contract_household ON contract (household_id);
CREATE INDEX contract_patient ON contract (patient_id);

-- A programme enrolment: one row per patient and condition.
CREATE TABLE patient_condition (
  id             INTEGER PRIMARY KEY,
  patient_id     BIGINT NOT NULL REFERENCES patient (id),
  code           TEXT NOT NULL CHECK (code IN ('hypertension', 't2d', 'ckd',
                 'copd', 'af', 'heart_failure')),
  enrolled_date  TEXT NOT NULL,
  status         TEXT NOT NULL CHECK (status IN ('active', 'resolved',
                 'transferred', 'dead')),
  status_date    TEXT,
  note           TEXT NOT NULL DEFAULT '',
  version        INTEGER NOT NULL DEFAULT 1,
  created_ms     BIGINT NOT NULL,
  updated_ms     BIGINT NOT NULL,
  UNIQUE (patient_id, code)
);

-- A follow-up record. Measurements are NULL when not taken; glucose is
-- fasting plasma glucose in mmol/L.
CREATE TABLE visit (
  id              INTEGER PRIMARY KEY,
  patient_id      BIGINT NOT NULL REFERENCES patient (id),
  visit_ms        BIGINT NOT NULL,
  by_user_id      BIGINT NOT NULL DEFAULT 0,
  kind            TEXT NOT NULL CHECK (kind IN ('clinic', 'home', 'phone',
                  'online')),
  sbp             DOUBLE PRECISION,
  dbp             DOUBLE PRECISION,
  glucose_mmol    DOUBLE PRECISION,
  hr              DOUBLE PRECISION,
  symptoms        TEXT NOT NULL DEFAULT '',
  adherence       TEXT NOT NULL DEFAULT 'unknown' CHECK (adherence IN
                  ('good', 'partial', 'poor', 'none', 'unknown')),
  next_date       TEXT,
  note            TEXT NOT NULL DEFAULT '',
  version         INTEGER NOT NULL DEFAULT 1,
  created_ms      BIGINT NOT NULL,
  updated_ms      BIGINT NOT NULL
);
CREATE INDEX visit_patient ON visit (patient_id, visit_ms);
CREATE INDEX visit_time ON visit (visit_ms);

-- Duplicate patients merged into another (POST /patients/{id}/merge): the
-- from row stays so its id keeps resolving; its data moved to into_id.
CREATE TABLE patient_merge (
  from_id     BIGINT NOT NULL PRIMARY KEY REFERENCES patient (id),
  into_id     BIGINT NOT NULL REFERENCES patient (id),
  merged_ms   BIGINT NOT NULL,
  by_user_id  BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX patient_merge_into ON patient_merge (into_id);
