// bench_cfind_load -- C-FIND load generator for rows 3d-3f of bench/run.
//
// N threads; each opens ONE association (Study Root Q/R FIND) with DCMTK's DcmSCU and loops
// C-FIND at STUDY level with the identifier bench/run uses (universal match, 7 return keys) until
// --seconds have passed or --max-queries (per thread) have been sent. A query counts when its final
// response has status Success (0000H, PS3.4 C.4.1.1.4); per-query latency is from just before the
// C-FIND-RQ is sent to the final response. Prints ONE line of JSON on stdout:
//   {"threads":4,"queries":N,"failed":0,"wall_s":...,"qps":...,"p50_ms":...,"p99_ms":...,...}
// Responses are not printed (findscu -v's printing was what bench/run used to measure).
//
// Usage: bench_cfind_load [--threads N] [--seconds S] [--max-queries M] [--warmup W]
//                         [--aec AE] [--aet AE] [-k Key[=value]]... HOST PORT
// Without -k the bench identifier is used. Exit status 0 when at least one query succeeded.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcpath.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/oflog/oflog.h>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
    int threads = 4;
    double seconds = 5.0;
    long maxQueries = 100000;  // per thread
    int warmup = 1;            // untimed queries per thread, after association negotiation
    std::string aec = "TCIA";
    std::string aet = "BENCH";
    std::string host;
    int port = 0;
    std::vector<std::string> keys;
};

/// Per-thread result; written by its thread only, read after join.
struct ThreadResult {
    std::vector<double> latenciesMs;
    long ok = 0;
    long failed = 0;
    long matches = 0;
    std::string error;
};

/// DcmSCU that counts pending responses and records the final status instead of keeping every
/// response (sendFINDRequest with a null list deletes them). One instance per thread.
class CountingScu : public DcmSCU {
public:
    long pending = 0;
    Uint16 finalStatus = 0xFFFF;

    OFCondition handleFINDResponse(const T_ASC_PresentationContextID presID, QRResponse* response,
                                   OFBool& waitForNextResponse) override {
        if (DICOM_PENDING_STATUS(response->m_status))
            ++pending;
        else
            finalStatus = response->m_status;
        return DcmSCU::handleFINDResponse(presID, response, waitForNextResponse);
    }
};

bool buildIdentifier(const std::vector<std::string>& keys, DcmDataset& ds, std::string& err) {
    DcmPathProcessor proc;
    for (const auto& k : keys) {
        OFCondition c = proc.applyPathWithValue(&ds, k.c_str());
        if (c.bad()) {
            err = "bad key '" + k + "': " + c.text();
            return false;
        }
    }
    return true;
}

void runThread(const Options& o, const DcmDataset& ident, Clock::time_point deadline,
               std::atomic<bool>& stop, ThreadResult& r) {
    CountingScu scu;
    scu.setAETitle(o.aet.c_str());
    scu.setPeerAETitle(o.aec.c_str());
    scu.setPeerHostName(o.host.c_str());
    scu.setPeerPort(static_cast<Uint16>(o.port));
    scu.setACSETimeout(10);
    scu.setDIMSETimeout(30);
    scu.setDIMSEBlockingMode(DIMSE_BLOCKING);
    OFList<OFString> xfers;
    xfers.push_back(UID_LittleEndianExplicitTransferSyntax);
    xfers.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, xfers);
    OFCondition c;
    std::unique_ptr<DcmDataset> mine;
    {
        // Copying a DcmDataset moves the SOURCE's internal list cursor (DcmList::seek), so copies
        // of the shared identifier from several threads at once crash (seen with 16 threads):
        // each thread takes its own copy here, once, under a lock. Association setup is
        // serialized too (DCMTK's network initialisation touches process-wide state).
        static std::mutex setupMutex;
        std::lock_guard<std::mutex> lock(setupMutex);
        mine = std::make_unique<DcmDataset>(ident);
        c = scu.initNetwork();
        if (c.good()) c = scu.negotiateAssociation();
    }
    if (c.bad()) {
        r.error = std::string("association: ") + c.text();
        return;
    }
    T_ASC_PresentationContextID pc = scu.findPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
    if (pc == 0) {
        r.error = "no accepted presentation context for Study Root FIND";
        scu.releaseAssociation();
        return;
    }
    r.latenciesMs.reserve(static_cast<size_t>(std::min<long>(o.maxQueries, 200000)));
    for (long i = 0; i < o.warmup + o.maxQueries; ++i) {
        bool timed = i >= o.warmup;
        if (timed && (stop.load(std::memory_order_relaxed) || Clock::now() >= deadline)) break;
        DcmDataset q(*mine);  // sendFINDRequest may touch the dataset; each query gets a fresh copy
        scu.pending = 0;
        scu.finalStatus = 0xFFFF;
        auto t0 = Clock::now();
        c = scu.sendFINDRequest(pc, &q, nullptr);
        auto t1 = Clock::now();
        if (!timed) continue;
        if (c.good() && scu.finalStatus == STATUS_Success) {
            ++r.ok;
            r.matches += scu.pending;
            r.latenciesMs.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        } else {
            ++r.failed;
            if (r.error.empty())
                r.error = c.bad() ? std::string("C-FIND: ") + c.text() : "final status " + std::to_string(scu.finalStatus);
            if (c.bad()) break;  // association is gone
        }
    }
    if (scu.isConnected()) scu.releaseAssociation();
}

double percentile(std::vector<double>& v, double p) {  // nearest rank, as bench/lib/measure.py
    std::sort(v.begin(), v.end());
    long k = static_cast<long>(p / 100.0 * static_cast<double>(v.size()) + 0.5 + 0.5) - 1;
    k = std::max(0L, std::min(static_cast<long>(v.size()) - 1, k));
    return v[static_cast<size_t>(k)];
}

[[noreturn]] void usage(const char* msg, int status = 2) {
    std::fprintf(status == 0 ? stdout : stderr,
                 "bench_cfind_load: %s\nusage: bench_cfind_load [--threads N] [--seconds S] [--max-queries M] "
                 "[--warmup W] [--aec AE] [--aet AE] [-k Key[=value]]... HOST PORT\n",
                 msg);
    std::exit(status);
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    std::vector<std::string> pos;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto val = [&]() -> std::string {
            if (i + 1 >= argc) usage(("missing value for " + a).c_str());
            return argv[++i];
        };
        if (a == "--threads") o.threads = std::atoi(val().c_str());
        else if (a == "--seconds") o.seconds = std::atof(val().c_str());
        else if (a == "--max-queries") o.maxQueries = std::atol(val().c_str());
        else if (a == "--warmup") o.warmup = std::atoi(val().c_str());
        else if (a == "--aec" || a == "-aec") o.aec = val();
        else if (a == "--aet" || a == "-aet") o.aet = val();
        else if (a == "-k" || a == "--key") o.keys.push_back(val());
        else if (a == "-h" || a == "--help") usage("C-FIND STUDY-level load generator (one JSON line on stdout)", 0);
        else if (!a.empty() && a[0] == '-') usage(("unknown option " + a).c_str());
        else pos.push_back(a);
    }
    if (pos.size() != 2) usage("HOST and PORT are required");
    o.host = pos[0];
    o.port = std::atoi(pos[1].c_str());
    if (o.threads < 1 || o.threads > 256 || o.seconds <= 0 || o.seconds > 600 || o.maxQueries < 1 || o.port <= 0 ||
        o.port > 65535 || o.warmup < 0)
        usage("out-of-range argument (threads 1..256, seconds (0,600], max-queries >= 1, port 1..65535)");
    if (o.keys.empty())
        o.keys = {"QueryRetrieveLevel=STUDY", "StudyInstanceUID", "PatientName", "PatientID",
                  "StudyDate", "StudyDescription", "ModalitiesInStudy"};

    OFLog::configure(OFLogger::WARN_LOG_LEVEL);
    if (!dcmDataDict.isDictionaryLoaded()) {
        std::fprintf(stderr, "bench_cfind_load: no DICOM data dictionary loaded\n");
        return 1;
    }
    DcmDataset ident;
    std::string err;
    if (!buildIdentifier(o.keys, ident, err)) {
        std::fprintf(stderr, "bench_cfind_load: %s\n", err.c_str());
        return 2;
    }

    std::vector<ThreadResult> results(static_cast<size_t>(o.threads));
    std::atomic<bool> stop{false};
    // The deadline starts after negotiation would be fairer per thread, but one shared deadline
    // keeps the wall clock of the aggregate exact: wall_s below is start -> last thread done.
    auto t0 = Clock::now();
    auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
    std::vector<std::thread> threads;
    for (int i = 0; i < o.threads; ++i)
        threads.emplace_back(runThread, std::cref(o), std::cref(ident), deadline, std::ref(stop),
                             std::ref(results[static_cast<size_t>(i)]));
    for (auto& t : threads) t.join();
    double wall = std::chrono::duration<double>(Clock::now() - t0).count();

    std::vector<double> all;
    long ok = 0, failed = 0, matches = 0;
    std::string firstError;
    for (auto& r : results) {
        all.insert(all.end(), r.latenciesMs.begin(), r.latenciesMs.end());
        ok += r.ok;
        failed += r.failed;
        matches += r.matches;
        if (firstError.empty() && !r.error.empty()) firstError = r.error;
    }
    if (ok == 0) {
        std::fprintf(stderr, "bench_cfind_load: no successful C-FIND (%s)\n",
                     firstError.empty() ? "no query sent" : firstError.c_str());
        return 1;
    }
    double mean = 0;
    for (double v : all) mean += v;
    mean /= static_cast<double>(all.size());
    double p50 = percentile(all, 50), p99 = percentile(all, 99);
    // This process's own CPU (user + system): how much of the 2 shared cores the client took.
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    std::printf("{\"threads\":%d,\"queries\":%ld,\"failed\":%ld,\"wall_s\":%.3f,\"qps\":%.1f,"
                "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"mean_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
                "\"matches_per_query\":%.2f,\"client_cpu_s\":%.3f,\"error\":\"%s\"}\n",
                o.threads, ok, failed, wall, static_cast<double>(ok) / wall, p50, p99, mean, all.front(),
                all.back(), static_cast<double>(matches) / static_cast<double>(ok), cpu,
                failed ? "see stderr" : "");
    if (!firstError.empty()) std::fprintf(stderr, "bench_cfind_load: first error: %s\n", firstError.c_str());
    return 0;
}
