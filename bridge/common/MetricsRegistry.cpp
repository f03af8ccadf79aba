#include "bridge/common/MetricsRegistry.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace bridge {
namespace {

using Type = MetricsRegistry::Type;

const std::vector<double> kLatencyBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

// The bridge's metric families: the one place they are declared (docs/observability.md lists them).
std::vector<MetricsRegistry::Family> bridgeFamilies() {
    return {
        {"tcia_bridge_http_requests_total",
         Type::Counter,
         "DICOMweb/HTTP requests answered, by route, method and status",
         {"route", "method", "status"},
         {}},
        {"tcia_bridge_http_request_duration_seconds",
         Type::Histogram,
         "HTTP request latency (until the handler returned)",
         {"route"},
         kLatencyBuckets},
        {"tcia_bridge_http_response_bytes_total",
         Type::Counter,
         "HTTP response body bytes sent, by route",
         {"route"},
         {}},
        {"tcia_bridge_dimse_associations_active", Type::Gauge, "DIMSE associations being served now", {}, {}},
        {"tcia_bridge_dimse_associations_total",
         Type::Counter,
         "DIMSE association requests, by outcome",
         {"outcome"},
         {}},
        {"tcia_bridge_dimse_operations_total",
         Type::Counter,
         "DIMSE operations answered, by type and final status (hex)",
         {"operation", "status"},
         {}},
        {"tcia_bridge_dimse_operation_duration_seconds",
         Type::Histogram,
         "DIMSE operation latency (request to final response)",
         {"operation"},
         kLatencyBuckets},
        {"tcia_bridge_dimse_instances_total",
         Type::Counter,
         "C-MOVE/C-GET sub-operations, by operation and result (completed, failed, warning)",
         {"operation", "result"},
         {}},
        {"tcia_bridge_tcia_requests_total",
         Type::Counter,
         "Calls to the TCIA REST API, by endpoint and final status",
         {"endpoint", "status"},
         {}},
        {"tcia_bridge_tcia_retries_total",
         Type::Counter,
         "Retried attempts of TCIA calls, by endpoint",
         {"endpoint"},
         {}},
        {"tcia_bridge_tcia_request_duration_seconds",
         Type::Histogram,
         "TCIA call latency including retries, by endpoint",
         {"endpoint"},
         kLatencyBuckets},
        {"tcia_bridge_tcia_last_success_timestamp_seconds",
         Type::Gauge,
         "Unix time of the last TCIA answer below 500 (readiness)",
         {},
         {}},
        {"tcia_bridge_harvest_running", Type::Gauge, "1 while a catalog harvest runs", {}, {}},
        {"tcia_bridge_harvest_collections",
         Type::Gauge,
         "Collections the running/last harvest covers",
         {},
         {}},
        {"tcia_bridge_harvest_collections_done", Type::Gauge, "Collections harvested so far", {}, {}},
        {"tcia_bridge_harvest_series_stored",
         Type::Gauge,
         "Series stored by the running/last harvest",
         {},
         {}},
        {"tcia_bridge_audit_events_total",
         Type::Counter,
         "Audit records written, by event type and outcome indicator",
         {"event", "outcome"},
         {}},
        {"tcia_bridge_config_reloads_total",
         Type::Counter,
         "SIGHUP configuration reloads, by result",
         {"result"},
         {}},
        {"tcia_bridge_metrics_errors_total",
         Type::Counter,
         "Updates to undeclared metrics or with wrong labels (bugs)",
         {},
         {}},
    };
}

const char* typeName(Type t) {
    switch (t) {
        case Type::Counter: return "counter";
        case Type::Gauge: return "gauge";
        case Type::Histogram: return "histogram";
    }
    return "untyped";
}

std::string labelText(const std::vector<std::string>& names, const MetricLabels& values, const std::string& extraName = {},
                      const std::string& extraValue = {}) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        out += out.empty() ? "{" : ",";
        out += names[i] + "=\"" + MetricsRegistry::escapeLabelValue(values[i]) + "\"";
    }
    if (!extraName.empty()) {
        out += out.empty() ? "{" : ",";
        out += extraName + "=\"" + extraValue + "\"";
    }
    if (!out.empty()) out += "}";
    return out;
}

}  // namespace

MetricsRegistry::MetricsRegistry() : MetricsRegistry(bridgeFamilies()) {}

MetricsRegistry::MetricsRegistry(std::vector<Family> families) {
    for (auto& f : families) {
        index_[f.name] = entries_.size();
        entries_.push_back(Entry{std::move(f), {}});
    }
}

MetricsRegistry::Entry* MetricsRegistry::find(const std::string& name, const MetricLabels& labels, Type expected) {
    auto it = index_.find(name);
    if (it == index_.end()) return ++errors_, nullptr;
    Entry& e = entries_[it->second];
    const bool typeOk = e.family.type == expected || (expected == Type::Counter && e.family.type == Type::Gauge);
    if (!typeOk || labels.size() != e.family.labelNames.size()) return ++errors_, nullptr;
    return &e;
}

void MetricsRegistry::add(const std::string& name, const MetricLabels& labels, double v) {
    std::lock_guard lock(mutex_);
    Entry* e = find(name, labels, Type::Counter);
    if (!e) return;
    if (e->family.type == Type::Counter && v < 0) return void(++errors_);
    e->samples[labels].value += v;
}

void MetricsRegistry::set(const std::string& name, const MetricLabels& labels, double v) {
    std::lock_guard lock(mutex_);
    Entry* e = find(name, labels, Type::Gauge);
    if (e) e->samples[labels].value = v;
}

void MetricsRegistry::observe(const std::string& name, const MetricLabels& labels, double v) {
    std::lock_guard lock(mutex_);
    Entry* e = find(name, labels, Type::Histogram);
    if (!e) return;
    Sample& s = e->samples[labels];
    if (s.buckets.size() != e->family.buckets.size()) s.buckets.assign(e->family.buckets.size(), 0);
    for (std::size_t i = 0; i < e->family.buckets.size(); ++i)
        if (v <= e->family.buckets[i]) s.buckets[i] += 1;
    s.count += 1;
    s.value += v;
}

double MetricsRegistry::value(const std::string& name, const MetricLabels& labels) const {
    std::lock_guard lock(mutex_);
    auto it = index_.find(name);
    if (it == index_.end()) return 0;
    const Entry& e = entries_[it->second];
    auto s = e.samples.find(labels);
    if (s == e.samples.end()) return 0;
    return e.family.type == Type::Histogram ? s->second.count : s->second.value;
}

std::string MetricsRegistry::render() const {
    std::lock_guard lock(mutex_);
    std::ostringstream out;
    for (const Entry& e : entries_) {
        const Family& f = e.family;
        out << "# HELP " << f.name << ' ' << f.help << "\n# TYPE " << f.name << ' ' << typeName(f.type) << '\n';
        if (f.name == "tcia_bridge_metrics_errors_total") {
            out << f.name << ' ' << formatNumber(errors_) << '\n';
            continue;
        }
        if (f.type != Type::Histogram) {
            if (e.samples.empty() && f.labelNames.empty()) out << f.name << " 0\n";
            for (const auto& [labels, s] : e.samples)
                out << f.name << labelText(f.labelNames, labels) << ' ' << formatNumber(s.value) << '\n';
            continue;
        }
        for (const auto& [labels, s] : e.samples) {
            for (std::size_t i = 0; i < f.buckets.size(); ++i)
                out << f.name << "_bucket" << labelText(f.labelNames, labels, "le", formatNumber(f.buckets[i])) << ' '
                    << formatNumber(i < s.buckets.size() ? s.buckets[i] : 0) << '\n';
            out << f.name << "_bucket" << labelText(f.labelNames, labels, "le", "+Inf") << ' ' << formatNumber(s.count)
                << '\n';
            out << f.name << "_sum" << labelText(f.labelNames, labels) << ' ' << formatNumber(s.value) << '\n';
            out << f.name << "_count" << labelText(f.labelNames, labels) << ' ' << formatNumber(s.count) << '\n';
        }
    }
    return out.str();
}

std::string MetricsRegistry::escapeLabelValue(const std::string& value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string MetricsRegistry::formatNumber(double v) {
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (std::isnan(v)) return "NaN";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

MetricsRegistry& metrics() {
    static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed (see header)
    return *registry;
}

}  // namespace bridge
