#include "emulator/S3Protocol.h"

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>
#include <Poco/String.h>
#include <Poco/URI.h>

#include <cctype>
#include <cstdint>
#include <sstream>

namespace emulator::s3 {

namespace {
bool allDigits(const std::string& s) {
    if (s.empty() || s.size() > 18) return false;
    for (char c : s)
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

const std::string kTokenMagic = "tcia-emulator:";
}  // namespace

RangePlan parseRange(const std::string& header, std::int64_t size) {
    RangePlan whole;
    const std::string h = Poco::trim(header);
    if (h.rfind("bytes=", 0) != 0) return whole;
    const std::string spec = Poco::trim(h.substr(6));
    if (spec.find(',') != std::string::npos) return whole;  // multi-range: ignored, served whole
    const auto dash = spec.find('-');
    if (dash == std::string::npos) return whole;
    const std::string a = Poco::trim(spec.substr(0, dash)), b = Poco::trim(spec.substr(dash + 1));
    RangePlan plan;
    plan.kind = RangePlan::Kind::Partial;
    if (a.empty()) {  // suffix: the last n bytes
        if (!allDigits(b)) return whole;
        const std::int64_t n = std::stoll(b);
        if (n == 0 || size == 0) return {RangePlan::Kind::Unsatisfiable, 0, -1};
        plan.first = n >= size ? 0 : size - n;
        plan.last = size - 1;
        return plan;
    }
    if (!allDigits(a) || (!b.empty() && !allDigits(b))) return whole;
    plan.first = std::stoll(a);
    plan.last = b.empty() ? INT64_MAX : std::stoll(b);
    if (plan.last < plan.first) return whole;  // syntactically invalid: ignored (RFC 7233 2.1)
    if (plan.first >= size) return {RangePlan::Kind::Unsatisfiable, 0, -1};
    if (plan.last >= size) plan.last = size - 1;
    return plan;
}

ListRequest parseListQuery(const std::vector<std::pair<std::string, std::string>>& query) {
    ListRequest r;
    for (const auto& [k, v] : query) {
        if (k == "prefix")
            r.prefix = v;
        else if (k == "delimiter")
            r.delimiter = v;
        else if (k == "continuation-token")
            r.continuationToken = v;
        else if (k == "start-after")
            r.startAfter = v;
        else if (k == "encoding-type") {
            if (v != "url")
                throw Error{400,
                            "InvalidArgument",
                            "Invalid Encoding Method specified in Request",
                            {{"ArgumentName", "encoding-type"}, {"ArgumentValue", v}}};
            r.urlEncoding = true;
        } else if (k == "max-keys") {
            if (!allDigits(v))
                throw Error{400,
                            "InvalidArgument",
                            "Provided max-keys not an integer or within integer range",
                            {{"ArgumentName", "max-keys"}, {"ArgumentValue", v}}};
            const long long n = std::stoll(v);
            r.maxKeys = n > 1000 ? 1000 : static_cast<int>(n);
        }
    }
    return r;
}

ListPage listPage(const std::map<std::string, Object>& objects, const ListRequest& request) {
    std::string after = request.startAfter;
    bool haveAfter = !after.empty();
    if (!request.continuationToken.empty()) {
        if (!decodeToken(request.continuationToken, after))
            throw Error{400,
                        "InvalidArgument",
                        "The continuation token provided is incorrect",
                        {{"ArgumentName", "continuation-token"}}};
        haveAfter = true;
    }
    auto it = haveAfter ? objects.upper_bound(after) : objects.lower_bound(request.prefix);
    if (it != objects.end() && it->first < request.prefix) it = objects.lower_bound(request.prefix);
    ListPage page;
    int count = 0;
    std::string lastKey;
    for (; it != objects.end(); ++it) {
        const std::string& key = it->first;
        if (key.compare(0, request.prefix.size(), request.prefix) != 0) break;  // past the prefix
        std::string rolled;
        if (!request.delimiter.empty()) {
            const auto d = key.find(request.delimiter, request.prefix.size());
            if (d != std::string::npos) rolled = key.substr(0, d + request.delimiter.size());
        }
        if (!rolled.empty() && !page.commonPrefixes.empty() && page.commonPrefixes.back() == rolled) continue;
        if (count == request.maxKeys) {
            page.truncated = count > 0;
            break;
        }
        if (rolled.empty()) {
            page.contents.push_back(&it->second);
            lastKey = key;
        } else {
            page.commonPrefixes.push_back(rolled);
            lastKey = rolled + '\x7f';  // resume after every key under this common prefix
        }
        ++count;
    }
    if (page.truncated) page.nextToken = encodeToken(lastKey);
    return page;
}

std::string xmlEscape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string listXml(const std::string& bucket, const ListRequest& request, const ListPage& page) {
    // encoding-type=url: names URL-encoded ('/' kept) and <EncodingType>url</EncodingType>, as S3.
    const auto name = [&](const std::string& v) {
        if (!request.urlEncoding) return xmlEscape(v);
        std::string encoded;
        Poco::URI::encode(v, "+", encoded);
        return xmlEscape(encoded);
    };
    std::string x =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
    x += "<Name>" + xmlEscape(bucket) + "</Name><Prefix>" + name(request.prefix) + "</Prefix>";
    if (!request.continuationToken.empty())
        x += "<ContinuationToken>" + xmlEscape(request.continuationToken) + "</ContinuationToken>";
    if (page.truncated)
        x += "<NextContinuationToken>" + xmlEscape(page.nextToken) + "</NextContinuationToken>";
    x += "<KeyCount>" + std::to_string(page.contents.size() + page.commonPrefixes.size()) + "</KeyCount>";
    x += "<MaxKeys>" + std::to_string(request.maxKeys) + "</MaxKeys>";
    if (!request.delimiter.empty()) x += "<Delimiter>" + name(request.delimiter) + "</Delimiter>";
    if (request.urlEncoding) x += "<EncodingType>url</EncodingType>";
    x += std::string("<IsTruncated>") + (page.truncated ? "true" : "false") + "</IsTruncated>";
    if (!request.startAfter.empty()) x += "<StartAfter>" + name(request.startAfter) + "</StartAfter>";
    for (const Object* o : page.contents) {
        x += "<Contents><Key>" + name(o->key) + "</Key><LastModified>" + o->lastModified +
             "</LastModified><ETag>&quot;" + xmlEscape(o->etag) + "&quot;</ETag><Size>" +
             std::to_string(o->size) + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
    }
    for (const auto& p : page.commonPrefixes)
        x += "<CommonPrefixes><Prefix>" + name(p) + "</Prefix></CommonPrefixes>";
    return x + "</ListBucketResult>";
}

std::string errorXml(const Error& error, const std::string& requestId) {
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + xmlEscape(error.code) +
                    "</Code><Message>" + xmlEscape(error.message) + "</Message>";
    for (const auto& [k, v] : error.extra) x += "<" + k + ">" + xmlEscape(v) + "</" + k + ">";
    return x + "<RequestId>" + xmlEscape(requestId) + "</RequestId></Error>";
}

std::string encodeToken(const std::string& key) {
    std::ostringstream out;
    Poco::Base64Encoder enc(out, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
    enc.rdbuf()->setLineLength(0);
    enc << kTokenMagic << key;
    enc.close();
    return out.str();
}

bool decodeToken(const std::string& token, std::string& key) {
    try {
        std::istringstream in(token);
        Poco::Base64Decoder dec(in, Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
        std::string plain((std::istreambuf_iterator<char>(dec)), std::istreambuf_iterator<char>());
        if (plain.rfind(kTokenMagic, 0) != 0) return false;
        key = plain.substr(kTokenMagic.size());
        return true;
    } catch (...) {
        return false;
    }
}

}  // namespace emulator::s3
