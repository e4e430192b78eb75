#include "warden/policy/bundle.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "warden/cedar/parser.h"
#include "warden/cedar/validator.h"
#include "warden/crypto/hash.h"
#include "policy/default_schema_text.h"

namespace warden::policy {
namespace {

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Unavailable("error reading " + path.string());
  return ss.str();
}

}  // namespace

std::string_view DefaultSchemaText() { return internal::kDefaultSchemaText; }

Status InitPolicyDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (std::filesystem::exists(dir, ec)) return OkStatus();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Unavailable("cannot create " + dir.string() + ": " + std::strerror(errno));
  }
  auto path = dir / kSchemaFileName;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return OkStatus();
    return Unavailable("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  std::string_view text = DefaultSchemaText();
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    return Unavailable("cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return OkStatus();
}

std::string PolicyBundle::DisplayName(std::string_view policy_id) const {
  for (const auto& info : infos) {
    if (info.id == policy_id) return info.name.empty() ? info.id : info.name;
  }
  return std::string(policy_id);
}

Result<std::shared_ptr<const PolicyBundle>> BuildBundle(const std::vector<PolicySource>& files,
                                                        const PolicySource& schema_source,
                                                        bool require_schema, TimePoint now) {
  auto bundle = std::make_shared<PolicyBundle>();
  bundle->loaded_at = now;

  std::vector<std::string> errors;
  cedar::PolicySetAst all;
  for (const auto& file : files) {
    std::vector<cedar::ParseError> parse_errors;
    cedar::PolicySetAst ast =
        cedar::ParsePoliciesCollectingErrors(file.text, file.name, &parse_errors);
    for (const auto& e : parse_errors) errors.push_back(e.ToString());
    PolicyFile info;
    info.name = file.name;
    info.sha256 = crypto::Sha256Hex(file.text);
    info.policies = ast.policies.size();
    bundle->files.push_back(std::move(info));
    // Cedar numbers policies in text order; across files that order is the
    // concatenation in file-name order.
    for (auto& p : ast.policies) {
      p.id = "policy" + std::to_string(all.policies.size());
      all.policies.push_back(std::move(p));
    }
  }
  if (!errors.empty()) {
    std::string msg = "policies do not parse:";
    for (const auto& e : errors) msg += "\n" + e;
    return InvalidArgument(msg);
  }

  if (!schema_source.text.empty() || require_schema) {
    if (schema_source.text.empty() && require_schema) {
      return NotFound("no schema: " + schema_source.name +
                      " is required so that policies are validated before they are used");
    }
    cedar::SchemaSource source;
    source.name = schema_source.name;
    auto schema = cedar::Schema::ParseText(schema_source.text, source);
    if (!schema.ok()) return schema.status().WithContext("schema does not parse");
    cedar::ValidationResult validation = cedar::ValidatePolicies(*schema, all);
    if (!validation.ok()) {
      return InvalidArgument("policies do not validate against " + schema_source.name + ":\n" +
                             validation.ErrorText());
    }
    for (const auto& w : validation.warnings) bundle->warnings.push_back(w.ToString());
    bundle->schema = std::make_shared<const cedar::Schema>(std::move(*schema));
  }

  for (const auto& p : all.policies) {
    PolicyInfo info;
    info.id = p.id;
    if (auto name = p.FindAnnotation("id")) info.name = std::string(*name);
    info.effect = p.effect == cedar::Effect::kPermit ? "permit" : "forbid";
    info.is_template = p.IsTemplate();
    info.location = p.loc.ToString();
    bundle->infos.push_back(std::move(info));
  }
  auto set = cedar::PolicySet::Create(std::move(all));
  if (!set.ok()) return set.status();
  bundle->policies = std::move(*set);
  bundle->hash = bundle->policies->content_hash();
  return std::shared_ptr<const PolicyBundle>(std::move(bundle));
}

Result<std::shared_ptr<const PolicyBundle>> LoadPolicyDirectory(const std::filesystem::path& dir,
                                                                TimePoint now) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return NotFound("policy folder " + dir.string() + " does not exist");
  }
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".cedar") {
      paths.push_back(entry.path());
    }
  }
  if (ec) return Unavailable("cannot list " + dir.string() + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  std::vector<PolicySource> files;
  for (const auto& path : paths) {
    WARDEN_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    files.push_back({path.filename().string(), std::move(text)});
  }
  PolicySource schema{kSchemaFileName, {}};
  auto schema_path = dir / kSchemaFileName;
  if (std::filesystem::exists(schema_path, ec)) {
    WARDEN_ASSIGN_OR_RETURN(schema.text, ReadFile(schema_path));
    if (schema.text.empty()) schema.text = " ";  // an empty schema is still a schema
  }
  return BuildBundle(files, schema, /*require_schema=*/true, now);
}

}  // namespace warden::policy
