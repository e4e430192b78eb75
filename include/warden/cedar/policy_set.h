// An immutable, indexed Cedar policy set: static policies, templates and
// template links, compiled once for evaluation. The authorizer finds candidate
// policies through scope indexes (principal/action/resource uid, type, and `in`
// through the request entities' ancestors) instead of scanning every policy.
// Built by Create(); shared as shared_ptr<const PolicySet>; safe to use from
// many threads at once (swap snapshots atomically to reload).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "warden/cedar/ast.h"
#include "warden/cedar/entities.h"
#include "warden/cedar/request.h"
#include "warden/core/status.h"

namespace warden::cedar {

class PolicySet {
 public:
  // Compiles `ast` (static policies, templates and `ast.links`). Templates are
  // kept but only their links are evaluated. InvalidArgument on a duplicate
  // policy id, a link to a missing template, or a link whose slot values do not
  // fit its template.
  static Result<std::shared_ptr<const PolicySet>> Create(PolicySetAst ast);

  // Parses Cedar text (ids policy0, policy1, ... in text order), adds `links`,
  // then Create(). Parse errors as ParsePolicies returns them.
  static Result<std::shared_ptr<const PolicySet>> FromText(std::string_view text,
                                                          std::vector<TemplateLink> links = {});

  PolicySet(const PolicySet&) = delete;
  PolicySet& operator=(const PolicySet&) = delete;
  ~PolicySet();

  // Number of evaluated policies: static policies plus template links.
  size_t size() const;
  // The evaluated policies (static ones in text order, then links in link
  // order); links appear instantiated, with their link id.
  std::span<const Policy> policies() const;
  // The templates, in text order.
  std::span<const Template> templates() const;
  // The links as given.
  std::span<const TemplateLink> links() const;
  // An evaluated policy or a template by id, or nullptr.
  const Policy* Find(std::string_view id) const;

  // SHA-256 (lower-case hex) of a canonical encoding: every static policy and
  // template as "<id>\n<formatted text>\n" and every link as a fixed line, each
  // group sorted by id. Equal for texts that differ only in layout or comments.
  const std::string& content_hash() const;

  // Indexes (into policies()) of every policy whose scope may match the
  // request, ascending. Every policy whose scope matches is included; the
  // authorizer still checks each candidate's scope. Appends to `out` after
  // clearing it.
  void Candidates(const Request& request, const Entities& entities,
                  std::vector<uint32_t>* out) const;

  // Compiled policies and indexes; defined in src/cedar/internal/.
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  explicit PolicySet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::cedar
