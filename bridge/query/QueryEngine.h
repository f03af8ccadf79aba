#pragma once
// The query engine: QueryService over a MetadataSource (TCIA directly, or the catalog).
//
// find() validates the Query, plans the TCIA calls and returns a cursor; the calls are made
// lazily, one per cursor step, as the adapter pulls records.
//
// Planning (API.md 2.4: TCIA filters are exact, case-insensitive, no wildcards/ranges/lists):
//  * What TCIA can filter is pushed into the call: the collection (ClinicalTrialProtocolID,
//    single value), PatientID, StudyInstanceUID and SeriesInstanceUID (exact values; a UID or
//    ID list becomes one call per value), and for series Modality, BodyPartExamined,
//    Manufacturer, ManufacturerModelName (single exact values). Everything else (wildcards,
//    ranges, PN, dates, lists) is matched locally with the Matcher, after the call.
//  * The narrowest key drives the calls: SeriesInstanceUID > StudyInstanceUID > PatientID >
//    collection. Without any of them the engine walks collections one call each -- only when
//    the query names the collection(s) or the caller's scope is at most
//    QueryEngineTuning::maxCollectionsToWalk collections (a collection-scoped AE) -- and
//    otherwise asks MetadataSource::scan*(); when the source cannot scan (nullopt) find()
//    throws BridgeError(QueryTooBroad). The engine never asks TCIA for all patients, studies
//    or series (a getSeries without any filter returns hundreds of thousands of rows).
//  * IMAGE level needs a SeriesInstanceUID, StudyInstanceUID or PatientID (TCIA can only list
//    the SOP Instance UIDs of a series); otherwise QueryTooBroad.
//  * Computed keys are fetched only when the query names them: ModalitiesInStudy and
//    NumberOfStudyRelated{Series,Instances} need the study's series -- one getSeries per
//    (collection, patient), aggregated by StudyInstanceUID (API.md 10.6), or one per collection
//    when a step holds more than QueryEngineTuning::patientsPerCollectionCall patients of it;
//    NumberOfPatientRelated* need one getPatientStudy + one getSeries per patient. At SERIES and
//    IMAGE level, keys only a study carries (PatientName, PatientBirthDate, StudyID ...) are
//    filled from getPatientStudy per (collection, patient), and the study's computed keys from
//    getSeries per (collection, patient), when the query names them (QIDO all-series searches
//    do). Those calls are cached per cursor.
//
// Matching is Matcher.h's; person names compare case-sensitively only when
// Query::caseSensitivePersonNames or QuerySettings::caseSensitivePersonNames says so, and
// Query::fuzzyMatching turns on its fuzzy PN rule.
//
// Validation: a PATIENT level query in the Study Root model, or a malformed value (bad range,
// bad date), throws BridgeError(InvalidArgument). Patient Root hierarchical rules (PS3.4
// C.4.1.3.1: unique keys of the levels above should be given) are NOT enforced: like Orthanc
// we accept relational queries (a SERIES query without PatientID) since TCIA can answer them.
//
// Results: CollectionScope is applied to every record TCIA returns, and to every series used
// for a count, so restricted collections never leak. TCIA lists are unordered, so each step's
// records are sorted (PATIENT: PatientID, one record per PatientID however many collections
// hold it -- see patientSteps; STUDY: PatientID, StudyDate, UID;
// SERIES: PatientID, StudyInstanceUID, SeriesNumber, UID; IMAGE: SeriesNumber,
// SeriesInstanceUID, InstanceNumber, UID) and steps run in a fixed order (sorted UIDs /
// collections): the stream is deterministic and starts before the last TCIA call. Duplicates
// (one UID asked twice, ...) are dropped. offset and limit apply after matching; the result
// cap is min(limit, QuerySettings::maxResults), and truncated() reports that matches beyond
// it existed (found by a look-ahead when the adapter asks for the record after the last).
//
// Threading: find() may be called concurrently; each cursor is used by one thread at a time.
// The MetadataSource and InstanceAttributeSource must outlive the engine and its cursors.
// RequestContext is checked before every TCIA call.

#include "bridge/common/Config.h"
#include "bridge/query/MetadataSource.h"
#include "bridge/query/QueryService.h"

#include <cstddef>

namespace bridge {

/// Knobs of the planner that are not user configuration.
struct QueryEngineTuning {
    /// A query with no narrowing key may walk the caller's scope one collection per call when
    /// it holds at most this many collections.
    std::size_t maxCollectionsToWalk = 5;
    /// For study counts: above this many patients of one collection in one step, fetch the
    /// collection's series in one call instead of one call per patient.
    std::size_t patientsPerCollectionCall = 16;
};

class QueryEngine : public QueryService {
public:
    /// `instances` may be null (no instance cache: IMAGE level attributes beyond
    /// SOPInstanceUID stay empty). Neither pointer nor reference is owned.
    QueryEngine(MetadataSource& metadata, InstanceAttributeSource* instances, const QuerySettings& settings,
                QueryEngineTuning tuning = {});

    std::unique_ptr<FindCursor> find(const Query& query, const RequestContext& context) override;

private:
    MetadataSource& metadata_;
    InstanceAttributeSource* instances_;
    QuerySettings settings_;
    QueryEngineTuning tuning_;
};

}  // namespace bridge
