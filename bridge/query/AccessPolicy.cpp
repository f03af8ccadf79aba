#include "bridge/query/AccessPolicy.h"

#include <cctype>

namespace bridge {
namespace {

std::string trimAe(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
    return s.substr(b, e - b);
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

AccessPolicy::AccessPolicy(const Config& config, MetadataSource& metadata)
    : config_(config), metadata_(metadata), access_(std::make_shared<const AccessSettings>(config.access)) {}

void AccessPolicy::reload(const AccessSettings& access) {
    auto fresh = std::make_shared<const AccessSettings>(access);
    std::lock_guard lock(accessMutex_);
    access_ = std::move(fresh);
}

std::shared_ptr<const AccessSettings> AccessPolicy::access() const {
    std::lock_guard lock(accessMutex_);
    return access_;
}

std::set<std::string> AccessPolicy::restricted() const {
    std::set<std::string> out = metadata_.restrictedCollections(RequestContext());
    auto a = access();
    out.insert(a->restrictedCollections.begin(), a->restrictedCollections.end());
    return out;
}

bool AccessPolicy::granted(const std::map<std::string, std::set<std::string>>& grants, const std::string& collection,
                           const std::string& who) {
    for (const auto& [c, holders] : grants)
        if (upper(c) == upper(collection) && holders.count(who)) return true;
    return false;
}

CollectionScope AccessPolicy::forDimse(const std::string& callingAet, const std::string& calledAet) const {
    CollectionScope scope;
    const std::string called = trimAe(calledAet), calling = trimAe(callingAet);
    for (const auto& [ae, collections] : config_.dimse.collectionAets)
        if (trimAe(ae) == called) scope.only = collections;
    auto a = access();
    for (const auto& c : restricted()) {
        bool ok = false;
        for (const auto& [collection, aets] : a->grantsByAet)
            if (upper(collection) == upper(c))
                for (const auto& ae : aets)
                    if (trimAe(ae) == calling) ok = true;
        if (!ok) scope.denied.insert(c);
    }
    if (auto pub = metadata_.publicCollections(RequestContext())) {
        // Fail closed: what TCIA does not list anonymously is visible only when granted.
        scope.visible = std::move(*pub);
        for (const auto& [collection, aets] : config_.access.grantsByAet)
            for (const auto& ae : aets)
                if (trimAe(ae) == calling) scope.visible->insert(collection);
    }
    return scope;
}

CollectionScope AccessPolicy::forHttp(const std::optional<std::string>& bearerToken) const {
    HttpPrincipal anonymous;
    anonymous.bearerToken = bearerToken;
    return forPrincipal(anonymous);
}

CollectionScope AccessPolicy::forPrincipal(const HttpPrincipal& principal) const {
    CollectionScope scope;
    scope.only = principal.only;
    auto a = access();
    const auto& token = principal.bearerToken;
    for (const auto& c : restricted()) {
        bool ok = token && !token->empty() && granted(a->grantsByToken, c, *token);
        for (const auto& g : principal.grants)
            if (upper(g) == upper(c)) ok = true;
        if (!ok) scope.denied.insert(c);
    }
    // Fail closed: only what TCIA lists anonymously, plus what this caller was granted, is
    // visible -- whatever a foreign or stale cache holds (issue 9 finding 1).
    if (auto pub = metadata_.publicCollections(RequestContext())) {
        scope.visible = std::move(*pub);
        if (token && !token->empty())
            for (const auto& [collection, tokens] : a->grantsByToken)
                if (tokens.count(*token)) scope.visible->insert(collection);
        for (const auto& g : principal.grants) scope.visible->insert(g);
    }
    return scope;
}

bool AccessPolicy::isKnownCalledAet(const std::string& calledAet) const {
    const std::string called = trimAe(calledAet);
    if (called == trimAe(config_.dimse.aeTitle)) return true;
    for (const auto& [ae, collections] : config_.dimse.collectionAets)
        if (trimAe(ae) == called) return true;
    return false;
}

}  // namespace bridge
