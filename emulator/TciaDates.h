#pragma once
// Date formats of the NBIA API (API.md 2.2, 2.5). Internally the emulator keeps dates as DICOM
// DA "YYYYMMDD" and timestamps as "YYYYMMDDHHMMSS". Pure functions; thread-safe.

#include <optional>
#include <string>

namespace emulator {

class TciaDates {
public:
    /// v1/v2 java.sql.Timestamp.toString(): "yyyy-MM-dd HH:mm:ss.S" ("" for "").
    static std::string v1Timestamp(const std::string& dateOrTimestamp);
    /// v4 and getSeriesMetaData: "MM-dd-yyyy" ("" for "").
    static std::string monthDayYear(const std::string& dateOrTimestamp);
    /// v1 NewPatientsInCollection / NewStudiesInPatientCollection `Date`: "yyyy/MM/dd".
    static std::optional<std::string> parseYearSlash(const std::string& text);
    /// v1 getUpdatedSeries `fromDate`: "dd/MM/yyyy".
    static std::optional<std::string> parseDaySlash(const std::string& text);
    /// v4 `fromDate`: "MM-dd-yyyy".
    static std::optional<std::string> parseMonthDash(const std::string& text);
    /// "YYYYMMDD" -> "YYYYMMDD000000"; a timestamp is returned unchanged.
    static std::string toTimestamp(const std::string& dateOrTimestamp);
};

}  // namespace emulator
