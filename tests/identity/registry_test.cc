#include "warden/identity/registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "identity/test_util.h"
#include "warden/audit/audit_log.h"
#include "warden/core/json.h"
#include "warden/core/time_format.h"

namespace warden::identity {
namespace {

using std::chrono::hours;
using testing::AllEvents;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = testing::OpenTestStore(dir_);
    ASSERT_NE(store_, nullptr);
    registry_ = std::make_unique<AgentRegistry>(*store_, clock_, RegistryOptions{});
  }

  AgentSpec ValidSpec(std::string name = "billing-bot") {
    AgentSpec spec;
    spec.name = std::move(name);
    spec.owner = "alice@example.com";
    spec.purpose = "reconciles invoices";
    spec.environment = "prod";
    spec.expires_in = std::chrono::hours(24 * 30);
    spec.selectors = {"unix:uid:1000", "unix:path:/usr/bin/bot", "unix:uid:1000"};
    return spec;
  }

  size_t EventCount() { return AllEvents(*store_).size(); }

  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<AgentRegistry> registry_;
};

TEST_F(RegistryTest, CreateGetList) {
  auto created = registry_->Create(ValidSpec(), "admin");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->name, "billing-bot");
  EXPECT_EQ(created->spiffe_id, "spiffe://warden.local/agent/billing-bot");
  EXPECT_EQ(created->owner, "alice@example.com");
  EXPECT_EQ(created->environment, "prod");
  EXPECT_EQ(created->expires_at, clock_.Now() + hours(24 * 30));
  EXPECT_EQ(created->selectors,
            (std::vector<std::string>{"unix:path:/usr/bin/bot", "unix:uid:1000"}));
  EXPECT_EQ(created->status, AgentStatus::kActive);
  EXPECT_EQ(created->version, 1);
  EXPECT_EQ(created->created_at, clock_.Now());
  EXPECT_EQ(created->updated_at, clock_.Now());

  auto got = registry_->Get("billing-bot");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->spiffe_id, created->spiffe_id);
  EXPECT_EQ(got->expires_at, created->expires_at);
  EXPECT_EQ(got->selectors, created->selectors);
  EXPECT_EQ(got->created_at, created->created_at);
  EXPECT_EQ(got->version, 1);

  auto listed = registry_->List({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "billing-bot");

  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, "agent.created");
  EXPECT_EQ(events[0].actor, "admin");
  EXPECT_EQ(events[0].subject, "agent:billing-bot");
  EXPECT_EQ(events[0].time, clock_.Now());
  EXPECT_EQ(events[0].details.at("owner").as_string(), "alice@example.com");
  EXPECT_EQ(events[0].details.at("spiffe_id").as_string(), created->spiffe_id);
  EXPECT_EQ(events[0].details.at("selectors").as_array().size(), 2u);

  EXPECT_EQ(registry_->Get("nobody").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Get("Bad Name").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, ToJsonShowsEffectiveStatus) {
  auto a = registry_->Create(ValidSpec(), "admin");
  ASSERT_TRUE(a.ok());
  json::object j = registry_->ToJson(*a, clock_.Now());
  EXPECT_EQ(j.at("status").as_string(), "active");
  EXPECT_EQ(j.at("stored_status").as_string(), "active");
  EXPECT_EQ(j.at("expired").as_bool(), false);
  EXPECT_EQ(j.at("version").as_int64(), 1);
  EXPECT_EQ(j.at("expires_at").as_string(), FormatRfc3339(a->expires_at));
  EXPECT_EQ(j.at("created_at").as_string(), FormatRfc3339(clock_.Now()));
  EXPECT_EQ(j.at("spiffe_id").as_string(), "spiffe://warden.local/agent/billing-bot");
  EXPECT_EQ(j.at("selectors").as_array().size(), 2u);
  json::object later = registry_->ToJson(*a, a->expires_at);
  EXPECT_EQ(later.at("status").as_string(), "suspended");
  EXPECT_EQ(later.at("stored_status").as_string(), "active");
  EXPECT_EQ(later.at("expired").as_bool(), true);
}

struct InvalidCase {
  std::string label;
  std::function<void(AgentSpec&, TimePoint now)> mutate;
  std::string field;
};

TEST_F(RegistryTest, EveryValidationErrorNamesItsField) {
  std::vector<InvalidCase> cases = {
      {"empty name", [](AgentSpec& s, TimePoint) { s.name = ""; }, "name"},
      {"upper-case name", [](AgentSpec& s, TimePoint) { s.name = "Billing"; }, "name"},
      {"name with slash", [](AgentSpec& s, TimePoint) { s.name = "a/b"; }, "name"},
      {"name too long", [](AgentSpec& s, TimePoint) { s.name = std::string(64, 'a'); }, "name"},
      {"name starts with dash", [](AgentSpec& s, TimePoint) { s.name = "-a"; }, "name"},
      {"empty owner", [](AgentSpec& s, TimePoint) { s.owner = ""; }, "owner"},
      {"blank owner", [](AgentSpec& s, TimePoint) { s.owner = "   "; }, "owner"},
      {"owner too long", [](AgentSpec& s, TimePoint) { s.owner = std::string(257, 'o'); }, "owner"},
      {"owner control char", [](AgentSpec& s, TimePoint) { s.owner = "al\x1bice"; }, "owner"},
      {"empty purpose", [](AgentSpec& s, TimePoint) { s.purpose = "\t"; }, "purpose"},
      {"purpose too long", [](AgentSpec& s, TimePoint) { s.purpose = std::string(1025, 'p'); },
       "purpose"},
      {"purpose newline", [](AgentSpec& s, TimePoint) { s.purpose = "a\nb"; }, "purpose"},
      {"empty environment", [](AgentSpec& s, TimePoint) { s.environment = ""; }, "environment"},
      {"unknown environment", [](AgentSpec& s, TimePoint) { s.environment = "qa"; }, "environment"},
      {"no expiry", [](AgentSpec& s, TimePoint) { s.expires_in.reset(); }, "expires_at"},
      {"both expiries", [](AgentSpec& s, TimePoint now) { s.expires_at = now + hours(1); },
       "expires_in"},
      {"expires_at in the past",
       [](AgentSpec& s, TimePoint now) {
         s.expires_in.reset();
         s.expires_at = now - hours(1);
       },
       "expires_at"},
      {"expires_at now",
       [](AgentSpec& s, TimePoint now) {
         s.expires_in.reset();
         s.expires_at = now;
       },
       "expires_at"},
      {"expires_at beyond max lifetime",
       [](AgentSpec& s, TimePoint now) {
         s.expires_in.reset();
         s.expires_at = now + hours(24 * 90) + std::chrono::seconds(1);
       },
       "expires_at"},
      {"expires_in beyond max lifetime",
       [](AgentSpec& s, TimePoint) { s.expires_in = hours(24 * 91); }, "expires_in"},
      {"expires_in zero", [](AgentSpec& s, TimePoint) { s.expires_in = std::chrono::seconds(0); },
       "expires_in"},
      {"bad selector",
       [](AgentSpec& s, TimePoint) {
         s.selectors = {"unix:uid:1", "docker:image:x"};
       },
       "selectors[1]"},
      {"relative path selector",
       [](AgentSpec& s, TimePoint) { s.selectors = {"unix:path:bin/bot"}; }, "selectors[0]"},
  };
  for (const auto& c : cases) {
    AgentSpec spec = ValidSpec();
    c.mutate(spec, clock_.Now());
    auto r = registry_->Create(spec, "admin");
    ASSERT_FALSE(r.ok()) << c.label;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.label;
    EXPECT_EQ(r.status().field(), c.field) << c.label << ": " << r.status().ToString();
  }
  // The boundaries themselves are accepted.
  AgentSpec at_limit = ValidSpec("at-limit");
  at_limit.expires_in.reset();
  at_limit.expires_at = clock_.Now() + hours(24 * 90);
  EXPECT_TRUE(registry_->Create(at_limit, "admin").ok());
  // Refused creations wrote nothing.
  EXPECT_EQ(EventCount(), 1u);
  EXPECT_EQ(registry_->List({})->size(), 1u);
}

TEST_F(RegistryTest, ExpiryErrorsAreSpecific) {
  AgentSpec spec = ValidSpec();
  spec.expires_in = hours(24 * 100);
  auto r = registry_->Create(spec, "admin");
  EXPECT_NE(r.status().message().find("90d"), std::string::npos) << r.status().message();
  spec.expires_in.reset();
  spec.expires_at = clock_.Now() - hours(1);
  r = registry_->Create(spec, "admin");
  EXPECT_NE(r.status().message().find("future"), std::string::npos) << r.status().message();
}

TEST_F(RegistryTest, DuplicateNameIsAlreadyExists) {
  ASSERT_TRUE(registry_->Create(ValidSpec(), "admin").ok());
  AgentSpec again = ValidSpec();
  again.owner = "mallory@example.com";
  auto r = registry_->Create(again, "admin");
  EXPECT_EQ(r.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(r.status().field(), "name");
  EXPECT_EQ(registry_->Get("billing-bot")->owner, "alice@example.com");
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, UpdateChangesFieldsAndRecordsOldAndNew) {
  ASSERT_TRUE(registry_->Create(ValidSpec(), "admin").ok());
  clock_.Advance(std::chrono::minutes(5));
  AgentPatch patch;
  patch.owner = "  bob@example.com ";
  patch.selectors = std::vector<std::string>{"unix:gid:10"};
  patch.expires_in = hours(48);
  auto updated = registry_->Update("billing-bot", patch, "admin");
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->owner, "bob@example.com");
  EXPECT_EQ(updated->selectors, std::vector<std::string>{"unix:gid:10"});
  EXPECT_EQ(updated->expires_at, clock_.Now() + hours(48));
  EXPECT_EQ(updated->version, 2);
  EXPECT_EQ(updated->updated_at, clock_.Now());
  EXPECT_NE(updated->created_at, updated->updated_at);
  EXPECT_EQ(registry_->Get("billing-bot")->owner, "bob@example.com");

  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, "agent.updated");
  EXPECT_EQ(events[1].subject, "agent:billing-bot");
  const json::object& changes = events[1].details.at("changes").as_object();
  EXPECT_EQ(changes.at("owner").at("old").as_string(), "alice@example.com");
  EXPECT_EQ(changes.at("owner").at("new").as_string(), "bob@example.com");
  EXPECT_TRUE(changes.contains("selectors"));
  EXPECT_TRUE(changes.contains("expires_at"));
  EXPECT_FALSE(changes.contains("purpose"));

  // A patch equal to the current state changes nothing and records nothing.
  AgentPatch same;
  same.owner = "bob@example.com";
  auto unchanged = registry_->Update("billing-bot", same, "admin");
  ASSERT_TRUE(unchanged.ok());
  EXPECT_EQ(unchanged->version, 2);
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, UpdateRefusals) {
  ASSERT_TRUE(registry_->Create(ValidSpec(), "admin").ok());
  EXPECT_EQ(registry_->Update("billing-bot", AgentPatch{}, "admin").status().code(),
            StatusCode::kInvalidArgument);
  AgentPatch p;
  p.owner = "x";
  EXPECT_EQ(registry_->Update("ghost", p, "admin").status().code(), StatusCode::kNotFound);
  AgentPatch stale = p;
  stale.expected_version = 7;
  auto r = registry_->Update("billing-bot", stale, "admin");
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_EQ(r.status().field(), "version");
  AgentPatch current = p;
  current.expected_version = 1;
  EXPECT_TRUE(registry_->Update("billing-bot", current, "admin").ok());

  struct Case {
    AgentPatch patch;
    std::string field;
  };
  std::vector<Case> cases(6);
  cases[0].patch.owner = "";
  cases[0].field = "owner";
  cases[1].patch.purpose = std::string(2000, 'p');
  cases[1].field = "purpose";
  cases[2].patch.environment = "moon";
  cases[2].field = "environment";
  cases[3].patch.expires_at = clock_.Now() - hours(1);
  cases[3].field = "expires_at";
  cases[4].patch.expires_in = hours(24 * 365);
  cases[4].field = "expires_in";
  cases[5].patch.selectors = std::vector<std::string>{"unix:sha256:xyz"};
  cases[5].field = "selectors[0]";
  for (const auto& c : cases) {
    auto res = registry_->Update("billing-bot", c.patch, "admin");
    EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument) << c.field;
    EXPECT_EQ(res.status().field(), c.field) << res.status().ToString();
  }
  EXPECT_EQ(EventCount(), 2u);  // created + the one accepted update
}

TEST_F(RegistryTest, StatusTransitions) {
  ASSERT_TRUE(registry_->Create(ValidSpec(), "admin").ok());
  auto s = registry_->Suspend("billing-bot", "admin", "investigating anomaly");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->status, AgentStatus::kSuspended);
  EXPECT_EQ(s->version, 2);
  EXPECT_EQ(registry_->Suspend("billing-bot", "admin", "").status().code(),
            StatusCode::kFailedPrecondition);
  auto r = registry_->Resume("billing-bot", "admin", "cleared");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, AgentStatus::kActive);
  EXPECT_EQ(registry_->Resume("billing-bot", "admin", "").status().code(),
            StatusCode::kFailedPrecondition);
  auto t = registry_->Retire("billing-bot", "admin", "decommissioned");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->status, AgentStatus::kRetired);
  EXPECT_EQ(t->version, 4);

  // Retired is terminal.
  EXPECT_EQ(registry_->Resume("billing-bot", "admin", "").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Suspend("billing-bot", "admin", "").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Retire("billing-bot", "admin", "").status().code(),
            StatusCode::kFailedPrecondition);
  AgentPatch p;
  p.owner = "someone-else";
  EXPECT_EQ(registry_->Update("billing-bot", p, "admin").status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Get("billing-bot")->status, AgentStatus::kRetired);
  // A retired name stays taken.
  EXPECT_EQ(registry_->Create(ValidSpec(), "admin").status().code(), StatusCode::kAlreadyExists);

  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].kind, "agent.suspended");
  EXPECT_EQ(events[1].details.at("reason").as_string(), "investigating anomaly");
  EXPECT_EQ(events[1].details.at("from").as_string(), "active");
  EXPECT_EQ(events[1].details.at("to").as_string(), "suspended");
  EXPECT_EQ(events[2].kind, "agent.resumed");
  EXPECT_EQ(events[3].kind, "agent.retired");
  for (const auto& e : events) EXPECT_EQ(e.subject, "agent:billing-bot");

  // Suspending a suspended agent directly to retired works from any state.
  ASSERT_TRUE(registry_->Create(ValidSpec("other"), "admin").ok());
  ASSERT_TRUE(registry_->Suspend("other", "admin", "").ok());
  EXPECT_TRUE(registry_->Retire("other", "admin", "").ok());
}

TEST_F(RegistryTest, ReasonIsValidated) {
  ASSERT_TRUE(registry_->Create(ValidSpec(), "admin").ok());
  auto r = registry_->Suspend("billing-bot", "admin", "bad\x07reason");
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().field(), "reason");
  EXPECT_EQ(registry_->Suspend("billing-bot", "", "x").status().field(), "actor");
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, ExpiryMakesAnAgentSuspendedAndBlocksResume) {
  AgentSpec spec = ValidSpec();
  spec.expires_in = hours(1);
  auto a = registry_->Create(spec, "admin");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(registry_->Get("billing-bot")->EffectiveStatus(clock_.Now()), AgentStatus::kActive);
  clock_.Advance(hours(2));
  auto got = registry_->Get("billing-bot");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, AgentStatus::kActive);  // stored
  EXPECT_EQ(got->EffectiveStatus(clock_.Now()), AgentStatus::kSuspended);
  json::object j = registry_->ToJson(*got, clock_.Now());
  EXPECT_EQ(j.at("status").as_string(), "suspended");
  EXPECT_EQ(j.at("expired").as_bool(), true);

  AgentFilter suspended;
  suspended.status = AgentStatus::kSuspended;
  EXPECT_EQ(registry_->List(suspended)->size(), 1u);
  AgentFilter active;
  active.status = AgentStatus::kActive;
  EXPECT_EQ(registry_->List(active)->size(), 0u);

  // Suspend it explicitly, then resume must refuse until the expiry moves.
  ASSERT_TRUE(registry_->Suspend("billing-bot", "admin", "").ok());
  auto r = registry_->Resume("billing-bot", "admin", "");
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("expired on " + FormatRfc3339(a->expires_at)),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("extend expires_at first"), std::string::npos);
  size_t before = EventCount();
  AgentPatch extend;
  extend.expires_in = hours(24);
  ASSERT_TRUE(registry_->Update("billing-bot", extend, "admin").ok());
  auto resumed = registry_->Resume("billing-bot", "admin", "extended");
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(resumed->EffectiveStatus(clock_.Now()), AgentStatus::kActive);
  EXPECT_EQ(EventCount(), before + 2);
}

TEST_F(RegistryTest, ListFilters) {
  AgentSpec a = ValidSpec("a");
  AgentSpec b = ValidSpec("b");
  b.owner = "bob";
  b.environment = "dev";
  AgentSpec c = ValidSpec("c");
  c.environment = "dev";
  for (const auto& s : {c, a, b}) ASSERT_TRUE(registry_->Create(s, "admin").ok());
  ASSERT_TRUE(registry_->Suspend("c", "admin", "").ok());

  auto names = [&](const AgentFilter& f) {
    std::vector<std::string> out;
    auto listed = registry_->List(f);
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (!listed.ok()) return out;
    for (const auto& ag : *listed) out.push_back(ag.name);
    return out;
  };
  EXPECT_EQ(names({}), (std::vector<std::string>{"a", "b", "c"}));
  AgentFilter f;
  f.owner = "bob";
  EXPECT_EQ(names(f), std::vector<std::string>{"b"});
  f = {};
  f.environment = "dev";
  EXPECT_EQ(names(f), (std::vector<std::string>{"b", "c"}));
  f.status = AgentStatus::kActive;
  EXPECT_EQ(names(f), std::vector<std::string>{"b"});
  f = {};
  f.status = AgentStatus::kSuspended;
  EXPECT_EQ(names(f), std::vector<std::string>{"c"});
  f.owner = "nobody";
  EXPECT_TRUE(names(f).empty());
}

TEST_F(RegistryTest, ConcurrentCreatesOfOneNameHaveExactlyOneWinner) {
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, exists{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      AgentSpec spec = ValidSpec("contended");
      spec.owner = "owner-" + std::to_string(i);
      auto r = registry_->Create(spec, "admin");
      if (r.ok()) {
        ++ok;
      } else if (r.status().code() == StatusCode::kAlreadyExists) {
        ++exists;
      } else {
        ++other;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(exists.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  auto events = AllEvents(*store_);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].details.at("owner").as_string(), registry_->Get("contended")->owner);
  auto report = audit::Verify(*store_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->problem;
}

TEST_F(RegistryTest, AuditChainVerifiesAfterEveryKindOfChange) {
  ASSERT_TRUE(registry_->Create(ValidSpec(), "admin").ok());
  AgentPatch p;
  p.purpose = "new purpose";
  ASSERT_TRUE(registry_->Update("billing-bot", p, "admin").ok());
  ASSERT_TRUE(registry_->Suspend("billing-bot", "agent:monitor", "rate anomaly").ok());
  ASSERT_TRUE(registry_->Resume("billing-bot", "admin", "").ok());
  ASSERT_TRUE(registry_->Retire("billing-bot", "admin", "").ok());
  auto report = audit::Verify(*store_);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->ok) << report->problem;
  EXPECT_EQ(report->events_checked, 5);
  EXPECT_EQ(AllEvents(*store_)[2].actor, "agent:monitor");
}

TEST(RegistryJsonTest, SpecFromJson) {
  auto body = ParseJson(R"({"name":"bot","owner":"o","purpose":"p","environment":"dev",
                            "expires_in":"30d","selectors":["unix:uid:1"]})");
  ASSERT_TRUE(body.ok());
  auto spec = AgentRegistry::SpecFromJson(*body);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "bot");
  EXPECT_EQ(*spec->expires_in, hours(24 * 30));
  EXPECT_FALSE(spec->expires_at);
  EXPECT_EQ(spec->selectors, std::vector<std::string>{"unix:uid:1"});

  auto at = AgentRegistry::SpecFromJson(*ParseJson(
      R"({"name":"bot","owner":"o","purpose":"p","environment":"dev","expires_at":"2027-01-02T03:04:05Z"})"));
  ASSERT_TRUE(at.ok());
  EXPECT_EQ(FormatRfc3339(*at->expires_at), "2027-01-02T03:04:05Z");

  struct Case {
    std::string json;
    std::string field;
  };
  for (
      const auto& c : std::vector<Case>{
          {R"({"owner":"o","purpose":"p","environment":"dev","expires_in":"1d"})", "name"},
          {R"({"name":1,"owner":"o","purpose":"p","environment":"dev"})", "name"},
          {R"({"name":"b","owner":"o","purpose":"p","environment":"dev","expires_in":"1d","admin":true})",
           "admin"},
          {R"({"name":"b","owner":"o","purpose":"p","environment":"dev","expires_at":"tomorrow"})",
           "expires_at"},
          {R"({"name":"b","owner":"o","purpose":"p","environment":"dev","expires_in":"1 day"})",
           "expires_in"},
          {R"({"name":"b","owner":"o","purpose":"p","environment":"dev","selectors":"unix:uid:1"})",
           "selectors"},
          {R"({"name":"b","owner":"o","purpose":"p","environment":"dev","selectors":[1]})",
           "selectors[0]"},
      }) {
    auto r = AgentRegistry::SpecFromJson(*ParseJson(c.json));
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().field(), c.field) << c.json << " -> " << r.status().ToString();
  }
  EXPECT_FALSE(AgentRegistry::SpecFromJson(json::value(json::array())).ok());
}

TEST(RegistryJsonTest, PatchFromJson) {
  auto patch = AgentRegistry::PatchFromJson(*ParseJson(R"({"owner":"o","version":3})"));
  ASSERT_TRUE(patch.ok());
  EXPECT_EQ(*patch->owner, "o");
  EXPECT_EQ(*patch->expected_version, 3);
  EXPECT_FALSE(patch->purpose);
  EXPECT_TRUE(AgentRegistry::PatchFromJson(*ParseJson("{}"))->empty());
  EXPECT_EQ(AgentRegistry::PatchFromJson(*ParseJson(R"({"name":"x"})")).status().field(), "name");
  EXPECT_EQ(AgentRegistry::PatchFromJson(*ParseJson(R"({"status":"active"})")).status().field(),
            "status");
  EXPECT_EQ(AgentRegistry::PatchFromJson(*ParseJson(R"({"owner":null})")).status().field(),
            "owner");
}

TEST(RegistryOptionsTest, Validation) {
  EXPECT_TRUE(ValidateRegistryOptions({}).ok());
  RegistryOptions o;
  o.trust_domain = "Bad Domain";
  EXPECT_EQ(ValidateRegistryOptions(o).field(), "trust_domain");
  o = {};
  o.environments = {};
  EXPECT_EQ(ValidateRegistryOptions(o).field(), "environments");
  o.environments = {"dev", "dev"};
  EXPECT_EQ(ValidateRegistryOptions(o).field(), "environments[0]");
  o = {};
  o.max_lifetime = std::chrono::seconds(0);
  EXPECT_EQ(ValidateRegistryOptions(o).field(), "max_lifetime");
}

}  // namespace
}  // namespace warden::identity
