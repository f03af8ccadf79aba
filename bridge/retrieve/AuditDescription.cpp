#include "bridge/retrieve/AuditDescription.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>

namespace bridge {
namespace {

std::vector<std::string> splitValues(const std::string& value) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= value.size() && !value.empty()) {
        auto end = value.find('\\', start);
        std::string part = value.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (!part.empty()) out.push_back(part);
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return out;
}

}  // namespace

void describeQuery(AuditEvent& event, const Query& query) {
    event.level = toString(query.level);
    event.collections = splitValues(query.value(kCollectionTag));
    event.patientId = query.value(DCM_PatientID);
    event.studyUids = splitValues(query.value(DCM_StudyInstanceUID));
    event.seriesUids = splitValues(query.value(DCM_SeriesInstanceUID));
    event.sopInstanceUids = splitValues(query.value(DCM_SOPInstanceUID));
}

void describeRetrieve(AuditEvent& event, const RetrieveRequest& request) {
    event.level = toString(request.level);
    if (!request.patientIds.empty()) event.patientId = request.patientIds.front();
    event.studyUids = request.studyInstanceUids;
    event.seriesUids = request.seriesInstanceUids;
    event.sopInstanceUids = request.sopInstanceUids;
}

}  // namespace bridge
