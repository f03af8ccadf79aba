#include "bridge/tcia/TciaClient.h"

#include <Poco/DigestEngine.h>
#include <Poco/Logger.h>
#include <Poco/Net/IPAddress.h>
#include <Poco/SHA1Engine.h>
#include <Poco/URI.h>

#include <algorithm>
#include <istream>
#include <random>
#include <set>

#include "bridge/common/Dates.h"
#include "bridge/common/Error.h"
#include "bridge/tcia/InstanceMetaReader.h"
#include "bridge/tcia/JsonArrayStream.h"
#include "bridge/tcia/RetryPolicy.h"
#include "bridge/tcia/TciaJsonParser.h"
#include "bridge/tcia/ZipStreamReader.h"

namespace bridge::tcia {

namespace {

Poco::Logger& log() { return Poco::Logger::get("bridge.tcia"); }

std::string excerpt(const std::string& s) {
    std::string t = s.substr(0, 300);
    std::replace(t.begin(), t.end(), '\n', ' ');
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    return t;
}

void require(const std::string& value, const char* name) {
    if (value.empty()) throw BridgeError(ErrorCode::InvalidArgument, std::string(name) + " is required");
}

bool contains(const std::string& haystack, const char* needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace

TciaClient::TciaClient(const TciaSettings& settings)
    : settings_(settings),
      version_(parseVersion(settings.apiVersion, settings.baseUrl)),
      transport_(settings_),
      tokens_(settings_, transport_) {
    while (!settings_.baseUrl.empty() && settings_.baseUrl.back() == '/') settings_.baseUrl.pop_back();
    if (auto warning = checkCredentialTransport(settings_)) log().warning("%s", *warning);
}

std::string TciaClient::credentialIdentity(const TciaSettings& settings) {
    if (settings.tokenUrl.empty()) return "anonymous";
    Poco::SHA1Engine sha;
    sha.update(settings.tokenUrl + '\n' + settings.username + '\n' + settings.clientId);
    return "token:" + Poco::DigestEngine::digestToHex(sha.digest());
}

std::optional<std::string> TciaClient::checkCredentialTransport(const TciaSettings& settings) {
    if (settings.tokenUrl.empty()) return std::nullopt;
    std::string insecure;  // the first URL that would carry the password or bearer token in clear
    bool loopbackOnly = true;
    for (const std::string* url : {&settings.tokenUrl, &settings.baseUrl}) {
        Poco::URI uri;
        try {
            uri = Poco::URI(*url);
        } catch (const Poco::Exception&) {
            throw BridgeError(ErrorCode::InvalidArgument, "TCIA URL is not a URL: " + *url);
        }
        std::string scheme = uri.getScheme();
        for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (scheme == "https") continue;
        if (insecure.empty()) insecure = *url;
        const std::string host = uri.getHost();
        bool loopback = host == "localhost";
        try {
            loopback = loopback || Poco::Net::IPAddress(host).isLoopback();
        } catch (const Poco::Exception&) {
        }
        loopbackOnly = loopbackOnly && loopback;
    }
    if (insecure.empty()) return std::nullopt;
    if (!loopbackOnly && !settings.allowInsecureCredentials)
        throw BridgeError(ErrorCode::InvalidArgument,
                          "TCIA credentials would travel unencrypted to " + insecure +
                              ": use https://, or set tcia.allowInsecureCredentials to accept the risk");
    return "INSECURE: TCIA credentials and bearer tokens travel unencrypted (http://) to " + insecure +
           (loopbackOnly ? " (loopback host)" : " (tcia.allowInsecureCredentials is set)");
}

TciaClient::~TciaClient() = default;

ApiVersion TciaClient::parseVersion(const std::string& apiVersion, const std::string& baseUrl) {
    std::string v = apiVersion;
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "v1" || v == "v2" || v == "1" || v == "2") return ApiVersion::V1;
    if (v == "v4" || v == "4") return ApiVersion::V4;
    if (!v.empty())
        throw BridgeError(ErrorCode::InvalidArgument,
                          "unknown TCIA API version '" + apiVersion + "' (v1, v2 or v4)");
    if (contains(baseUrl, "/v1") || contains(baseUrl, "/v2")) return ApiVersion::V1;
    return ApiVersion::V4;
}

std::string TciaClient::buildUrl(const std::string& baseUrl, const std::string& endpoint,
                                 const Params& params) {
    std::string url = baseUrl;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/" + endpoint;
    char sep = '?';
    for (const auto& [name, value] : params) {
        if (value.empty()) continue;  // never send an empty filter: v1 would match "" literally
        url += sep;
        url += name + "=" + HttpTransport::encodeQueryValue(value);
        sep = '&';
    }
    return url;
}

HttpResponse TciaClient::send(const std::string& url, const std::function<void(std::istream&)>* onBody,
                              const RequestContext* context) {
    for (int authAttempt = 0;; ++authAttempt) {
        std::string token = tokens_.accessToken();
        HttpHeaders headers;
        if (!token.empty()) headers.emplace_back("Authorization", "Bearer " + token);
        HttpResponse r = onBody ? transport_.getStream(url, headers, *onBody, context)
                                : transport_.get(url, headers, context);
        if (r.status != 401) return r;
        if (tokens_.enabled() && authAttempt == 0) {
            // The token may have been revoked or expired early: authenticate anew, once.
            tokens_.invalidate(token);
            continue;
        }
        throw BridgeError(ErrorCode::Unauthorized,
                          tokens_.enabled()
                              ? "TCIA refused our bearer token (HTTP 401)"
                              : "TCIA requires authentication (HTTP 401); configure tcia.tokenUrl");
    }
}

void TciaClient::throwForStatus(const std::string& endpoint, const HttpResponse& r, bool imageEndpoint) {
    const std::string what = "TCIA " + endpoint + " answered HTTP " + std::to_string(r.status) +
                             (r.body.empty() ? std::string() : ": " + excerpt(r.body));
    switch (r.status) {
        case 400:
            // getImage/getSingleImage answer 400 for an unknown or non-public series (API.md 2.3).
            if (imageEndpoint || contains(r.body, "not in public domain") ||
                contains(r.body, "not been granted"))
                throw BridgeError(ErrorCode::NotFound, what);
            throw BridgeError(ErrorCode::InvalidArgument, what);
        case 403:
            throw BridgeError(ErrorCode::Forbidden, what);
        case 404:
        case 410:
            throw BridgeError(ErrorCode::NotFound, what);
        case 422:
            throw BridgeError(ErrorCode::InvalidArgument, what);
        default:
            throw BridgeError(ErrorCode::UpstreamBadResponse, what);
    }
}

std::string TciaClient::getJson(const std::string& endpoint, const Params& params, const RequestContext& context) {
    HttpResponse r = send(buildUrl(settings_.baseUrl, endpoint, params), nullptr, &context);
    if (r.status == 204) return {};  // v1 getSeriesMetaData "not found" (API.md 2.3)
    if (r.status != 200) throwForStatus(endpoint, r, false);
    return std::move(r.body);
}

std::vector<std::string> TciaClient::collections(const RequestContext& context) {
    return parseValues(getJson("getCollectionValues", {}, context), "Collection");
}

std::vector<std::string> TciaClient::modalityValues(const ValueFilter& f, const RequestContext& context) {
    return parseValues(getJson("getModalityValues",
                               {{"Collection", f.collection}, {"BodyPartExamined", f.bodyPartExamined}}, context),
                       "Modality");
}

std::vector<std::string> TciaClient::bodyPartValues(const ValueFilter& f, const RequestContext& context) {
    return parseValues(getJson("getBodyPartValues", {{"Collection", f.collection}, {"Modality", f.modality}}, context),
                       "BodyPartExamined");
}

std::vector<std::string> TciaClient::manufacturerValues(const ValueFilter& f, const RequestContext& context) {
    return parseValues(getJson("getManufacturerValues", {{"Collection", f.collection},
                                                         {"Modality", f.modality},
                                                         {"BodyPartExamined", f.bodyPartExamined}}, context),
                       "Manufacturer");
}

std::vector<PatientRecord> TciaClient::patients(const PatientFilter& f, const RequestContext& context) {
    // getPatient spells it `PatientId` in v1 and v4 (API.md 3.2, 5).
    return parsePatients(getJson("getPatient", {{"Collection", f.collection}, {"PatientId", f.patientId}}, context),
                         version_);
}

std::vector<PatientRecord> TciaClient::patientsByCollectionAndModality(const std::string& collection,
                                                                       const std::string& modality, const RequestContext& context) {
    require(collection, "Collection");
    require(modality, "Modality");
    return parsePatients(
        getJson("getPatientByCollectionAndModality", {{"Collection", collection}, {"Modality", modality}}, context),
        version_);
}

std::vector<PatientRecord> TciaClient::newPatientsInCollection(const std::string& collection,
                                                               const std::string& fromDate, const RequestContext& context) {
    require(collection, "Collection");
    require(fromDate, "fromDate");
    // The date is formatted (and may throw) before the list is built: a throw from inside a
    // braced list in ?: made GCC 12 destroy a pair after its scope (ASan stack-use-after-scope).
    const bool v4 = version_ == ApiVersion::V4;
    const std::string date = v4 ? formatV4Date(fromDate) : formatV1NewDate(fromDate);
    Params p{{"Collection", collection}, {v4 ? "fromDate" : "Date", date}};
    return parsePatients(getJson("NewPatientsInCollection", p, context), version_);
}

std::vector<StudyRecord> TciaClient::studies(const StudyFilter& f, const RequestContext& context) {
    return parseStudies(getJson("getPatientStudy", {{"Collection", f.collection},
                                                    {"PatientID", f.patientId},
                                                    {"StudyInstanceUID", f.studyInstanceUid}}, context),
                        version_);
}

std::vector<StudyRecord> TciaClient::newStudiesInPatientCollection(const std::string& collection,
                                                                   const std::string& patientId,
                                                                   const std::string& fromDate, const RequestContext& context) {
    require(collection, "Collection");
    require(fromDate, "fromDate");
    Params p{{"Collection", collection}, {"PatientID", patientId}};
    if (version_ == ApiVersion::V4)
        p.emplace_back("fromDate", formatV4Date(fromDate));
    else
        p.emplace_back("Date", formatV1NewDate(fromDate));
    return parseStudies(getJson("NewStudiesInPatientCollection", p, context), version_);
}

namespace {

TciaClient::Params seriesParams(const SeriesFilter& f) {
    TciaClient::Params p{{"Collection", f.collection},
                         {"PatientID", f.patientId},
                         {"StudyInstanceUID", f.studyInstanceUid},
                         {"SeriesInstanceUID", f.seriesInstanceUid},
                         {"Modality", f.modality},
                         {"BodyPartExamined", f.bodyPartExamined},
                         {"Manufacturer", f.manufacturer},
                         {"ManufacturerModelName", f.manufacturerModelName}};
    if (std::all_of(p.begin(), p.end(), [](const auto& kv) { return kv.second.empty(); }))
        throw BridgeError(
            ErrorCode::QueryTooBroad,
            "getSeries without any filter would list every series in TCIA; give at least one filter");
    return p;
}

}  // namespace

std::vector<SeriesRecord> TciaClient::series(const SeriesFilter& f, const RequestContext& context) {
    return parseSeries(getJson("getSeries", seriesParams(f), context), version_);
}

std::vector<SeriesRecord> TciaClient::updatedSeries(const std::string& fromDate, const RequestContext& context) {
    require(fromDate, "fromDate");
    // v1 wants dd/MM/yyyy here, unlike its other date parameters (API.md 2.5).
    std::string date = version_ == ApiVersion::V4 ? formatV4Date(fromDate) : formatV1UpdatedDate(fromDate);
    return parseSeries(getJson("getUpdatedSeries", {{"fromDate", date}}, context), version_);
}

SeriesSize TciaClient::seriesSize(const std::string& seriesInstanceUid, const RequestContext& context) {
    require(seriesInstanceUid, "SeriesInstanceUID");
    return parseSeriesSize(getJson("getSeriesSize", {{"SeriesInstanceUID", seriesInstanceUid}}, context));
}

std::vector<std::string> TciaClient::sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) {
    require(seriesInstanceUid, "SeriesInstanceUID");
    return parseSopInstanceUids(getJson("getSOPInstanceUIDs", {{"SeriesInstanceUID", seriesInstanceUid}}, context));
}

std::vector<std::uint8_t> TciaClient::singleImage(const std::string& seriesInstanceUid,
                                                  const std::string& sopInstanceUid, const RequestContext& context) {
    require(seriesInstanceUid, "SeriesInstanceUID");
    require(sopInstanceUid, "SOPInstanceUID");
    HttpResponse r =
        send(buildUrl(settings_.baseUrl, "getSingleImage",
                      {{"SeriesInstanceUID", seriesInstanceUid}, {"SOPInstanceUID", sopInstanceUid}}),
             nullptr, &context);
    if (r.status != 200) throwForStatus("getSingleImage", r, true);
    if (!InstanceMetaReader::read(reinterpret_cast<const std::uint8_t*>(r.body.data()), r.body.size()))
        throw BridgeError(ErrorCode::UpstreamBadResponse,
                          "TCIA getSingleImage answered something that is not DICOM");
    return std::vector<std::uint8_t>(r.body.begin(), r.body.end());
}

std::size_t TciaClient::downloadSeries(const std::string& seriesInstanceUid, const DownloadOptions& options,
                                       const InstanceSink& sink, const RequestContext& context) {
    require(seriesInstanceUid, "SeriesInstanceUID");
    std::string endpoint = "getImage";
    Params params{{"SeriesInstanceUID", seriesInstanceUid}};
    const bool verifyMd5 = options.verifyMd5 && settings_.verifyMd5;
    if (version_ == ApiVersion::V4) {
        params.emplace_back("NewFileNames", "Yes");
        if (verifyMd5) params.emplace_back("IncludeMD5", "Yes");
    } else if (verifyMd5) {
        endpoint = "getImageWithMD5Hash";  // v1 has no IncludeMD5 (API.md 8.2)
    } else {
        params.emplace_back("NewFileNames", "Yes");
    }
    const std::string url = buildUrl(settings_.baseUrl, endpoint, params);

    std::set<std::string> delivered;  // SOP Instance UIDs already handed to the sink, across attempts
    // MD5 of the bytes actually handed to the sink, per SOP Instance UID: an instance delivered
    // by an earlier (truncated) attempt is checked against the hash of those bytes, not of a
    // later copy. Entry names differ between attempts (v4 %08d names are shuffled).
    std::map<std::string, std::string> deliveredMd5;
    std::string lastProblem;
    thread_local std::mt19937_64 engine{std::random_device{}()};
    const int maxRetries = std::max(0, settings_.maxRetries);
    for (int attempt = 0; attempt <= maxRetries; ++attempt) {
        if (attempt > 0) {
            auto delay =
                RetryPolicy::backoffDelay(attempt - 1, settings_.retryBaseDelay, settings_.retryMaxDelay,
                                          std::uniform_real_distribution<double>(0.0, 1.0)(engine));
            log().information("getImage %s: %s; download retry %d in %Ld ms", seriesInstanceUid, lastProblem,
                              attempt, static_cast<Poco::Int64>(delay.count()));
            context.sleepFor(delay);  // wakes on stop (no polling)
        }
        context.throwIfCancelled();

        bool sinkFailed = false;
        bool entryTooLarge = false;
        bool sawManifest = false;
        std::map<std::string, std::string> manifest;
        std::map<std::string, std::string> sopOfEntry;  // this attempt: entry name -> SOP Instance UID
        std::size_t before = delivered.size();
        std::function<void(std::istream&)> onBody = [&](std::istream& in) {
            ZipStreamReader reader(in, &context, settings_.maxZipEntryBytes);
            try {
                reader.readAll([&](ZipStreamReader::Entry&& entry) {
                    auto uids = InstanceMetaReader::read(entry.bytes.data(), entry.bytes.size());
                    if (!uids) {
                        log().warning("getImage %s: entry %s is not a DICOM file; skipped", seriesInstanceUid,
                                      entry.name);
                        return;
                    }
                    sopOfEntry[entry.name] = uids->sopInstanceUid;
                    if (delivered.count(uids->sopInstanceUid)) return;  // delivered by an earlier attempt
                    std::string md5 = entry.md5Hex;
                    DownloadedInstance instance{entry.name,
                                                uids->sopInstanceUid,
                                                uids->sopClassUid,
                                                uids->transferSyntaxUid,
                                                std::move(entry.bytes),
                                                md5,
                                                {}};
                    try {
                        sink(std::move(instance));
                    } catch (...) {
                        sinkFailed = true;
                        throw;
                    }
                    delivered.insert(uids->sopInstanceUid);
                    deliveredMd5[uids->sopInstanceUid] = std::move(md5);
                });
            } catch (...) {
                entryTooLarge = reader.entryTooLarge();
                throw;
            }
            sawManifest = reader.hasMd5Manifest();
            manifest = reader.md5Manifest();
        };
        try {
            HttpResponse r = send(url, &onBody, &context);
            if (r.status != 200) throwForStatus(endpoint, r, true);
        } catch (const BridgeError& e) {
            // Only a damaged download is repeated here; HTTP-level retries happened in HttpTransport.
            // An entry beyond maxZipEntryBytes would only be refused again.
            if (sinkFailed || entryTooLarge || e.code() != ErrorCode::UpstreamBadResponse) throw;
            lastProblem = e.what();
            log().warning("getImage %s attempt %d: %s (%z new instances delivered)", seriesInstanceUid,
                          attempt + 1, std::string(e.what()), delivered.size() - before);
            continue;
        }
        if (verifyMd5) {
            if (!sawManifest) {
                lastProblem = "the ZIP has no md5hashes.csv although MD5s were requested";
                continue;
            }
            // Every delivered instance must be listed under this attempt's entry name with the
            // MD5 of the bytes the sink received; anything else is unverified: failed.
            std::set<std::string> verified;
            std::vector<std::string> bad;
            for (const auto& [name, sop] : sopOfEntry) {
                auto listed = manifest.find(name);
                auto got = deliveredMd5.find(sop);
                if (listed == manifest.end() || got == deliveredMd5.end()) continue;
                if (got->second == listed->second) verified.insert(sop);
            }
            for (const auto& sop : delivered)
                if (!verified.count(sop)) bad.push_back(sop);
            if (!bad.empty()) {
                std::map<std::string, std::string> entryOfSop;
                for (const auto& [name, sop] : sopOfEntry) entryOfSop[sop] = name;
                std::string uids;  // "entry = SOP Instance UID", at most five
                for (std::size_t i = 0; i < bad.size() && i < 5; ++i) {
                    const auto entry = entryOfSop.find(bad[i]);
                    uids += (i ? ", " : "") + (entry == entryOfSop.end() ? std::string("?") : entry->second) +
                            " = " + bad[i];
                }
                if (bad.size() > 5) uids += ", ...";
                log().error("getImage %s: %z instance(s) do not match md5hashes.csv: %s", seriesInstanceUid,
                            bad.size(), uids);
                if (options.onMd5Mismatch) options.onMd5Mismatch(bad);
                throw BridgeError(ErrorCode::UpstreamBadResponse,
                                  "getImage " + seriesInstanceUid + ": MD5 mismatch for " + std::to_string(bad.size()) +
                                      " instance" + (bad.size() == 1 ? "" : "s") + " (" + uids +
                                      "): TCIA's md5hashes.csv disagrees with the bytes received");
            }
        }
        if (options.expectedCount && static_cast<std::int64_t>(delivered.size()) < *options.expectedCount) {
            lastProblem = "only " + std::to_string(delivered.size()) + " of " +
                          std::to_string(*options.expectedCount) + " instances arrived";
            continue;
        }
        log().information("getImage %s: %z instances delivered in %d attempt(s)", seriesInstanceUid,
                          delivered.size(), attempt + 1);
        return delivered.size();
    }
    throw BridgeError(ErrorCode::UpstreamBadResponse, "getImage " + seriesInstanceUid + " failed after " +
                                                          std::to_string(maxRetries + 1) +
                                                          " attempts: " + lastProblem);
}

// ---------------------------------------------------------------------------------------------
// Streaming (harvest)

void TciaClient::streamJson(const std::string& endpoint, const Params& params, std::size_t batchSize,
                            const std::function<void(const std::string& arrayText)>& parseBatch,
                            const RequestContext& context) {
    if (batchSize == 0) batchSize = 1;
    std::string batch;
    std::size_t inBatch = 0;
    auto flush = [&] {
        if (inBatch == 0) return;
        batch += ']';
        parseBatch(batch);
        batch.clear();
        inBatch = 0;
    };
    JsonArrayStream splitter([&](std::string_view element, bool wholeBody) {
        if (wholeBody) {  // not an array: TCIA's error text or `{}`; the parser decides
            parseBatch(std::string(element));
            return;
        }
        batch += inBatch == 0 ? '[' : ',';
        batch.append(element.data(), element.size());
        if (++inBatch >= batchSize) flush();
    });
    const std::function<void(std::istream&)> onBody = [&](std::istream& in) {
        char buffer[64 * 1024];
        while (in) {
            context.throwIfCancelled();
            in.read(buffer, sizeof buffer);
            const auto n = in.gcount();
            if (n > 0) splitter.feed(buffer, static_cast<std::size_t>(n));
        }
        if (in.bad()) throw BridgeError(ErrorCode::UpstreamUnavailable, "TCIA " + endpoint + ": connection lost mid-answer");
        splitter.finish();
        flush();
    };
    HttpResponse r = send(buildUrl(settings_.baseUrl, endpoint, params), &onBody, &context);
    if (r.status == 204) return;
    if (r.status != 200) throwForStatus(endpoint, r, false);
}

void TciaClient::patientBatches(const PatientFilter& f, std::size_t batchSize, const BatchSink<PatientRecord>& sink,
                                const RequestContext& context) {
    streamJson("getPatient", {{"Collection", f.collection}, {"PatientId", f.patientId}}, batchSize,
               [&](const std::string& text) {
                   auto rows = parsePatients(text, version_);
                   if (!rows.empty()) sink(std::move(rows));
               },
               context);
}

void TciaClient::studyBatches(const StudyFilter& f, std::size_t batchSize, const BatchSink<StudyRecord>& sink,
                              const RequestContext& context) {
    streamJson("getPatientStudy",
               {{"Collection", f.collection}, {"PatientID", f.patientId}, {"StudyInstanceUID", f.studyInstanceUid}},
               batchSize,
               [&](const std::string& text) {
                   auto rows = parseStudies(text, version_);
                   if (!rows.empty()) sink(std::move(rows));
               },
               context);
}

void TciaClient::seriesBatches(const SeriesFilter& f, std::size_t batchSize, const BatchSink<SeriesRecord>& sink,
                               const RequestContext& context) {
    streamJson("getSeries", seriesParams(f), batchSize,
               [&](const std::string& text) {
                   auto rows = parseSeries(text, version_);
                   if (!rows.empty()) sink(std::move(rows));
               },
               context);
}

}  // namespace bridge::tcia
