#pragma once
// TciaApi over HTTP(S) for NBIA v4 (default) and v1 (v2 is v1-shaped and handled alike).
//
// Each call builds the version's exact parameter names (v4 rejects anything outside its
// allow-lists with a 400, API.md 2.3; getPatient wants `PatientId`, the rest `PatientID`; date
// parameters per API.md 2.5), sends only non-empty values, URL-encoded, parses with
// TciaJsonParser and maps failures to BridgeError:
//   400 -> InvalidArgument (NotFound for getImage/getSingleImage "not in public domain" /
//          "not been granted"), 401 -> one token refresh + retry, then Unauthorized,
//   403 -> Forbidden, 404 -> NotFound, 5xx/429/connection errors -> retried by HttpTransport,
//   then UpstreamUnavailable / UpstreamTimeout.
// getSeries with no filter at all is refused (QueryTooBroad): it would list all of TCIA.
//
// downloadSeries streams getImage (NewFileNames=Yes; IncludeMD5=Yes on v4 with verifyMd5, v1
// uses getImageWithMD5Hash instead) through ZipStreamReader and hands each instance to the sink
// as soon as its entry is complete. A truncated/corrupt ZIP, fewer instances than expectedCount,
// or a missing md5hashes.csv when MD5s were asked for -> the download is repeated after a
// backoff, and only SOP Instance UIDs not yet delivered reach the sink; after maxRetries ->
// BridgeError(UpstreamBadResponse). MD5s are verified by default (DownloadOptions::verifyMd5 and
// TciaSettings::verifyMd5): mismatches can only be found once md5hashes.csv (the last entry)
// arrived, i.e. after the instances were delivered: DownloadOptions::onMd5Mismatch names them,
// then the download fails with UpstreamBadResponse, not retried. An entry inflating beyond
// TciaSettings::maxZipEntryBytes fails the download at once (not retried). Memory: one instance
// at a time (at most maxZipEntryBytes).
//
// Thread-safe; every call blocks the calling thread.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bridge/common/Config.h"
#include "bridge/tcia/HttpTransport.h"
#include "bridge/tcia/TciaApi.h"
#include "bridge/tcia/TokenProvider.h"

namespace bridge::tcia {

class TciaClient : public TciaApi {
public:
    explicit TciaClient(const TciaSettings& settings);
    ~TciaClient() override;

    ApiVersion version() const { return version_; }

    std::vector<std::string> collections(const RequestContext& context) override;
    std::vector<std::string> modalityValues(const ValueFilter& filter, const RequestContext& context) override;
    std::vector<std::string> bodyPartValues(const ValueFilter& filter, const RequestContext& context) override;
    std::vector<std::string> manufacturerValues(const ValueFilter& filter, const RequestContext& context) override;

    std::vector<PatientRecord> patients(const PatientFilter& filter, const RequestContext& context) override;
    std::vector<PatientRecord> patientsByCollectionAndModality(const std::string& collection,
                                                               const std::string& modality, const RequestContext& context) override;
    std::vector<PatientRecord> newPatientsInCollection(const std::string& collection,
                                                       const std::string& fromDate, const RequestContext& context) override;

    std::vector<StudyRecord> studies(const StudyFilter& filter, const RequestContext& context) override;
    std::vector<StudyRecord> newStudiesInPatientCollection(const std::string& collection,
                                                           const std::string& patientId,
                                                           const std::string& fromDate, const RequestContext& context) override;

    std::vector<SeriesRecord> series(const SeriesFilter& filter, const RequestContext& context) override;
    std::vector<SeriesRecord> updatedSeries(const std::string& fromDate, const RequestContext& context) override;
    SeriesSize seriesSize(const std::string& seriesInstanceUid, const RequestContext& context) override;
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override;

    std::size_t downloadSeries(const std::string& seriesInstanceUid, const DownloadOptions& options,
                               const InstanceSink& sink, const RequestContext& context) override;

    std::vector<std::uint8_t> singleImage(const std::string& seriesInstanceUid,
                                          const std::string& sopInstanceUid, const RequestContext& context) override;

    /// Streamed from the socket through JsonArrayStream: at most one batch of records and one
    /// JSON element are in memory at a time. A stream that breaks off midway throws (not
    /// retried here: records were already delivered; the caller discards them and asks again).
    void patientBatches(const PatientFilter& filter, std::size_t batchSize, const BatchSink<PatientRecord>& sink,
                        const RequestContext& context) override;
    void studyBatches(const StudyFilter& filter, std::size_t batchSize, const BatchSink<StudyRecord>& sink,
                      const RequestContext& context) override;
    void seriesBatches(const SeriesFilter& filter, std::size_t batchSize, const BatchSink<SeriesRecord>& sink,
                       const RequestContext& context) override;

    using Params = std::vector<std::pair<std::string, std::string>>;
    /// base URL + "/" + endpoint + "?" + the non-empty params, percent-encoded. Pure.
    static std::string buildUrl(const std::string& baseUrl, const std::string& endpoint,
                                const Params& params);
    /// "v1"/"v2" -> V1, "v4" -> V4; empty: guessed from the base URL ("/v1", "/v2" -> V1). Pure.
    static ApiVersion parseVersion(const std::string& apiVersion, const std::string& baseUrl);
    /// Who these settings are to TCIA, for keying cached answers: "anonymous" without a token
    /// URL, else "token:" + SHA-1 hex of token URL, user name and client id (no secret). Pure.
    static std::string credentialIdentity(const TciaSettings& settings);
    /// Credentials travel in clear when tokenUrl or baseUrl is http://. Returns nullopt when
    /// there is nothing to say, a warning text for http:// to a loopback host (or any host with
    /// allowInsecureCredentials); throws BridgeError(InvalidArgument) for http:// to another
    /// host. Pure. The constructor calls it and logs the warning.
    static std::optional<std::string> checkCredentialTransport(const TciaSettings& settings);

private:
    std::string getJson(const std::string& endpoint, const Params& params, const RequestContext& context);
    /// GET endpoint and hand each batch of at most batchSize top-level elements, as the text
    /// of a JSON array, to parseBatch. Blocking; see patientBatches().
    void streamJson(const std::string& endpoint, const Params& params, std::size_t batchSize,
                    const std::function<void(const std::string& arrayText)>& parseBatch, const RequestContext& context);
    HttpResponse send(const std::string& url, const std::function<void(std::istream&)>* onBody,
                      const RequestContext* context);
    [[noreturn]] void throwForStatus(const std::string& endpoint, const HttpResponse& response,
                                     bool imageEndpoint);

    TciaSettings settings_;
    ApiVersion version_;
    HttpTransport transport_;
    TokenProvider tokens_;
};

}  // namespace bridge::tcia
