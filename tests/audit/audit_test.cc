// The audit chain: appending, listing, verification, the canonical encoding,
// and tampering done directly on the database file with raw SQL.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/internal/chain_hash.h"
#include "store/test_dir.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/store/store.h"

namespace warden::audit {
namespace {

const TimePoint kT0 = FromUnixMicros(1'800'000'000'123'456);

EventInput Input(int i) {
  EventInput in;
  in.actor = i % 2 == 0 ? "admin" : "agent:builder";
  in.kind = "agent.updated";
  in.subject = "agent:a" + std::to_string(i);
  in.details = {{"i", i}, {"reason", "step " + std::to_string(i)}, {"tags", {"x", "y"}}};
  return in;
}

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_.reset();
    auto s = store::OpenStore("sqlite:" + db_path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Appends events 1..n, a few per write.
  void AppendN(int n) {
    for (int i = 1; i <= n;) {
      Status s = store_->Write([&](store::Transaction& txn) -> Status {
        for (int k = 0; k < 3 && i <= n; ++k, ++i) {
          WARDEN_ASSIGN_OR_RETURN(Event e,
                                  Append(txn, Input(i), kT0 + std::chrono::seconds(i)));
          EXPECT_EQ(e.seq, i);
        }
        return OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
  }

  VerifyReport MustVerify() {
    auto r = Verify(*store_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  // Closes the Store, runs `sql` on the file with the raw SQLite API, reopens.
  void Tamper(const std::string& sql) {
    store_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "") << " in " << sql;
    sqlite3_free(err);
    sqlite3_close(db);
    Open();
  }

  // Expects Verify to report the chain broken first at `seq`, with `words`
  // in the problem.
  void ExpectBroken(int64_t seq, const std::string& words) {
    VerifyReport r = MustVerify();
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.first_bad_seq, seq) << r.problem;
    EXPECT_NE(r.problem.find(words), std::string::npos) << r.problem;
  }

  std::vector<Event> ListAll() {
    std::vector<Event> events;
    Status s = store_->Read([&](store::Transaction& txn) -> Status {
      WARDEN_ASSIGN_OR_RETURN(events, List(txn, 0, 1000));
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return events;
  }

  testing::TempDir dir_;
  std::string db_path_ = dir_.File("audit.db");
  std::unique_ptr<store::Store> store_;
};

TEST_F(AuditTest, EmptyLogVerifies) {
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.events_checked, 0);
  EXPECT_EQ(r.first_bad_seq, 0);
  EXPECT_TRUE(r.problem.empty());
}

TEST_F(AuditTest, AppendListVerify) {
  AppendN(10);
  std::vector<Event> events = ListAll();
  ASSERT_EQ(events.size(), 10u);
  std::string prev(kGenesisHash);
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    EXPECT_EQ(e.seq, static_cast<int64_t>(i + 1));
    EXPECT_EQ(e.prev_hash, prev);
    EXPECT_EQ(e.hash.size(), 64u);
    EXPECT_EQ(e.time, kT0 + std::chrono::seconds(e.seq));
    EXPECT_EQ(e.details, Input(static_cast<int>(e.seq)).details);
    EXPECT_EQ(e.subject, "agent:a" + std::to_string(e.seq));
    // The hash is SHA-256 of the documented canonical encoding.
    auto sha = internal::Sha256::Create();
    ASSERT_TRUE(sha.ok());
    internal::Digest d;
    ASSERT_TRUE(sha->Hash(CanonicalEncoding(e.seq, UnixMicros(e.time), e.actor, e.kind,
                                            e.subject, CanonicalJson(e.details), e.prev_hash),
                          d)
                    .ok());
    EXPECT_EQ(e.hash, internal::DigestHex(d));
    prev = e.hash;
  }
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events_checked, 10);

  // Paging.
  Status s = store_->Read([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(auto page, List(txn, 4, 3));
    EXPECT_EQ(page.size(), 3u);
    EXPECT_EQ(page.at(0).seq, 5);
    EXPECT_EQ(page.at(2).seq, 7);
    WARDEN_ASSIGN_OR_RETURN(auto tail, List(txn, 9, 100));
    EXPECT_EQ(tail.size(), 1u);
    WARDEN_ASSIGN_OR_RETURN(auto none, List(txn, 10, 100));
    EXPECT_TRUE(none.empty());
    WARDEN_ASSIGN_OR_RETURN(auto zero, List(txn, 0, 0));
    EXPECT_TRUE(zero.empty());
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();

  boost::json::object j = EventToJson(events[0]);
  EXPECT_EQ(j.at("seq").as_int64(), 1);
  EXPECT_EQ(j.at("time").as_string(), "2027-01-15T08:00:01.123456Z");
  EXPECT_EQ(j.at("actor").as_string(), "agent:builder");
  EXPECT_EQ(j.at("kind").as_string(), "agent.updated");
  EXPECT_EQ(j.at("subject").as_string(), "agent:a1");
  EXPECT_EQ(j.at("details").as_object(), events[0].details);
  EXPECT_EQ(j.at("prev_hash").as_string(), kGenesisHash);
  EXPECT_EQ(j.at("hash").as_string(), events[0].hash);
  EXPECT_EQ(j.size(), 8u);
}

TEST_F(AuditTest, RejectedInputAppendsNothing) {
  EventInput bad = Input(1);
  bad.actor.clear();
  Status s = store_->Write([&](store::Transaction& txn) { return Append(txn, bad, kT0).status(); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "actor");
  bad = Input(1);
  bad.subject = "agent:\xff";
  s = store_->Write([&](store::Transaction& txn) { return Append(txn, bad, kT0).status(); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "subject");
  bad = Input(1);
  bad.details["note"] = "\xc0\xaf";
  s = store_->Write([&](store::Transaction& txn) { return Append(txn, bad, kT0).status(); });
  EXPECT_EQ(s.field(), "details");
  bad = Input(1);
  bad.details["blob"] = std::string(70 * 1024, 'x');
  s = store_->Write([&](store::Transaction& txn) { return Append(txn, bad, kT0).status(); });
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "details");
  EXPECT_TRUE(ListAll().empty());
}

TEST_F(AuditTest, RecordWritesOneDurableEventOrNothing) {
  ASSERT_TRUE(Record(*store_, Input(1), kT0).ok());
  EventInput bad = Input(2);
  bad.kind.clear();
  Status s = Record(*store_, bad, kT0);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.field(), "kind");
  ASSERT_TRUE(Record(*store_, Input(3), kT0).ok());
  auto all = ListAll();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].prev_hash, all[0].hash);
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events_checked, 2);
}

// An append whose write function then fails is rolled back with it, head
// included, so the next append continues the chain without a gap.
TEST_F(AuditTest, FailedWriteLeavesNoHoleInTheChain) {
  AppendN(2);
  Status s = store_->Write([&](store::Transaction& txn) -> Status {
    WARDEN_RETURN_IF_ERROR(Append(txn, Input(3), kT0).status());
    return FailedPrecondition("the change itself failed");
  });
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  s = store_->Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Event e, Append(txn, Input(4), kT0));
    EXPECT_EQ(e.seq, 3);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events_checked, 3);
}

TEST_F(AuditTest, ConcurrentAppendersFormOneChain) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        Status s = store_->Write([&](store::Transaction& txn) {
          return Append(txn, Input(t * 100 + i), kT0).status();
        });
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    });
  }
  for (auto& t : threads) t.join();
  Open();
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events_checked, 200);
}

TEST(AuditMemoryTest, WorksOnAnInMemoryStore) {
  auto opened = store::OpenStore("sqlite::memory:");
  ASSERT_TRUE(opened.ok());
  store::Store& st = **opened;
  for (int i = 1; i <= 5000; ++i) {
    Status s = st.Write([&](store::Transaction& txn) { return Append(txn, Input(i), kT0).status(); });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  auto r = Verify(st);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok) << r->problem;
  EXPECT_EQ(r->events_checked, 5000);
  ASSERT_TRUE(st.Write([](store::Transaction& txn) {
                  return txn.Exec("UPDATE audit_events SET kind = 'x' WHERE seq = 4321").status();
                }).ok());
  r = Verify(st);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->first_bad_seq, 4321);
  EXPECT_EQ(r->events_checked, 4320);
}

TEST(CanonicalEncodingTest, EqualsCanonicalJsonOfTheEventObject) {
  std::string every_byte;
  for (int c = 1; c < 128; ++c) every_byte += static_cast<char>(c);
  every_byte += "\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x91";
  boost::json::object details = {{"z", 1}, {"a", every_byte}, {"m", {{"y", nullptr}, {"b", true}}}};
  const std::string details_json = CanonicalJson(details);
  boost::json::object whole = {{"seq", 42},          {"time", 1800000000123456},
                               {"actor", every_byte}, {"kind", "k\"\\"},
                               {"subject", "s\n\t"},  {"details", details},
                               {"prev_hash", std::string(kGenesisHash)}};
  EXPECT_EQ(CanonicalEncoding(42, 1800000000123456, every_byte, "k\"\\", "s\n\t", details_json,
                              kGenesisHash),
            CanonicalJson(whole));
  // Every single byte escapes as Boost.JSON (and so CanonicalJson) escapes it.
  for (int c = 0; c < 256; ++c) {
    const std::string s(1, static_cast<char>(c));
    std::string mine;
    internal::AppendJsonString(mine, s);
    EXPECT_EQ(mine, boost::json::serialize(boost::json::string_view(s))) << c;
  }
}

// The worked example of docs/formats/audit.md; keep the two in step.
TEST(CanonicalEncodingTest, DocumentedExample) {
  const std::string enc =
      CanonicalEncoding(1, 1800000000000000, "admin", "agent.created", "agent:builder",
                        CanonicalJson(boost::json::object{{"owner", "alice@example.com"},
                                                          {"environment", "dev"}}),
                        kGenesisHash);
  EXPECT_EQ(enc,
            "{\"actor\":\"admin\",\"details\":{\"environment\":\"dev\",\"owner\":"
            "\"alice@example.com\"},\"kind\":\"agent.created\",\"prev_hash\":"
            "\"0000000000000000000000000000000000000000000000000000000000000000\",\"seq\":1,"
            "\"subject\":\"agent:builder\",\"time\":1800000000000000}");
  auto sha = internal::Sha256::Create();
  ASSERT_TRUE(sha.ok());
  internal::Digest d;
  ASSERT_TRUE(sha->Hash(enc, d).ok());
  EXPECT_EQ(internal::DigestHex(d), "3dbef78a60a0654af20d381aec450d573cf11f3759ea6538ae195bd583da4c56");
}

TEST(Utf8Test, ValidatesStrictly) {
  EXPECT_TRUE(internal::IsValidUtf8(""));
  EXPECT_TRUE(internal::IsValidUtf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91"));
  EXPECT_FALSE(internal::IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(internal::IsValidUtf8("\xe0\x80\xaf"));      // overlong
  EXPECT_FALSE(internal::IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(internal::IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(internal::IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(internal::IsValidUtf8("\x80"));              // stray continuation
}

TEST_F(AuditTest, DetectsEditedDetails) {
  AppendN(10);
  Tamper("UPDATE audit_events SET details = '{\"i\":4,\"reason\":\"nothing to see\"}' "
         "WHERE seq = 4");
  ExpectBroken(4, "edited");
}

TEST_F(AuditTest, DetectsChangedActor) {
  AppendN(10);
  Tamper("UPDATE audit_events SET actor = 'system' WHERE seq = 6");
  ExpectBroken(6, "edited");
}

TEST_F(AuditTest, DetectsChangedTime) {
  AppendN(10);
  Tamper("UPDATE audit_events SET time = time + 1 WHERE seq = 2");
  ExpectBroken(2, "edited");
}

TEST_F(AuditTest, DetectsDeletedMiddleEvent) {
  AppendN(10);
  Tamper("DELETE FROM audit_events WHERE seq = 5");
  ExpectBroken(5, "missing");
}

TEST_F(AuditTest, DetectsDeletedFirstEvent) {
  AppendN(10);
  Tamper("DELETE FROM audit_events WHERE seq = 1");
  ExpectBroken(1, "starts at seq 2");
}

TEST_F(AuditTest, DetectsDeletedLastEvent) {
  AppendN(10);
  Tamper("DELETE FROM audit_events WHERE seq = 10");
  ExpectBroken(10, "deleted");
}

TEST_F(AuditTest, DetectsDeletedLastEventsWithHeadRewound) {
  AppendN(10);
  // Rewinding the head seq without knowing a valid hash still fails.
  Tamper("DELETE FROM audit_events WHERE seq >= 9; UPDATE audit_head SET seq = 8");
  ExpectBroken(8, "audit_head hash");
}

TEST_F(AuditTest, DetectsSwappedEvents) {
  AppendN(10);
  Tamper(
      "CREATE TEMP TABLE x AS SELECT * FROM audit_events WHERE seq IN (3, 7);"
      "UPDATE audit_events SET (time, actor, kind, subject, details, prev_hash, hash) = "
      "(SELECT time, actor, kind, subject, details, prev_hash, hash FROM x "
      " WHERE x.seq = 10 - audit_events.seq) WHERE seq IN (3, 7)");
  ExpectBroken(3, "does not link");
}

TEST_F(AuditTest, DetectsSwappedSeqNumbers) {
  AppendN(10);
  Tamper("UPDATE audit_events SET seq = -3 WHERE seq = 3;"
         "UPDATE audit_events SET seq = 3 WHERE seq = 4;"
         "UPDATE audit_events SET seq = 4 WHERE seq = -3");
  ExpectBroken(3, "does not link");
}

TEST_F(AuditTest, DetectsRecomputedHashOfEditedEvent) {
  AppendN(10);
  // Whoever edits an event and recomputes its hash breaks the next link.
  std::vector<Event> events = ListAll();
  const Event& e = events.at(3);
  std::string forged_details = "{\"i\":4,\"reason\":\"forged\"}";
  auto sha = internal::Sha256::Create();
  ASSERT_TRUE(sha.ok());
  internal::Digest d;
  ASSERT_TRUE(sha->Hash(CanonicalEncoding(e.seq, UnixMicros(e.time), e.actor, e.kind, e.subject,
                                          forged_details, e.prev_hash),
                        d)
                  .ok());
  Tamper("UPDATE audit_events SET details = '" + forged_details + "', hash = '" +
         internal::DigestHex(d) + "' WHERE seq = 4");
  ExpectBroken(5, "does not link to event 4");
}

TEST_F(AuditTest, DetectsForgedRowAppendedOutsideWarden) {
  AppendN(10);
  std::vector<Event> events = ListAll();
  const Event& last = events.back();
  const std::string details = "{\"grant\":\"everything\"}";
  auto sha = internal::Sha256::Create();
  ASSERT_TRUE(sha.ok());
  internal::Digest d;
  const int64_t t = UnixMicros(last.time) + 1;
  ASSERT_TRUE(sha->Hash(CanonicalEncoding(11, t, "admin", "grant.issued", "agent:evil", details,
                                          last.hash),
                        d)
                  .ok());
  // A well-formed, correctly chained row; only audit_head knows it is foreign.
  Tamper("INSERT INTO audit_events VALUES (11, " + std::to_string(t) +
         ", 'admin', 'grant.issued', 'agent:evil', '" + details + "', '" + last.hash + "', '" +
         internal::DigestHex(d) + "')");
  ExpectBroken(11, "outside Warden");
}

TEST_F(AuditTest, DetectsForgedRowBeforeTheStart) {
  AppendN(3);
  Tamper("INSERT INTO audit_events VALUES (0, 0, 'admin', 'k', 's', '{}', '" +
         std::string(kGenesisHash) + "', '" + std::string(kGenesisHash) + "')");
  ExpectBroken(0, "below 1");
}

TEST_F(AuditTest, DetectsMalformedRowWithoutFailing) {
  AppendN(3);
  Tamper("UPDATE audit_events SET time = 'yesterday' WHERE seq = 2");
  ExpectBroken(2, "malformed");
}

TEST_F(AuditTest, DetectsReplacedHead) {
  AppendN(3);
  Tamper("UPDATE audit_head SET hash = '" + std::string(kGenesisHash) + "'");
  ExpectBroken(3, "audit_head hash");
}

TEST_F(AuditTest, AppendRefusesWhenHeadIsBehindTheTable) {
  AppendN(3);
  Tamper("UPDATE audit_head SET seq = 2");
  Status s = store_->Write([&](store::Transaction& txn) {
    return Append(txn, Input(9), kT0).status();
  });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
}

// A prepared event appends exactly what Append(txn, input, now) would: the
// same row and the documented hash.
TEST_F(AuditTest, PreparedEventAppendsTheSameChain) {
  AppendN(2);
  auto prepared = PreparedEvent::Create(Input(3), kT0 + std::chrono::seconds(3));
  ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
  EXPECT_EQ(prepared->actor(), "agent:builder");
  EXPECT_EQ(prepared->subject(), "agent:a3");
  EXPECT_EQ(prepared->details_json(), CanonicalJson(Input(3).details));
  EXPECT_EQ(prepared->time_micros(), UnixMicros(kT0 + std::chrono::seconds(3)));
  ChainLink link;
  Status s = store_->Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(link, Append(txn, *prepared));
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<Event> events = ListAll();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(link.seq, 3);
  EXPECT_EQ(link.prev_hash, events[1].hash);
  EXPECT_EQ(link.hash, events[2].hash);
  EXPECT_EQ(events[2].details, Input(3).details);
  auto sha = internal::Sha256::Create();
  ASSERT_TRUE(sha.ok());
  internal::Digest d;
  ASSERT_TRUE(sha->Hash(CanonicalEncoding(3, prepared->time_micros(), prepared->actor(),
                                          prepared->kind(), prepared->subject(),
                                          prepared->details_json(), link.prev_hash),
                        d)
                  .ok());
  EXPECT_EQ(link.hash, internal::DigestHex(d));
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events_checked, 3);
}

TEST(PreparedEventTest, RefusesWhatAppendRefuses) {
  EventInput bad = Input(1);
  bad.kind.clear();
  EXPECT_EQ(PreparedEvent::Create(bad, kT0).status().field(), "kind");
  bad = Input(1);
  bad.actor = std::string(20, 'a') + "\xed\xa0\x80";  // a surrogate after a long ASCII run
  EXPECT_EQ(PreparedEvent::Create(bad, kT0).status().field(), "actor");
  bad = Input(1);
  bad.details["blob"] = std::string(70 * 1024, 'x');
  auto big = PreparedEvent::Create(bad, kT0);
  EXPECT_EQ(big.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.status().field(), "details");
}

// The writer remembers the head it wrote last; an append must still follow
// the head actually stored when something else moved it in between (here a
// hand-made rollback of the last event within the same store).
TEST_F(AuditTest, AppendFollowsAHeadMovedBetweenAppends) {
  AppendN(3);
  std::vector<Event> events = ListAll();
  ASSERT_EQ(events.size(), 3u);
  Status s = store_->Write([&](store::Transaction& txn) -> Status {
    WARDEN_RETURN_IF_ERROR(txn.Exec("DELETE FROM audit_events WHERE seq = 3").status());
    return txn.Exec("UPDATE audit_head SET seq = 2, hash = $1 WHERE id = 1", {events[1].hash})
        .status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = store_->Write([&](store::Transaction& txn) -> Status {
    WARDEN_ASSIGN_OR_RETURN(Event e, Append(txn, Input(7), kT0));
    EXPECT_EQ(e.seq, 3);
    EXPECT_EQ(e.prev_hash, events[1].hash);
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  // And a head moved back behind the table is still refused, not forked.
  s = store_->Write([&](store::Transaction& txn) -> Status {
    return txn.Exec("UPDATE audit_head SET seq = 2 WHERE id = 1").status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = store_->Write([&](store::Transaction& txn) { return Append(txn, Input(8), kT0).status(); });
  EXPECT_EQ(s.code(), StatusCode::kDataLoss) << s.ToString();
  s = store_->Write([&](store::Transaction& txn) -> Status {
    return txn.Exec("UPDATE audit_head SET seq = 3 WHERE id = 1").status();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  VerifyReport r = MustVerify();
  EXPECT_TRUE(r.ok) << r.problem;
  EXPECT_EQ(r.events_checked, 3);
}

// Longer strings take the word-at-a-time path: escapes at every offset.
TEST(CanonicalEncodingTest, EscapesAtEveryOffsetOfLongStrings) {
  const std::string specials = std::string("\"\\\x01\x1f\n", 5) + "\x7f\xc3\xa9";
  for (size_t len = 0; len < 40; ++len) {
    for (size_t at = 0; at < len; ++at) {
      for (char c : specials) {
        std::string s(len, 'a');
        s[at] = c;
        std::string mine;
        internal::AppendJsonString(mine, s);
        ASSERT_EQ(mine, boost::json::serialize(boost::json::string_view(s)))
            << "len " << len << " at " << at << " byte " << static_cast<int>(c);
      }
    }
  }
}

TEST(Utf8Test, FindsInvalidBytesAfterLongAsciiRuns) {
  for (size_t at = 0; at < 40; ++at) {
    std::string s(40, 'a');
    EXPECT_TRUE(internal::IsValidUtf8(s));
    s[at] = '\x80';
    EXPECT_FALSE(internal::IsValidUtf8(s)) << at;
    s[at] = '\xc3';
    EXPECT_FALSE(internal::IsValidUtf8(s.substr(0, at + 1))) << at;  // truncated at the end
    s.insert(at + 1, 1, '\xa9');
    EXPECT_TRUE(internal::IsValidUtf8(s)) << at;
  }
}

}  // namespace
}  // namespace warden::audit
