-- 004_care_flow.sql - the care flow: assessments and follow-up state,
-- alerts, tasks (a done follow-up links its row in `visit`, 003), referrals,
-- consults, the event
-- log behind SSE, and job leases for background work on several nodes.
-- Portable SQL, one file for both backends (INTEGER PRIMARY KEY becomes an
-- identity column on PostgreSQL: store_pg.c pg_dialect_sql; the removed
-- pg/ copy differed only there). Times are int64 ms UTC. JSON is stored as
-- TEXT. Rows with their own id keep the id as the key (rowid / identity)
-- and index patient_id first.

-- One row per patient and programme ('overall' = the patient's tier).
CREATE TABLE care_assessment (
  patient_id     BIGINT NOT NULL,
  programme      TEXT NOT NULL,
  tier           TEXT NOT NULL,          -- stable | attention | urgent
  level          INTEGER NOT NULL,       -- management level 1..3 (一级..三级)
  controlled     INTEGER NOT NULL,       -- 1, 0, or -1 = not enough data
  action         TEXT NOT NULL,          -- routine | adjust | refer | urgent_refer
  next_due_ms    BIGINT NOT NULL,
  metrics        TEXT NOT NULL,          -- JSON object
  reasons        TEXT NOT NULL,          -- JSON array of sentences
  algo_version   TEXT NOT NULL,
  rules_version  TEXT NOT NULL,
  computed_ms    BIGINT NOT NULL,
  PRIMARY KEY (patient_id, programme)
);

-- Follow-up history per patient and programme: consecutive uncontrolled
-- follow-ups (the "uncontrolled twice" rule of the 2017 standard).
CREATE TABLE care_followup_state (
  patient_id         BIGINT NOT NULL,
  programme          TEXT NOT NULL,
  uncontrolled_streak INTEGER NOT NULL DEFAULT 0,
  last_visit_ms      BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (patient_id, programme)
);

CREATE TABLE care_alert (
  id               INTEGER PRIMARY KEY,
  patient_id       BIGINT NOT NULL,
  rule             TEXT NOT NULL,
  severity         TEXT NOT NULL CHECK (severity IN ('low', 'medium',
                   'high', 'critical')),
  state            TEXT NOT NULL CHECK (state IN ('open', 'acknowledged',
                   'resolved')),
  message          TEXT NOT NULL DEFAULT '',
  value            DOUBLE PRECISION,
  repeats          INTEGER NOT NULL DEFAULT 1,
  first_ms         BIGINT NOT NULL,
  last_ms          BIGINT NOT NULL,
  team_id          BIGINT NOT NULL DEFAULT 0,
  escalation_level INTEGER NOT NULL DEFAULT 0, -- 0 family doctor, 1 team
                                               -- lead, 2 hospital duty
  escalated_ms     BIGINT NOT NULL DEFAULT 0,
  ack_by           TEXT NOT NULL DEFAULT '',
  ack_ms           BIGINT NOT NULL DEFAULT 0,
  resolved_by      TEXT NOT NULL DEFAULT '',
  resolved_ms      BIGINT NOT NULL DEFAULT 0,
  version          INTEGER NOT NULL DEFAULT 1
);
-- Dedup: at most one unresolved alert per patient and rule.
CREATE UNIQUE INDEX care_alert_open ON care_alert (patient_id, rule)
  WHERE state <> 'resolved';
CREATE INDEX care_alert_state ON care_alert (state, first_ms);

CREATE TABLE care_task (
  id            INTEGER PRIMARY KEY,
  patient_id    BIGINT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('followup_visit', 'phone_call',
                'home_visit', 'device_setup', 'contract_renewal',
                'yearly_check', 'referral_followup')),
  state         TEXT NOT NULL CHECK (state IN ('open', 'in_progress',
                'done', 'cancelled')),
  due_ms        BIGINT NOT NULL,
  assignee_id   BIGINT NOT NULL DEFAULT 0,   -- app_user id, 0 = unassigned
  team_id       BIGINT NOT NULL DEFAULT 0,
  tier_rank     INTEGER NOT NULL DEFAULT 0,  -- 2 urgent, 1 attention, 0 stable
  reason        TEXT NOT NULL DEFAULT '',
  source        TEXT NOT NULL DEFAULT '',    -- rules | contract | referral | manual
  created_ms    BIGINT NOT NULL,
  done_ms       BIGINT NOT NULL DEFAULT 0,
  done_by       TEXT NOT NULL DEFAULT '',
  visit_id      BIGINT NOT NULL DEFAULT 0,   -- visit (003) it recorded
  version       INTEGER NOT NULL DEFAULT 1
);
-- One open task of a kind per patient: generation is idempotent.
CREATE UNIQUE INDEX care_task_open ON care_task (patient_id, kind)
  WHERE state IN ('open', 'in_progress');
CREATE INDEX care_task_due ON care_task (state, due_ms);
CREATE INDEX care_task_assignee ON care_task (assignee_id, state, due_ms);

CREATE TABLE care_referral (
  id             INTEGER PRIMARY KEY,
  patient_id     BIGINT NOT NULL,
  direction      TEXT NOT NULL CHECK (direction IN ('up', 'down')),
  from_org       BIGINT NOT NULL DEFAULT 0,
  to_org         BIGINT NOT NULL DEFAULT 0,
  urgency        TEXT NOT NULL CHECK (urgency IN ('routine', 'urgent',
                 'emergency')),
  reason         TEXT NOT NULL,
  state          TEXT NOT NULL CHECK (state IN ('suggested', 'requested',
                 'accepted', 'declined', 'completed', 'returned',
                 'dismissed')),
  snapshot       TEXT NOT NULL DEFAULT '{}',   -- assessment JSON at request
  window_from_ms BIGINT NOT NULL DEFAULT 0,
  window_to_ms   BIGINT NOT NULL DEFAULT 0,
  care_plan      TEXT NOT NULL DEFAULT '',     -- JSON, on return (down)
  note           TEXT NOT NULL DEFAULT '',
  created_by     TEXT NOT NULL DEFAULT '',
  updated_by     TEXT NOT NULL DEFAULT '',
  created_ms     BIGINT NOT NULL,
  updated_ms     BIGINT NOT NULL,
  version        INTEGER NOT NULL DEFAULT 1
);
-- One pending suggestion per patient (rules re-run often).
CREATE UNIQUE INDEX care_referral_suggested ON care_referral (patient_id)
  WHERE state = 'suggested';
CREATE INDEX care_referral_state ON care_referral (state, created_ms);
CREATE INDEX care_referral_patient ON care_referral (patient_id, id);

CREATE TABLE care_consult (
  id            INTEGER PRIMARY KEY,
  patient_id    BIGINT NOT NULL,
  asked_by      TEXT NOT NULL,
  to_org        BIGINT NOT NULL DEFAULT 0,
  specialty     TEXT NOT NULL DEFAULT '',
  question      TEXT NOT NULL,
  readings      TEXT NOT NULL DEFAULT '[]',   -- JSON: selected readings
  state         TEXT NOT NULL CHECK (state IN ('open', 'answered',
                'closed')),
  answer        TEXT NOT NULL DEFAULT '',
  answered_by   TEXT NOT NULL DEFAULT '',
  created_ms    BIGINT NOT NULL,
  answered_ms   BIGINT NOT NULL DEFAULT 0,
  version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX care_consult_state ON care_consult (state, created_ms);

-- Append-only event log behind GET /api/v1/events: every node writes and
-- reads the same table, so a client on any node sees every node's events.
CREATE TABLE care_event (
  id          INTEGER PRIMARY KEY,
  ts_ms       BIGINT NOT NULL,
  kind        TEXT NOT NULL,          -- alert | task | referral | consult |
                                      -- reading | assessment
  patient_id  BIGINT NOT NULL DEFAULT 0,
  ref_id      BIGINT NOT NULL DEFAULT 0,
  data        TEXT NOT NULL DEFAULT '{}'
);

-- Leases for periodic jobs (escalation, task generation): a node takes the
-- row (pg: FOR UPDATE SKIP LOCKED) and moves next_ms forward.
CREATE TABLE care_job (
  name     TEXT PRIMARY KEY,
  next_ms  BIGINT NOT NULL DEFAULT 0,
  node     TEXT NOT NULL DEFAULT ''
);
INSERT INTO care_job (name, next_ms) VALUES ('escalate', 0);
INSERT INTO care_job (name, next_ms) VALUES ('silence', 0);
