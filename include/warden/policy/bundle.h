// PolicyBundle: the policies and schema a Warden server decides with, loaded
// from a folder (DATA/policies/: *.cedar in file-name order plus
// schema.cedarschema), parsed, numbered policy0.. across files in that order,
// and validated strictly. Immutable once built; share it as
// shared_ptr<const PolicyBundle> and swap snapshots atomically on reload.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "warden/cedar/policy_set.h"
#include "warden/cedar/schema.h"
#include "warden/core/clock.h"
#include "warden/core/status.h"

namespace warden::policy {

inline constexpr char kSchemaFileName[] = "schema.cedarschema";

struct PolicyFile {
  std::string name;    // file name within the folder
  std::string sha256;  // of the file's bytes, hex
  size_t policies = 0;
};

// One loaded policy, for listings and for naming the policies behind a decision.
struct PolicyInfo {
  std::string id;      // policy0, policy1, ...
  std::string name;    // the @id("...") annotation, or empty
  std::string effect;  // "permit" | "forbid"
  bool is_template = false;
  std::string location;  // "file:line:column"
};

struct PolicyBundle {
  std::shared_ptr<const cedar::PolicySet> policies;
  std::shared_ptr<const cedar::Schema> schema;
  // The policy set's content hash (cedar::PolicySet::content_hash): what every
  // decision records.
  std::string hash;
  std::vector<PolicyFile> files;
  std::vector<PolicyInfo> infos;  // in id order
  std::vector<std::string> warnings;  // validator warnings, "file:line:col: ..."
  TimePoint loaded_at;

  // The @id name of `policy_id`, or the id itself when it has none.
  std::string DisplayName(std::string_view policy_id) const;
};

// The schema of the entity model Warden exposes (docs/policy-guide.md), the
// same text as examples/policies/schema.cedarschema.
std::string_view DefaultSchemaText();

// Creates `dir` (0700) with the default schema and no policies (deny
// everything) when it does not exist; leaves an existing folder alone.
Status InitPolicyDirectory(const std::filesystem::path& dir);

// Loads `dir`. The schema file is required (policies are always validated);
// a folder with a schema and no .cedar files is a valid, deny-everything set.
// InvalidArgument listing every parse or validation error, one per line, each
// "file:line:column: message"; NotFound when the folder or schema is missing.
Result<std::shared_ptr<const PolicyBundle>> LoadPolicyDirectory(const std::filesystem::path& dir,
                                                                TimePoint now);

// Loads from explicit texts (used by LoadPolicyDirectory and by tests):
// `files` as (name, text) pairs in order, `schema_text` may be empty for "no
// schema" only when `require_schema` is false.
struct PolicySource {
  std::string name;
  std::string text;
};
Result<std::shared_ptr<const PolicyBundle>> BuildBundle(const std::vector<PolicySource>& files,
                                                        const PolicySource& schema,
                                                        bool require_schema, TimePoint now);

}  // namespace warden::policy
