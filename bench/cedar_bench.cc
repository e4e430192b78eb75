// Cedar authorization throughput on deterministic, seeded workloads:
//  - agent_tool: 100 policies over ~1,000 entities (agents owned by users,
//    tools on servers) and tool-call requests whose context carries arguments;
//  - large_set_10 / large_set_10000: the same policy shape at two sizes under
//    one request distribution (the scope indexes should keep them close);
//  - corpus_sample: every request of a sample of Cedar's generated corpus
//    (skipped with a message when the corpus archive is absent).
// One benchmark iteration is one decision; <name>/parse_per_call also parses
// the entities and request JSON for each decision, as a stateless API must.
// `--write-workloads DIR` writes each
// workload as DIR/<name>.json (policy text, entities JSON, requests, and the
// answers Warden gives) so other engines can be run on identical inputs.
// Single-threaded; all inputs are built before timing starts.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/authorizer.h"
#include "warden/cedar/entity_json.h"
#include "warden/cedar/policy_set.h"
#include "warden/core/json.h"

namespace warden::cedar {
namespace {

namespace fs = std::filesystem;

// splitmix64: tiny, seedable and identical on every platform, so a workload
// is a pure function of its seed.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return Next() % n; }
  // True with probability percent/100.
  bool Chance(uint64_t percent) { return Below(100) < percent; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  uint64_t state_;
};

std::string N(uint64_t i) { return std::to_string(i); }

json::object Uid(std::string_view type, std::string_view id) {
  return json::object{{"type", type}, {"id", id}};
}

json::object EntityRef(std::string_view type, std::string_view id) {
  return json::object{{"__entity", Uid(type, id)}};
}

json::object MakeEntity(std::string_view type, std::string_view id, json::object attrs,
                        json::array parents) {
  return json::object{{"uid", Uid(type, id)}, {"attrs", std::move(attrs)},
                      {"parents", std::move(parents)}};
}

json::object MakeRequest(json::object principal, json::object action, json::object resource,
                         json::object context) {
  return json::object{{"principal", std::move(principal)},
                      {"action", std::move(action)},
                      {"resource", std::move(resource)},
                      {"context", std::move(context)}};
}

// One policy set, its entities and the requests made against it, as JSON.
struct GroupText {
  std::string policies;
  json::array entities;
  json::array requests;
};

struct WorkloadText {
  std::string name;
  std::vector<GroupText> groups;
};

// A distinct subset (1..max_n members) of `pool`, as a JSON array.
json::array Subset(Rng& rng, const std::vector<std::string>& pool, size_t max_n) {
  std::vector<std::string> chosen;
  size_t n = 1 + rng.Below(max_n);
  for (size_t k = 0; k < n; ++k) {
    const std::string& s = rng.Pick(pool);
    if (std::find(chosen.begin(), chosen.end(), s) == chosen.end()) chosen.push_back(s);
  }
  json::array out;
  for (const std::string& s : chosen) out.emplace_back(s);
  return out;
}

// Agents acting for owners, calling tools hosted on servers; policies look at
// the tool-call arguments carried in the context.
WorkloadText AgentToolWorkload(uint64_t seed) {
  constexpr uint64_t kTeams = 10, kOwners = 100, kServers = 40, kTools = 250, kAgents = 600;
  const std::vector<std::string> tags = {"read", "write", "fs", "net", "billing", "admin",
                                         "search", "mail"};
  const std::vector<std::string> categories = {"fs", "payments", "shell", "search", "mail"};
  const std::vector<std::string> envs = {"prod", "prod", "staging", "dev"};
  Rng rng(seed);
  GroupText g;
  for (uint64_t t = 0; t < kTeams; ++t) g.entities.emplace_back(MakeEntity("Team", "team" + N(t), {}, {}));
  for (uint64_t o = 0; o < kOwners; ++o) {
    g.entities.emplace_back(MakeEntity("User", "owner" + N(o),
                                       {{"email", "owner" + N(o) + "@example.com"}},
                                       {Uid("Team", "team" + N(o % kTeams))}));
  }
  for (uint64_t s = 0; s < kServers; ++s) {
    g.entities.emplace_back(MakeEntity("Server", "srv" + N(s),
                                       {{"region", s % 3 == 0 ? "eu" : s % 3 == 1 ? "us" : "ap"}}, {}));
  }
  for (uint64_t k = 0; k < kTools; ++k) {
    g.entities.emplace_back(MakeEntity(
        "Tool", "tool" + N(k),
        {{"risk", static_cast<int64_t>(rng.Below(10))},
         {"category", rng.Pick(categories)},
         {"tags", Subset(rng, tags, 3)}},
        {Uid("Server", "srv" + N(k % kServers))}));
  }
  for (uint64_t a = 0; a < kAgents; ++a) {
    const std::string owner = "owner" + N(a % kOwners);
    g.entities.emplace_back(MakeEntity("Agent", "agent" + N(a),
                                       {{"environment", rng.Pick(envs)},
                                        {"trust", static_cast<int64_t>(rng.Below(10))},
                                        {"scopes", Subset(rng, tags, 4)},
                                        {"owner", EntityRef("User", owner)}},
                                       {Uid("User", owner)}));
  }
  for (const char* action : {"call", "list", "describe"}) {
    g.entities.emplace_back(MakeEntity("Action", action, {}, {Uid("Action", "any")}));
  }
  g.entities.emplace_back(MakeEntity("Action", "any", {}, {}));

  const std::vector<std::string> denied_paths = {"/etc/*", "/root/*", "/var/secrets/*", "*.pem"};
  std::string& p = g.policies;
  for (uint64_t i = 0; i < 100; ++i) {
    switch (i % 10) {
      case 0:
        p += "permit(principal in User::\"owner" + N(rng.Below(kOwners)) +
             "\", action == Action::\"call\", resource in Server::\"srv" + N(rng.Below(kServers)) +
             "\")\nwhen { principal.environment == \"prod\" && context.args.amount < 1000 };\n";
        break;
      case 1:
        p += "permit(principal is Agent, action == Action::\"call\", resource == Tool::\"tool" +
             N(rng.Below(kTools)) +
             "\")\nwhen { context.args has path && context.args.path like \"/srv/*\" && "
             "resource.risk <= principal.trust };\n";
        break;
      case 2:
        p += "permit(principal in Team::\"team" + N(rng.Below(kTeams)) +
             "\", action in [Action::\"call\", Action::\"describe\"], resource is Tool)\n"
             "when { principal.scopes.containsAny(resource.tags) && "
             "context.client_ip.isInRange(ip(\"10." + N(rng.Below(4)) + ".0.0/16\")) };\n";
        break;
      case 3:
        p += "permit(principal == Agent::\"agent" + N(rng.Below(kAgents)) +
             "\", action, resource in Server::\"srv" + N(rng.Below(kServers)) + "\");\n";
        break;
      case 4:
        p += "forbid(principal is Agent, action == Action::\"call\", resource is Tool)\n"
             "when { resource.category == \"payments\" && context.args.amount >= " +
             N(5000 + 1000 * rng.Below(10)) +
             " }\nunless { principal.environment == \"prod\" && principal.trust >= 8 };\n";
        break;
      case 5:
        p += "permit(principal, action == Action::\"list\", resource is Tool)\n"
             "when { principal is Agent && principal.environment != \"dev\" && resource.risk < " +
             N(1 + rng.Below(9)) + " };\n";
        break;
      case 6:
        p += "permit(principal in User::\"owner" + N(rng.Below(kOwners)) +
             "\", action, resource == Tool::\"tool" + N(rng.Below(kTools)) +
             "\")\nwhen { context.args.amount < " + N(100 * (1 + rng.Below(50))) +
             " || context.dry_run };\n";
        break;
      case 7:
        p += "forbid(principal, action, resource)\nwhen { context has args && context.args has path "
             "&& context.args.path like \"" +
             rng.Pick(denied_paths) + "\" };\n";
        break;
      case 8:
        p += "permit(principal is Agent in Team::\"team" + N(rng.Below(kTeams)) +
             "\", action == Action::\"call\", resource in Server::\"srv" + N(rng.Below(kServers)) +
             "\")\nwhen { context.hour >= 8 && context.hour < 20 && principal.trust > " +
             N(rng.Below(5)) + " };\n";
        break;
      default:
        p += "permit(principal, action == Action::\"describe\", resource)\n"
             "when { resource has category && resource.category == \"" +
             rng.Pick(categories) + "\" };\n";
        break;
    }
  }

  const std::vector<std::string> paths = {"/srv/app/data.csv", "/srv/logs/today.log", "/etc/passwd",
                                          "/home/u/notes.txt", "/var/secrets/key", "/srv/tls/a.pem"};
  for (uint64_t q = 0; q < 1000; ++q) {
    uint64_t roll = rng.Below(10);
    const char* action = roll < 8 ? "call" : roll == 8 ? "list" : "describe";
    json::object args{{"amount", static_cast<int64_t>(rng.Chance(70) ? rng.Below(1000)
                                                                     : rng.Below(20000))}};
    if (rng.Chance(85)) args["path"] = rng.Pick(paths);
    json::object context{
        {"args", std::move(args)},
        {"client_ip", json::object{{"__extn", json::object{{"fn", "ip"},
                                                           {"arg", "10." + N(rng.Below(4)) + "." +
                                                                       N(rng.Below(256)) + "." +
                                                                       N(rng.Below(256))}}}}},
        {"hour", static_cast<int64_t>(rng.Below(24))},
        {"dry_run", rng.Chance(10)},
        {"session", "s" + N(rng.Below(100000))}};
    g.requests.emplace_back(MakeRequest(Uid("Agent", "agent" + N(rng.Below(kAgents))),
                                        Uid("Action", action),
                                        Uid("Tool", "tool" + N(rng.Below(kTools))),
                                        std::move(context)));
  }
  return {"agent_tool", {std::move(g)}};
}

// `n` policies of one shape, policy i naming User::"u<i>" and Doc::"d<i>";
// the entities and the request distribution do not depend on `n`.
WorkloadText LargeSetWorkload(uint64_t n, uint64_t seed) {
  constexpr uint64_t kGroups = 100, kUsers = 400, kSpan = 10000;
  GroupText g;
  for (uint64_t i = 0; i < kGroups; ++i) g.entities.emplace_back(MakeEntity("Group", "g" + N(i), {}, {}));
  for (uint64_t i = 0; i < kUsers; ++i) {
    g.entities.emplace_back(MakeEntity("User", "u" + N(i), {{"level", static_cast<int64_t>(i % 7)}},
                                       {Uid("Group", "g" + N(i % kGroups))}));
  }
  for (uint64_t i = 0; i < n; ++i) {
    if (i % 10 == 9) {
      g.policies += "forbid(principal in Group::\"g" + N(i % kGroups) +
                    "\", action == Action::\"delete\", resource == Doc::\"d" + N(i) +
                    "\") when { context.level > 3 };\n";
    } else {
      g.policies += "permit(principal == User::\"u" + N(i) +
                    "\", action in [Action::\"read\", Action::\"write\"], resource == Doc::\"d" +
                    N(i) + "\") when { context.level >= " + N(i % 5) + " };\n";
    }
  }
  Rng rng(seed);
  const std::vector<std::string> actions = {"read", "write", "delete"};
  for (uint64_t q = 0; q < 1000; ++q) {
    // Half the requests fall on the first ten pairs, which both sizes name.
    uint64_t k = rng.Chance(50) ? rng.Below(10) : rng.Below(kSpan);
    uint64_t doc = rng.Chance(80) ? k : rng.Below(kSpan);
    g.requests.emplace_back(MakeRequest(Uid("User", "u" + N(k)), Uid("Action", rng.Pick(actions)),
                                        Uid("Doc", "d" + N(doc)),
                                        {{"level", static_cast<int64_t>(rng.Below(6))}}));
  }
  return {"large_set_" + N(n), {std::move(g)}};
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

bool ReadFile(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

JsonParseOptions CorpusLimits() {
  JsonParseOptions limits;
  limits.max_bytes = 64u << 20;
  limits.max_depth = 512;
  return limits;
}

// `sample` test files of Cedar's generated corpus, spread evenly over the
// sorted file list. The archive is $WARDEN_CEDAR_CORPUS/corpus-tests.tar.gz,
// unpacked once into <tmp>/warden-cedar-corpus-cache. Empty with *why set
// when the corpus is unavailable.
std::optional<WorkloadText> CorpusWorkload(size_t sample, std::string* why) {
  std::string dir = Env("WARDEN_CEDAR_CORPUS");
  if (dir.empty()) {
    *why = "WARDEN_CEDAR_CORPUS is not set (the folder holding corpus-tests.tar.gz)";
    return std::nullopt;
  }
  fs::path archive = fs::path(dir) / "corpus-tests.tar.gz";
  if (!fs::exists(archive)) {
    *why = archive.string() + " not found";
    return std::nullopt;
  }
  fs::path cache = fs::temp_directory_path() / "warden-cedar-corpus-cache";
  if (!fs::exists(cache / ".unpacked") || !fs::is_directory(cache / "corpus-tests")) {
    std::error_code ec;
    fs::remove_all(cache, ec);
    fs::create_directories(cache, ec);
    std::string cmd = "tar xzf " + ShellQuote(archive.string()) + " -C " + ShellQuote(cache.string());
    if (ec || std::system(cmd.c_str()) != 0) {
      *why = "cannot unpack " + archive.string() + " into " + cache.string();
      return std::nullopt;
    }
    std::ofstream(cache / ".unpacked") << "ok\n";
  }
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(cache / "corpus-tests")) {
    const std::string name = e.path().filename().string();
    if (name.ends_with(".json") && !name.ends_with(".entities.json")) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty() || sample == 0) {
    *why = "no corpus tests in " + cache.string();
    return std::nullopt;
  }
  WorkloadText w{"corpus_sample", {}};
  const size_t stride = std::max<size_t>(1, files.size() / sample);
  for (size_t i = 0; i < files.size() && w.groups.size() < sample; i += stride) {
    std::string text, policies, entities;
    if (!ReadFile(files[i], &text)) continue;
    Result<json::value> doc = ParseJson(text, CorpusLimits());
    if (!doc.ok() || !doc->is_object()) continue;
    const json::object& obj = doc->as_object();
    if (!ReadFile(cache / std::string(obj.at("policies").as_string()), &policies) ||
        !ReadFile(cache / std::string(obj.at("entities").as_string()), &entities)) {
      continue;
    }
    Result<json::value> ents = ParseJson(entities, CorpusLimits());
    if (!ents.ok() || !ents->is_array()) continue;
    GroupText g{std::move(policies), std::move(ents->as_array()), {}};
    for (const json::value& r : obj.at("requests").as_array()) {
      const json::object& ro = r.as_object();
      g.requests.emplace_back(json::object{{"principal", ro.at("principal")},
                                           {"action", ro.at("action")},
                                           {"resource", ro.at("resource")},
                                           {"context", ro.at("context")}});
    }
    w.groups.push_back(std::move(g));
  }
  return w;
}

// A workload parsed into Warden's structures, ready to time.
struct CompiledGroup {
  std::shared_ptr<const PolicySet> policies;
  Entities entities;
  std::vector<Request> requests;
  // The same inputs as text, for the variant that parses them per decision.
  std::string entities_json;
  std::vector<std::string> request_json;
};

struct CompiledWorkload {
  std::string name;
  std::vector<CompiledGroup> groups;
  // (group, request) pairs in workload order; the benchmark cycles through them.
  std::vector<std::pair<uint32_t, uint32_t>> order;
};

Result<CompiledWorkload> Compile(const WorkloadText& w) {
  CompiledWorkload out{w.name, {}, {}};
  for (const GroupText& g : w.groups) {
    CompiledGroup cg;
    WARDEN_ASSIGN_OR_RETURN(cg.policies, PolicySet::FromText(g.policies));
    WARDEN_ASSIGN_OR_RETURN(cg.entities, EntitiesFromJson(g.entities));
    cg.entities_json = ToJson(g.entities);
    for (const json::value& rv : g.requests) {
      cg.request_json.push_back(ToJson(rv));
      const json::object& r = rv.as_object();
      Request req;
      WARDEN_ASSIGN_OR_RETURN(req.principal, EntityUidFromJson(r.at("principal"), "principal"));
      WARDEN_ASSIGN_OR_RETURN(req.action, EntityUidFromJson(r.at("action"), "action"));
      WARDEN_ASSIGN_OR_RETURN(req.resource, EntityUidFromJson(r.at("resource"), "resource"));
      WARDEN_ASSIGN_OR_RETURN(req.context, ContextFromJson(r.at("context")));
      out.order.emplace_back(static_cast<uint32_t>(out.groups.size()),
                             static_cast<uint32_t>(cg.requests.size()));
      cg.requests.push_back(std::move(req));
    }
    out.groups.push_back(std::move(cg));
  }
  return out;
}

// Writes DIR/<name>.json: {"name", "groups": [{"policies", "entities",
// "requests", "expected": [{"decision", "reasons", "errors"}]}]}, where
// expected holds Warden's answers (reasons and erroring policy ids).
Status WriteWorkload(const fs::path& dir, const WorkloadText& w, const CompiledWorkload& c) {
  json::array groups;
  for (size_t gi = 0; gi < w.groups.size(); ++gi) {
    const CompiledGroup& cg = c.groups[gi];
    json::array expected;
    for (const Request& req : cg.requests) {
      Response r = IsAuthorized(*cg.policies, req, cg.entities);
      json::array reasons, errors;
      for (const std::string& id : r.diagnostics.reasons) reasons.emplace_back(id);
      for (const PolicyError& e : r.diagnostics.errors) errors.emplace_back(e.policy_id);
      expected.emplace_back(json::object{{"decision", DecisionName(r.decision)},
                                         {"reasons", std::move(reasons)},
                                         {"errors", std::move(errors)}});
    }
    groups.emplace_back(json::object{{"policies", w.groups[gi].policies},
                                     {"entities", w.groups[gi].entities},
                                     {"requests", w.groups[gi].requests},
                                     {"expected", std::move(expected)}});
  }
  json::object doc{{"name", w.name}, {"groups", std::move(groups)}};
  fs::path path = dir / (w.name + ".json");
  std::ofstream out(path, std::ios::binary);
  out << ToJson(doc) << "\n";
  if (!out) return Internal("cannot write " + path.string());
  return Status::Ok();
}

// Mean number of candidate policies the scope indexes return per request.
double MeanCandidates(const CompiledWorkload& w) {
  std::vector<uint32_t> candidates;
  size_t total = 0;
  for (const auto& [g, r] : w.order) {
    const CompiledGroup& cg = w.groups[g];
    cg.policies->Candidates(cg.requests[r], cg.entities, &candidates);
    total += candidates.size();
  }
  return w.order.empty() ? 0 : static_cast<double>(total) / static_cast<double>(w.order.size());
}

// The stateless-call shape of cedar-wasm's statefulIsAuthorized: the policy
// set is compiled once, but every decision parses the entities JSON and the
// request JSON first, so it does the same work per call as the reference.
void BM_ParseAndDecide(benchmark::State& state, const CompiledWorkload* w) {
  JsonParseOptions limits = CorpusLimits();
  EntityJsonOptions options;
  options.json = limits;
  size_t next = 0;
  for (auto _ : state) {
    const auto [g, r] = w->order[next];
    const CompiledGroup& cg = w->groups[g];
    Result<Entities> entities = ParseEntitiesJson(cg.entities_json, options);
    Result<Request> req = ParseRequestJson(cg.request_json[r], options);
    if (!entities.ok() || !req.ok()) {
      state.SkipWithError("workload input does not parse");
      break;
    }
    Response resp = IsAuthorized(*cg.policies, *req, *entities);
    benchmark::DoNotOptimize(resp);
    if (++next == w->order.size()) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_Decide(benchmark::State& state, const CompiledWorkload* w) {
  state.counters["candidates"] = MeanCandidates(*w);
  size_t next = 0;
  size_t allowed = 0;
  for (auto _ : state) {
    const auto [g, r] = w->order[next];
    const CompiledGroup& cg = w->groups[g];
    Response resp = IsAuthorized(*cg.policies, cg.requests[r], cg.entities);
    allowed += resp.decision == Decision::kAllow;
    benchmark::DoNotOptimize(resp);
    if (++next == w->order.size()) next = 0;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["allow_fraction"] =
      static_cast<double>(allowed) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  state.counters["requests"] = static_cast<double>(w->order.size());
  state.counters["policies"] = static_cast<double>(w->groups.empty() ? 0 : w->groups[0].policies->size());
}

// Consumes this binary's own flags (before benchmark::Initialize sees argv):
//   --write-workloads DIR   write every workload and Warden's answers, then exit;
//   --corpus-sample N       corpus tests in corpus_sample (default 200).
int Main(int argc, char** argv) {
  std::string write_dir;
  size_t corpus_sample = 200;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if ((a == "--write-workloads" || a == "--corpus-sample") && i + 1 < argc) {
      if (a == "--write-workloads") {
        write_dir = argv[++i];
      } else {
        corpus_sample = std::strtoull(argv[++i], nullptr, 10);
      }
    } else {
      rest.push_back(argv[i]);
    }
  }

  std::vector<WorkloadText> texts;
  texts.push_back(AgentToolWorkload(1));
  texts.push_back(LargeSetWorkload(10, 2));
  texts.push_back(LargeSetWorkload(10000, 2));
  std::string why;
  if (std::optional<WorkloadText> corpus = CorpusWorkload(corpus_sample, &why)) {
    texts.push_back(std::move(*corpus));
  } else {
    std::fprintf(stderr, "corpus_sample skipped: %s\n", why.c_str());
  }

  static std::vector<CompiledWorkload> compiled;  // outlives the registered benchmarks
  for (const WorkloadText& t : texts) {
    Result<CompiledWorkload> c = Compile(t);
    if (!c.ok()) {
      std::fprintf(stderr, "workload %s: %s\n", t.name.c_str(), c.status().ToString().c_str());
      return 1;
    }
    compiled.push_back(std::move(*c));
  }

  if (!write_dir.empty()) {
    std::error_code ec;
    fs::create_directories(write_dir, ec);
    for (size_t i = 0; i < texts.size(); ++i) {
      Status s = WriteWorkload(write_dir, texts[i], compiled[i]);
      if (!s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      std::printf("wrote %s (%zu requests)\n", (fs::path(write_dir) / (texts[i].name + ".json")).c_str(),
                  compiled[i].order.size());
    }
    return 0;
  }

  for (const CompiledWorkload& c : compiled) {
    benchmark::RegisterBenchmark(c.name.c_str(), BM_Decide, &c);
  }
  for (const CompiledWorkload& c : compiled) {
    benchmark::RegisterBenchmark((c.name + "/parse_per_call").c_str(), BM_ParseAndDecide, &c);
  }
  int bench_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&bench_argc, rest.data());
  if (benchmark::ReportUnrecognizedArguments(bench_argc, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace
}  // namespace warden::cedar

int main(int argc, char** argv) { return warden::cedar::Main(argc, argv); }
