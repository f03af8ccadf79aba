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

AccessPolicy::AccessPolicy(const Config& config, MetadataSource& metadata) : config_(config), metadata_(metadata) {}

std::set<std::string> AccessPolicy::restricted() const {
    std::set<std::string> out = metadata_.restrictedCollections();
    out.insert(config_.access.restrictedCollections.begin(), config_.access.restrictedCollections.end());
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
    for (const auto& c : restricted()) {
        bool ok = false;
        for (const auto& [collection, aets] : config_.access.grantsByAet)
            if (upper(collection) == upper(c))
                for (const auto& ae : aets)
                    if (trimAe(ae) == calling) ok = true;
        if (!ok) scope.denied.insert(c);
    }
    if (auto pub = metadata_.publicCollections()) {
        // Fail closed: what TCIA does not list anonymously is visible only when granted.
        scope.visible = std::move(*pub);
        for (const auto& [collection, aets] : config_.access.grantsByAet)
            for (const auto& ae : aets)
                if (trimAe(ae) == calling) scope.visible->insert(collection);
    }
    return scope;
}

CollectionScope AccessPolicy::forHttp(const std::optional<std::string>& bearerToken) const {
    CollectionScope scope;
    for (const auto& c : restricted())
        if (!bearerToken || bearerToken->empty() || !granted(config_.access.grantsByToken, c, *bearerToken))
            scope.denied.insert(c);
    if (auto pub = metadata_.publicCollections()) {
        scope.visible = std::move(*pub);
        if (bearerToken && !bearerToken->empty())
            for (const auto& [collection, tokens] : config_.access.grantsByToken)
                if (tokens.count(*bearerToken)) scope.visible->insert(collection);
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
