#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <fstream>
#include <functional>
#include <string>

#include "cli/context.h"
#include "cli/output.h"
#include "cli/workload_agent.h"
#include "cli/workload_delegate_command.h"

#include "warden/server/options.h"
#include "warden/server/server.h"

namespace warden::cli {

int Context::Fail(const Status& status) const {
  *err << FormatError(status) << "\n";
  return kExitFailed;
}

Result<std::string> ResolveToken(const GlobalOptions& global) {
  if (!global.token.empty()) return global.token;
  const std::string path = global.data_dir + "/admin.token";
  std::ifstream in(path);
  if (!in) {
    return Unauthenticated("no admin token: pass --token, set WARDEN_TOKEN, or point --data at "
                           "the server's data directory (cannot read " +
                           path + ")");
  }
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.empty()) return Unauthenticated("admin token file " + path + " is empty");
  return token;
}

void AddJsonFlag(CLI::App* sub, GlobalOptions& global) {
  sub->add_flag("--json", global.json, "Print the server's JSON instead of text");
}

// CLI11's required() accepts an empty word; names and ids must not be empty.
CLI::Validator NonEmpty() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return value.empty() ? std::string("must not be empty") : std::string();
      },
      "", "NONEMPTY");
}

Result<ApiClient> Connect(const GlobalOptions& global, bool stop_on_interrupt) {
  WARDEN_ASSIGN_OR_RETURN(std::string token, ResolveToken(global));
  HttpClientOptions options;
  options.cacert_file = global.cacert;
  options.stop_on_interrupt = stop_on_interrupt;
  WARDEN_ASSIGN_OR_RETURN(auto http, HttpClient::Create(global.server, options));
  return ApiClient(std::move(http), std::move(token));
}

namespace {

struct ServeArgs {
  std::string listen, config, trust_domain, tls_cert, tls_key, workload_socket;
  bool insecure_listen = false;
  size_t max_body_bytes = 0;
  CLI::Option* listen_opt = nullptr;
  CLI::Option* trust_domain_opt = nullptr;
  CLI::Option* tls_cert_opt = nullptr;
  CLI::Option* tls_key_opt = nullptr;
  CLI::Option* max_body_opt = nullptr;
  CLI::Option* workload_socket_opt = nullptr;
};

int Serve(const Context& ctx, const ServeArgs& args) {
  server::ServeOptions options;
  if (!args.config.empty()) {
    auto loaded = server::LoadConfig(args.config);
    if (!loaded.ok()) return ctx.Fail(loaded.status().WithContext(args.config));
    options = std::move(loaded).value();
  }
  // Flags given on the command line override the config file.
  if (ctx.global.data_dir_given || args.config.empty()) options.data_dir = ctx.global.data_dir;
  if (args.listen_opt->count() > 0) options.listen = args.listen;
  if (args.trust_domain_opt->count() > 0) options.trust_domain = args.trust_domain;
  if (args.tls_cert_opt->count() > 0) options.tls_cert = args.tls_cert;
  if (args.tls_key_opt->count() > 0) options.tls_key = args.tls_key;
  if (args.insecure_listen) options.insecure_listen = true;
  if (args.max_body_opt->count() > 0) options.max_body_bytes = args.max_body_bytes;
  if (args.workload_socket_opt->count() > 0) options.workload_socket = args.workload_socket;
  options.config_file = args.config;
  return server::RunServe(options);
}

CLI::Validator ExpiresValidator() {
  return CLI::Validator([](std::string& value) { return CheckExpires(value); }, "", "EXPIRES");
}

}  // namespace

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  Context ctx;
  ctx.out = &out;
  ctx.err = &err;
  GlobalOptions& g = ctx.global;
  AgentArgs agent_args;
  AuditArgs audit_args;
  ServeArgs serve_args;
  std::function<int()> action;

  CLI::App app("Warden: the runtime authority for AI agents.", "warden");
  // Global options are accepted before or after the subcommand.
  app.fallthrough();
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  app.add_option("--server", g.server, "Warden server base URL (default " +
                                            std::string(kDefaultServer) + ")")
      ->envname("WARDEN_SERVER")
      ->type_name("URL");
  app.add_option("--token", g.token,
                 "Admin token (default: WARDEN_TOKEN, else DATA/admin.token)")
      ->envname("WARDEN_TOKEN")
      ->type_name("TOKEN");
  CLI::Option* data_opt =
      app.add_option("--data", g.data_dir,
                     "Data directory: where serve keeps its state, and where the admin token "
                     "is read from (default " + std::string(kDefaultDataDir) + ")")
          ->type_name("DIR")
          ->check(NonEmpty());
  app.add_option("--cacert", g.cacert, "PEM file of CAs trusted for an https:// server")
      ->type_name("FILE");

  auto add_json = [&](CLI::App* sub) { AddJsonFlag(sub, g); };

  // warden serve
  CLI::App* serve = app.add_subcommand("serve", "Run the Warden server in the foreground");
  serve_args.listen_opt =
      serve->add_option("--listen", serve_args.listen, "Listen address host:port (port 0: any)")
          ->type_name("ADDR");
  serve->add_option("--config", serve_args.config, "JSON config file")->type_name("FILE");
  serve_args.trust_domain_opt =
      serve->add_option("--trust-domain", serve_args.trust_domain,
                        "SPIFFE trust domain (used when the data directory is created)")
          ->type_name("TD");
  serve_args.tls_cert_opt =
      serve->add_option("--tls-cert", serve_args.tls_cert, "PEM certificate chain for https")
          ->type_name("FILE");
  serve_args.tls_key_opt =
      serve->add_option("--tls-key", serve_args.tls_key, "PEM private key for https")
          ->type_name("FILE");
  serve_args.tls_cert_opt->needs(serve_args.tls_key_opt);
  serve_args.tls_key_opt->needs(serve_args.tls_cert_opt);
  serve->add_flag("--insecure-listen", serve_args.insecure_listen,
                  "Allow plain http on a non-loopback address");
  serve_args.max_body_opt =
      serve->add_option("--max-body-bytes", serve_args.max_body_bytes, "Largest request body")
          ->type_name("N")
          ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  serve_args.workload_socket_opt =
      serve->add_option("--workload-socket", serve_args.workload_socket,
                        "Workload API Unix socket (default DATA/public/workload.sock; off: none)")
          ->type_name("PATH");
  serve->callback([&] { action = [&] { return Serve(ctx, serve_args); }; });

  // warden agent ...
  CLI::App* agent = app.add_subcommand("agent", "Register and manage agents");
  agent->require_subcommand(1);
  auto add_name = [&](CLI::App* sub) {
    sub->add_option("NAME", agent_args.name, "Agent name")->required()->check(NonEmpty());
  };
  auto add_fields = [&](CLI::App* sub) {
    sub->add_option("--owner", agent_args.owner, "Accountable owner")->type_name("OWNER");
    sub->add_option("--purpose", agent_args.purpose, "What the agent is for")->type_name("TEXT");
    sub->add_option("--env", agent_args.environment, "Environment (dev, staging, prod)")
        ->type_name("ENV");
    sub->add_option("--expires", agent_args.expires,
                    "Expiry: a duration from now (30d, 12h) or an RFC 3339 time")
        ->type_name("WHEN")
        ->check(ExpiresValidator());
  };

  CLI::App* create = agent->add_subcommand("create", "Register a new agent");
  add_name(create);
  add_fields(create);
  create->add_option("--selector", agent_args.selectors,
                     "Attestation selector (repeatable), e.g. unix:uid:1000")
      ->type_name("S")
      ->allow_extra_args(false);
  add_json(create);
  create->callback([&] { action = [&] { return AgentCreate(ctx, agent_args); }; });

  CLI::App* list = agent->add_subcommand("list", "List agents");
  list->add_option("--status", agent_args.status_filter, "Only agents with this status")
      ->check(CLI::IsMember({"active", "suspended", "retired"}));
  list->add_option("--owner", agent_args.owner, "Only agents of this owner")->type_name("OWNER");
  list->add_option("--env", agent_args.environment, "Only agents in this environment")
      ->type_name("ENV");
  add_json(list);
  list->callback([&] { action = [&] { return AgentList(ctx, agent_args); }; });

  CLI::App* show = agent->add_subcommand("show", "Show one agent");
  add_name(show);
  add_json(show);
  show->callback([&] { action = [&] { return AgentShow(ctx, agent_args); }; });

  CLI::App* update = agent->add_subcommand("update", "Change an agent's registration");
  add_name(update);
  add_fields(update);
  CLI::Option* selector_opt =
      update
          ->add_option("--selector", agent_args.selectors,
                       "Replace the selectors with these (repeatable)")
          ->type_name("S")
          ->allow_extra_args(false);
  CLI::Option* clear_opt = update->add_flag("--clear-selectors", agent_args.clear_selectors,
                                            "Remove every selector");
  selector_opt->excludes(clear_opt);
  add_json(update);
  update->callback([&] {
    action = [&, selector_opt] { return AgentUpdate(ctx, agent_args, selector_opt->count() > 0); };
  });

  for (const char* verb : {"suspend", "resume", "retire"}) {
    std::string help = std::string(verb == std::string("suspend")  ? "Suspend"
                                   : verb == std::string("resume") ? "Resume"
                                                                   : "Retire (permanently)") +
                       " an agent";
    CLI::App* sub = agent->add_subcommand(verb, help);
    add_name(sub);
    sub->add_option("--reason", agent_args.reason, "Why (recorded in the audit log)")
        ->type_name("TEXT");
    add_json(sub);
    std::string verb_name = verb;
    sub->callback([&, verb_name] {
      action = [&, verb_name] { return AgentTransition(ctx, agent_args, verb_name); };
    });
  }

  std::string join_ttl;
  CLI::App* join_token = agent->add_subcommand(
      "join-token", "Create a one-time token for an agent on another host to attest with");
  add_name(join_token);
  join_token->add_option("--ttl", join_ttl, "How long the token is valid (default 10m)")
      ->type_name("DURATION");
  add_json(join_token);
  join_token->callback(
      [&] { action = [&] { return AgentJoinToken(ctx, agent_args, join_ttl); }; });

  // warden keys ...
  KeysArgs keys_args;
  CLI::App* keys = app.add_subcommand("keys", "The trust domain's signing keys");
  keys->require_subcommand(1);
  CLI::App* klist = keys->add_subcommand("list", "List signing keys and their publication");
  add_json(klist);
  klist->callback([&] { action = [&] { return KeysList(ctx); }; });
  CLI::App* rotate = keys->add_subcommand(
      "rotate", "Sign with a new key; the old one stays published until its tokens expire");
  rotate->add_option("--algorithm", keys_args.algorithm, "ed25519 or es256 (default: as now)")
      ->check(CLI::IsMember({"ed25519", "es256", "EdDSA", "ES256"}));
  add_json(rotate);
  rotate->callback([&] { action = [&] { return KeysRotate(ctx, keys_args); }; });

  // warden workload ... (run by agents)
  WorkloadArgs workload_args;
  CLI::App* workload =
      app.add_subcommand("workload", "Agent side: keys and identities for this workload");
  workload->require_subcommand(1);
  auto add_ask = [&](CLI::App* sub) {
    sub->add_option("--audience", workload_args.audiences,
                    "Audience of the SVID (repeatable; default: this trust domain)")
        ->type_name("AUD")
        ->allow_extra_args(false);
    sub->add_option("--ttl", workload_args.ttl, "Lifetime (default: the server's svid_ttl)")
        ->type_name("DURATION");
  };
  CLI::App* keygen =
      workload->add_subcommand("keygen", "Create this workload's key pair (file mode 0600)");
  keygen->add_option("--out", workload_args.key_file, "Private key file to write")
      ->required()
      ->type_name("FILE");
  keygen->add_option("--algorithm", workload_args.algorithm, "ed25519 (default) or es256")
      ->check(CLI::IsMember({"ed25519", "es256"}));
  keygen->add_flag("--force", workload_args.force, "Replace an existing file");
  add_json(keygen);
  keygen->callback([&] { action = [&] { return WorkloadKeygen(ctx, workload_args); }; });
  CLI::App* svid = workload->add_subcommand(
      "svid", "Fetch a JWT-SVID from the Workload API socket (the process is attested)");
  svid->add_option("--socket", workload_args.socket,
                   "Workload API socket (default: $WARDEN_WORKLOAD_SOCKET or "
                   "DATA/public/workload.sock)")
      ->type_name("PATH");
  add_ask(svid);
  svid->add_option("--key", workload_args.key_file, "Bind the SVID to this key (cnf.jkt)")
      ->type_name("FILE");
  add_json(svid);
  svid->callback([&] { action = [&] { return WorkloadSvid(ctx, workload_args); }; });
  CLI::App* join = workload->add_subcommand(
      "join", "Redeem a join token at --server for a JWT-SVID bound to --key");
  join->add_option("--token-file", workload_args.token_file,
                   "File holding the join token (default: $WARDEN_JOIN_TOKEN)")
      ->type_name("FILE");
  join->add_option("--key", workload_args.key_file, "This workload's key (warden workload keygen)")
      ->required()
      ->type_name("FILE");
  add_ask(join);
  add_json(join);
  join->callback([&] { action = [&] { return WorkloadJoin(ctx, workload_args); }; });

  AddGrantCommands(app, ctx, action);
  AddWorkloadMcpCommand(app, ctx, action);
  AddWorkloadDelegateCommand(app, ctx, action);
  AddApprovalCommands(app, ctx, action);

  // warden audit ...
  CLI::App* audit = app.add_subcommand("audit", "Read and verify the audit log");
  audit->require_subcommand(1);
  CLI::App* tail = audit->add_subcommand("tail", "Print the latest audit events");
  tail->add_flag("-f,--follow", audit_args.follow, "Keep printing new events until Ctrl-C");
  tail->add_option("--limit", audit_args.limit, "How many events (default 20)")
      ->type_name("N")
      ->check(CLI::Range(int64_t{1}, int64_t{10000}));
  tail->add_option("--after", audit_args.after, "Events after this sequence number")
      ->type_name("SEQ")
      ->check(CLI::Range(int64_t{0}, INT64_MAX));
  add_json(tail);
  tail->callback([&] { action = [&] { return AuditTail(ctx, audit_args); }; });

  CLI::App* verify = audit->add_subcommand("verify", "Check the audit hash chain");
  verify->add_option("--db", audit_args.db_file,
                     "Verify this SQLite database file directly instead of asking the server")
      ->type_name("FILE")
      ->check(NonEmpty());
  add_json(verify);
  verify->callback([&] { action = [&] { return AuditVerify(ctx, audit_args); }; });

  // warden policy ...
  PolicyArgs policy_args;
  CLI::App* policy = app.add_subcommand("policy", "Cedar policies: the server's, and offline tools");
  policy->require_subcommand(1);
  CLI::App* plist = policy->add_subcommand("list", "Show the policies the server decides with");
  add_json(plist);
  plist->callback([&] { action = [&] { return PolicyList(ctx); }; });
  CLI::App* reload = policy->add_subcommand(
      "reload", "Reload DATA/policies on the server (an invalid set is refused)");
  add_json(reload);
  reload->callback([&] { action = [&] { return PolicyReload(ctx); }; });

  CLI::App* authorize = policy->add_subcommand("authorize", "Decide requests offline");
  authorize->add_option("--policies", policy_args.policies, "Cedar policy file")
      ->required()->check(CLI::ExistingFile);
  authorize->add_option("--entities", policy_args.entities, "Entities JSON file")
      ->required()->check(CLI::ExistingFile);
  authorize->add_option("--schema", policy_args.schema,
                        "Schema (.cedarschema, or .json): parse entities and context with it")
      ->check(CLI::ExistingFile);
  CLI::Option* one = authorize->add_option("--request", policy_args.request,
                                           "Request JSON file: principal, action, resource, context")
                         ->check(CLI::ExistingFile);
  CLI::Option* many = authorize->add_option("--requests", policy_args.requests,
                                            "JSON Lines file: one request per line, one answer per line")
                          ->check(CLI::ExistingFile);
  one->excludes(many);
  authorize->callback([&] {
    if (policy_args.request.empty() && policy_args.requests.empty()) {
      throw CLI::RequiredError("--request or --requests");
    }
    action = [&] { return PolicyAuthorize(ctx, policy_args); };
  });

  CLI::App* validate = policy->add_subcommand("validate", "Validate policies against a schema");
  validate->add_option("--policies", policy_args.policies, "Cedar policy file")
      ->required()->check(CLI::ExistingFile);
  validate->add_option("--schema", policy_args.schema, "Schema (.cedarschema, or .json)")
      ->required()->check(CLI::ExistingFile);
  add_json(validate);
  validate->callback([&] { action = [&] { return PolicyValidate(ctx, policy_args); }; });

  CLI::App* format = policy->add_subcommand("format", "Print a policy file in Cedar's layout");
  format->add_option("FILE", policy_args.file, "Cedar policy file")->required()->check(CLI::ExistingFile);
  CLI::Option* write_opt = format->add_flag("--write", policy_args.write, "Rewrite the file in place");
  format->add_flag("--check", policy_args.check, "Exit 1 when the file is not formatted")
      ->excludes(write_opt);
  format->callback([&] { action = [&] { return PolicyFormat(ctx, policy_args); }; });

  CLI::App* ptest = policy->add_subcommand("test", "Run a file of policy test cases");
  ptest->add_option("FILE", policy_args.file, "Test file (JSON)")->required()->check(CLI::ExistingFile);
  add_json(ptest);
  ptest->callback([&] { action = [&] { return PolicyTest(ctx, policy_args); }; });

  CLI::App* version = app.add_subcommand("version", "Print the version");
  add_json(version);
  version->callback([&] {
    action = [&] {
      if (g.json) {
        json::object v;
        v["version"] = WARDEN_VERSION;
        out << PrettyJson(v);
      } else {
        out << "warden " << WARDEN_VERSION << "\n";
      }
      return kExitOk;
    };
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "warden: " << e.what() << "\n";
    err << "Run 'warden --help' (or 'warden <command> --help') for usage.\n";
    return kExitUsage;
  }
  g.data_dir_given = data_opt->count() > 0;
  if (!action) {
    err << "warden: no command given\n";
    return kExitUsage;
  }
  return action();
}

}  // namespace warden::cli
