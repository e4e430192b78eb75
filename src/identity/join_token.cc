#include "warden/identity/join_token.h"

#include <utility>

#include "warden/audit/audit_log.h"
#include "warden/core/encoding.h"
#include "warden/core/json.h"
#include "warden/core/random.h"
#include "warden/core/time_format.h"
#include "warden/crypto/hash.h"
#include "warden/crypto/signing_key.h"

namespace warden::identity {
namespace {

constexpr size_t kIdBytes = 8;  // 16 hex digits
constexpr size_t kIdLength = 2 * kIdBytes;
constexpr size_t kSecretBytes = 32;  // 43 base64url characters
constexpr size_t kSecretLength = 43;
constexpr size_t kNonceBytes = 32;
constexpr size_t kTokenLength = kJoinTokenPrefix.size() + kIdLength + 1 + kSecretLength;
constexpr std::chrono::seconds kMaxNonceTtl = std::chrono::minutes(10);

constexpr std::string_view kColumns =
    "id, agent, secret_sha256, created_at, expires_at, created_by, nonce, nonce_expires_at, "
    "used_at";

std::string FormatSeconds(std::chrono::seconds d) {
  return d.count() < 0 ? "-" + FormatDuration(-d) : FormatDuration(d);
}

std::string Subject(std::string_view id) {
  return "join_token:" + std::string(id.empty() ? std::string_view("malformed") : id);
}

struct ParsedToken {
  std::string id;
  std::string secret;  // the 43 base64url characters
};

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Splits a token by position; the message never repeats the input, which
// may be a mistyped secret.
Result<ParsedToken> ParseToken(std::string_view token) {
  const Status malformed = Unauthenticated(
      "malformed join token: expected \"wjt_\" + 16 lower-case hex digits + \"_\" + 43 "
      "base64url characters");
  if (token.size() != kTokenLength ||
      token.substr(0, kJoinTokenPrefix.size()) != kJoinTokenPrefix) {
    return malformed;
  }
  std::string_view id = token.substr(kJoinTokenPrefix.size(), kIdLength);
  std::string_view rest = token.substr(kJoinTokenPrefix.size() + kIdLength);
  if (!IsLowerHex(id) || rest.front() != '_') return malformed;
  std::string_view secret = rest.substr(1);
  auto raw = Base64UrlDecode(secret);
  if (!raw.ok() || raw->size() != kSecretBytes) return malformed;
  return ParsedToken{std::string(id), std::string(secret)};
}

struct TokenRow {
  JoinTokenInfo info;
  std::string secret_sha256;
  std::optional<std::string> nonce;
  std::optional<TimePoint> nonce_expires_at;
};

Result<TokenRow> RowFrom(const std::vector<store::SqlValue>& row) {
  auto corrupt = [](std::string_view what) {
    return DataLoss("join_tokens row is malformed: " + std::string(what));
  };
  if (row.size() != 9) return corrupt("wrong column count");
  TokenRow r;
  auto text = [&](size_t i, std::string* out) { return store::ReadText(row[i], out); };
  auto micros = [&](size_t i, TimePoint* out) { return store::ReadMicros(row[i], out); };
  if (!text(0, &r.info.id) || !text(1, &r.info.agent) || !text(2, &r.secret_sha256) ||
      !micros(3, &r.info.created_at) || !micros(4, &r.info.expires_at) ||
      !text(5, &r.info.created_by)) {
    return corrupt("unexpected column type");
  }
  if (!store::IsNull(row[6])) {
    std::string nonce;
    if (!text(6, &nonce)) return corrupt("nonce");
    r.nonce = std::move(nonce);
  }
  if (!store::IsNull(row[7])) {
    TimePoint t;
    if (!micros(7, &t)) return corrupt("nonce_expires_at");
    r.nonce_expires_at = t;
  }
  if (!store::IsNull(row[8])) {
    TimePoint t;
    if (!micros(8, &t)) return corrupt("used_at");
    r.info.used_at = t;
  }
  return r;
}

Result<std::optional<TokenRow>> LoadToken(store::Transaction& txn, std::string_view id) {
  WARDEN_ASSIGN_OR_RETURN(store::Rows rows, txn.Query("SELECT " + std::string(kColumns) +
                                                          " FROM join_tokens WHERE id = $1",
                                                      {std::string(id)}));
  if (rows.empty()) return std::optional<TokenRow>();
  WARDEN_ASSIGN_OR_RETURN(TokenRow r, RowFrom(rows.rows[0]));
  return std::optional<TokenRow>(std::move(r));
}

// Why an attempt was refused; audited without any secret.
struct Refusal {
  StatusCode code = StatusCode::kUnauthenticated;
  std::string id;     // empty when the token was malformed
  std::string agent;  // empty when the id is unknown
  std::string reason;
};

// Records `refusal` in its own write (the attempt's own write, if any, was
// rolled back) and returns it as the error. When the event cannot be written
// the store's error is returned instead: refused either way, never silently.
Status Refuse(store::Store& store, const Clock& clock, const Refusal& refusal) {
  json::object details;
  if (!refusal.id.empty()) details["id"] = refusal.id;
  if (!refusal.agent.empty()) details["agent"] = refusal.agent;
  details["reason"] = refusal.reason;
  const TimePoint now = TruncateToMicros(clock.Now());
  Status s = store.Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(
        auto event,
        audit::Append(txn, {"anonymous", "join_token.refused", Subject(refusal.id), details}, now));
    (void)event;
    return OkStatus();
  });
  if (!s.ok()) return s.WithContext("recording a refused join attempt");
  return Status(refusal.code, refusal.reason);
}

// The refusal for an agent that may no longer join, or nullopt. Reads the
// agents row directly: a token must stop working the moment its agent is
// suspended, retired or expires, whenever it was issued.
Result<std::optional<std::string>> AgentProblem(store::Transaction& txn, std::string_view agent,
                                                TimePoint now) {
  WARDEN_ASSIGN_OR_RETURN(
      store::Rows rows,
      txn.Query("SELECT status, expires_at FROM agents WHERE name = $1", {std::string(agent)}));
  const std::string quoted = "agent \"" + std::string(agent) + "\"";
  if (rows.empty()) return std::optional<std::string>(quoted + " no longer exists");
  WARDEN_ASSIGN_OR_RETURN(std::string status, store::AsText(rows.rows[0][0]));
  WARDEN_ASSIGN_OR_RETURN(int64_t expires, store::AsInt(rows.rows[0][1]));
  if (status != "active") return std::optional<std::string>(quoted + " is " + status);
  if (now >= FromUnixMicros(expires)) {
    return std::optional<std::string>(quoted + " expired on " +
                                      FormatRfc3339Exact(FromUnixMicros(expires)));
  }
  return std::optional<std::string>();
}

// Loads the token and checks everything but the nonce. On a refusal returns
// it (and leaves `out` partly filled); store errors are returned as errors.
Result<std::optional<Refusal>> CheckToken(store::Transaction& txn, const ParsedToken& token,
                                          TimePoint now, TokenRow* out) {
  auto refuse = [&](StatusCode code, std::string agent, std::string reason) {
    return std::optional<Refusal>(Refusal{code, token.id, std::move(agent), std::move(reason)});
  };
  WARDEN_ASSIGN_OR_RETURN(std::optional<TokenRow> row, LoadToken(txn, token.id));
  if (!row) {
    return refuse(StatusCode::kUnauthenticated, "", "unknown join token id \"" + token.id + "\"");
  }
  // The secret is checked before anything that would tell a guesser about
  // the token's state.
  if (!ConstantTimeEquals(crypto::Sha256Hex(token.secret), row->secret_sha256)) {
    return refuse(StatusCode::kUnauthenticated, row->info.agent,
                  "wrong secret for join token " + token.id);
  }
  if (row->info.used_at) {
    return refuse(
        StatusCode::kUnauthenticated, row->info.agent,
        "join token " + token.id + " was already used at " + FormatRfc3339Exact(*row->info.used_at));
  }
  if (now >= row->info.expires_at) {
    return refuse(StatusCode::kUnauthenticated, row->info.agent,
                  "join token " + token.id + " expired at " + FormatRfc3339Exact(row->info.expires_at));
  }
  WARDEN_ASSIGN_OR_RETURN(std::optional<std::string> agent_problem,
                          AgentProblem(txn, row->info.agent, now));
  if (agent_problem) {
    return refuse(StatusCode::kFailedPrecondition, row->info.agent,
                  *agent_problem + "; join token " + token.id + " cannot be used");
  }
  *out = std::move(*row);
  return std::optional<Refusal>();
}

// The refusal for a nonce that is not the current, unexpired one, or nullopt.
// Compared before the expiry is looked at, so a wrong nonce learns nothing.
std::optional<Refusal> CheckNonce(const TokenRow& row, std::string_view nonce, TimePoint now) {
  auto refuse = [&](std::string reason) {
    return std::optional<Refusal>(
        Refusal{StatusCode::kUnauthenticated, row.info.id, row.info.agent, std::move(reason)});
  };
  if (!row.nonce || !row.nonce_expires_at) {
    return refuse("no nonce was issued for join token " + row.info.id + "; start the join first");
  }
  if (!ConstantTimeEquals(*row.nonce, nonce)) {
    return refuse("the nonce is not the one last issued for join token " + row.info.id);
  }
  if (now >= *row.nonce_expires_at) {
    return refuse("the nonce for join token " + row.info.id + " expired at " +
                  FormatRfc3339Exact(*row.nonce_expires_at) + "; start the join again");
  }
  return std::nullopt;
}

}  // namespace

Result<IssuedJoinToken> CreateJoinToken(store::Store& store, AgentRegistry& registry,
                                        const Clock& clock, std::string_view agent,
                                        std::chrono::seconds ttl, std::string_view actor) {
  if (actor.empty()) return InvalidArgument("is required", "actor");
  if (ttl < kMinJoinTokenTtl || ttl > kMaxJoinTokenTtl) {
    return InvalidArgument("must be between " + FormatDuration(kMinJoinTokenTtl) + " and " +
                               FormatDuration(kMaxJoinTokenTtl) + ", got " + FormatSeconds(ttl),
                           "ttl");
  }
  WARDEN_ASSIGN_OR_RETURN(Agent a, registry.Get(agent));
  const TimePoint now = TruncateToMicros(clock.Now());
  if (a.EffectiveStatus(now) != AgentStatus::kActive) {
    std::string why = a.status == AgentStatus::kActive
                          ? "expired on " + FormatRfc3339Exact(a.expires_at)
                          : "is " + std::string(AgentStatusName(a.status));
    return FailedPrecondition("agent \"" + a.name + "\" " + why +
                              "; join tokens are issued only for active agents");
  }

  IssuedJoinToken issued;
  issued.info.agent = a.name;
  issued.info.created_at = now;
  issued.info.expires_at = now + ttl;
  issued.info.created_by = std::string(actor);
  // 64 random bits make a collision unlikely, not impossible: a taken id is
  // simply drawn again.
  Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    issued.info.id = HexEncode(RandomBytes(kIdBytes));
    const std::string secret = Base64UrlEncode(RandomBytes(kSecretBytes));
    issued.token = std::string(kJoinTokenPrefix) + issued.info.id + "_" + secret;
    s = store.Write([&](store::Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(
          int64_t inserted,
          txn.Exec("INSERT INTO join_tokens (" + std::string(kColumns) +
                       ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   {issued.info.id, issued.info.agent, crypto::Sha256Hex(secret), UnixMicros(now),
                    UnixMicros(issued.info.expires_at), issued.info.created_by, store::SqlValue(),
                    store::SqlValue(), store::SqlValue()}));
      (void)inserted;
      WARDEN_ASSIGN_OR_RETURN(
          auto event,
          audit::Append(txn,
                        {std::string(actor), "join_token.created", Subject(issued.info.id),
                         json::object{{"id", issued.info.id},
                                      {"agent", issued.info.agent},
                                      {"expires_at", FormatRfc3339Exact(issued.info.expires_at)}}},
                        now));
      (void)event;
      return OkStatus();
    });
    if (s.code() != StatusCode::kAlreadyExists) break;
  }
  if (!s.ok()) return s.WithContext("creating a join token");
  return issued;
}

Result<std::string> StartJoin(store::Store& store, const Clock& clock, std::string_view token,
                              std::chrono::seconds nonce_ttl) {
  if (nonce_ttl < std::chrono::seconds(1) || nonce_ttl > kMaxNonceTtl) {
    return InvalidArgument("must be between 1s and " + FormatDuration(kMaxNonceTtl) + ", got " +
                               FormatSeconds(nonce_ttl),
                           "nonce_ttl");
  }
  auto parsed = ParseToken(token);
  if (!parsed.ok())
    return Refuse(store, clock, {StatusCode::kUnauthenticated, "", "", parsed.status().message()});
  const TimePoint now = TruncateToMicros(clock.Now());
  const std::string nonce = Base64UrlEncode(RandomBytes(kNonceBytes));
  std::optional<Refusal> refusal;
  Status s = store.Write([&](store::Transaction& txn) -> Status {
    TokenRow row;
    WARDEN_ASSIGN_OR_RETURN(refusal, CheckToken(txn, *parsed, now, &row));
    if (refusal) return Status(refusal->code, refusal->reason);
    WARDEN_ASSIGN_OR_RETURN(int64_t changed,
                            txn.Exec("UPDATE join_tokens SET nonce = $1, nonce_expires_at = $2 "
                                     "WHERE id = $3 AND used_at IS NULL",
                                     {nonce, UnixMicros(now + nonce_ttl), parsed->id}));
    if (changed != 1) return Internal("join token row changed inside its own transaction");
    return OkStatus();
  });
  if (refusal) return Refuse(store, clock, *refusal);
  if (!s.ok()) return s.WithContext("starting a join");
  return nonce;
}

Result<JoinResult> CompleteJoin(store::Store& store, const Clock& clock, const JoinProof& proof) {
  auto parsed = ParseToken(proof.token);
  if (!parsed.ok())
    return Refuse(store, clock, {StatusCode::kUnauthenticated, "", "", parsed.status().message()});
  const TimePoint now = TruncateToMicros(clock.Now());

  // Cheap checks first from a snapshot, so a stale or forged attempt costs no
  // signature verification and no write.
  std::optional<Refusal> refusal;
  TokenRow row;
  Status s = store.Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(refusal, CheckToken(txn, *parsed, now, &row));
    if (!refusal) refusal = CheckNonce(row, proof.nonce, now);
    if (refusal) return Status(refusal->code, refusal->reason);
    return OkStatus();
  });
  if (refusal) return Refuse(store, clock, *refusal);
  if (!s.ok()) return s.WithContext("completing a join");

  auto refuse = [&](std::string reason) {
    return Refuse(store, clock,
                  {StatusCode::kUnauthenticated, row.info.id, row.info.agent, std::move(reason)});
  };
  auto key = crypto::PublicKey::FromJwk(proof.public_jwk);
  if (!key.ok()) {
    const Status& e = key.status();
    return refuse("public_jwk is not a usable public key: " +
                  (e.field().empty() ? e.message() : e.field() + ": " + e.message()));
  }
  auto signature = Base64UrlDecode(proof.signature_b64url);
  if (!signature.ok()) return refuse("the signature is not unpadded base64url");
  if (!key->Verify(std::string(kJoinSignaturePrefix) + proof.nonce, *signature).ok()) {
    return refuse("the signature over \"warden-join:\" + nonce does not verify with public_jwk");
  }
  const std::string jkt = key->thumbprint();

  // Everything is checked again under the write lock: another redemption or
  // a new StartJoin may have committed since the snapshot.
  refusal.reset();
  s = store.Write([&](store::Transaction& txn) -> Status {
    TokenRow current;
    WARDEN_ASSIGN_OR_RETURN(refusal, CheckToken(txn, *parsed, now, &current));
    if (!refusal) refusal = CheckNonce(current, proof.nonce, now);
    if (refusal) return Status(refusal->code, refusal->reason);
    WARDEN_ASSIGN_OR_RETURN(
        int64_t changed,
        txn.Exec("UPDATE join_tokens SET used_at = $1, nonce = NULL, nonce_expires_at = NULL "
                 "WHERE id = $2 AND used_at IS NULL",
                 {UnixMicros(now), parsed->id}));
    if (changed != 1) {
      refusal = Refusal{StatusCode::kUnauthenticated, parsed->id, current.info.agent,
                        "join token " + parsed->id + " was already used"};
      return Status(refusal->code, refusal->reason);
    }
    WARDEN_ASSIGN_OR_RETURN(
        auto event,
        audit::Append(
            txn,
            {"agent:" + current.info.agent, "join_token.redeemed", Subject(parsed->id),
             json::object{{"id", parsed->id}, {"agent", current.info.agent}, {"jkt", jkt}}},
            now));
    (void)event;
    row = std::move(current);
    return OkStatus();
  });
  if (refusal) return Refuse(store, clock, *refusal);
  if (!s.ok()) return s.WithContext("completing a join");
  row.info.used_at = now;
  return JoinResult{std::move(row.info), jkt};
}

Result<std::vector<JoinTokenInfo>> ListJoinTokens(store::Store& store, std::string_view agent) {
  std::vector<JoinTokenInfo> out;
  WARDEN_RETURN_IF_ERROR(store.Read([&](store::Transaction& txn) -> Status {
    store::Rows rows;
    if (agent.empty()) {
      WARDEN_ASSIGN_OR_RETURN(rows, txn.Query("SELECT " + std::string(kColumns) +
                                              " FROM join_tokens ORDER BY created_at, id"));
    } else {
      WARDEN_ASSIGN_OR_RETURN(
          rows, txn.Query("SELECT " + std::string(kColumns) +
                              " FROM join_tokens WHERE agent = $1 ORDER BY created_at, id",
                          {std::string(agent)}));
    }
    for (const auto& r : rows.rows) {
      WARDEN_ASSIGN_OR_RETURN(TokenRow parsed, RowFrom(r));
      out.push_back(std::move(parsed.info));
    }
    return OkStatus();
  }));
  return out;
}

}  // namespace warden::identity
