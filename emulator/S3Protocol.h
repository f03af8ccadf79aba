#pragma once
// Pure pieces of the emulator's S3-style bucket (/work/shared/idc/API.md section 1): the
// Range header, ListObjectsV2 paging over a sorted key map, its XML, opaque continuation
// tokens and the <Error> XML. No I/O, no state; safe from any thread.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace emulator::s3 {

/// One stored object. `etag` is unquoted (32 hex MD5, or "<hex>-<parts>" for multipart).
struct Object {
    std::string key;
    std::int64_t size = 0;
    std::string etag;
    std::string lastModified;  ///< "2024-03-29T16:12:02.000Z"
    std::string path;          ///< file with the bytes; empty for a zero-byte object
};

/// An S3 error answer: HTTP status, <Code>, <Message> and extra elements (e.g. Key, BucketName).
struct Error {
    int status = 400;
    std::string code;
    std::string message;
    std::vector<std::pair<std::string, std::string>> extra;
};

/// How to answer a GET given its Range header.
struct RangePlan {
    enum class Kind { Whole, Partial, Unsatisfiable } kind = Kind::Whole;
    std::int64_t first = 0;
    std::int64_t last = -1;  ///< inclusive
};

/// S3's reading of `Range` for an object of `size` bytes: absent, malformed or multi-range
/// ("bytes=0-1,5-9": S3 serves one range per GET and ignores such a header) -> Whole (200);
/// "bytes=a-b" / "bytes=a-" / "bytes=-n" -> Partial (206, last clamped to size-1);
/// a first byte at or past the end (or a suffix of 0, or any range of an empty object)
/// -> Unsatisfiable (416 InvalidRange).
RangePlan parseRange(const std::string& header, std::int64_t size);

/// ListObjectsV2 parameters (already URL-decoded).
struct ListRequest {
    std::string prefix;
    std::string delimiter;
    std::string continuationToken;  ///< as sent (echoed as <ContinuationToken>)
    std::string startAfter;
    int maxKeys = 1000;        ///< 0..1000 (larger values are lowered to 1000, as S3 does)
    bool urlEncoding = false;  ///< encoding-type=url: Key, Prefix, Delimiter, StartAfter URL-encoded
};

/// One page of a listing.
struct ListPage {
    std::vector<const Object*> contents;
    std::vector<std::string> commonPrefixes;
    bool truncated = false;
    std::string nextToken;  ///< set only when truncated
};

/// Builds a ListRequest from query parameters; throws Error (400 InvalidArgument) for a
/// max-keys that is not a non-negative integer or an encoding-type other than "url".
ListRequest parseListQuery(const std::vector<std::pair<std::string, std::string>>& query);

/// The page `request` selects from `objects` (key order). Keys after the continuation token
/// (or start-after) that begin with the prefix; with a delimiter, keys containing it after the
/// prefix are rolled up into CommonPrefixes (each counts as one key). Throws Error (400
/// InvalidArgument) on a continuation token this server did not issue.
ListPage listPage(const std::map<std::string, Object>& objects, const ListRequest& request);

/// The ListBucketResult document, in the element order of API.md 1.
std::string listXml(const std::string& bucket, const ListRequest& request, const ListPage& page);

/// The <Error> document with <RequestId>.
std::string errorXml(const Error& error, const std::string& requestId);

/// Opaque token for "resume after `key`" and back; decodeToken returns false for garbage.
std::string encodeToken(const std::string& key);
bool decodeToken(const std::string& token, std::string& key);

/// XML text escaping (& < > " ').
std::string xmlEscape(const std::string& s);

}  // namespace emulator::s3
