#include "web/PublicUrl.h"

#include <Poco/String.h>

#include <algorithm>
#include <cctype>

namespace bridge::web {
namespace {

using Poco::toLower;
using Poco::trim;

std::string firstOfList(const std::string& s) { return trim(s.substr(0, s.find(','))); }

std::string unquote(std::string v) {
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
    return v;
}

// A host value must not smuggle a path or spaces into the URLs we generate.
bool plausibleHost(const std::string& h) {
    return !h.empty() && std::all_of(h.begin(), h.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    });
}

bool plausibleProto(const std::string& p) { return p == "http" || p == "https"; }

std::string cleanPrefix(std::string p) {
    p = trim(p);
    if (p.empty() || p.find_first_of(" \"<>?#") != std::string::npos) return {};
    if (p.front() != '/') p.insert(p.begin(), '/');
    while (!p.empty() && p.back() == '/') p.pop_back();
    return p;
}

}  // namespace

std::string publicBaseUrl(const std::string& configured, const ForwardingHeaders& headers) {
    if (!configured.empty()) {
        std::string c = configured;
        while (!c.empty() && c.back() == '/') c.pop_back();
        return c;
    }
    std::string proto = headers.secure ? "https" : "http";
    std::string host;
    // RFC 7239 4: Forwarded: for=..;host=..;proto=.., first element = the client-facing proxy.
    if (!headers.forwarded.empty()) {
        std::string first = firstOfList(headers.forwarded);
        std::size_t start = 0;
        while (start <= first.size()) {
            auto semi = first.find(';', start);
            if (semi == std::string::npos) semi = first.size();
            std::string pair = trim(first.substr(start, semi - start));
            auto eq = pair.find('=');
            if (eq != std::string::npos) {
                std::string name = toLower(trim(pair.substr(0, eq)));
                std::string value = unquote(trim(pair.substr(eq + 1)));
                if (name == "host" && plausibleHost(value)) host = value;
                if (name == "proto" && plausibleProto(toLower(value))) proto = toLower(value);
            }
            start = semi + 1;
        }
    }
    if (host.empty()) {
        std::string xHost = firstOfList(headers.xForwardedHost);
        if (plausibleHost(xHost)) host = xHost;
        std::string xProto = toLower(firstOfList(headers.xForwardedProto));
        if (plausibleProto(xProto)) proto = xProto;
    }
    if (host.empty() && plausibleHost(trim(headers.host))) host = trim(headers.host);
    if (host.empty()) host = headers.localAddress;
    return proto + "://" + host + cleanPrefix(headers.xForwardedPrefix);
}

}  // namespace bridge::web
