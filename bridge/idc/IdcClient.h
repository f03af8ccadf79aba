#pragma once
// TciaApi over NCI's Imaging Data Commons (shared/idc/API.md; docs/idc.md): the second source
// behind the same catalog, harvest, caches, DIMSE and DICOMweb.
//
// Metadata: IDC REST API v3 `POST /sql` over the series-level `index` table (literals quoted,
// `'` -> `''`), pages of IdcSettings::sqlPageRows rows ORDER BY a total key LIMIT/OFFSET, so a
// harvest holds one page at a time. Study and patient records are folded from series rows in
// key order (a study split across two pages is carried over). Collections come from
// `collections_index` (TCIA's collection_name; GET /collections as the fallback); a TCIA name
// is mapped to IDC's collection_id through that list (then by IDC's naming pattern). Where
// TCIA's name differs from IDC's (IdcSettings::tciaNames: TCIA name -> DOI), the collection is
// found by joining on the DOI (joinCollections in IdcParsers.h): its series, studies, patients,
// licence and citation then carry the TCIA name.
// IDC has no submission dates: newPatients/newStudies/updatedSeries answer empty; change is
// detected by GET /version (idcVersion(), see CatalogVersionPin in docs/idc.md).
//
// Instances: the series' objects `<crdc_series_uuid>/…` in its `aws_bucket`, listed with S3
// ListObjectsV2 (pages of 1,000; zero-byte and `/`-ending keys skipped) and fetched with at most
// IdcSettings::maxParallelGets GETs in flight; each instance reaches the sink on the calling
// thread as soon as its object is complete and checked (ETag = MD5 when it is 32 hex digits,
// DownloadOptions::verifyMd5; a mismatching object is fetched once more, then the download fails
// with UpstreamBadResponse and that instance is never delivered). A listing with fewer objects
// than instanceCount / expectedCount is listed again after a backoff, then fails
// (UpstreamBadResponse). Each SOP Instance UID reaches the sink at most once across retries.
// sopInstanceUids() reads each object's header with Range GETs (64 KiB, doubling up to
// maxHeaderBytes); the SOP Instance UID -> key map of a series is cached (seriesCacheEntries).
// HTTP goes through tcia::HttpTransport (timeouts, retries with backoff, 503 SlowDown retried):
// the REST API with TciaSettings' per-host limit, the buckets (listings, object and header GETs)
// through a second transport whose per-host limit is max(that, maxParallelGets), so a series
// really gets its maxParallelGets GETs in flight (S3 serves thousands per second per prefix;
// the NBIA-sized limit of 4 halved them, and on one host the API calls shared its slots).
// The GET workers come from one bounded Poco::ThreadPool per client (2 x maxParallelGets
// threads); a download that finds it busy runs on fewer workers, at worst on its own thread.
// Object buffers are reused: the sink's owner hands each back when done with it
// (DownloadedInstance::recycle) to a pool of at most kBufferPoolBytes, and the next GET reads into
// it without the zero-fill and page faults of a fresh vector.
//
// Thread-safe; every call blocks the calling thread. Errors: BridgeError as for TciaClient.

#include <Poco/ThreadPool.h>

#include "bridge/common/ByteBuffers.h"

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bridge/common/Config.h"
#include "bridge/idc/IdcParsers.h"
#include "bridge/tcia/HttpTransport.h"
#include "bridge/tcia/TciaApi.h"

namespace bridge::idc {

class IdcClient : public tcia::TciaApi {
public:
    /// `pinFile`: where the pinned IDC release is kept across restarts (empty = memory only).
    IdcClient(const TciaSettings& http, const IdcSettings& idc, std::string pinFile = {});
    ~IdcClient() override;

    std::vector<std::string> collections(const RequestContext& context) override;
    std::vector<std::string> modalityValues(const tcia::ValueFilter& filter, const RequestContext& context) override;
    std::vector<std::string> bodyPartValues(const tcia::ValueFilter& filter, const RequestContext& context) override;
    std::vector<std::string> manufacturerValues(const tcia::ValueFilter& filter, const RequestContext& context) override;

    std::vector<tcia::PatientRecord> patients(const tcia::PatientFilter& filter, const RequestContext& context) override;
    std::vector<tcia::PatientRecord> patientsByCollectionAndModality(const std::string& collection,
                                                                     const std::string& modality, const RequestContext& context) override;
    std::vector<tcia::PatientRecord> newPatientsInCollection(const std::string& collection,
                                                             const std::string& fromDate, const RequestContext& context) override;

    std::vector<tcia::StudyRecord> studies(const tcia::StudyFilter& filter, const RequestContext& context) override;
    std::vector<tcia::StudyRecord> newStudiesInPatientCollection(const std::string& collection,
                                                                 const std::string& patientId,
                                                                 const std::string& fromDate, const RequestContext& context) override;

    std::vector<tcia::SeriesRecord> series(const tcia::SeriesFilter& filter, const RequestContext& context) override;
    std::vector<tcia::SeriesRecord> updatedSeries(const std::string& fromDate, const RequestContext& context) override;
    tcia::SeriesSize seriesSize(const std::string& seriesInstanceUid, const RequestContext& context) override;
    std::vector<std::string> sopInstanceUids(const std::string& seriesInstanceUid, const RequestContext& context) override;

    std::size_t downloadSeries(const std::string& seriesInstanceUid, const tcia::DownloadOptions& options,
                               const tcia::InstanceSink& sink, const RequestContext& context) override;
    std::vector<std::uint8_t> singleImage(const std::string& seriesInstanceUid,
                                          const std::string& sopInstanceUid, const RequestContext& context) override;

    void patientBatches(const tcia::PatientFilter& filter, std::size_t batchSize,
                        const tcia::BatchSink<tcia::PatientRecord>& sink, const RequestContext& context) override;
    void studyBatches(const tcia::StudyFilter& filter, std::size_t batchSize,
                      const tcia::BatchSink<tcia::StudyRecord>& sink, const RequestContext& context) override;
    void seriesBatches(const tcia::SeriesFilter& filter, std::size_t batchSize,
                       const tcia::BatchSink<tcia::SeriesRecord>& sink, const RequestContext& context) override;

    /// True after updatedSeries() moved the pin to a new release, until withdrawalsApplied().
    bool withdrawalCheckPending() override;
    /// Every SeriesInstanceUID IDC's current release lists in `collection` (a TCIA name), in
    /// ascending order, read in /sql pages. A collection IDC no longer lists -> empty.
    std::optional<std::vector<std::string>> listedSeriesUids(const std::string& collection,
                                                             const RequestContext& context) override;
    void withdrawalsApplied() override;

    /// Fills the object buffer pool with buffers of kPrefillObjectBytes (as many as its
    /// kBufferPoolBytes hold) and returns how many: called when the harvest is over
    /// (BridgeServices::afterHarvest), so that the first download after a start reads into
    /// memory this process has already mapped, as later downloads do. Fresh pages are dear where
    /// this is measured (a VM with shadow paging, ~5 us a page on first touch): a fresh bridge's
    /// first cold C-MOVE of a 300-slice CT series faulted in ~5,500 new pages, ~780 with the pool
    /// filled (docs/idc.md, fifth session). Tops up only: a full pool costs nothing.
    std::size_t prefillObjectBuffers();

    /// GET /version: IDC's release ("v24"). Throws as the searches do.
    std::string idcVersion(const RequestContext& context = RequestContext());
    /// Licence and citation of every collection (collections_index through /sql).
    std::vector<CollectionInfo> collectionInfos(const RequestContext& context = RequestContext());
    /// The IDC release the catalog was harvested from ("" before the first harvest call): read
    /// from the pin file, set from GET /version by the first collections() call when empty, and
    /// moved forward by updatedSeries() when IDC's release changed.
    std::string pinnedVersion();

    /// "v24" -> 24; nullopt when there is no number. Pure.
    static std::optional<int> versionNumber(const std::string& idcVersion);

    /// `SELECT <columns> FROM index [WHERE a = 'x' AND ...] ORDER BY <order> LIMIT n OFFSET k`. Pure.
    /// `condition` (trusted SQL, no user input) is ANDed to the equality filters.
    static std::string indexQuery(const std::string& columns,
                                  const std::vector<std::pair<std::string, std::string>>& where,
                                  const std::string& orderBy, std::size_t limit, std::size_t offset,
                                  const std::string& condition = {});

private:
    struct SeriesLocation {
        std::string bucket;
        std::string uuid;
        std::optional<std::int64_t> instanceCount;
    };
    struct InstanceKey {
        std::string sopInstanceUid;
        std::string key;
    };

    /// `http` with the per-host limit raised to maxParallelGets (the bucket transport). Pure.
    static TciaSettings bucketSettings(const TciaSettings& http, const IdcSettings& idc);
    /// Threads of the GET worker pool: 2 x maxParallelGets. Pure.
    static int poolCapacity(const IdcSettings& idc);

    /// One /v3/sql call; `maxRows` is the body's max_rows (default: idc.sqlPageRows, the LIMIT of
    /// every paged query).
    SqlPage sql(const std::string& query, const RequestContext* context, int maxRows = 0);
    /// sql() in two steps: the request, and the answer's status and rows (parsed).
    tcia::HttpResponse postSql(const std::string& query, const RequestContext* context, int maxRows = 0);
    static SqlPage sqlAnswer(const tcia::HttpResponse& response);
    /// Every page of `select ... where ... order by`, one page at a time, to onPage. The next page
    /// is fetched (not parsed) while onPage takes this one: one request ahead, one more page body
    /// in memory (the harvest's passes waited for each page as long as they took to store it).
    void pages(const std::string& columns, const std::vector<std::pair<std::string, std::string>>& where,
               const std::string& orderBy, const std::function<void(std::vector<SqlRow>&&)>& onPage,
               const RequestContext* context, const std::string& condition = {});
    void pin(const std::string& version);
    /// The licence URL of the series' collection (collections_index) when its licence is the collection's.
    void addLicenceUrl(tcia::SeriesRecord& record);
    /// "series_revised_idc_version > N" while a refresh after a release change runs, else "".
    std::string revisedCondition();
    std::string collectionId(const std::string& tciaName, const RequestContext& context);
    CollectionDirectory directory(const RequestContext& context);
    std::vector<std::pair<std::string, std::string>> seriesWhere(const tcia::SeriesFilter& f,
                                                                 bool requireOne, const RequestContext& context);
    std::vector<std::string> distinctValues(const std::string& column, const tcia::ValueFilter& f,
                                            const RequestContext& context);
    SeriesLocation locate(const std::string& seriesInstanceUid, const RequestContext& context);
    std::vector<S3Object> listSeries(const SeriesLocation& location, const RequestContext* context);
    std::vector<InstanceKey> instanceKeys(const std::string& seriesInstanceUid, const RequestContext& context);
    /// One whole object into `bytes` (at most idc.maxObjectBytes); a non-200 answer throws
    /// BridgeError(UpstreamBadResponse) with S3's error code.
    void getObjectBytes(const std::string& bucket, const std::string& key, std::vector<std::uint8_t>& bytes,
                        const RequestContext* context);

    TciaSettings http_;
    IdcSettings idc_;
    tcia::HttpTransport transport_;  ///< the REST API (/v3)
    tcia::HttpTransport buckets_;    ///< S3 listings and objects (bucketSettings)

    std::string pinFile_;
    std::mutex mutex_;
    std::string pinned_;
    std::optional<int> refreshFrom_;               ///< the release a running refresh started from
    /// TCIA names <-> collection_id, licences and citations (collections_index joined on DOI
    /// with IdcSettings::tciaNames); empty until collections() loaded it.
    CollectionDirectory directory_;
    /// Set by updatedSeries() when it saw a release newer than the one harvested; cleared by
    /// withdrawalsApplied() (see TciaApi::withdrawalCheckPending).
    bool withdrawalCheck_ = false;
    std::map<std::string, SeriesLocation> locations_;
    std::list<std::string> locationOrder_;
    std::map<std::string, std::vector<InstanceKey>> instances_;
    std::list<std::string> instanceOrder_;
    /// Object buffers handed back by the sink's owner (DownloadedInstance::recycle) for the next
    /// GETs (shared: a buffer may come back after this client is gone): at most kBufferPoolBytes
    /// of them, each of at most kPooledObjectBytes (the direct-read bound of
    /// HttpTransport::getBytes).
    static constexpr std::size_t kBufferPoolBytes = 32u << 20;
    static constexpr std::size_t kPooledObjectBytes = 16u << 20;
    /// prefillObjectBuffers' buffer: a 512 x 512 16-bit slice (TCIA's CT and PET series, most of
    /// its instances) with up to 64 KiB of header; smaller objects fit it too.
    static constexpr std::size_t kPrefillObjectBytes = 576u << 10;
    std::shared_ptr<BufferPool> buffers_;
    /// GET workers of parallelFetch (declared last: destroyed first, after every fetch returned).
    std::unique_ptr<Poco::ThreadPool> pool_;
};

}  // namespace bridge::idc
