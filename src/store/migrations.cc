// The ordered schema history. Each script is portable SQL run as-is by every
// backend; never edit a released migration, append a new one.
#include "warden/store/migrations.h"

namespace warden::store {

namespace {

constexpr std::string_view kV1 = R"sql(
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE agents (
  name TEXT PRIMARY KEY,
  spiffe_id TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  purpose TEXT NOT NULL,
  environment TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  selectors TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  version BIGINT NOT NULL
);
CREATE TABLE audit_events (
  seq BIGINT PRIMARY KEY,
  time BIGINT NOT NULL,
  actor TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE audit_head (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
CREATE TABLE keys (
  kid TEXT PRIMARY KEY,
  alg TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  retired_at BIGINT
);
)sql";

// Key rotation keeps a retired key published until every token it signed has
// expired (publish_until); join tokens let agents on other hosts attest once.
constexpr std::string_view kV2 = R"sql(
ALTER TABLE keys ADD COLUMN publish_until BIGINT;
CREATE TABLE join_tokens (
  id TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  secret_sha256 TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  nonce TEXT,
  nonce_expires_at BIGINT,
  used_at BIGINT
);
CREATE INDEX join_tokens_agent ON join_tokens (agent);
)sql";

// Just-in-time grants (with their delegation tree and use counters), human
// approvals bound to an exact request, and the approvers who decide them.
constexpr std::string_view kV3 = R"sql(
CREATE TABLE grants (
  id TEXT PRIMARY KEY,
  agent TEXT NOT NULL,
  task TEXT NOT NULL,
  intent TEXT NOT NULL,
  intent_sha256 TEXT NOT NULL,
  scope TEXT NOT NULL,
  status TEXT NOT NULL,
  jkt TEXT NOT NULL,
  parent_id TEXT,
  root_id TEXT NOT NULL,
  depth BIGINT NOT NULL,
  on_behalf_of TEXT,
  approval_id TEXT,
  max_calls BIGINT,
  calls BIGINT NOT NULL,
  max_spend TEXT,
  spent TEXT,
  policy_hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  ended_at BIGINT,
  end_reason TEXT,
  version BIGINT NOT NULL
);
CREATE INDEX grants_agent ON grants (agent);
CREATE INDEX grants_parent ON grants (parent_id);
CREATE INDEX grants_root ON grants (root_id);
CREATE INDEX grants_status ON grants (status, expires_at);
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  subject_sha256 TEXT NOT NULL,
  agent TEXT NOT NULL,
  on_behalf_of TEXT,
  summary TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  decided_at BIGINT,
  decided_by TEXT,
  reason TEXT,
  used_at BIGINT,
  used_by TEXT
);
CREATE INDEX approvals_status ON approvals (status, expires_at);
CREATE TABLE approvers (
  name TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  disabled_at BIGINT
);
)sql";

}  // namespace

const std::vector<Migration>& Migrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "meta, agents, audit log and signing keys", kV1},
      {2, "key publication window and join tokens", kV2},
      {3, "grants, approvals and approvers", kV3},
  };
  return kMigrations;
}

int LatestSchemaVersion() { return Migrations().back().version; }

}  // namespace warden::store
