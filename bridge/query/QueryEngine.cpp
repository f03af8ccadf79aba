#include "bridge/query/QueryEngine.h"

#include "bridge/common/Error.h"
#include "bridge/query/Matcher.h"
#include "bridge/query/RecordBuilder.h"

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <utility>

namespace bridge {
namespace {

using Step = std::function<std::vector<DicomRecord>()>;

const std::set<DcmTagKey, TagLess> kStudyComputed{DCM_ModalitiesInStudy, DCM_NumberOfStudyRelatedSeries,
                                                  DCM_NumberOfStudyRelatedInstances};
const std::set<DcmTagKey, TagLess> kPatientComputed{DCM_NumberOfPatientRelatedStudies,
                                                    DCM_NumberOfPatientRelatedSeries,
                                                    DCM_NumberOfPatientRelatedInstances};
/// Attributes getPatientStudy gives that getSeries does not (for SERIES/IMAGE level keys).
const std::set<DcmTagKey, TagLess> kStudyOnly{DCM_PatientName, DCM_PatientBirthDate, DCM_EthnicGroup, DCM_StudyID,
                                              DCM_LongitudinalTemporalEventType,
                                              DCM_LongitudinalTemporalOffsetFromEvent};
/// Keys that describe the response, not the data: never matched.
const std::set<DcmTagKey, TagLess> kNotMatched{DCM_QueryRetrieveLevel, DCM_SpecificCharacterSet,
                                               DCM_InstanceAvailability, DCM_RetrieveAETitle, DCM_RetrieveURL,
                                               DCM_TimezoneOffsetFromUTC};

const char* const kTooBroad =
    "query too broad: narrow the query by PatientID, a UID or the collection (ClinicalTrialProtocolID) "
    "or run `tcia-bridge sync`";

struct SortKey {
    DcmTagKey tag;
    bool numeric;
};

/// Strict weak order over the given keys; numeric keys compare as numbers, unknown first.
bool recordLess(const DicomRecord& a, const DicomRecord& b, const std::vector<SortKey>& keys) {
    for (const auto& k : keys) {
        const std::string& x = a.get(k.tag);
        const std::string& y = b.get(k.tag);
        if (x == y) continue;
        if (k.numeric) {
            char *ex = nullptr, *ey = nullptr;
            const double dx = std::strtod(x.c_str(), &ex), dy = std::strtod(y.c_str(), &ey);
            const bool nx = !x.empty() && *ex == '\0', ny = !y.empty() && *ey == '\0';
            if (nx && ny && dx != dy) return dx < dy;
            if (nx != ny) return !nx;  // unknown first
        }
        return x < y;
    }
    return false;
}

void sortRecords(std::vector<DicomRecord>& records, const std::vector<SortKey>& keys) {
    std::stable_sort(records.begin(), records.end(),
                     [&](const DicomRecord& a, const DicomRecord& b) { return recordLess(a, b, keys); });
}

std::string upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

/// Everything one find() needs, shared by its steps (which run later, on the cursor's thread).
struct PlanState {
    MetadataSource& metadata;
    InstanceAttributeSource* instances;
    QueryEngineTuning tuning;
    Query query;
    RequestContext context;
    std::vector<Matcher> matchers;  ///< non-universal keys only
    // Per-cursor caches so a UID list of one patient's studies asks TCIA once.
    std::map<std::pair<std::string, std::string>, std::vector<tcia::SeriesRecord>> seriesByPatient;
    std::map<std::string, std::vector<tcia::SeriesRecord>> seriesByCollection;
    std::map<std::pair<std::string, std::string>, std::vector<tcia::StudyRecord>> studiesByPatient;
    /// Steps a running step schedules to run right after it, in order (e.g. one
    /// getSOPInstanceUIDs per series found), so records stream per TCIA call.
    std::vector<Step> followUps;
    /// MetadataSource::scanIncompleteness() of the scan this plan uses; empty when complete.
    std::string incompleteness;

    PlanState(MetadataSource& m, InstanceAttributeSource* i, QueryEngineTuning t, Query q, RequestContext c)
        : metadata(m), instances(i), tuning(t), query(std::move(q)), context(std::move(c)) {}

    const Matcher* matcher(const DcmTagKey& tag) const {
        for (const auto& m : matchers)
            if (m.tag() == tag) return &m;
        return nullptr;
    }
    std::vector<std::string> exactValues(const DcmTagKey& tag) const {
        const Matcher* m = matcher(tag);
        return m ? m->exactValues() : std::vector<std::string>{};
    }
    std::string singleExact(const DcmTagKey& tag) const {
        const Matcher* m = matcher(tag);
        auto v = m ? m->exactValue() : std::nullopt;
        return v ? *v : std::string();
    }
    bool wants(const DcmTagKey& tag) const { return query.key(tag) != nullptr; }
    bool wantsAny(const std::set<DcmTagKey, TagLess>& tags) const {
        return std::any_of(query.keys.begin(), query.keys.end(), [&](const QueryKey& k) { return tags.count(k.tag) != 0; });
    }
    /// Matches the keys selected by `which` (true = include the tag).
    bool matches(const DicomRecord& record, const std::function<bool(const DcmTagKey&)>& which) const {
        for (const auto& m : matchers)
            if (which(m.tag()) && !m.matches(record)) return false;
        return true;
    }
    bool matchesAll(const DicomRecord& record) const {
        return matches(record, [](const DcmTagKey&) { return true; });
    }
    bool admits(const std::string& collection) const { return query.scope.allows(collection); }
    /// Drops the rows outside the caller's scope; a row without a Collection belongs to the
    /// `collection` it was fetched for.
    template <class R>
    std::vector<R> admitted(std::vector<R> rows, const std::string& collection) const {
        std::erase_if(rows, [&](const R& r) { return !admits(r.collection.empty() ? collection : r.collection); });
        return rows;
    }
    void beforeCall() const { context.throwIfCancelled(); }

    std::vector<tcia::SeriesRecord>& seriesOfPatient(const std::string& collection, const std::string& patientId) {
        auto key = std::make_pair(upper(collection), patientId);
        auto it = seriesByPatient.find(key);
        if (it != seriesByPatient.end()) return it->second;
        beforeCall();
        tcia::SeriesFilter f;
        f.collection = collection;
        f.patientId = patientId;
        return seriesByPatient[key] = admitted(metadata.series(f, context), collection);
    }
    std::vector<tcia::SeriesRecord>& seriesOfCollection(const std::string& collection) {
        auto key = upper(collection);
        auto it = seriesByCollection.find(key);
        if (it != seriesByCollection.end()) return it->second;
        beforeCall();
        tcia::SeriesFilter f;
        f.collection = collection;
        return seriesByCollection[key] = admitted(metadata.series(f, context), collection);
    }
    std::vector<tcia::StudyRecord>& studiesOfPatient(const std::string& collection, const std::string& patientId) {
        auto key = std::make_pair(upper(collection), patientId);
        auto it = studiesByPatient.find(key);
        if (it != studiesByPatient.end()) return it->second;
        beforeCall();
        tcia::StudyFilter f;
        f.collection = collection;
        f.patientId = patientId;
        return studiesByPatient[key] = admitted(metadata.studies(f, context), collection);
    }
};

/// The cursor: runs steps in order, buffers one step's records, applies offset/limit/cap.
class StepCursor : public FindCursor {
public:
    StepCursor(std::shared_ptr<PlanState> state, std::vector<Step> steps, std::optional<std::size_t> cap,
               std::function<std::string(const DicomRecord&)> identity)
        : state_(std::move(state)), steps_(steps.begin(), steps.end()), cap_(cap), identity_(std::move(identity)) {}

    std::optional<DicomRecord> next() override {
        while (!finished_) {
            if (buffer_.empty()) {
                if (steps_.empty()) {
                    finished_ = true;
                    break;
                }
                state_->beforeCall();
                Step step = std::move(steps_.front());
                steps_.pop_front();
                state_->followUps.clear();
                auto records = step();
                steps_.insert(steps_.begin(), state_->followUps.begin(), state_->followUps.end());
                state_->followUps.clear();
                for (auto& r : records) buffer_.push_back(std::move(r));
                continue;
            }
            DicomRecord record = std::move(buffer_.front());
            buffer_.pop_front();
            if (!seen_.insert(identity_(record)).second) continue;  // duplicate across steps
            if (skipped_ < state_->query.offset) {
                ++skipped_;
                continue;
            }
            if (cap_ && produced_ >= *cap_) {  // a match beyond the cap exists
                truncated_ = true;
                finished_ = true;
                break;
            }
            ++produced_;
            return RecordBuilder::project(record, state_->query);
        }
        buffer_.clear();
        return std::nullopt;
    }

    bool truncated() const override { return truncated_; }
    std::string incompleteness() const override { return state_->incompleteness; }

private:
    std::shared_ptr<PlanState> state_;
    std::deque<Step> steps_;
    std::optional<std::size_t> cap_;
    std::function<std::string(const DicomRecord&)> identity_;
    std::deque<DicomRecord> buffer_;
    std::set<std::string> seen_;
    std::size_t skipped_ = 0, produced_ = 0;
    bool truncated_ = false, finished_ = false;
};

/// Which collections a query may touch, and whether walking them one call each is allowed.
struct CollectionPlan {
    bool walkable = false;           ///< names is the complete, small list to walk
    bool none = false;               ///< the query or scope names collections, none of them visible
    std::vector<std::string> names;  ///< sorted
};

class Planner {
public:
    explicit Planner(std::shared_ptr<PlanState> state) : s_(std::move(state)) {}

    std::vector<Step> build() {
        collections_ = planCollections();
        if (collections_.none) return {};  // e.g. only restricted collections named: ask TCIA nothing
        switch (s_->query.level) {
            case QueryLevel::Patient: return patientSteps();
            case QueryLevel::Study: return studySteps();
            case QueryLevel::Series: return seriesSteps();
            case QueryLevel::Image: return imageSteps();
        }
        return {};
    }

private:
    /// The collection to send with a UID/ID-narrowed call: only when exactly one is known.
    std::string soleCollection() const {
        return collections_.walkable && collections_.names.size() == 1 ? collections_.names.front() : std::string();
    }

    CollectionPlan planCollections() {
        CollectionPlan plan;
        const Query& q = s_->query;
        const Matcher* m = s_->matcher(kCollectionTag);
        if (m) {
            auto exact = m->exactValues();
            if (!exact.empty()) {
                for (const auto& c : exact)
                    if (q.scope.allows(c)) plan.names.push_back(c);
                plan.walkable = true;
            } else {  // wildcard: resolve against the collection list (one cheap call)
                s_->beforeCall();
                for (const auto& c : s_->metadata.collections(s_->context))
                    if (q.scope.allows(c) && m->matches(std::optional<std::string>(c))) plan.names.push_back(c);
                plan.walkable = plan.names.size() <= s_->tuning.maxCollectionsToWalk;
            }
        } else if (q.scope.only) {
            for (const auto& c : *q.scope.only)
                if (q.scope.allows(c)) plan.names.push_back(c);
            plan.walkable = plan.names.size() <= s_->tuning.maxCollectionsToWalk;
        }
        plan.none = (m || q.scope.only) && plan.names.empty();
        std::sort(plan.names.begin(), plan.names.end());
        return plan;
    }

    /// Collections a scan may cover: visible, in scope, matching the collection key.
    std::vector<std::string> scanCollections() {
        if (!collections_.names.empty()) return collections_.names;
        std::vector<std::string> out;
        s_->beforeCall();
        for (const auto& c : s_->metadata.collections(s_->context))
            if (s_->admits(c)) out.push_back(c);
        std::sort(out.begin(), out.end());
        return out;
    }

    [[noreturn]] static void tooBroad(const std::string& detail = {}) {
        throw BridgeError(ErrorCode::QueryTooBroad, detail.empty() ? kTooBroad : detail + "; " + kTooBroad);
    }

    static std::vector<std::string> sorted(std::vector<std::string> v) {
        std::sort(v.begin(), v.end());
        return v;
    }

    // ---------------------------------------------------------------- PATIENT
    /// PS3.4 C.2.2.1 / C.4.1.2.1: PatientID is the unique key of the PATIENT level, so one
    /// PatientID is ONE answer even when TCIA holds it in several collections (the emulator's
    /// SHARED-0007). The rows of one PatientID that pass the non-computed keys (the collection
    /// included, so a collection key or a collection AE picks its own rows) are merged: the
    /// collection (ClinicalTrialProtocolID, LO VM 1) and the other attributes are those of the
    /// first collection in alphabetical order, empty values filled from the others; the
    /// NumberOfPatientRelated* counts add up every merged collection.
    std::vector<Step> patientSteps() {
        std::vector<Step> steps;
        auto state = s_;
        auto process = [state](std::vector<tcia::PatientRecord> rows, const std::string& calledCollection) {
            for (auto& p : rows)
                if (p.collection.empty()) p.collection = calledCollection;
            std::stable_sort(rows.begin(), rows.end(), [](const tcia::PatientRecord& a, const tcia::PatientRecord& b) {
                return std::make_pair(a.patientId, upper(a.collection)) < std::make_pair(b.patientId, upper(b.collection));
            });
            const bool counts = state->wantsAny(kPatientComputed);
            std::vector<DicomRecord> out;
            struct Totals {
                std::size_t studies = 0, series = 0;
                std::int64_t instances = 0;
            };
            std::vector<Totals> totals;
            for (auto& p : rows) {
                if (!state->admits(p.collection)) continue;
                DicomRecord r = RecordBuilder::patient(p);
                if (!state->matches(r, [](const DcmTagKey& t) { return !kPatientComputed.count(t); })) continue;
                const bool samePatient = !out.empty() && out.back().get(DCM_PatientID) == p.patientId;
                if (samePatient) {
                    for (const auto& [tag, value] : r.values())
                        if (!value.empty() && out.back().get(tag).empty()) out.back().set(tag, value);
                } else {
                    out.push_back(std::move(r));
                    totals.emplace_back();
                }
                if (counts) {
                    Totals& t = totals.back();
                    if (state->wants(DCM_NumberOfPatientRelatedStudies))
                        t.studies += state->studiesOfPatient(p.collection, p.patientId).size();
                    if (state->wants(DCM_NumberOfPatientRelatedSeries) || state->wants(DCM_NumberOfPatientRelatedInstances)) {
                        for (const auto& se : state->seriesOfPatient(p.collection, p.patientId)) {
                            ++t.series;
                            t.instances += se.imageCount.value_or(0);
                        }
                    }
                }
            }
            if (counts) {
                for (std::size_t i = 0; i < out.size(); ++i)
                    RecordBuilder::addPatientAggregates(out[i], totals[i].studies, totals[i].series, totals[i].instances);
                std::erase_if(out, [&](const DicomRecord& r) {
                    return !state->matches(r, [](const DcmTagKey& t) { return kPatientComputed.count(t) != 0; });
                });
            }
            return out;
        };
        const auto pids = s_->exactValues(DCM_PatientID);
        if (!pids.empty()) {
            // One call per PatientID: every collection holding it comes back in that one answer.
            const std::string coll = soleCollection();
            for (const auto& pid : sorted(pids))
                steps.push_back([state, process, pid, coll] {
                    tcia::PatientFilter f{coll, pid};
                    return process(state->metadata.patients(f, state->context), coll);
                });
        } else if (collections_.walkable) {
            // One step for the whole walk, so a PatientID found in two walked collections merges.
            steps.push_back([state, process, names = collections_.names] {
                std::vector<tcia::PatientRecord> rows;
                for (const auto& c : names) {
                    state->beforeCall();
                    for (auto& p : state->metadata.patients({c, ""}, state->context)) {
                        if (p.collection.empty()) p.collection = c;
                        rows.push_back(std::move(p));
                    }
                }
                return process(std::move(rows), "");
            });
        } else {
            const auto scope = scanCollections();
            s_->incompleteness = s_->metadata.scanIncompleteness(QueryLevel::Patient, scope);
            auto scanned = s_->metadata.scanPatients(s_->query, scope);
            if (!scanned) tooBroad();
            steps.push_back([process, rows = std::move(*scanned)] { return process(rows, ""); });
        }
        return steps;
    }

    // ---------------------------------------------------------------- STUDY
    std::vector<Step> studySteps() {
        std::vector<Step> steps;
        auto state = s_;
        auto process = [state](std::vector<tcia::StudyRecord> rows, const std::string& calledCollection) {
            std::vector<DicomRecord> out;
            std::vector<const tcia::StudyRecord*> kept;
            for (auto& st : rows) {
                if (st.collection.empty()) st.collection = calledCollection;
                if (!state->admits(st.collection)) continue;
                DicomRecord r = RecordBuilder::study(st);
                if (!state->matches(r, [](const DcmTagKey& t) { return !kStudyComputed.count(t); })) continue;
                out.push_back(std::move(r));
                kept.push_back(&st);
            }
            const bool needSeries =
                state->wants(DCM_ModalitiesInStudy) || state->wants(DCM_NumberOfStudyRelatedInstances) ||
                (state->wants(DCM_NumberOfStudyRelatedSeries) &&
                 std::any_of(kept.begin(), kept.end(), [](const tcia::StudyRecord* st) { return !st->seriesCount; }));
            if (needSeries) {
                // One getSeries per (collection, patient), or per collection when many (API.md 10.6).
                std::map<std::string, std::set<std::string>> patientsByCollection;
                for (const auto* st : kept) patientsByCollection[st->collection].insert(st->patientId);
                std::map<std::string, std::vector<const tcia::SeriesRecord*>> seriesByStudy;
                for (const auto& [collection, patients] : patientsByCollection) {
                    if (!collection.empty() && patients.size() > state->tuning.patientsPerCollectionCall) {
                        for (const auto& se : state->seriesOfCollection(collection))
                            seriesByStudy[se.studyInstanceUid].push_back(&se);
                    } else {
                        for (const auto& pid : patients)
                            for (const auto& se : state->seriesOfPatient(collection, pid))
                                seriesByStudy[se.studyInstanceUid].push_back(&se);
                    }
                }
                for (std::size_t i = 0; i < out.size(); ++i)
                    RecordBuilder::addStudyAggregates(out[i], seriesByStudy[kept[i]->studyInstanceUid]);
            }
            std::erase_if(out, [&](const DicomRecord& r) {
                return !state->matches(r, [](const DcmTagKey& t) { return kStudyComputed.count(t) != 0; });
            });
            sortRecords(out, {{DCM_PatientID, false}, {DCM_StudyDate, false}, {DCM_StudyInstanceUID, false}});
            return out;
        };
        const auto studyUids = s_->exactValues(DCM_StudyInstanceUID);
        const auto pids = s_->exactValues(DCM_PatientID);
        const std::string coll = soleCollection();
        const std::string pid1 = pids.size() == 1 ? pids.front() : std::string();
        if (!studyUids.empty()) {
            for (const auto& uid : sorted(studyUids))
                steps.push_back([state, process, uid, coll, pid1] {
                    return process(state->metadata.studies({coll, pid1, uid}, state->context), coll);
                });
        } else if (!pids.empty()) {
            for (const auto& pid : sorted(pids))
                steps.push_back([state, process, pid, coll] { return process(state->metadata.studies({coll, pid, ""}, state->context), coll); });
        } else if (collections_.walkable) {
            for (const auto& c : collections_.names)
                steps.push_back([state, process, c] { return process(state->metadata.studies({c, "", ""}, state->context), c); });
        } else {
            const auto scope = scanCollections();
            s_->incompleteness = s_->metadata.scanIncompleteness(QueryLevel::Study, scope);
            auto scanned = s_->metadata.scanStudies(s_->query, scope);
            if (!scanned) tooBroad();
            steps.push_back([process, rows = std::move(*scanned)] { return process(rows, ""); });
        }
        return steps;
    }

    // ---------------------------------------------------------------- SERIES
    /// Series records of one TCIA answer: scope, study enrichment when asked, matching.
    static std::vector<DicomRecord> seriesRecords(const std::shared_ptr<PlanState>& state,
                                                  std::vector<tcia::SeriesRecord>& rows,
                                                  const std::string& calledCollection,
                                                  std::vector<const tcia::SeriesRecord*>* keptRows = nullptr) {
        std::vector<DicomRecord> out;
        const bool enrich = state->wantsAny(kStudyOnly);
        const bool computed = state->wantsAny(kStudyComputed);
        for (auto& se : rows) {
            if (se.collection.empty()) se.collection = calledCollection;
            if (!state->admits(se.collection)) continue;
            const tcia::StudyRecord* study = nullptr;
            if (enrich) {
                for (const auto& st : state->studiesOfPatient(se.collection, se.patientId))
                    if (st.studyInstanceUid == se.studyInstanceUid) study = &st;
            }
            DicomRecord r = RecordBuilder::series(se, study);
            if (!state->matches(r, [](const DcmTagKey& t) { return !kStudyComputed.count(t); })) continue;
            if (computed) {
                // QIDO all-series searches return study attributes too (PS3.18 10.6.3.3.2).
                std::vector<const tcia::SeriesRecord*> ofStudy;
                for (const auto& other : state->seriesOfPatient(se.collection, se.patientId))
                    if (other.studyInstanceUid == se.studyInstanceUid) ofStudy.push_back(&other);
                RecordBuilder::addStudyAggregates(r, ofStudy);
                if (!state->matches(r, [](const DcmTagKey& t) { return kStudyComputed.count(t) != 0; })) continue;
            }
            out.push_back(std::move(r));
            if (keptRows) keptRows->push_back(&se);
        }
        return out;
    }

    tcia::SeriesFilter seriesBaseFilter() const {
        tcia::SeriesFilter f;
        f.collection = soleCollection();
        f.modality = s_->singleExact(DCM_Modality);
        f.bodyPartExamined = s_->singleExact(DCM_BodyPartExamined);
        f.manufacturer = s_->singleExact(DCM_Manufacturer);
        f.manufacturerModelName = s_->singleExact(DCM_ManufacturerModelName);
        const auto pids = s_->exactValues(DCM_PatientID);
        if (pids.size() == 1) f.patientId = pids.front();
        const auto studies = s_->exactValues(DCM_StudyInstanceUID);
        if (studies.size() == 1) f.studyInstanceUid = studies.front();
        return f;
    }

    /// The series calls of a SERIES or IMAGE query, narrowest key first. Empty when the named
    /// collections are all out of scope. Returns nullopt when nothing narrows the call.
    std::optional<std::vector<std::pair<tcia::SeriesFilter, std::string>>> seriesCalls(bool allowCollectionWalk) {
        std::vector<std::pair<tcia::SeriesFilter, std::string>> calls;
        const tcia::SeriesFilter base = seriesBaseFilter();
        const auto seriesUids = s_->exactValues(DCM_SeriesInstanceUID);
        const auto studyUids = s_->exactValues(DCM_StudyInstanceUID);
        const auto pids = s_->exactValues(DCM_PatientID);
        if (!seriesUids.empty()) {
            for (const auto& uid : sorted(seriesUids)) {
                auto f = base;
                f.seriesInstanceUid = uid;
                calls.emplace_back(f, f.collection);
            }
        } else if (!studyUids.empty()) {
            for (const auto& uid : sorted(studyUids)) {
                auto f = base;
                f.studyInstanceUid = uid;
                calls.emplace_back(f, f.collection);
            }
        } else if (!pids.empty()) {
            for (const auto& pid : sorted(pids)) {
                auto f = base;
                f.patientId = pid;
                calls.emplace_back(f, f.collection);
            }
        } else if (collections_.walkable && allowCollectionWalk) {
            for (const auto& c : collections_.names) {
                auto f = base;
                f.collection = c;
                calls.emplace_back(f, c);
            }
        } else {
            return std::nullopt;
        }
        return calls;
    }

    std::vector<Step> seriesSteps() {
        std::vector<Step> steps;
        auto state = s_;
        auto calls = seriesCalls(true);
        if (!calls) {
            const auto scope = scanCollections();
            s_->incompleteness = s_->metadata.scanIncompleteness(QueryLevel::Series, scope);
            auto scanned = s_->metadata.scanSeries(s_->query, scope);
            if (!scanned) tooBroad();
            steps.push_back([state, rows = std::move(*scanned)]() mutable {
                auto out = seriesRecords(state, rows, "");
                sortRecords(out, {{DCM_PatientID, false}, {DCM_StudyInstanceUID, false}, {DCM_SeriesNumber, true},
                                  {DCM_SeriesInstanceUID, false}});
                return out;
            });
            return steps;
        }
        for (auto& [filter, collection] : *calls)
            steps.push_back([state, filter, collection] {
                auto rows = state->metadata.series(filter, state->context);
                auto out = seriesRecords(state, rows, collection);
                sortRecords(out, {{DCM_PatientID, false}, {DCM_StudyInstanceUID, false}, {DCM_SeriesNumber, true},
                                  {DCM_SeriesInstanceUID, false}});
                return out;
            });
        return steps;
    }

    // ---------------------------------------------------------------- IMAGE
    std::vector<Step> imageSteps() {
        std::vector<Step> steps;
        auto state = s_;
        // TCIA lists SOP Instance UIDs per series only: a collection walk would list every
        // series of the collection, so it is not allowed at this level.
        auto calls = seriesCalls(false);
        if (!calls) tooBroad("IMAGE level needs SeriesInstanceUID, StudyInstanceUID or PatientID");
        for (auto& [filter, collection] : *calls)
            steps.push_back([state, filter, collection] {
                auto rows = state->metadata.series(filter, state->context);
                std::vector<const tcia::SeriesRecord*> kept;
                auto seriesList = seriesRecords(state, rows, collection, &kept);
                std::vector<std::pair<std::string, DicomRecord>> ordered;
                for (std::size_t i = 0; i < seriesList.size(); ++i)
                    ordered.emplace_back(kept[i]->seriesInstanceUid, std::move(seriesList[i]));
                std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
                    return recordLess(a.second, b.second, {{DCM_SeriesNumber, true}, {DCM_SeriesInstanceUID, false}});
                });
                // One getSOPInstanceUIDs step per series, so instances stream series by series.
                for (auto& [uid, seriesRecord] : ordered)
                    state->followUps.push_back([state, uid = uid, seriesRecord = std::move(seriesRecord)] {
                        return instanceRecords(state, uid, seriesRecord);
                    });
                return std::vector<DicomRecord>{};
            });
        return steps;
    }

    static std::vector<DicomRecord> instanceRecords(const std::shared_ptr<PlanState>& state, const std::string& uid,
                                                    const DicomRecord& seriesRecord) {
        const auto sops = state->metadata.sopInstanceUids(uid, state->context);
        std::map<std::string, DicomRecord> cached;
        if (state->instances) {
            // Per-instance keys (SOPClassUID, InstanceNumber, Rows ...) exist only in the
            // instances themselves: when the query asks for one, bring the series into the cache
            // first -- the same source for C-FIND and QIDO-RS (issue 8 item 6).
            const bool perInstance = std::any_of(state->query.keys.begin(), state->query.keys.end(), [&](const QueryKey& k) {
                return k.tag != DCM_SOPInstanceUID && !kNotMatched.count(k.tag) && !seriesRecord.has(k.tag);
            });
            state->beforeCall();
            if (auto attrs = perInstance ? state->instances->fetchInstanceAttributes(uid, state->query.scope, state->context)
                                         : state->instances->instanceAttributes(uid))
                for (auto& a : *attrs) {
                    const std::string sop = a.get(DCM_SOPInstanceUID);
                    cached.emplace(sop, std::move(a));
                }
        }
        std::vector<DicomRecord> out;
        for (const auto& sop : sops) {
            auto it = cached.find(sop);
            DicomRecord r = RecordBuilder::instance(sop, seriesRecord, it == cached.end() ? nullptr : &it->second);
            if (state->matchesAll(r)) out.push_back(std::move(r));
        }
        sortRecords(out, {{DCM_InstanceNumber, true}, {DCM_SOPInstanceUID, false}});
        return out;
    }

    std::shared_ptr<PlanState> s_;
    CollectionPlan collections_;
};

std::string identityOf(QueryLevel level, const DicomRecord& r) {
    switch (level) {
        case QueryLevel::Patient: return r.get(DCM_PatientID);  // the unique key (PS3.4 C.4.1.2.1)
        case QueryLevel::Study: return r.get(DCM_StudyInstanceUID);
        case QueryLevel::Series: return r.get(DCM_SeriesInstanceUID);
        case QueryLevel::Image: return r.get(DCM_SOPInstanceUID);
    }
    return {};
}

}  // namespace

QueryEngine::QueryEngine(MetadataSource& metadata, InstanceAttributeSource* instances, const QuerySettings& settings,
                         QueryEngineTuning tuning)
    : metadata_(metadata), instances_(instances), settings_(settings), tuning_(tuning) {}

std::unique_ptr<FindCursor> QueryEngine::find(const Query& query, const RequestContext& context) {
    if (query.model == InformationModel::StudyRoot && query.level == QueryLevel::Patient)
        throw BridgeError(ErrorCode::InvalidArgument,
                          "QueryRetrieveLevel PATIENT is not part of the Study Root information model (PS3.4 C.6.2)");
    context.throwIfCancelled();
    auto state = std::make_shared<PlanState>(metadata_, instances_, tuning_, query, context);
    const MatchOptions options{query.caseSensitivePersonNames || settings_.caseSensitivePersonNames,
                               query.fuzzyMatching};
    for (const auto& key : query.keys) {
        if (kNotMatched.count(key.tag)) continue;
        Matcher m(key, options);  // throws InvalidArgument for malformed values
        if (!m.isUniversal()) state->matchers.push_back(std::move(m));
    }
    // Each exact value of these keys becomes a TCIA call (or a collection walk): bounded.
    static const std::pair<DcmTagKey, const char*> kFanOutKeys[] = {{DCM_PatientID, "PatientID"},
                                                                   {DCM_StudyInstanceUID, "StudyInstanceUID"},
                                                                   {DCM_SeriesInstanceUID, "SeriesInstanceUID"},
                                                                   {kCollectionTag, "ClinicalTrialProtocolID"}};
    for (const auto& [tag, keyword] : kFanOutKeys)
        if (const Matcher* m = state->matcher(tag)) checkFanOut(keyword, m->exactValues().size());
    auto steps = Planner(state).build();
    std::optional<std::size_t> cap;
    if (settings_.maxResults > 0) cap = settings_.maxResults;
    if (query.limit) cap = cap ? std::min(*cap, *query.limit) : *query.limit;
    const QueryLevel level = query.level;
    return std::make_unique<StepCursor>(std::move(state), std::move(steps), cap,
                                        [level](const DicomRecord& r) { return identityOf(level, r); });
}

}  // namespace bridge
