#include "emulator/IdcNames.h"

#include <Poco/String.h>
#include <Poco/UUID.h>
#include <Poco/UUIDGenerator.h>

#include <cctype>

namespace emulator::idc {

std::string collectionId(const std::string& tciaName) {
    std::string out;
    out.reserve(tciaName.size());
    for (char c : tciaName) {
        if (c == '-' || c == ' ')
            out += '_';
        else
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

std::string licenseShortName(const std::string& licenseUri, const std::string& longName) {
    const std::string marker = "creativecommons.org/licenses/";
    const auto at = licenseUri.find(marker);
    if (at == std::string::npos) return longName;
    std::string rest = licenseUri.substr(at + marker.size());  // e.g. "by-nc/4.0/"
    const auto slash = rest.find('/');
    if (slash == std::string::npos) return longName;
    const std::string kind = Poco::toUpper(rest.substr(0, slash));
    std::string version = rest.substr(slash + 1);
    if (const auto end = version.find('/'); end != std::string::npos) version.resize(end);
    if (kind.empty() || version.empty()) return longName;
    return "CC " + kind + " " + version;
}

bool isNonCommercial(const std::string& shortName) { return shortName.find("BY-NC") != std::string::npos; }

std::string awsBucket(bool nonCommercial, bool possibleHeadScans) {
    if (nonCommercial) return "idc-open-data-cr";
    if (possibleHeadScans) return "idc-open-data-two";
    return "idc-open-data";
}

std::string crdcUuid(const std::string& kind, const std::string& dicomUid) {
    // A fixed namespace of the emulator (itself a v3 UUID of its name under the OID namespace).
    static const Poco::UUID ns =
        Poco::UUIDGenerator::defaultGenerator().createFromName(Poco::UUID::oid(), "tcia-emulator.idc");
    return Poco::UUIDGenerator::defaultGenerator().createFromName(ns, kind + ":" + dicomUid).toString();
}

std::string isoDate(const std::string& da) {
    if (da.size() < 8) return {};
    for (std::size_t i = 0; i < 8; ++i)
        if (!std::isdigit(static_cast<unsigned char>(da[i]))) return {};
    return da.substr(0, 4) + "-" + da.substr(4, 2) + "-" + da.substr(6, 2);
}

std::string isoTimestamp(const std::string& ts) {
    const std::string date = isoDate(ts);
    if (date.empty()) return {};
    std::string hms = "000000";
    if (ts.size() >= 14) {
        hms = ts.substr(8, 6);
        for (char c : hms)
            if (!std::isdigit(static_cast<unsigned char>(c))) return {};
    }
    return date + "T" + hms.substr(0, 2) + ":" + hms.substr(2, 2) + ":" + hms.substr(4, 2) + ".000Z";
}

std::string bareDoi(const std::string& doiOrUrl) {
    for (const std::string prefix :
         {"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/"})
        if (doiOrUrl.rfind(prefix, 0) == 0) return doiOrUrl.substr(prefix.size());
    return doiOrUrl;
}

}  // namespace emulator::idc
