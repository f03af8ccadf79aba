#pragma once
// Process-wide operational metrics in the Prometheus text exposition format (version 0.0.4),
// served by the DICOMweb adapter at GET /metrics.
//
// Every metric family is declared once, in the table of MetricsRegistry.cpp (name, type, help,
// label names, histogram buckets), so /metrics always lists every family with HELP and TYPE even
// before its first sample, and an update to an undeclared name or with the wrong number of
// labels is a programming error (ignored in release, counted in tcia_bridge_metrics_errors_total).
//
// Feeding metrics from any component (thread-safe, cheap: one mutex, one map lookup):
//   metrics().add("tcia_bridge_dimse_operations_total", {"C-FIND", "0000"});
//   metrics().observe("tcia_bridge_tcia_request_duration_seconds", {"getSeries"}, 0.042);
//   metrics().set("tcia_bridge_harvest_collections_done", {}, 12);   // harvest progress gauge
// Label values are given in the declared order. Values that come from elsewhere at scrape time
// (cache statistics, gate counters) are appended by the caller of render() (see web/).
//
// Lifetime: metrics() is created on first use and deliberately never destroyed, so threads that
// outlive main()'s locals (Poco pool threads, detached downloads) never touch a destroyed mutex.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace bridge {

using MetricLabels = std::vector<std::string>;

class MetricsRegistry {
public:
    enum class Type { Counter, Gauge, Histogram };
    struct Family {
        std::string name;
        Type type = Type::Counter;
        std::string help;
        std::vector<std::string> labelNames;
        std::vector<double> buckets;  ///< histogram upper bounds, ascending (+Inf implied)
    };

    /// A registry with the bridge's families (the table in MetricsRegistry.cpp).
    MetricsRegistry();
    /// A registry with exactly these families (tests).
    explicit MetricsRegistry(std::vector<Family> families);

    /// Counter += value (value >= 0), or gauge += value (any sign).
    void add(const std::string& name, const MetricLabels& labels, double value = 1);
    /// Gauge = value.
    void set(const std::string& name, const MetricLabels& labels, double value);
    /// Histogram observation (seconds, bytes, ...).
    void observe(const std::string& name, const MetricLabels& labels, double value);
    /// Current value of a counter/gauge sample (0 when absent); histogram: its count. Tests, /ready.
    double value(const std::string& name, const MetricLabels& labels) const;

    /// Every family in declaration order, samples sorted by labels.
    std::string render() const;

    /// Prometheus label-value escaping (backslash, double quote, newline). Pure.
    static std::string escapeLabelValue(const std::string& value);
    /// Prometheus number formatting ("+Inf", integers without exponent). Pure.
    static std::string formatNumber(double value);

private:
    struct Sample {
        double value = 0;              ///< counter / gauge; histogram: sum
        std::vector<double> buckets;   ///< histogram: cumulative counts per bound
        double count = 0;              ///< histogram
    };
    struct Entry {
        Family family;
        std::map<MetricLabels, Sample> samples;
    };
    Entry* find(const std::string& name, const MetricLabels& labels, Type expected);

    mutable std::mutex mutex_;
    std::vector<Entry> entries_;
    std::map<std::string, std::size_t> index_;
    double errors_ = 0;
};

/// The process-wide registry (never destroyed; see above).
MetricsRegistry& metrics();

/// Measures the time from construction to seconds(). For histogram observations.
class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};

}  // namespace bridge
