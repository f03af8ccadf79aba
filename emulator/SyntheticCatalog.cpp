#include "emulator/SyntheticCatalog.h"

#include <Poco/String.h>

#include <cstdio>

namespace emulator {

namespace {
const char* const kRoot = "1.2.826.0.1.3680043.10.1234.9";

// Days since 1970-01-01 -> "YYYYMMDD" (H. Hinnant's civil_from_days).
std::string civilDate(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) ++y;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04lld%02u%02u", static_cast<long long>(y), m, d);
    return buf;
}

std::uint64_t mix(std::uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

// Parses "<kRoot>.<a>[.<b>]" -> a-1 (and b-1); false when the UID is not synthetic.
bool decodeUid(const std::string& uid, std::int64_t& a, std::int64_t& b) {
    const std::string prefix = std::string(kRoot) + ".";
    if (uid.compare(0, prefix.size(), prefix) != 0) return false;
    const std::string rest = uid.substr(prefix.size());
    a = b = -1;
    try {
        const auto dot = rest.find('.');
        a = std::stoll(rest.substr(0, dot)) - 1;
        if (dot != std::string::npos) b = std::stoll(rest.substr(dot + 1)) - 1;
    } catch (...) {
        return false;
    }
    return a >= 0;
}

const char* const kModalities[] = {"CT", "MR", "PT", "CT", "SEG", "MR", "CR", "CT"};
const char* const kBodyParts[] = {"CHEST", "HEAD", "ABDOMEN", "PELVIS", "BREAST", "LUNG", "KIDNEY", "BRAIN"};
const char* const kManufacturers[] = {"GE MEDICAL SYSTEMS", "SIEMENS", "Philips", "TOSHIBA"};
const char* const kModels[] = {"LightSpeed VCT", "SOMATOM Definition", "Ingenuity CT", "Aquilion"};
}  // namespace

SyntheticCatalog::SyntheticCatalog(std::int64_t studies, std::int64_t seriesPerStudy, int collectionCount)
    : studies_(studies), seriesPerStudy_(seriesPerStudy) {
    for (int c = 0; c < collectionCount; ++c) {
        CollectionInfo info;
        char name[32];
        std::snprintf(name, sizeof name, "Synthetic-%02d", c);
        info.name = name;
        info.licenseName = "Creative Commons Attribution 4.0 International License";
        info.licenseUri = "https://creativecommons.org/licenses/by/4.0/";
        char doi[64];
        std::snprintf(doi, sizeof doi, "https://doi.org/10.7937/TCIA.DEMO.SYN%02d", c);
        info.doi = doi;
        info.dateReleased = civilDate(17532 + c * 30) + "120000";  // from 2018-01-01
        info.site = "Synthetic Site";
        collections_.push_back(info);
    }
}

std::string SyntheticCatalog::studyUid(std::int64_t study) {
    return std::string(kRoot) + "." + std::to_string(study + 1);
}

std::string SyntheticCatalog::seriesUid(std::int64_t study, std::int64_t series) {
    return studyUid(study) + "." + std::to_string(series + 1);
}

SeriesRecord SyntheticCatalog::makeSeries(std::int64_t s, std::int64_t k) const {
    const std::int64_t patient = s / kStudiesPerPatient;
    const auto c = static_cast<std::size_t>(patient % static_cast<std::int64_t>(collections_.size()));
    const CollectionInfo& coll = collections_[c];
    const std::uint64_t h = mix(static_cast<std::uint64_t>(s) * 1000003ULL + static_cast<std::uint64_t>(k));
    SeriesRecord r;
    r.collection = coll.name;
    r.site = coll.site;
    r.licenseName = coll.licenseName;
    r.licenseUri = coll.licenseUri;
    r.doi = coll.doi;
    r.synthetic = true;
    char pid[48];
    std::snprintf(pid, sizeof pid, "SYN-%02zu-%07lld", c, static_cast<long long>(patient));
    r.patientId = pid;
    r.patientName = pid;
    r.patientSex = (mix(static_cast<std::uint64_t>(patient)) & 1) ? "F" : "M";
    r.studyUid = studyUid(s);
    r.studyDate = civilDate(10957 + static_cast<std::int64_t>(mix(static_cast<std::uint64_t>(s)) % 7000));  // 2000..2019
    r.studyDescription = std::string(kBodyParts[patient % 8]) + " STUDY";
    r.studyId = std::to_string(s % 10000);
    char age[8];
    std::snprintf(age, sizeof age, "%03lldY", static_cast<long long>(20 + patient % 70));
    r.patientAge = age;
    r.seriesUid = seriesUid(s, k);
    r.modality = kModalities[k % 8];
    r.seriesDate = r.studyDate;
    r.seriesDescription = r.modality + " series " + std::to_string(k + 1);
    r.bodyPart = kBodyParts[patient % 8];
    r.seriesNumber = k + 1;
    r.manufacturer = kManufacturers[h % 4];
    r.manufacturerModelName = kModels[h % 4];
    r.softwareVersions = "1." + std::to_string(h % 10);
    r.sopClassUid = "1.2.840.10008.5.1.4.1.1.2";
    r.imageCount = 20 + static_cast<std::int64_t>(h % 200);
    r.fileSize = r.imageCount * 526000;
    r.dateReleased = civilDate(17532 + static_cast<std::int64_t>(c) * 30 + s % 365) + "120000";
    r.maxSubmissionTimestamp = r.dateReleased;
    return r;
}

void SyntheticCatalog::forStudy(std::int64_t s, const std::function<void(const SeriesRecord&)>& fn) const {
    if (s < 0 || s >= studies_) return;
    for (std::int64_t k = 0; k < seriesPerStudy_; ++k) fn(makeSeries(s, k));
}

void SyntheticCatalog::forEachSeries(const SeriesHint& hint, const std::function<void(const SeriesRecord&)>& fn) const {
    std::int64_t a = -1, b = -1;
    if (!hint.seriesUid.empty()) {
        if (decodeUid(hint.seriesUid, a, b) && b >= 0 && a < studies_ && b < seriesPerStudy_) fn(makeSeries(a, b));
        return;
    }
    if (!hint.studyUid.empty()) {
        if (decodeUid(hint.studyUid, a, b) && b < 0) forStudy(a, fn);
        return;
    }
    if (!hint.patientId.empty()) {
        // "SYN-cc-ppppppp"
        const std::string pid = Poco::toUpper(hint.patientId);
        if (pid.size() < 8 || pid.compare(0, 4, "SYN-") != 0) return;
        std::int64_t patient = -1;
        try {
            patient = std::stoll(pid.substr(7));
        } catch (...) {
            return;
        }
        for (int i = 0; i < kStudiesPerPatient; ++i) forStudy(patient * kStudiesPerPatient + i, fn);
        return;
    }
    const auto n = static_cast<std::int64_t>(collections_.size());
    std::int64_t only = -1;
    if (!hint.collection.empty()) {
        for (std::int64_t c = 0; c < n; ++c)
            if (Poco::icompare(collections_[c].name, hint.collection) == 0) only = c;
        if (only < 0) return;
    }
    const std::int64_t patients = (studies_ + kStudiesPerPatient - 1) / kStudiesPerPatient;
    for (std::int64_t p = (only < 0 ? 0 : only); p < patients; p += (only < 0 ? 1 : n))
        for (int i = 0; i < kStudiesPerPatient; ++i) forStudy(p * kStudiesPerPatient + i, fn);
}

}  // namespace emulator
