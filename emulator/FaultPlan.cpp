#include "emulator/FaultPlan.h"

#include "emulator/JettisonJson.h"

#include <Poco/String.h>

#include <sstream>
#include <stdexcept>

namespace emulator {

int Fault::option(const std::string& key, int fallback) const {
    auto it = options.find(key);
    if (it == options.end()) return fallback;
    try {
        return std::stoi(it->second);
    } catch (...) {
        return fallback;
    }
}

Fault FaultPlan::parse(const std::string& spec) {
    std::vector<std::string> parts;
    std::stringstream ss(spec);
    std::string part;
    while (std::getline(ss, part, ':')) parts.push_back(part);
    if (parts.size() < 2 || parts[0].empty())
        throw std::invalid_argument("fault spec '" + spec + "': expected ENDPOINT:KIND[:COUNT[:key=value...]]");
    Fault f;
    f.endpoint = parts[0];
    f.kind = Poco::toLower(parts[1]);
    bool numeric = !f.kind.empty() && f.kind.find_first_not_of("0123456789") == std::string::npos;
    if (numeric) {
        const int status = std::stoi(f.kind);
        if (status < 400 || status > 599) throw std::invalid_argument("fault spec '" + spec + "': status must be 400-599");
    } else if (f.kind != "truncate" && f.kind != "slow" && f.kind != "drop" && f.kind != "corrupt") {
        throw std::invalid_argument("fault spec '" + spec +
                                    "': kind must be an HTTP status, truncate, slow, drop or corrupt");
    }
    if (parts.size() >= 3) {
        try {
            f.remaining = std::stoi(parts[2]);
        } catch (...) {
            throw std::invalid_argument("fault spec '" + spec + "': COUNT must be a number");
        }
        if (f.remaining < 1) throw std::invalid_argument("fault spec '" + spec + "': COUNT must be >= 1");
    }
    for (std::size_t i = 3; i < parts.size(); ++i) {
        const auto eq = parts[i].find('=');
        if (eq == std::string::npos) throw std::invalid_argument("fault spec '" + spec + "': option without '='");
        f.options[parts[i].substr(0, eq)] = parts[i].substr(eq + 1);
    }
    return f;
}

void FaultPlan::add(const Fault& fault) {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_.push_back(fault);
}

void FaultPlan::clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    faults_.clear();
}

std::optional<Fault> FaultPlan::take(const std::string& endpoint) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
        if (it->endpoint != "*" && Poco::icompare(it->endpoint, endpoint) != 0) continue;
        Fault f = *it;
        if (--it->remaining <= 0) faults_.erase(it);
        return f;
    }
    return std::nullopt;
}

std::string FaultPlan::toJson() const {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out = "[";
    for (std::size_t i = 0; i < faults_.size(); ++i) {
        const auto& f = faults_[i];
        out += (i ? "," : "");
        out += "{\"endpoint\":" + JettisonJson::quote(f.endpoint) + ",\"kind\":" + JettisonJson::quote(f.kind) +
               ",\"remaining\":" + std::to_string(f.remaining) + "}";
    }
    return out + "]";
}

}  // namespace emulator
