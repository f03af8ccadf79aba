#include "bridge/query/AccessPolicy.h"

#include <Poco/Logger.h>
#include <Poco/String.h>

#include "bridge/common/Logging.h"

namespace bridge {
namespace {

std::string trimAe(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\0')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\0')) --e;
    return s.substr(b, e - b);
}

// TCIA compares collection names case-insensitively (API.md 2.4).
bool sameName(const std::string& a, const std::string& b) { return Poco::icompare(a, b) == 0; }

/// The log lines of one resolution carry the request id of its context (the adapter's thread
/// usually has it already; a worker thread or a tool may not).
std::string logIdOf(const RequestContext& context) {
    return context.requestId().empty() ? currentLogContext() : context.requestId();
}

/// Logs the resolved scope (debug) or why it could not be resolved (info), then rethrows.
template <class Resolve>
CollectionScope resolveLogged(const char* who, const std::string& caller, const RequestContext& context,
                              Resolve&& resolve) {
    LogScope scope(logIdOf(context));
    static Poco::Logger& log = Poco::Logger::get("bridge.access");  // looked up once (a global lock)
    try {
        context.throwIfCancelled();
        CollectionScope out = resolve();
        context.throwIfCancelled();  // a list cut short by the stop must not become a scope
        if (log.debug())
            log.debug("scope of %s %s: %z denied, %s", std::string(who), caller, out.denied.size(),
                      out.visible ? std::to_string(out.visible->size()) + " visible" : std::string("no public list"));
        return out;
    } catch (const std::exception& e) {
        log.information("scope of %s %s not resolved: %s", std::string(who), caller, std::string(e.what()));
        throw;
    }
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

std::set<std::string> AccessPolicy::restricted(const RequestContext& context) const {
    std::set<std::string> out = metadata_.restrictedCollections(context);
    auto a = access();
    out.insert(a->restrictedCollections.begin(), a->restrictedCollections.end());
    return out;
}

bool AccessPolicy::granted(const std::map<std::string, std::set<std::string>>& grants, const std::string& collection,
                           const std::string& who) {
    for (const auto& [c, holders] : grants)
        if (sameName(c, collection) && holders.count(who)) return true;
    return false;
}

namespace {
std::string memoKey(const std::string& callingAet, const std::string& calledAet) {
    return trimAe(callingAet) + '\n' + trimAe(calledAet);
}
}  // namespace

std::optional<CollectionScope> AccessPolicy::memoizedDimseScope(const std::string& callingAet,
                                                                const std::string& calledAet) const {
    const std::optional<std::uint64_t> generation = metadata_.generation();
    if (!generation) return std::nullopt;  // the source tracks no changes: nothing may be reused
    const auto grants = access();
    std::lock_guard lock(memoMutex_);
    auto it = dimseMemo_.find(memoKey(callingAet, calledAet));
    if (it == dimseMemo_.end() || it->second.generation != *generation || it->second.access != grants ||
        std::chrono::steady_clock::now() - it->second.resolvedAt >= kScopeMemoAge)
        return std::nullopt;
    return it->second.scope;
}

CollectionScope AccessPolicy::forDimse(const std::string& callingAet, const std::string& calledAet,
                                       const RequestContext& context) const {
    if (auto memo = memoizedDimseScope(callingAet, calledAet)) return *memo;
    // Generation and grants read before the lists: a write that lands meanwhile makes the memo
    // stale at once (its generation no longer matches), never a newer list under an old number.
    const std::optional<std::uint64_t> generation = metadata_.generation();
    const auto grants = access();
    const auto resolvedAt = std::chrono::steady_clock::now();
    CollectionScope scope = resolveLogged("AE", trimAe(callingAet) + " -> " + trimAe(calledAet), context,
                                          [&] { return dimseScope(callingAet, calledAet, context); });
    if (generation) {
        std::lock_guard lock(memoMutex_);
        if (dimseMemo_.size() >= kScopeMemoEntries) dimseMemo_.clear();  // bounded; refilled on use
        dimseMemo_[memoKey(callingAet, calledAet)] = ScopeMemo{*generation, grants, resolvedAt, scope};
    }
    return scope;
}

CollectionScope AccessPolicy::dimseScope(const std::string& callingAet, const std::string& calledAet,
                                         const RequestContext& context) const {
    CollectionScope scope;
    const std::string called = trimAe(calledAet), calling = trimAe(callingAet);
    for (const auto& [ae, collections] : config_.dimse.collectionAets)
        if (trimAe(ae) == called) scope.only = collections;
    auto a = access();
    for (const auto& c : restricted(context)) {
        bool ok = false;
        for (const auto& [collection, aets] : a->grantsByAet)
            if (sameName(collection, c))
                for (const auto& ae : aets)
                    if (trimAe(ae) == calling) ok = true;
        if (!ok) scope.denied.insert(c);
    }
    if (auto pub = metadata_.publicCollections(context)) {
        // Fail closed: what TCIA does not list anonymously is visible only when granted.
        scope.visible = std::move(*pub);
        for (const auto& [collection, aets] : config_.access.grantsByAet)
            for (const auto& ae : aets)
                if (trimAe(ae) == calling) scope.visible->insert(collection);
    }
    return scope;
}

CollectionScope AccessPolicy::forHttp(const std::optional<std::string>& bearerToken,
                                      const RequestContext& context) const {
    HttpPrincipal anonymous;
    anonymous.bearerToken = bearerToken;
    return forPrincipal(anonymous, context);
}

CollectionScope AccessPolicy::forPrincipal(const HttpPrincipal& principal, const RequestContext& context) const {
    // Never the token itself in a log line: the principal's name, or "anonymous"/"token".
    const std::string who = !principal.name.empty() ? principal.name
                            : principal.bearerToken ? std::string("(bearer token)")
                                                    : std::string("(anonymous)");
    return resolveLogged("principal", who, context, [&] { return principalScope(principal, context); });
}

CollectionScope AccessPolicy::principalScope(const HttpPrincipal& principal, const RequestContext& context) const {
    CollectionScope scope;
    scope.only = principal.only;
    auto a = access();
    const auto& token = principal.bearerToken;
    for (const auto& c : restricted(context)) {
        bool ok = token && !token->empty() && granted(a->grantsByToken, c, *token);
        for (const auto& g : principal.grants)
            if (sameName(g, c)) ok = true;
        if (!ok) scope.denied.insert(c);
    }
    // Fail closed: only what TCIA lists anonymously, plus what this caller was granted, is
    // visible -- whatever a foreign or stale cache holds (issue 9 finding 1).
    if (auto pub = metadata_.publicCollections(context)) {
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
